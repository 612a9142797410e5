"""Secrets the server must be able to read back (signing keys), sealed before they reach the database.

With `VERSICOLOR_SECRET_KEY` set (one or more Fernet keys, comma-separated: the first seals, all open, so the
sealing key itself can be rotated), a stored value is `fernet:<token>` (AES-128-CBC with HMAC-SHA256, from the
`cryptography` library): a copy of the database or of a backup alone does not give the keys. Without it values
are stored in clear, and `versicolor serve` says so in its log.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_PREFIX = "fernet:"


class SealingError(Exception):
    """A sealed value that the configured key cannot open (or no key configured)."""


class Sealer:
    """Seals and opens stored secrets with the configured keys (or leaves them in clear without any)."""

    def __init__(self, keys: str | None) -> None:
        parsed = [part.strip() for part in (keys or "").split(",") if part.strip()]
        try:
            fernets = [Fernet(key) for key in parsed]
        except ValueError as exc:
            raise SealingError(
                "VERSICOLOR_SECRET_KEY must be Fernet keys (32 url-safe base64-encoded bytes each), comma-separated"
            ) from exc
        self._fernet = MultiFernet(fernets) if fernets else None
        self._first = fernets[0] if fernets else None

    @property
    def sealing(self) -> bool:
        """Whether values are sealed (a key is configured)."""
        return self._fernet is not None

    def seal(self, value: str) -> str:
        """The stored form of `value`."""
        if self._fernet is None:
            return value
        return _PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        """The value a stored form holds; raises SealingError when it is sealed and cannot be opened."""
        if not stored.startswith(_PREFIX):
            return stored
        if self._fernet is None:
            raise SealingError(
                "the database holds signing keys sealed with VERSICOLOR_SECRET_KEY, and it is not set: set it to the "
                "key they were sealed with"
            )
        try:
            return self._fernet.decrypt(stored[len(_PREFIX) :].encode("ascii")).decode()
        except InvalidToken as exc:
            raise SealingError(
                "VERSICOLOR_SECRET_KEY cannot open the signing keys stored in the database: it is not the key they "
                "were sealed with (to change it, list the new key first and the old one after it)"
            ) from exc

    def needs_resealing(self, stored: str) -> bool:
        """Whether `stored` is in clear, or sealed with a key other than the first, while a key is configured."""
        if self._first is None:
            return False
        if not stored.startswith(_PREFIX):
            return True
        try:
            self._first.decrypt(stored[len(_PREFIX) :].encode("ascii"))
        except InvalidToken:
            return True
        return False

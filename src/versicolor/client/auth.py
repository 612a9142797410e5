"""OAuth 2.0 client credentials: an access token fetched once, kept, and renewed before it expires."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# Renew this long before the token expires (or at a tenth of its life, for short-lived tokens), so that a
# request never leaves with a token that dies on the way.
RENEW_BEFORE = 300.0


@dataclass(frozen=True)
class Credentials:
    """A client id and secret (Account > My profile > API credentials, or what `versicolor login` kept)."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret='***')"


@dataclass
class Token:
    """An access token and the moment (on the monotonic clock) it should be renewed."""

    value: str
    renew_at: float


class TokenCache:
    """Holds one access token per client; `fresh()` says whether it can still be sent."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._token: Token | None = None
        self._clock = clock

    def fresh(self) -> str | None:
        """The token, unless there is none or it is due for renewal."""
        if self._token is None or self._clock() >= self._token.renew_at:
            return None
        return self._token.value

    def keep(self, answer: httpx.Response) -> str:
        """Keep the token of a successful `/oauth/token` answer and return it."""
        body = answer.json()
        lifetime = float(body.get("expires_in") or 3600)
        self._token = Token(
            value=str(body["access_token"]),
            renew_at=self._clock() + lifetime - min(RENEW_BEFORE, lifetime / 10),
        )
        return self._token.value

    def forget(self) -> None:
        """Drop the token (the server refused it: revoked, or signed with a key since rotated)."""
        self._token = None

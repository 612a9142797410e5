"""Access tokens: JWTs signed with HS512, carrying the user, the account, the client and a unique id.

Keys rotate (auth/signing_key.py): each token names its key in the JWT header's `kid`; a `Keyring` holds the
keys a process knows, the newest in force signing, every unexpired one verifying. Tokens issued before keys
had ids carry no `kid` and are verified with the first key, `k0`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from versicolor.core.errors import Unauthenticated

ALGORITHM = "HS512"
LEGACY_KID = "k0"  # the key tokens without a `kid` were signed with


@dataclass(frozen=True)
class SigningKey:
    """A signing key: signs from `not_before` on (once it is the newest), verifies until `expires_at`."""

    kid: str
    secret: str
    not_before: float = 0.0
    expires_at: float | None = None


class Keyring:
    """The signing keys a process knows; replaced whole when they change (auth/gate.py reloads it)."""

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        self._keys: dict[str, SigningKey] = {}
        self.version = 0  # bumped by each replace(): what was verified with the old keys is checked again
        self.replace(keys)

    def replace(self, keys: Sequence[SigningKey]) -> None:
        """Know exactly `keys` from now on."""
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = {key.kid: key for key in keys}
        self._ordered = sorted(keys, key=lambda key: key.not_before)
        self.version += 1

    def signer(self, now: float | None = None) -> SigningKey:
        """The key that signs now: the newest whose `not_before` has passed (the oldest if none has yet)."""
        now = time.time() if now is None else now
        ready = [key for key in self._ordered if key.not_before <= now]
        return ready[-1] if ready else self._ordered[0]

    def verifying(self, kid: str | None, now: float | None = None) -> SigningKey | None:
        """The key a token's `kid` names if it still verifies, else None."""
        key = self._keys.get(kid or LEGACY_KID)
        if key is None:
            return None
        if key.expires_at is not None and key.expires_at <= (time.time() if now is None else now):
            return None
        return key

    @property
    def keys(self) -> list[SigningKey]:
        """Every key known, oldest first."""
        return list(self._ordered)


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says.

    `generation` is set on tokens issued for a user's own API credentials (client credentials grant): rotating
    those credentials bumps it, and every token carrying an older one is refused. Tokens issued to partner
    applications carry none; they are revoked one by one, by `jti`.
    """

    user_id: int
    account_id: int
    jti: str
    issued_at: int
    expires_at: int
    client_id: str | None = None
    generation: int | None = None
    scope: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A new access token and what it was issued with."""

    token: str
    claims: AccessClaims


def issue(
    *,
    key: SigningKey,
    user_id: int,
    account_id: int,
    ttl: int,
    client_id: str,
    generation: int | None = None,
    scope: str | None = None,
) -> IssuedToken:
    """Sign a new access token valid for `ttl` seconds."""
    now = int(time.time())
    claims = AccessClaims(
        user_id=user_id,
        account_id=account_id,
        jti=secrets.token_hex(16),
        issued_at=now,
        expires_at=now + ttl,
        client_id=client_id,
        generation=generation,
        scope=scope,
    )
    payload: dict[str, str | int] = {
        "sub": str(user_id),
        "aid": account_id,
        "cid": client_id,
        "jti": claims.jti,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
    }
    if generation is not None:
        payload["gen"] = generation
    if scope is not None:
        payload["scope"] = scope
    return IssuedToken(jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid}), claims)


def key_of(keyring: Keyring, token: str) -> SigningKey:
    """The key a token names (its header's `kid`), if it still verifies; raises Unauthenticated otherwise."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("the access token is malformed or its signature does not verify") from exc
    key = keyring.verifying(kid if isinstance(kid, str) else None)
    if key is None:
        raise Unauthenticated("the access token was signed with a key that is retired or unknown; request a new one")
    return key


def verify(*, keyring: Keyring, token: str) -> AccessClaims:
    """The claims of a token whose signature (by a key in force) and expiry hold; raises Unauthenticated
    otherwise."""
    key = key_of(keyring, token)
    try:
        payload = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],  # never "none", never another family
            options={"require": ["sub", "aid", "jti", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the access token has expired; request a new one at /oauth/token") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("the access token is malformed or its signature does not verify") from exc
    try:
        client_id = payload.get("cid")
        generation = payload.get("gen")
        scope = payload.get("scope")
        return AccessClaims(
            user_id=int(payload["sub"]),
            account_id=int(payload["aid"]),
            jti=str(payload["jti"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            client_id=None if client_id is None else str(client_id),
            generation=None if generation is None else int(generation),
            scope=None if scope is None else str(scope),
        )
    except (TypeError, ValueError) as exc:
        raise Unauthenticated("the access token's claims are malformed") from exc


class Verifier:
    """Verifies tokens against a keyring, remembering the claims of recent good ones.

    A token's claims never change, so a token verified once needs only its expiry checked again; this saves
    the signature and the JSON decoding (most of a token check) on every request but a client's first. What
    it remembers is forgotten whenever the keyring changes (a key may have been retired).
    """

    def __init__(self, keyring: Keyring, *, capacity: int = 10_000) -> None:
        self._keyring = keyring
        self._capacity = capacity
        self._known: dict[str, tuple[AccessClaims, float]] = {}
        self._version = keyring.version

    def verify(self, token: str) -> AccessClaims:
        """The claims of a token whose signature and expiry hold; raises Unauthenticated otherwise."""
        if self._version != self._keyring.version:
            self._known.clear()
            self._version = self._keyring.version
        known = self._known.get(token)
        if known is None:
            key = key_of(self._keyring, token)
            claims = verify(keyring=self._keyring, token=token)
            deadline = min(float(claims.expires_at), key.expires_at or float("inf"))
            if len(self._known) >= self._capacity:
                del self._known[next(iter(self._known))]  # the oldest
            self._known[token] = (claims, deadline)
            return claims
        claims, deadline = known
        if deadline <= time.time():
            del self._known[token]
            if claims.expires_at <= time.time():
                raise Unauthenticated("the access token has expired; request a new one at /oauth/token")
            raise Unauthenticated("the access token was signed with a key that is retired; request a new one")
        return claims

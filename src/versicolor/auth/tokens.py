"""Access tokens: JWTs signed with HS512, carrying the user, the account, the client and a unique id."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from versicolor.core.errors import Unauthenticated

ALGORITHM = "HS512"


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
    key: str,
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
    return IssuedToken(jwt.encode(payload, key, algorithm=ALGORITHM), claims)


def verify(*, key: str, token: str) -> AccessClaims:
    """The claims of a token whose signature and expiry hold; raises Unauthenticated otherwise."""
    try:
        payload = jwt.decode(
            token,
            key,
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
    """Verifies tokens signed with one key, remembering the claims of recent good ones.

    A token's claims never change, so a token verified once needs only its expiry checked again; this saves
    the signature and the JSON decoding (most of a token check) on every request but a client's first.
    """

    def __init__(self, key: str, *, capacity: int = 10_000) -> None:
        self._key = key
        self._capacity = capacity
        self._known: dict[str, AccessClaims] = {}

    def verify(self, token: str) -> AccessClaims:
        """The claims of a token whose signature and expiry hold; raises Unauthenticated otherwise."""
        claims = self._known.get(token)
        if claims is None:
            claims = verify(key=self._key, token=token)
            if len(self._known) >= self._capacity:
                del self._known[next(iter(self._known))]  # the oldest
            self._known[token] = claims
        elif claims.expires_at <= time.time():
            del self._known[token]
            raise Unauthenticated("the access token has expired; request a new one at /oauth/token")
        return claims

"""A request's credential, read once: the rate limiter keys on it and authentication (api/security.py) checks it.

Reading it twice, in two ways, let a client be counted as one caller and authenticated as another
(`?account_secret=junk&account_secret=<real>`: the limiter took the first value, authentication the last).
So the credential is parsed here, once per request, kept in the ASGI scope, and both ask for it:

- `Authorization: Bearer <token>`; on `/v3` (and `/`, where Chameleon's clients check a secret) also an account
  secret, in `X-Account-Secret` or the `account_secret` query parameter (a secret, when there is one, is what a
  v3 request authenticates with).
- A credential given more than once (two `Authorization` or `X-Account-Secret` headers, `account_secret`
  twice, or header and parameter disagreeing) is a 400: which one would count is exactly the ambiguity.
- A token is verified once (signature and expiry, auth/tokens.py) and known by its `jti` from then on, so
  the same token written differently (base64 padding, other spare bits) is the same caller. An account secret
  is known by its digest; whether it belongs to an account is looked up at most once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from versicolor.api.dialects import Dialect, dialect_of
from versicolor.auth.gate import TokenGate
from versicolor.auth.tokens import AccessClaims
from versicolor.core import secrets
from versicolor.core.errors import Invalid, Unauthenticated
from versicolor.db.models import Account

# Where a request keeps its parsed credential. Only this module sets it; a client cannot reach an ASGI scope key.
_SCOPE_KEY = "versicolor.credential"
_MAX_SECRET = 256


class Kind(StrEnum):
    """How a request authenticates."""

    BEARER = "bearer"
    ACCOUNT_SECRET = "account_secret"  # noqa: S105  (a kind of credential, not one)


class _None:
    pass


_NONE: Final = _None()


@dataclass
class Credential:
    """What a request presented, and what checking it found (filled in by whoever checks first)."""

    kind: Kind
    value: str
    claims: AccessClaims | None = None  # a bearer token whose signature and expiry hold
    failure: Unauthenticated | None = None  # a bearer token that failed them
    checked: bool = False  # an account secret looked up in this request: `account_id` is the answer
    account_id: int | None = None

    @property
    def digest(self) -> str:
        """The account secret's stored form (what it is known by)."""
        return secrets.digest(self.value)

    def verify(self, gate: TokenGate) -> AccessClaims:
        """A bearer token's claims, verified once per request; raises Unauthenticated if it does not verify."""
        if self.claims is None and self.failure is None:
            try:
                self.claims = gate.verify(self.value)
            except Unauthenticated as exc:
                self.failure = exc
        if self.failure is not None:
            raise self.failure
        assert self.claims is not None
        return self.claims

    async def look_up(self, session: AsyncSession) -> int | None:
        """The account an account secret belongs to (None: no account), read once per request."""
        if not self.checked:
            if len(self.value) <= _MAX_SECRET:
                self.account_id = await session.scalar(
                    select(Account.id).where(Account.account_secret_hash == self.digest)
                )
            self.checked = True
        return self.account_id

    async def look_up_alone(self, sessions: async_sessionmaker[AsyncSession]) -> int | None:
        """`look_up` in a short transaction of its own (before the request has one)."""
        if self.checked:
            return self.account_id
        async with sessions() as session, session.begin():
            return await self.look_up(session)


def of(scope: Scope) -> Credential | None:
    """The request's credential (None: it has none); raises Invalid when it was given more than once."""
    found = scope.get(_SCOPE_KEY)
    if found is None:
        found = _parse(scope)
        scope[_SCOPE_KEY] = _NONE if found is None else found
    return None if isinstance(found, _None) else found


def _parse(scope: Scope) -> Credential | None:
    authorizations: list[str] = []
    secret_headers: list[str] = []
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorizations.append(value.decode("latin-1"))
        elif name == b"x-account-secret":
            secret_headers.append(value.decode("latin-1"))
    if len(authorizations) > 1:
        raise Invalid("send one Authorization header, not several")
    if dialect_of(scope["path"]) is Dialect.V3:
        secret = _account_secret(scope, secret_headers)
        if secret is not None:  # a blank one too: it is a wrong secret (403), not no secret
            return Credential(Kind.ACCOUNT_SECRET, secret)
    if authorizations:
        scheme, _, token = authorizations[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and " " not in token:
            return Credential(Kind.BEARER, token)
    return None


def _account_secret(scope: Scope, headers: list[str]) -> str | None:
    if len(headers) > 1:
        raise Invalid("send one X-Account-Secret header, not several")
    raw: bytes = scope.get("query_string", b"")
    parameters = []
    # Parsed when the name may be there: written out, or percent-encoded (`account%5Fsecret` is the same name to
    # every query parser, so it must not slip past this one and leave the request to a bearer token).
    if b"account_secret" in raw or b"%" in raw:
        parameters = [v for k, v in parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if k == "account_secret"]
    if len(parameters) > 1:
        raise Invalid.field("account_secret", "is given more than once; send the account secret once")
    if not headers and not parameters:
        return None
    header = headers[0].strip() if headers else None
    parameter = parameters[0].strip() if parameters else None
    if header is not None and parameter is not None and header != parameter:
        raise Invalid.field("account_secret", "differs from the X-Account-Secret header; send the account secret once")
    return header if header is not None else parameter


def no_bearer_token(scope: Scope) -> Unauthenticated:
    """The 401 for a request that carries no usable bearer token, saying what was wrong."""
    if any(name == b"authorization" for name, _ in scope["headers"]):
        return Unauthenticated("malformed Authorization header: expected Authorization: Bearer <access token>")
    return Unauthenticated("missing Authorization header: send Authorization: Bearer <access token>")

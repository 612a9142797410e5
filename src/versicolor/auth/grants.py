"""The OAuth 2.0 grants: each turns an authenticated client's proof into tokens, or an RFC 6749 error.

Single use is enforced by conditional UPDATEs (`... WHERE used_at IS NULL`) checked by their row count: on
PostgreSQL a concurrent second UPDATE waits for the first transaction and then matches nothing; SQLite runs
one writer at a time. The loser raises `Replayed`, and the caller revokes what the winner issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import pkce, scopes, tokens
from versicolor.auth.clients import Client, ClientKind, require_kind
from versicolor.auth.errors import OAuthError, Replayed, invalid_client, invalid_grant, invalid_request
from versicolor.auth.tokens import SigningKey
from versicolor.core import secrets
from versicolor.db.models import AuthorizationCode, OAuthAuthorization, RefreshToken
from versicolor.db.types import utcnow

__all__ = [
    "Lifetimes",
    "OAuthError",
    "Replayed",
    "TokenResponse",
    "authorization_code",
    "client_credentials",
    "invalid_client",
    "refresh_token",
]


@dataclass(frozen=True)
class Lifetimes:
    """How long issued tokens live, in seconds."""

    access: int
    refresh: int


@dataclass(frozen=True)
class TokenResponse:
    """The token endpoint's successful answer."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None

    def as_json(self) -> dict[str, str | int]:
        """The JSON body of RFC 6749 §5.1."""
        body: dict[str, str | int] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.scope is not None:
            body["scope"] = self.scope
        return body


async def client_credentials(*, key: SigningKey, lifetimes: Lifetimes, client: Client) -> TokenResponse:
    """An access token acting as the user whose API credentials authenticated (no refresh token)."""
    require_kind(client, ClientKind.CREDENTIALS, "client_credentials")
    assert client.user_id is not None and client.account_id is not None
    issued = tokens.issue(
        key=key,
        user_id=client.user_id,
        account_id=client.account_id,
        ttl=lifetimes.access,
        client_id=client.client_id,
        generation=client.generation,
    )
    return TokenResponse(access_token=issued.token, expires_in=lifetimes.access)


async def authorization_code(
    *,
    session: AsyncSession,
    key: SigningKey,
    lifetimes: Lifetimes,
    client: Client,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> TokenResponse:
    """Redeem an authorization code, once, for an access token and a refresh token."""
    require_kind(client, ClientKind.PARTNER_APP, "authorization_code")
    if not code:
        raise invalid_request("code is required")
    if redirect_uri is None:
        raise invalid_request("redirect_uri is required: send the one given to /oauth/authorize")
    row = await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == secrets.digest(code)))
    if row is None or row.app_id != client.app_id:
        raise invalid_grant("the authorization code is unknown or was issued to another client")
    if row.used_at is not None:
        raise Replayed(
            "the authorization code was already used; the tokens it issued are now revoked",
            authorization_id=row.authorization_id,
            code_id=row.id,
        )
    now = utcnow()
    if row.expires_at <= now:
        raise invalid_grant("the authorization code has expired (codes live 10 minutes); authorize again")
    if redirect_uri != row.redirect_uri:
        raise invalid_grant("redirect_uri does not match the one of the authorization request")
    if client.public and row.code_challenge is None:
        raise invalid_grant("a public client's code must have been issued with a PKCE code_challenge")
    _check_verifier(code_verifier, row.code_challenge)

    authorization = OAuthAuthorization(
        account_id=row.account_id,
        app_id=row.app_id,
        user_id=row.user_id,
        scope=" ".join(scopes.stored(row.scope)),
    )
    session.add(authorization)
    await session.flush()
    claimed = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now, authorization_id=authorization.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Replayed("the authorization code was already used; the tokens it issued are now revoked", code_id=row.id)
    return await _issue(
        session=session,
        key=key,
        lifetimes=lifetimes,
        client=client,
        authorization=authorization,
        scope=scopes.stored(authorization.scope),
    )


def _check_verifier(verifier: str | None, challenge: str | None) -> None:
    if challenge is None:
        if verifier is not None:
            raise invalid_grant("code_verifier was sent, but the authorization request carried no code_challenge")
        return
    if verifier is None:
        raise invalid_grant("code_verifier is required: the authorization request carried a code_challenge")
    if not pkce.verifier_is_well_formed(verifier):
        raise invalid_request("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)")
    if not pkce.verifies(verifier, challenge):
        raise invalid_grant("code_verifier does not match the code_challenge of the authorization request")


async def refresh_token(
    *,
    session: AsyncSession,
    key: SigningKey,
    lifetimes: Lifetimes,
    client: Client,
    refresh_token: str | None,
    scope: str | None = None,
) -> TokenResponse:
    """Exchange a refresh token for new tokens; the old one stops working (rotation).

    `scope` may narrow the new access token to part of what the user approved (RFC 6749 §6), never widen it.
    """
    require_kind(client, ClientKind.PARTNER_APP, "refresh_token")
    if not refresh_token:
        raise invalid_request("refresh_token is required")
    found = (
        await session.execute(
            select(RefreshToken, OAuthAuthorization)
            .join(OAuthAuthorization, OAuthAuthorization.id == RefreshToken.authorization_id)
            .where(RefreshToken.token_hash == secrets.digest(refresh_token))
        )
    ).first()
    if found is None or found[1].app_id != client.app_id:
        raise invalid_grant("the refresh token is unknown or was issued to another client")
    token, authorization = found
    if authorization.revoked_at is not None:
        raise invalid_grant("the refresh token has been revoked; ask the user to authorize the application again")
    if token.used_at is not None:
        raise Replayed(
            "the refresh token was already used; every token of this authorization is now revoked",
            authorization_id=authorization.id,
        )
    now = utcnow()
    if token.expires_at <= now:
        raise invalid_grant("the refresh token has expired; ask the user to authorize the application again")
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Replayed(
            "the refresh token was already used; every token of this authorization is now revoked",
            authorization_id=authorization.id,
        )
    # Lock the authorization against a concurrent revocation: it either waits for us (and then also revokes
    # what we issue) or committed first (and we match nothing).
    still_valid = await session.execute(
        update(OAuthAuthorization)
        .where(OAuthAuthorization.id == authorization.id, OAuthAuthorization.revoked_at.is_(None))
        .values(revoked_at=None)
        .execution_options(synchronize_session=False)
    )
    if still_valid.rowcount != 1:  # type: ignore[attr-defined]
        raise invalid_grant("the refresh token has been revoked; ask the user to authorize the application again")
    approved = scopes.stored(authorization.scope)
    narrowed = approved
    if scope is not None:
        try:
            narrowed = scopes.parse(scope)
        except scopes.ScopeError as exc:
            raise OAuthError("invalid_scope", str(exc)) from None
        if not set(narrowed) <= set(approved):
            raise OAuthError(
                "invalid_scope", f"the user approved the scopes {' '.join(approved)!r}; a refresh cannot ask for more"
            )
    return await _issue(
        session=session, key=key, lifetimes=lifetimes, client=client, authorization=authorization, scope=narrowed
    )


async def _issue(
    *,
    session: AsyncSession,
    key: SigningKey,
    lifetimes: Lifetimes,
    client: Client,
    authorization: OAuthAuthorization,
    scope: tuple[str, ...],
) -> TokenResponse:
    granted = " ".join(scope)
    access = tokens.issue(
        key=key,
        user_id=authorization.user_id,
        account_id=authorization.account_id,
        ttl=lifetimes.access,
        client_id=client.client_id,
        scope=granted,
    )
    refresh = secrets.new_secret()
    now = utcnow()
    session.add(
        RefreshToken(
            account_id=authorization.account_id,
            authorization_id=authorization.id,
            token_hash=secrets.digest(refresh),
            access_jti=access.claims.jti,
            access_expires_at=datetime.fromtimestamp(access.claims.expires_at, UTC),
            expires_at=now + timedelta(seconds=lifetimes.refresh),
        )
    )
    await session.flush()
    return TokenResponse(access_token=access.token, expires_in=lifetimes.access, refresh_token=refresh, scope=granted)

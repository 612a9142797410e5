"""Revoking tokens: one access token, an authorization's whole family, every token of a partner application.

Revocations are journal entries (db/models/oauth.py), written when the transaction commits; run them inside
`TokenGate.changing()` so that every worker refuses the tokens before the caller is answered.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import tokens
from versicolor.auth.clients import Client, ClientKind
from versicolor.auth.errors import Replayed
from versicolor.auth.tokens import Keyring
from versicolor.core import secrets
from versicolor.core.errors import Unauthenticated
from versicolor.db.models import AuthChange, AuthorizationCode, OAuthAuthorization, RefreshToken
from versicolor.db.models import oauth as journal
from versicolor.db.types import utcnow


async def revoke_access_token(*, session: AsyncSession, jti: str, expires_at: datetime) -> None:
    """Refuse the access token `jti` from the commit on, until it expires."""
    if expires_at <= utcnow():
        return  # expired tokens are refused anyway
    if await session.scalar(select(AuthChange.seq).where(AuthChange.jti == jti).limit(1)) is not None:
        return  # revoked already
    journal.record(session.sync_session, journal.Entry(expires_at, jti=jti))


async def revoke_authorization(*, session: AsyncSession, authorization_id: int) -> None:
    """Revoke an authorization: its refresh tokens stop working, and so do the access tokens it issued."""
    now = utcnow()
    revoked = await session.execute(
        update(OAuthAuthorization)
        .where(OAuthAuthorization.id == authorization_id, OAuthAuthorization.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount == 0:  # type: ignore[attr-defined]
        return  # unknown, or revoked already (with its tokens)
    issued = await session.execute(
        select(RefreshToken.access_jti, RefreshToken.access_expires_at).where(
            RefreshToken.authorization_id == authorization_id, RefreshToken.access_expires_at > now
        )
    )
    for jti, expires_at in issued.all():
        await revoke_access_token(session=session, jti=jti, expires_at=expires_at)


async def revoke_app_tokens(*, session: AsyncSession, app_id: int) -> None:
    """Revoke every authorization of a partner application (before it is deleted)."""
    ids = await session.scalars(
        select(OAuthAuthorization.id).where(
            OAuthAuthorization.app_id == app_id, OAuthAuthorization.revoked_at.is_(None)
        )
    )
    for authorization_id in ids.all():
        await revoke_authorization(session=session, authorization_id=authorization_id)


async def revoke(*, session: AsyncSession, keyring: Keyring, client: Client, token: str, hint: str | None) -> None:
    """RFC 7009: revoke `token` if it is one of `client`'s; unknown or foreign tokens are ignored silently."""
    kinds = ("refresh_token", "access_token") if hint == "refresh_token" else ("access_token", "refresh_token")
    for kind in kinds:
        if kind == "access_token" and await _revoke_access(
            session=session, keyring=keyring, client=client, token=token
        ):
            return
        if kind == "refresh_token" and await _revoke_refresh(session=session, client=client, token=token):
            return


async def _revoke_access(*, session: AsyncSession, keyring: Keyring, client: Client, token: str) -> bool:
    try:
        claims = tokens.verify(keyring=keyring, token=token)
    except (Unauthenticated, jwt.InvalidTokenError):
        return False
    if claims.client_id != client.client_id:
        return False  # not this client's to revoke; saying so would confirm the token is valid
    expires_at = datetime.fromtimestamp(claims.expires_at, UTC)
    await revoke_access_token(session=session, jti=claims.jti, expires_at=expires_at)
    return True


async def _revoke_refresh(*, session: AsyncSession, client: Client, token: str) -> bool:
    if client.kind is not ClientKind.PARTNER_APP:
        return False
    row = (
        await session.execute(
            select(RefreshToken.authorization_id)
            .join(OAuthAuthorization, OAuthAuthorization.id == RefreshToken.authorization_id)
            .where(RefreshToken.token_hash == secrets.digest(token), OAuthAuthorization.app_id == client.app_id)
        )
    ).first()
    if row is None:
        return False
    # RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the same grant.
    await revoke_authorization(session=session, authorization_id=row.authorization_id)
    return True


async def revoke_replayed(*, session: AsyncSession, replay: Replayed) -> None:
    """Revoke what a replayed code or refresh token issued the first time it was used."""
    authorization_id = replay.authorization_id
    if authorization_id is None and replay.code_id is not None:
        authorization_id = await session.scalar(
            select(AuthorizationCode.authorization_id).where(AuthorizationCode.id == replay.code_id)
        )
    if authorization_id is not None:
        await revoke_authorization(session=session, authorization_id=authorization_id)

"""Signed-in browser sessions, kept on the server: a cookie carries a random token, the database its digest.

A signed cookie alone could not be taken back: a copy would stay good until it expired. Here ending a session
(signing out, signing in as someone else, a password change, the user's deletion) makes every copy of its
token worthless at once, on every worker, because each page request looks the token up.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import secrets
from versicolor.db.models import SignInSession, User
from versicolor.db.types import utcnow

MAX_TOKEN = 128
# Ended and expired sessions are deleted this long after they expire (kept a while to answer "expired").
_KEPT_AFTER_EXPIRY = timedelta(days=1)


async def start(*, session: AsyncSession, user: User, purpose: str, ttl: timedelta) -> str:
    """Open a session for `user` and return its token (to put in a cookie; only its digest is stored)."""
    now = utcnow()
    await session.execute(delete(SignInSession).where(SignInSession.expires_at < now - _KEPT_AFTER_EXPIRY))
    token = secrets.new_secret()
    session.add(
        SignInSession(
            token_hash=secrets.digest(token),
            account_id=user.account_id,
            user_id=user.id,
            purpose=purpose,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return token


async def user_of(*, session: AsyncSession, token: str | None, purpose: str) -> User | None:
    """The user of a live session of `purpose` (not ended, not expired), or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return await session.scalar(
        select(User)
        .join(SignInSession, SignInSession.user_id == User.id)
        .where(
            SignInSession.token_hash == secrets.digest(token),
            SignInSession.purpose == purpose,
            SignInSession.ended_at.is_(None),
            SignInSession.expires_at > utcnow(),
        )
    )


async def end(*, session: AsyncSession, token: str | None) -> None:
    """End the session `token` names, if any: no copy of the token works any more."""
    if not token or len(token) > MAX_TOKEN:
        return
    await session.execute(
        update(SignInSession)
        .where(SignInSession.token_hash == secrets.digest(token), SignInSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def end_all(*, session: AsyncSession, user_id: int, keep: str | None = None) -> None:
    """End every session of a user (a password change), but the one whose token is `keep`."""
    statement = update(SignInSession).where(SignInSession.user_id == user_id, SignInSession.ended_at.is_(None))
    if keep:
        statement = statement.where(SignInSession.token_hash != secrets.digest(keep))
    await session.execute(statement.values(ended_at=utcnow()).execution_options(synchronize_session=False))

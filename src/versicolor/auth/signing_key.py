"""The token signing key: generated on first start, kept in the database, shared by every worker."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.db.models import ServerSecret

_NAME = "jwt_signing_key"


async def load_or_create(*, session: AsyncSession) -> str:
    """The signing key, created the first time any worker asks (the first insert wins a race)."""
    key = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == _NAME))
    if key is not None:
        return key
    try:
        async with session.begin_nested():
            session.add(ServerSecret(name=_NAME, value=secrets.token_urlsafe(64)))
    except IntegrityError:
        pass  # another worker created it first; use theirs
    key = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == _NAME))
    assert key is not None
    return key


def redis_prefix(configured: str, key: str) -> str:
    """The prefix of the auth keys in Redis: the configured prefix, then a name for the database that owns `key`.

    Two deployments (or test runs) sharing one Redis and one configured prefix still never meet.
    """
    return f"{configured}{hashlib.sha256(b'versicolor-namespace:' + key.encode()).hexdigest()[:16]}:"

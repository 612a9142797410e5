"""The server's secrets: the server secret (created on first start) and the rotating access-token signing keys.

Both are kept in the database, sealed with `VERSICOLOR_SECRET_KEY` when it is set (core/sealing.py), and
shared by every worker.

- The **server secret** is what preview links, the sign-in page's cookies and the Redis namespace derive
  from, and the default callback keys of accounts that never rotated theirs.
- **Signing keys** sign access tokens. `rotate` adds a new one that every worker learns (through the auth
  journal, auth/gate.py) before it starts signing (`PROPAGATION` later), and retires the older ones after an
  overlap during which the tokens they signed keep working (by default the access tokens' lifetime, so no
  token issued before the rotation is refused before it would have expired anyway).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth.tokens import LEGACY_KID, Keyring, SigningKey
from versicolor.core.sealing import Sealer
from versicolor.db.models import ServerSecret, SigningKeyRow
from versicolor.db.models import oauth as journal
from versicolor.db.types import utcnow

_NAME = "jwt_signing_key"  # the server secret's row (it signed tokens before signing keys rotated)
# How long after a rotation the new key starts signing: every worker has learnt it by then.
PROPAGATION = timedelta(seconds=10)


async def load_or_create(*, session: AsyncSession, sealer: Sealer) -> str:
    """The server secret, created the first time any worker asks (the first insert wins a race)."""
    stored = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == _NAME))
    if stored is None:
        try:
            async with session.begin_nested():
                session.add(ServerSecret(name=_NAME, value=sealer.seal(secrets.token_urlsafe(64))))
        except IntegrityError:
            pass  # another worker created it first; use theirs
        stored = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == _NAME))
        assert stored is not None
    value = sealer.open(stored)
    if sealer.needs_resealing(stored):
        await session.execute(update(ServerSecret).where(ServerSecret.name == _NAME).values(value=sealer.seal(value)))
    return value


async def load_keyring(*, session: AsyncSession, sealer: Sealer, server_secret: str) -> Keyring:
    """Every signing key, opened; the first one is created on first start (from the server secret, which
    signed tokens before keys rotated)."""
    rows = list(await session.scalars(select(SigningKeyRow)))
    if not rows:
        try:
            async with session.begin_nested():
                session.add(SigningKeyRow(kid=LEGACY_KID, secret=sealer.seal(server_secret), not_before=utcnow()))
        except IntegrityError:
            pass
        rows = list(await session.scalars(select(SigningKeyRow)))
    keys = []
    for row in rows:
        secret = sealer.open(row.secret)
        if sealer.needs_resealing(row.secret):
            row.secret = sealer.seal(secret)
        keys.append(_key(row, secret))
    await session.flush()
    return Keyring(keys)


def _key(row: SigningKeyRow, secret: str) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        secret=secret,
        not_before=row.not_before.timestamp(),
        expires_at=None if row.expires_at is None else row.expires_at.timestamp(),
    )


async def rotate(*, session: AsyncSession, sealer: Sealer, overlap: timedelta) -> tuple[str, datetime]:
    """Add a new signing key (signing from PROPAGATION on) and retire the others `overlap` after that.

    Returns the new key's id and when the old keys stop verifying. Run it in `TokenGate.changing()`: the
    journal entry it writes makes every worker load the keys again.
    """
    now = utcnow()
    starts = now + PROPAGATION
    retire_at = starts + overlap
    await session.execute(
        update(SigningKeyRow)
        .where((SigningKeyRow.expires_at.is_(None)) | (SigningKeyRow.expires_at > retire_at))
        .values(expires_at=retire_at)
        .execution_options(synchronize_session=False)
    )
    kid = secrets.token_hex(8)
    session.add(SigningKeyRow(kid=kid, secret=sealer.seal(secrets.token_urlsafe(64)), not_before=starts))
    await session.flush()
    # "Everything changed": every worker reads the keys again (auth/gate.py).
    journal.record(session.sync_session, journal.Entry(now + journal.USER_CHANGE_RETENTION))
    return kid, retire_at


def redis_prefix(configured: str, key: str) -> str:
    """The prefix of the auth keys in Redis: the configured prefix, then a name for the database that owns `key`
    (the server secret).

    Two deployments (or test runs) sharing one Redis and one configured prefix still never meet.
    """
    return f"{configured}{hashlib.sha256(b'versicolor-namespace:' + key.encode()).hexdigest()[:16]}:"

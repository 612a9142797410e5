"""Accounts' callback keys, and rotating them without breaking receivers.

An account that never rotated its key signs with one derived from the server secret
(`callbacks.account_callback_key`). Rotating adds a random key that signs from then on, while the keys before
it keep signing too until the overlap ends: each callback then carries a `v1=` signature per key in force,
newest first, so a receiver still checking with the old key keeps accepting callbacks while it switches.
Keys are sealed at rest (core/sealing.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Invalid
from versicolor.core.roles import Permission, Principal
from versicolor.core.sealing import Sealer
from versicolor.db.models import CallbackKey
from versicolor.db.types import utcnow
from versicolor.results.callbacks import account_callback_key

MAX_OVERLAP = timedelta(days=30)


@dataclass(frozen=True)
class KeyInForce:
    """A key that signs callbacks, and until when (None: until the next rotation)."""

    key: str
    expires_at: datetime | None


async def in_force(*, session: AsyncSession, sealer: Sealer, server_secret: str, account_id: int) -> list[KeyInForce]:
    """The account's keys that sign callbacks now, newest first."""
    now = utcnow()
    rows = await session.scalars(
        select(CallbackKey)
        .where(
            CallbackKey.account_id == account_id, or_(CallbackKey.expires_at.is_(None), CallbackKey.expires_at > now)
        )
        .order_by(CallbackKey.id.desc())
    )
    keys = [KeyInForce(sealer.open(row.secret), row.expires_at) for row in rows]
    if not keys and not await _ever_rotated(session, account_id):
        keys = [KeyInForce(account_callback_key(server_key=server_secret, account_id=account_id), None)]
    return keys


async def _ever_rotated(session: AsyncSession, account_id: int) -> bool:
    return await session.scalar(select(CallbackKey.id).where(CallbackKey.account_id == account_id).limit(1)) is not None


async def rotate(
    *, session: AsyncSession, sealer: Sealer, server_secret: str, principal: Principal, overlap: timedelta
) -> list[KeyInForce]:
    """Give the caller's account a new callback key (ADMIN, own credentials); the keys before it keep signing
    for `overlap`. Returns the keys in force, the new one first."""
    principal.require(Permission.ADMIN)
    principal.require_first_party()
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise Invalid.field("overlapSeconds", f"must be between 0 and {int(MAX_OVERLAP.total_seconds())}")
    now = utcnow()
    ends = now + overlap
    account_id = principal.account_id
    if not await _ever_rotated(session, account_id):
        # The derived key becomes a row of its own, so that it can expire like any other.
        derived = account_callback_key(server_key=server_secret, account_id=account_id)
        session.add(CallbackKey(account_id=account_id, secret=sealer.seal(derived), expires_at=ends))
    await session.execute(
        update(CallbackKey)
        .where(
            CallbackKey.account_id == account_id,
            or_(CallbackKey.expires_at.is_(None), CallbackKey.expires_at > ends),
        )
        .values(expires_at=ends)
        .execution_options(synchronize_session=False)
    )
    session.add(CallbackKey(account_id=account_id, secret=sealer.seal(secrets.token_hex(32)), expires_at=None))
    await session.flush()
    return await in_force(session=session, sealer=sealer, server_secret=server_secret, account_id=account_id)

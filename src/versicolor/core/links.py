"""Rows that link one object to others (an experiment's goals, a personalization's goals), read per owner."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def linked_ids(
    *,
    session: AsyncSession,
    owner: InstrumentedAttribute[int],
    target: InstrumentedAttribute[int],
    owner_ids: Iterable[int],
) -> dict[int, list[int]]:
    """The target ids linked to each owner, in id order; every owner asked for has a list, empty when unlinked.

    `owner` and `target` are two columns of one link table; callers pass owner ids they already scoped."""
    ids = list(owner_ids)
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for owner_id, target_id in await session.execute(select(owner, target).where(owner.in_(ids)).order_by(target)):
            found[owner_id].append(target_id)
    return found

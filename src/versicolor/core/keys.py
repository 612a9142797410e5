"""Keys: stable names a client gives the objects of a site, so that it finds them again without keeping ids.

`versicolor sync` matches the objects of a folder to those of a site by key. A key is unique among the goals,
the segments or the experiments of one site, and among the variations of one experiment; objects without a
key (null) may be many.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Conflict, Invalid
from versicolor.db.models import Experiment, Goal, Segment, Variation

MAX_KEY = 100
PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
RULE = (
    f"must be 1 to {MAX_KEY} characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or a digit"
)

K = TypeVar("K", Goal, Segment, Experiment, Variation)


def check(value: object) -> str | None:
    """A key as stored, or None (no key); raises Invalid naming `key`."""
    if value is None:
        return None
    if not isinstance(value, str) or not PATTERN.fullmatch(value):
        raise Invalid.field("key", f"{RULE}; not {value!r}")
    return value


async def assign(
    *,
    session: AsyncSession,
    row: K,
    key: object,
    holders: Callable[[str], Select[K]],
    scope: str,
) -> None:
    """Give `row` the key (checked), refusing one another object of the same scope holds (409).

    `holders(key)` selects the objects of the scope with that key; `scope` names the scope in the message
    ("site 4", "experiment 12").
    """
    wanted = check(key)
    kind = type(row).__name__.lower()
    if wanted is not None and wanted != row.key:
        holder = await session.scalar(holders(wanted))
        if holder is not None and holder is not row:
            raise Conflict(f"{scope} already has a {kind} with key {wanted!r}: {kind} {holder.id} {holder.name!r}")
    row.key = wanted
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # another request took the key between the check and the write
        raise Conflict(f"{scope} already has a {kind} with key {wanted!r}; try again") from exc

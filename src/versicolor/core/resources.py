"""What every resource of a site shares: its lookup by id, its labels (name, description, tags), a site that does
not change, read-only fields sent back unchanged, and the fields it keeps as given."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Invalid, NotFound

MAX_NAME = 200
MAX_DESCRIPTION = 10_000
MAX_TAGS = 50
MAX_TAG = 100
# Ids are int64 on every backend; a larger number names nothing (and would overflow the database driver).
MAX_ID = 2**63 - 1

Row = TypeVar("Row")


def name(value: object, *, field: str = "name") -> str:
    """A required name, trimmed: 1 to 200 characters."""
    if not isinstance(value, str):
        raise Invalid.field(field, "is required: a string of 1 to 200 characters")
    cleaned = value.strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise Invalid.field(field, f"must be 1 to {MAX_NAME} characters")
    return cleaned


def description(value: object, *, field: str = "description") -> str | None:
    """An optional free text of at most 10,000 characters; null clears it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field(field, "must be a string or null")
    if len(value) > MAX_DESCRIPTION:
        raise Invalid.field(field, f"must be at most {MAX_DESCRIPTION} characters")
    return value


def tags(value: object, *, field: str = "tags") -> list[str]:
    """A list of distinct, trimmed tags (null means none), kept in the order given."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise Invalid.field(field, "must be an array of strings")
    if len(value) > MAX_TAGS:
        raise Invalid.field(field, f"must hold at most {MAX_TAGS} tags")
    cleaned: list[str] = []
    for position, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > MAX_TAG:
            raise Invalid.field(f"{field}[{position}]", f"must be a string of 1 to {MAX_TAG} characters")
        if tag.strip() not in cleaned:
            cleaned.append(tag.strip())
    return cleaned


def check_site_unchanged(site_id: int | None, current_site_id: int, kind: str) -> None:
    """Refuse moving an object to another site (a `siteId` that differs from the one it has)."""
    if site_id is not None and site_id != current_site_id:
        raise Invalid.field(
            "siteId", f"cannot change: a {kind} stays on site {current_site_id}; create a new {kind} on the other site"
        )


def check_id(kind: str, object_id: int) -> None:
    """Raise NotFound for an id no object can have (outside 1 to 2**63-1), before it reaches the database.

    Every lookup by id calls it (each resource's `get`, through `one`, and the lookups of ids a body refers to), so
    that an id in a path and one in a body answer alike: the 404 of an unknown id.
    """
    if not 1 <= object_id <= MAX_ID:
        raise NotFound.object(kind, object_id)


async def one(session: AsyncSession, query: Select[Row], *, kind: str, object_id: int) -> Row:
    """The object `query` selects by its id (`object_id`, of a `kind`, in the caller's account), or NotFound.

    Each resource's `get` goes through it, so that an id no object can have is refused (`check_id`) before the
    query runs, with the same 404 as an unknown one."""
    check_id(kind, object_id)
    found = await session.scalar(query)
    if found is None:
        raise NotFound.object(kind, object_id)
    return found


def check_ids(kind: str, object_ids: Iterable[int]) -> None:
    """`check_id` for each of several ids, in order: the first that no object can have is the 404."""
    for object_id in object_ids:
        check_id(kind, object_id)


def check_unchanged(kind: str, echoed: Iterable[tuple[str, object, object]]) -> None:
    """Refuse a read-only field sent back with a value other than the object's (a 400 naming it).

    `echoed` holds (field, given, current); a field not sent (None) is fine. Timestamps are compared to the
    millisecond, the precision answers show them with, and a timestamp without a zone is read as UTC.
    """
    for field_name, given, current in echoed:
        if given is None:
            continue
        if isinstance(given, datetime) and isinstance(current, datetime):
            if _to_millisecond(given) == _to_millisecond(current):
                continue
        elif given == current:
            continue
        shown = current.isoformat() if isinstance(current, datetime) else repr(current)
        raise Invalid.field(field_name, f"is read-only: this {kind} has {shown}; send it unchanged or leave it out")


def _to_millisecond(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        aware = aware.astimezone(UTC)
    except OverflowError:
        return aware
    return aware.replace(microsecond=aware.microsecond // 1000 * 1000)


class KeepsGiven(Protocol):
    """An object with fields kept as given (db models: `stored_fields`)."""

    stored_fields: dict[str, Any]


def keep_as_given(row: KeepsGiven, given: Mapping[str, Any], *, replace: bool = False) -> None:
    """Keep the documented fields Versicolor has no meaning for, as given; `replace` (PUT) forgets the others."""
    if not given and not replace:
        return
    kept = {} if replace else dict(row.stored_fields or {})
    kept.update(given)
    row.stored_fields = kept

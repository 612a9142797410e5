"""Cursor paging of the Edit v3 dialect (docs/conventions.md): `limit`, `before`, `after`, newest first.

A list is ordered by id, newest first. Ids are time-ordered (core/object_ids.py) and unique, so the order is
total and stable: `before=<id of the oldest item on the page>` continues exactly where the page ended, and a
walk from page to page sees every row once, even while rows are being inserted (new rows sort before the
first page, never between pages). `before`/`after` also take a timestamp, read as "created before/after".

Usage in a router:

    page = await cursor.page(session, urls.search(caller), query, id_column=Url.id, created_column=Url.created_at)
    return UrlList(urls=[...page.items...], cursor=page.cursor)
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, WithJsonSchema
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from versicolor.core import object_ids
from versicolor.core.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")

_EPOCH_SECONDS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")
_FIRST = datetime(1970, 1, 1, tzinfo=UTC)
TIMESTAMP_EXAMPLE = "2024-05-01T12:00:00Z"


@dataclass(frozen=True)
class Bound:
    """One end of the window: an id, or a creation time."""

    id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class CursorQuery:
    """A validated `limit`, `before` and `after`."""

    limit: int = DEFAULT_LIMIT
    before: Bound | None = None
    after: Bound | None = None


class Cursor(BaseModel):
    """The `cursor` of a list answer: `before` is the id to send for the next page, null on the last page."""

    limit: int
    before: str | None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, newest first, and the cursor to the next."""

    items: list[T]
    cursor: Cursor


def parse_timestamp(value: object, *, seconds: bool = True) -> datetime:
    """A client's timestamp in UTC: ISO-8601 (any offset; none means UTC), RFC 2822, or seconds since 1970.

    `seconds=False` (a body's date-time) takes text only, and no number of seconds: a body's JSON says what a
    value is, and a number is not a date. Raises ValueError with a message a person can act on.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be a timestamp such as {TIMESTAMP_EXAMPLE}")
    if not seconds and (not isinstance(value, str) or _EPOCH_SECONDS.match(value.strip())):
        raise ValueError(f"{value!r} is not a date-time; send a string such as {TIMESTAMP_EXAMPLE}")
    try:
        if isinstance(value, int | float) or _EPOCH_SECONDS.match(value.strip()):
            since_1970 = float(value)
            if not 0 <= since_1970 < 253402300800:  # 1970 up to the end of year 9999
                raise ValueError
            return datetime.fromtimestamp(since_1970, UTC)
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(text)
        aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        result = aware.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, IndexError):
        raise ValueError(
            f"{value!r} is not a timestamp; send ISO-8601 such as {TIMESTAMP_EXAMPLE} or seconds since 1970"
        ) from None
    if result < _FIRST:
        raise ValueError(f"{value!r} is before 1970")
    return result


def parse_limit(value: str | None) -> int:
    """`limit` from the query string."""
    if value is None:
        return DEFAULT_LIMIT
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise Invalid.field("limit", f"must be a whole number from 1 to {MAX_LIMIT} (got {value!r})")
    return int(text)


def parse_bound(field: str, value: str | None) -> Bound | None:
    """`before` or `after` from the query string: an id, or a timestamp."""
    if value is None:
        return None
    object_id = object_ids.parse(value)
    if object_id is not None:
        return Bound(id=object_id)
    try:
        return Bound(at=parse_timestamp(value))
    except ValueError:
        raise Invalid.field(
            field,
            f"{value!r} is neither an id from a cursor (24 hexadecimal digits) nor a timestamp "
            f"such as {TIMESTAMP_EXAMPLE}",
        ) from None


def cursor_query(
    limit: Annotated[
        str | None,
        # Read as text, so that a bad value gets the message of parse_limit; documented as what to send.
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        Query(description=f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"),
    ] = None,
    before: Annotated[
        str | None, Query(description="`cursor.before` of the previous page, or a timestamp: created before")
    ] = None,
    after: Annotated[str | None, Query(description="A timestamp or an id: created after")] = None,
) -> CursorQuery:
    """The paging parameters of a v3 list request."""
    return CursorQuery(
        limit=parse_limit(limit), before=parse_bound("before", before), after=parse_bound("after", after)
    )


CursorParams = Annotated[CursorQuery, Depends(cursor_query)]


def window(
    statement: Select[T],
    query: CursorQuery,
    *,
    id_column: InstrumentedAttribute[str],
    created_column: InstrumentedAttribute[datetime],
) -> Select[T]:
    """`statement` narrowed to the query's window, newest first, one row more than a page (to see if more follow)."""
    if query.before is not None:
        statement = statement.where(
            id_column < query.before.id if query.before.id is not None else created_column < query.before.at
        )
    if query.after is not None:
        statement = statement.where(
            id_column > query.after.id if query.after.id is not None else created_column > query.after.at
        )
    return statement.order_by(id_column.desc()).limit(query.limit + 1)


async def page(
    session: AsyncSession,
    statement: Select[T],
    query: CursorQuery,
    *,
    id_column: InstrumentedAttribute[str],
    created_column: InstrumentedAttribute[datetime],
) -> Page[T]:
    """One page of `statement`'s rows and the cursor to the next."""
    rows = list(
        (await session.scalars(window(statement, query, id_column=id_column, created_column=created_column))).all()
    )
    items = rows[: query.limit]
    more = len(rows) > query.limit
    last: Any = items[-1] if items else None
    before = getattr(last, id_column.key) if more else None
    return Page(items=items, cursor=Cursor(limit=query.limit, before=before))

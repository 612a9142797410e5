"""Iterators over lists: pages (`page`/`perPage`) of the Automation API, cursors (`before`) of the Edit API v3."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from versicolor.client.transport import Params, Transport

MAX_PER_PAGE = 200
MAX_CURSOR_LIMIT = 500


def pages(
    transport: Transport, path: str, *, params: Params | None = None, per_page: int = MAX_PER_PAGE
) -> Iterator[dict[str, Any]]:
    """Every object of an Automation list, fetched `per_page` at a time (one request per page)."""
    page = 1
    while True:
        answer = transport.request("GET", path, params={**(params or {}), "page": page, "perPage": per_page})
        items: list[dict[str, Any]] = answer.json()
        yield from items
        total = answer.headers.get("x-total-count")
        seen = (page - 1) * per_page + len(items)
        if len(items) < per_page or (total is not None and total.isdigit() and seen >= int(total)):
            return
        page += 1


def cursor(
    transport: Transport,
    path: str,
    field: str,
    *,
    params: Mapping[str, str | int | None] | None = None,
    limit: int = MAX_CURSOR_LIMIT,
) -> Iterator[dict[str, Any]]:
    """Every object of an Edit v3 list (newest first), following `cursor.before` from page to page."""
    before: str | None = None
    while True:
        answer = transport.request("GET", path, params={**(params or {}), "limit": limit, "before": before})
        body = answer.json()
        yield from body[field]
        before = (body.get("cursor") or {}).get("before")
        if not before or not body[field]:
            return

"""Cursor paging of the v3 dialect (docs/conventions.md): parameters, windows, and walks that never skip or repeat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from versicolor.api.conventions import cursor
from versicolor.api.conventions.cursor import Bound, CursorQuery
from versicolor.core import accounts
from versicolor.core.domains import urls
from versicolor.core.errors import Invalid
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Url
from versicolor.runtime import Runtime


@pytest.mark.parametrize(("given", "limit"), [(None, 50), ("1", 1), ("37", 37), ("500", 500), (" 20 ", 20)])
def test_limit_defaults_to_50_and_goes_up_to_500(given: str | None, limit: int) -> None:
    assert cursor.parse_limit(given) == limit


@pytest.mark.parametrize("given", ["0", "501", "-1", "1e3", "abc", "", "٣"])
def test_limit_outside_1_to_500_is_invalid(given: str) -> None:
    with pytest.raises(Invalid) as refused:
        cursor.parse_limit(given)
    assert refused.value.details[0].field == "limit"
    assert "from 1 to 500" in refused.value.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("5c4950c34733cc0004d5bfd2", Bound(id="5c4950c34733cc0004d5bfd2")),
        ("5C4950C34733CC0004D5BFD2", Bound(id="5c4950c34733cc0004d5bfd2")),
        ("2024-05-01T12:00:00Z", Bound(at=datetime(2024, 5, 1, 12, tzinfo=UTC))),
        ("2024-05-01T14:00:00+02:00", Bound(at=datetime(2024, 5, 1, 12, tzinfo=UTC))),
        ("2024-05-01T12:00:00", Bound(at=datetime(2024, 5, 1, 12, tzinfo=UTC))),
        ("2024-05-01", Bound(at=datetime(2024, 5, 1, tzinfo=UTC))),
        ("1714564800", Bound(at=datetime(2024, 5, 1, 12, tzinfo=UTC))),
        ("Wed, 01 May 2024 12:00:00 GMT", Bound(at=datetime(2024, 5, 1, 12, tzinfo=UTC))),
    ],
)
def test_before_and_after_take_an_id_or_a_timestamp(given: str, expected: Bound) -> None:
    assert cursor.parse_bound("before", given) == expected


@pytest.mark.parametrize(
    "given", ["", "null", "undefined", "yesterday", "5c4950c34733cc0004d5bfd", "5c4950c34733cc0004d5bfdg", "-1"]
)
def test_anything_else_is_invalid_naming_the_parameter(given: str) -> None:
    with pytest.raises(Invalid) as refused:
        cursor.parse_bound("after", given)
    assert refused.value.details[0].field == "after"
    assert "neither an id" in refused.value.message


@pytest.mark.parametrize("given", [True, None, [], {}, -1, 1e13, "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z"])
def test_timestamps_out_of_range_or_of_the_wrong_type_are_refused(given: object) -> None:
    with pytest.raises(ValueError, match=r"timestamp|before 1970"):
        cursor.parse_timestamp(given)


async def _account_with_urls(runtime: Runtime, count: int) -> tuple[Principal, list[str]]:
    async with runtime.sessions() as session, session.begin():
        created = await accounts.create_account(
            session=session, name="Paging", email=f"paging-{uuid.uuid4().hex[:10]}@example.com"
        )
        principal = Principal(account_id=created.account.id, user_id=None, role=Role.ADMIN)
        made = [
            (await urls.create(session=session, principal=principal, host=f"h{i}.example.com")).id for i in range(count)
        ]
    return principal, made


async def _page(runtime: Runtime, principal: Principal, query: CursorQuery) -> cursor.Page[Url]:
    async with runtime.sessions() as session:
        return await cursor.page(
            session, urls.scoped(principal), query, id_column=Url.id, created_column=Url.created_at
        )


async def test_a_walk_sees_every_row_once_in_order_while_rows_are_inserted(runtime: Runtime) -> None:
    principal, made = await _account_with_urls(runtime, 100)
    seen: list[str] = []
    query = CursorQuery(limit=7)
    inserted = 0
    while True:
        found = await _page(runtime, principal, query)
        seen.extend(url.id for url in found.items)
        async with runtime.sessions() as session, session.begin():  # others keep creating Urls meanwhile
            for _ in range(3):
                await urls.create(session=session, principal=principal, host=f"new{inserted}.example.com")
                inserted += 1
        if found.cursor.before is None:
            break
        assert found.cursor.before == found.items[-1].id
        query = CursorQuery(limit=7, before=Bound(id=found.cursor.before))
    assert seen == list(reversed(made)), "each row once, newest first, none of those created during the walk"
    assert inserted == 3 * 15


async def test_the_last_page_has_no_cursor_even_when_it_is_full(runtime: Runtime) -> None:
    principal, made = await _account_with_urls(runtime, 14)
    first = await _page(runtime, principal, CursorQuery(limit=7))
    assert first.cursor.before == made[7]
    second = await _page(runtime, principal, CursorQuery(limit=7, before=Bound(id=made[7])))
    assert [u.id for u in second.items] == list(reversed(made[:7]))
    assert second.cursor.model_dump() == {"limit": 7, "before": None}


async def test_an_empty_list_has_no_cursor(runtime: Runtime) -> None:
    principal, _ = await _account_with_urls(runtime, 0)
    found = await _page(runtime, principal, CursorQuery())
    assert found.items == [] and found.cursor.model_dump() == {"limit": 50, "before": None}


async def test_windows_by_time_and_by_id_combine(runtime: Runtime) -> None:
    principal, made = await _account_with_urls(runtime, 6)
    async with runtime.sessions() as session:
        rows = {u.id: u for u in await session.scalars(urls.scoped(principal))}
    middle = rows[made[3]].created_at
    before_time = await _page(runtime, principal, CursorQuery(before=Bound(at=middle)))
    assert [u.id for u in before_time.items] == [i for i in reversed(made) if rows[i].created_at < middle]
    after_time = await _page(runtime, principal, CursorQuery(after=Bound(at=middle)))
    assert [u.id for u in after_time.items] == [i for i in reversed(made) if rows[i].created_at > middle]
    between = await _page(runtime, principal, CursorQuery(after=Bound(id=made[1]), before=Bound(id=made[4])))
    assert [u.id for u in between.items] == [made[3], made[2]]
    future = datetime.now(UTC) + timedelta(days=1)
    assert (await _page(runtime, principal, CursorQuery(after=Bound(at=future)))).items == []

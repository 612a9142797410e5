"""Reports computed at once never take the database pool from under each other or from requests."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from tests.factories import Factory
from tests.results.dataset import history, send
from tests.tracking.fixtures import shop
from versicolor.core.roles import Principal, Role
from versicolor.results import aggregation, service, store, sums
from versicolor.results.callbacks import CallbackSender
from versicolor.results.request import ReportRequest
from versicolor.results.slots import CONNECTIONS_SIDE_BY_SIDE, ReportSlots
from versicolor.runtime import Runtime
from versicolor.settings import Settings


@pytest.mark.parametrize(
    ("pool", "limit", "side_by_side"),
    [
        (1, 1, False),  # the one connection: one report at a time, its queries one after another
        (2, 1, False),
        (7, 3, False),  # half of it is 3: three reports, one connection each
        (8, 1, True),  # half of it gives one report its transaction and its readers
        (10, 1, True),
        (30, 3, True),  # the default pool (10 and 20 more in a burst)
    ],
)
def test_the_slots_never_need_more_than_half_the_pool(pool: int, limit: int, side_by_side: bool) -> None:
    slots = ReportSlots(pool=pool)
    assert (slots.limit, slots.side_by_side) == (limit, side_by_side)
    needed = slots.limit * (CONNECTIONS_SIDE_BY_SIDE if slots.side_by_side else 1)
    assert needed <= max(1, pool // 2)


@pytest.mark.parametrize(
    ("intervals", "visitor_data", "goals"), list(itertools.product([False, True], [False, True], [(), (1, 2)]))
)
def test_no_report_runs_more_queries_than_the_slots_count_on(
    intervals: bool, visitor_data: bool, goals: tuple[int, ...]
) -> None:
    request = ReportRequest.build(
        visitor_data=visitor_data,
        date_intervals=[(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))] if intervals else None,
    )
    scope = sums.Scope(experiment_id=1, goal_ids=goals, request=request)
    assert len(aggregation.queries_for(scope)) <= aggregation.MOST_QUERIES


@pytest.mark.backend("postgresql", reason="only PostgreSQL runs a report's queries side by side on more connections")
async def test_many_reports_at_once_leave_connections_for_requests(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, settings: Settings
) -> None:
    made = await shop(client, factory)
    await send(client, made, history(made))
    principal = Principal(account_id=made.account.account_id, user_id=None, role=Role.ADMIN)
    report_ids = []
    async with runtime.sessions() as session, session.begin():
        for _ in range(8):
            report = await service.request_report(
                session=session,
                principal=principal,
                experiment_id=made.experiment_id,
                request=ReportRequest(),
                callbacks=CallbackSender(),
            )
            report_ids.append(report.id)
    # Eight connections in all: before the slots, eight reports each took one for its transaction, then all
    # waited for the readers nobody would give back, until the pool's timeout failed them and every request.
    small = await Runtime.start(
        settings.model_copy(update={"database_pool_size": 2, "database_max_overflow": 6}), migrate_first=False
    )
    try:

        async def compute(report_id: int) -> bool:
            data = await service.run(
                sessions=small.sessions,
                slots=small.reports,
                report_id=report_id,
                callbacks=CallbackSender(),
                server_key=small.signing_key,
            )
            return data is not None

        async def request() -> int:
            await asyncio.sleep(0.05)  # while the reports compute
            async with small.sessions() as session:
                return int(await session.scalar(text("SELECT 1")) or 0)

        *computed, answered = await asyncio.wait_for(
            asyncio.gather(*(compute(r) for r in report_ids), request()), timeout=25
        )
    finally:
        await small.close()
    assert computed == [True] * len(report_ids) and answered == 1
    async with runtime.sessions() as session:
        for report_id in report_ids:
            row = await store.load(session=session, report_id=report_id)
            assert row is not None and store.status_of(row)[0] is store.Status.READY

"""The rollups ingestion keeps give exactly the figures the raw events give, however the events arrived.

`from_events` (joins over raw events, the rules written once in tracking/attribution.py) is the oracle:
every report shape is aggregated both ways and compared, after events sent in order, shuffled across
batches, replayed, with exposures that arrive after their conversions or move earlier, and from batches
racing each other.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, delete, func, select, update

from tests.factories import Factory
from tests.results.dataset import DAY, HOUR, MINUTE, T, event, history, send
from tests.tracking.fixtures import Shop, shop
from versicolor.db.models import TrackingExposure, TrackingVisitorGoal
from versicolor.results import from_events, from_rollups
from versicolor.results.request import Attribute, BreakdownType, Interval, ReportRequest
from versicolor.results.sums import Aggregates, Query, Scope
from versicolor.runtime import Runtime

REQUESTS = [
    ReportRequest(),
    ReportRequest.build(visitor_data=False),
    ReportRequest.build(breakdown_type=BreakdownType.INTERVAL, breakdown_interval=Interval.DAY),
    ReportRequest.build(visitor_data=False, breakdown_type=BreakdownType.DEVICE_TYPE),
    ReportRequest.build(breakdown_type=BreakdownType.NEW_VISITOR),
    ReportRequest.build(filters=[(Attribute.COUNTRY, ["FR", "DE"], True)]),
    ReportRequest.build(visitor_data=False, filters=[(Attribute.BROWSER, ["CHROME"], False)]),
    ReportRequest.build(breakdown_type=BreakdownType.CUSTOM_DATUM, breakdown_index=3),
    ReportRequest.build(visitor_data=False, breakdown_type=BreakdownType.CUSTOM_DATUM, breakdown_index=3),
]


def _with_cuped(shop_: Shop) -> list[ReportRequest]:
    goals = (shop_.goal_id, shop_.other_goal_id)
    return [
        ReportRequest.build(goal_ids=goals, cuped_goal_ids=[shop_.goal_id]),
        ReportRequest.build(goal_ids=goals, cuped_goal_ids=list(goals), breakdown_type=BreakdownType.COUNTRY),
    ]


async def _aggregate(runtime: Runtime, scope: Scope, queries: list[Query]) -> Aggregates:
    result = Aggregates()
    async with runtime.sessions() as session, session.begin():
        dialect = session.get_bind().dialect.name
        for query in queries:
            await query(session, scope, dialect, result)
    return result


def _from_events(scope: Scope) -> list[Query]:
    if scope.request.visitor_data:
        return [from_events.count_units, from_events.count_visits, from_events.sum_conversions]
    return [from_events.count_units, from_events.sum_per_visit]


def _from_rollups(scope: Scope) -> list[Query]:
    goals = from_rollups.sum_conversions if scope.request.visitor_data else from_rollups.sum_per_visit
    return [from_rollups.count_units, goals]


def _comparable(aggregates: Aggregates) -> dict[str, Any]:
    # Revenue is a float sum: the two ways add the same values in different orders.
    goals = {key: replace(sums, revenue=round(sums.revenue, 6)) for key, sums in aggregates.goals.items()}
    return {"units": aggregates.units, "goals": goals, "periods": aggregates.units_per_period}


async def _assert_rollups_agree(runtime: Runtime, made: Shop, requests: list[ReportRequest]) -> None:
    for request in requests:
        scope = Scope(
            experiment_id=made.experiment_id,
            goal_ids=(made.goal_id, made.other_goal_id),
            request=request,
            periods=(T + DAY,),
        )
        expected = await _aggregate(runtime, scope, _from_events(scope))
        actual = await _aggregate(runtime, scope, _from_rollups(scope))
        assert _comparable(actual) == _comparable(expected), request


async def test_hand_made_history_rolls_up_to_the_raw_figures(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    await send(client, made, history(made))
    await _assert_rollups_agree(runtime, made, [*REQUESTS, *_with_cuped(made)])
    # The dataset's figures, worked out on paper: v1's purchases are a1's 2 and a2's 1.
    scope = Scope(experiment_id=made.experiment_id, goal_ids=(made.goal_id,), request=ReportRequest())
    rolled = await _aggregate(runtime, scope, _from_rollups(scope))
    v1 = str(made.variation_ids[0])
    assert rolled.goals[(v1, "", made.goal_id)].conversions == 3
    assert rolled.units[(v1, "")].visitors == 3 and rolled.units[(v1, "")].visits == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_events_in_any_order_and_batching_roll_up_to_the_raw_figures(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, seed: int
) -> None:
    made = await shop(client, factory)
    rnd = random.Random(seed)
    events = _random_history(made, rnd)
    # Replays: some events sent twice, in other batches.
    events += rnd.sample(events, len(events) // 5)
    rnd.shuffle(events)
    start = 0
    while start < len(events):
        size = rnd.randint(1, 25)
        await send(client, made, events[start : start + size])
        start += size
    await _assert_rollups_agree(runtime, made, [*REQUESTS, *_with_cuped(made)])


def _random_history(made: Shop, rnd: random.Random) -> list[dict[str, Any]]:
    arms = [0, *made.variation_ids]
    goals = [made.goal_id, made.other_goal_id]
    events: list[dict[str, Any]] = []
    for n in range(40):
        visitor = f"r{n}"
        arm = rnd.choice(arms)
        attributes = {
            "deviceType": rnd.choice(["DESKTOP", "MOBILE"]),
            "browser": rnd.choice(["CHROME", "SAFARI"]),
            **({"country": rnd.choice(["FR", "DE", "US"])} if rnd.random() < 0.8 else {}),
            **({"newVisitor": rnd.random() < 0.5} if rnd.random() < 0.8 else {}),
            **({"customData": {"3": rnd.choice(["gold", "silver", 7, 2.5, True, ""])}} if rnd.random() < 0.8 else {}),
        }
        exposed = T + timedelta(hours=rnd.randrange(0, 72))
        # Several exposures to the same arm: the earliest is the one that counts, whenever it arrives.
        for extra in range(rnd.randint(1, 3)):
            at = exposed + timedelta(hours=rnd.randrange(0, 30)) * extra
            visit = "a" if extra == 0 else f"x{extra}"
            events.append(
                event("EXPOSURE", visitor, visit, at, experimentId=made.experiment_id, variationId=arm, **attributes)
            )
        for visit in range(rnd.randint(0, 3)):
            events.append(event("VISIT", visitor, "a" if visit == 0 else f"v{visit}", exposed + DAY * (visit - 1)))
        for _ in range(rnd.randint(0, 5)):
            # From 20 days before the exposure (outside CUPED's lookback) to 3 days after.
            at = exposed + timedelta(minutes=rnd.randrange(-20 * 24 * 60, 3 * 24 * 60))
            if rnd.random() < 0.15:
                at = exposed  # at the very moment of the exposure: it counts
            revenue = {"revenue": rnd.choice([5, 12.5, 99.99])} if rnd.random() < 0.5 else {}
            visit = rnd.choice(["a", "v1", "v2"])
            events.append(event("CONVERSION", visitor, visit, at, goalId=rnd.choice(goals), **revenue))
    # Visitors who converted and visited but were never exposed are in no rollup.
    events.append(event("CONVERSION", "never", "a", T, goalId=made.goal_id))
    events.append(event("VISIT", "never", "a", T))
    return events


async def test_a_later_earlier_exposure_makes_earlier_conversions_count(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    x, purchase = made.experiment_id, made.goal_id
    await send(client, made, [event("EXPOSURE", "late", "b", T + DAY, experimentId=x, variationId=0)])
    await send(client, made, [event("CONVERSION", "late", "a", T + HOUR, goalId=purchase)])
    assert await _rolled_conversions(runtime, made) == 0
    # The browser's earlier batch arrives last: the exposure moves to T, and the purchase at T+1h counts.
    await send(client, made, [event("EXPOSURE", "late", "a", T, experimentId=x, variationId=0)])
    assert await _rolled_conversions(runtime, made) == 1
    await _assert_rollups_agree(runtime, made, REQUESTS)


async def _rolled_conversions(runtime: Runtime, made: Shop) -> int:
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(TrackingVisitorGoal.conversions), 0)).where(
                TrackingVisitorGoal.experiment_id == made.experiment_id
            )
        )
    return int(total or 0)


async def test_deleting_a_goal_deletes_its_rollups(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    await send(client, made, history(made))
    assert await _rolled_conversions(runtime, made) > 0
    deleted = await client.delete(f"/goals/{made.other_goal_id}", headers=made.account.headers)
    assert deleted.status_code == 204, deleted.text
    async with runtime.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .where(TrackingVisitorGoal.goal_id == made.other_goal_id)
            .select_from(TrackingVisitorGoal)
        )
    assert left == 0


async def test_batches_racing_for_one_visitor_roll_up_every_event(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    """An exposure and the conversions it makes count, sent at the same moment in separate batches: whichever
    commits second must see the other's events (PostgreSQL runs them side by side)."""
    made = await shop(client, factory)
    x, purchase = made.experiment_id, made.goal_id
    for round_ in range(10):
        visitor = f"race{round_}-{uuid.uuid4().hex[:6]}"
        exposure = [event("EXPOSURE", visitor, "a", T, experimentId=x, variationId=made.variation_ids[0])]
        conversions = [event("CONVERSION", visitor, "a", T + MINUTE * (n + 1), goalId=purchase) for n in range(3)]
        visit = [event("VISIT", visitor, "a", T)]
        await asyncio.gather(send(client, made, exposure), send(client, made, conversions), send(client, made, visit))
    assert await _rolled_conversions(runtime, made) == 30
    await _assert_rollups_agree(runtime, made, REQUESTS)


async def test_the_migrations_backfill_gives_what_ingestion_keeps(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    """Migration 0009 rolls up the events stored before it: the same rows ingestion keeps since."""
    made = await shop(client, factory)
    await send(client, made, _random_history(made, random.Random(7)))
    migration = importlib.import_module("versicolor.db.migrations.versions.0009_tracking_rollups")
    rollups = select(TrackingVisitorGoal).order_by(
        TrackingVisitorGoal.experiment_id, TrackingVisitorGoal.visitor_code, TrackingVisitorGoal.goal_id
    )
    visits = select(TrackingExposure.experiment_id, TrackingExposure.visitor_code, TrackingExposure.visits).order_by(
        TrackingExposure.experiment_id, TrackingExposure.visitor_code
    )

    def backfill(connection: Connection) -> None:
        with Operations.context(MigrationContext.configure(connection)):
            migration._backfill(connection.dialect.name)

    async with runtime.sessions() as session, session.begin():
        kept = [_row(r) for r in await session.scalars(rollups)]
        kept_visits = (await session.execute(visits)).all()
        assert any(r["experiment_id"] == made.experiment_id for r in kept)
        await session.execute(delete(TrackingVisitorGoal))
        await session.execute(update(TrackingExposure).values(visits=0))
        session.expunge_all()
        connection = await session.connection()
        await connection.run_sync(backfill)
        assert [_row(r) for r in await session.scalars(rollups)] == kept
        assert (await session.execute(visits)).all() == kept_visits
        await session.rollback()


def _row(rollup: TrackingVisitorGoal) -> dict[str, Any]:
    values = {column.key: getattr(rollup, column.key) for column in TrackingVisitorGoal.__table__.columns}
    if values["revenue"] is not None:
        values["revenue"] = round(values["revenue"], 6)
    return values

"""Storing a batch of events: every event checked against the site's experiments and goals, then all of it
written in the caller's one transaction, or none of it (CONTRACT §11).

Set-based writes (one executemany per table) keep a batch of thousands of events to a few statements:

- visits and conversions: INSERT ... ON CONFLICT (site, event id) DO NOTHING, so a replayed event is stored
  once;
- exposures: one row per (experiment, visitor). The first stored exposure fixes the variation for good; a
  later-arriving exposure to the SAME variation with an earlier timestamp moves the exposure time back (a
  browser's batches may arrive out of order), one to another variation changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Detail
from versicolor.db.models import Experiment, Goal, TrackingConversion, TrackingExposure, TrackingVisit, Variation
from versicolor.tracking import events as event_rules
from versicolor.tracking.events import Batch, Event, EventType
from versicolor.tracking.sites import SiteRef


@dataclass(frozen=True)
class Stored:
    """What a stored batch held."""

    received: int
    visits: int
    exposures: int
    conversions: int


async def ingest(*, session: AsyncSession, site: SiteRef, batch: Batch, now: datetime) -> Stored:
    """Check every event of `batch` and store them all; raises Invalid listing every problem, storing nothing."""
    events, problems = event_rules.check(batch, now=now)
    problems.extend(await _reference_problems(session=session, site=site, batch=batch, events=events))
    if problems:
        raise event_rules.refuse(problems)
    return await store(session=session, site=site, events=events, now=now)


async def _reference_problems(
    *, session: AsyncSession, site: SiteRef, batch: Batch, events: Sequence[Event]
) -> list[Detail]:
    experiment_ids = {e.experiment_id for e in events if e.experiment_id is not None}
    goal_ids = {e.goal_id for e in events if e.goal_id is not None}
    variations = await _variations_of(session=session, site=site, experiment_ids=experiment_ids)
    goals = await _goals_of(session=session, site=site, goal_ids=goal_ids)
    problems: list[Detail] = []
    for event in events:
        if event.experiment_id is not None:
            known = variations.get(event.experiment_id)
            if known is None:
                message = f"experiment {event.experiment_id} is not an experiment of site {site.code}"
                problems.append(batch.detail(event.index, "experimentId", message))
            elif event.variation_id not in known:
                listed = ", ".join(["0 (the original)", *(str(v) for v in sorted(known - {0}))])
                message = (
                    f"{event.variation_id} is not a variation of experiment {event.experiment_id}; "
                    f"its variations are {listed}"
                )
                problems.append(batch.detail(event.index, "variationId", message))
        if event.goal_id is not None and event.goal_id not in goals:
            message = f"goal {event.goal_id} is not a goal of site {site.code}"
            problems.append(batch.detail(event.index, "goalId", message))
    return problems


async def _variations_of(*, session: AsyncSession, site: SiteRef, experiment_ids: Iterable[int]) -> dict[int, set[int]]:
    """The variation ids (0 = the original) of each of the site's experiments among `experiment_ids`."""
    wanted = sorted(experiment_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Experiment.id, Variation.id)
        .outerjoin(Variation, Variation.experiment_id == Experiment.id)
        .where(Experiment.account_id == site.account_id, Experiment.site_id == site.id, Experiment.id.in_(wanted))
    )
    found: dict[int, set[int]] = {}
    for experiment_id, variation_id in rows:
        found.setdefault(experiment_id, {0})
        if variation_id is not None:
            found[experiment_id].add(variation_id)
    return found


async def _goals_of(*, session: AsyncSession, site: SiteRef, goal_ids: Iterable[int]) -> set[int]:
    wanted = sorted(goal_ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(Goal.id).where(Goal.account_id == site.account_id, Goal.site_id == site.id, Goal.id.in_(wanted))
    )
    return set(rows)


async def store(*, session: AsyncSession, site: SiteRef, events: Sequence[Event], now: datetime) -> Stored:
    """Write checked events in the session's transaction, each table in one set-based statement."""
    visits: list[dict[str, Any]] = []
    conversions: list[dict[str, Any]] = []
    first_exposures: dict[tuple[int, str], Event] = {}
    for event in events:
        if event.type is EventType.VISIT:
            visits.append(_row(site, event, now))
        elif event.type is EventType.CONVERSION:
            row = _row(site, event, now)
            row["goal_id"] = event.goal_id
            row["revenue"] = event.revenue
            conversions.append(row)
        else:
            assert event.experiment_id is not None
            key = (event.experiment_id, event.visitor_code)
            # Within one batch the earliest exposure comes first (ties: the first sent).
            earlier = first_exposures.get(key)
            if earlier is None or event.timestamp < earlier.timestamp:
                first_exposures[key] = event
    exposures = []
    for event in first_exposures.values():
        row = _row(site, event, now)
        row["experiment_id"] = event.experiment_id
        row["variation_id"] = event.variation_id
        exposures.append(row)
    dialect = session.get_bind().dialect.name
    if visits:
        await session.execute(_insert_new(dialect, _table(TrackingVisit), ("site_id", "event_id")), visits)
    if conversions:
        await session.execute(_insert_new(dialect, _table(TrackingConversion), ("site_id", "event_id")), conversions)
    if exposures:
        await session.execute(_insert_exposures(dialect), exposures)
    return Stored(
        received=len(events), visits=len(visits), exposures=len(first_exposures), conversions=len(conversions)
    )


def _table(model: type[TrackingVisit | TrackingConversion | TrackingExposure]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _row(site: SiteRef, event: Event, now: datetime) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "account_id": site.account_id,
        "event_id": event.id,
        "visitor_code": event.visitor_code,
        "visit_id": event.visit_id,
        "timestamp": event.timestamp,
        "device_type": event.device_type,
        "browser": event.browser,
        "country": event.country,
        "new_visitor": event.new_visitor,
        "custom_data": event.custom_data,
        "received_at": now,
    }


def _dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"event storage supports PostgreSQL and SQLite, not {dialect}")


def _insert_new(dialect: str, table: Table, key: Sequence[str]) -> Any:
    return _dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=list(key))


_MOVED_BACK = ("event_id", "visit_id", "timestamp", "device_type", "browser", "country", "new_visitor", "custom_data")


def _insert_exposures(dialect: str) -> Any:
    table = _table(TrackingExposure)
    statement = _dialect_insert(dialect, table)
    columns: Mapping[str, Any] = {name: statement.excluded[name] for name in _MOVED_BACK}
    return statement.on_conflict_do_update(
        index_elements=["experiment_id", "visitor_code"],
        set_=dict(columns),
        where=(table.c.variation_id == statement.excluded.variation_id)
        & (statement.excluded.timestamp < table.c.timestamp),
    )

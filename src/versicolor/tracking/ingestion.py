"""Storing a batch of events: every event checked against the site's experiments and goals, then all of it
written in the caller's one transaction, or none of it (docs/tracking.md).

Set-based writes keep a batch of thousands of events to one statement per table (PostgreSQL: INSERT ...
SELECT FROM json_to_recordset; SQLite: one executemany):

- visits and conversions: INSERT ... ON CONFLICT (site, event id) DO NOTHING, so a replayed event is stored
  once;
- exposures: one row per (experiment, visitor). The first stored exposure fixes the variation for good; a
  later-arriving exposure to the SAME variation with an earlier timestamp moves the exposure time back (a
  browser's batches may arrive out of order), one to another variation changes nothing;
- then the rollups of the visitors the batch touched are recomputed (`versicolor.tracking.rollup`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Detail
from versicolor.db.models import Experiment, Goal, TrackingConversion, TrackingExposure, TrackingVisit, Variation
from versicolor.tracking import events as event_rules
from versicolor.tracking import revenue, rollup
from versicolor.tracking.events import Batch, Event, EventType
from versicolor.tracking.revenue import RevenueCaps
from versicolor.tracking.sites import SiteRef


@dataclass(frozen=True)
class Stored:
    """What a stored batch held."""

    received: int
    visits: int
    exposures: int
    conversions: int


async def ingest(
    *, session: AsyncSession, site: SiteRef, batch: Batch, now: datetime, caps: RevenueCaps | None = None
) -> Stored:
    """Check every event of `batch` and store them all; raises Invalid listing every problem, storing nothing."""
    events, problems = event_rules.check(batch, now=now)
    problems.extend(await _reference_problems(session=session, site=site, batch=batch, events=events))
    if caps is not None:
        problems.extend(revenue.event_problems(batch=batch, events=events, caps=caps))
    if problems:
        raise event_rules.refuse(problems)
    return await store(session=session, site=site, events=events, now=now, caps=caps, batch=batch)


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


async def store(
    *,
    session: AsyncSession,
    site: SiteRef,
    events: Sequence[Event],
    now: datetime,
    caps: RevenueCaps | None = None,
    batch: Batch | None = None,
) -> Stored:
    """Write checked events in the session's transaction, each table in one set-based statement; with `caps`
    (and the `batch` the events came from, to name them), refuse the lot if a visitor's revenue would pass them."""
    visits: list[Event] = []
    conversions: list[Event] = []
    first_exposures: dict[tuple[int | None, str], Event] = {}
    for event in events:
        if event.type is EventType.VISIT:
            visits.append(event)
        elif event.type is EventType.CONVERSION:
            conversions.append(event)
        else:
            # Within one batch the earliest exposure comes first (ties: the first sent); one row per key also
            # keeps PostgreSQL's ON CONFLICT DO UPDATE from meeting the same row twice in one statement.
            key = (event.experiment_id, event.visitor_code)
            earlier = first_exposures.get(key)
            if earlier is None or event.timestamp < earlier.timestamp:
                first_exposures[key] = event
    exposures = list(first_exposures.values())
    # Rows go in key order, so two batches that share keys (a client's retry racing its original) take their
    # row locks in the same order and wait for each other instead of deadlocking.
    visits.sort(key=_by_event_id)
    conversions.sort(key=_by_event_id)
    exposures.sort(key=_by_exposure_key)
    exposed = {e.visitor_code for e in exposures}
    await rollup.lock_visitors(session=session, site_id=site.id, visitor_codes={e.visitor_code for e in events})
    if caps is not None and batch is not None:
        # Under the visitors' locks: a racing batch of the same visitor waits until this one has committed.
        problems = await revenue.visitor_problems(session=session, site=site, batch=batch, events=events, caps=caps)
        if problems:
            raise event_rules.refuse(problems)
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        for sql, rows, make in (
            (_PG_VISITS, visits, _pg_common),
            (_PG_CONVERSIONS, conversions, _pg_conversion),
            (_PG_EXPOSURES, exposures, _pg_exposure),
        ):
            if rows:
                # orjson: ten times the standard encoder's speed here, and datetimes written as RFC 3339.
                records = orjson.dumps([make(e) for e in rows]).decode()
                await connection.exec_driver_sql(sql, (records, now, site.id, site.account_id))
    else:
        for statement, rows, extra in (
            (_insert_new(_table(TrackingVisit)), visits, _no_extra),
            (_insert_new(_table(TrackingConversion)), conversions, _conversion_extra),
            (_insert_exposures(), exposures, _exposure_extra),
        ):
            if rows:
                await session.execute(statement, [{**_row(site, e, now), **extra(e)} for e in rows])
    await rollup.refresh(
        session=session,
        site_id=site.id,
        visits_of=exposed | {e.visitor_code for e in visits},
        conversions_of=exposed | {e.visitor_code for e in conversions},
    )
    return Stored(received=len(events), visits=len(visits), exposures=len(exposures), conversions=len(conversions))


def _by_event_id(event: Event) -> str:
    return event.id


def _by_exposure_key(event: Event) -> tuple[int, str]:
    return (event.experiment_id or 0, event.visitor_code)


# PostgreSQL: one INSERT ... SELECT FROM json_to_recordset($1) per table. The rows travel as ONE JSON text
# parameter, which PostgreSQL parses in C; column arrays (unnest) cost asyncpg an isinstance check per
# element, a third of the server's time per batch. The values every row shares (received_at, site,
# account) go as single parameters.
_COMMON = [
    ("event_id", "text"),
    ("visitor_code", "text"),
    ("visit_id", "text"),
    ("timestamp", "timestamptz"),
    ("device_type", "text"),
    ("browser", "text"),
    ("country", "text"),
    ("new_visitor", "boolean"),
    ("custom_data", "json"),
]
_SHARED = ["received_at", "site_id", "account_id"]


def _pg_insert(table: str, columns: list[tuple[str, str]], conflict: str) -> str:
    record = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    names = ", ".join([f'"{name}"' for name, _ in columns] + _SHARED)
    # Built once at import from this module's constants; values only ever travel as bound parameters.
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608
        f"SELECT r.*, $2::timestamptz, $3::bigint, $4::bigint FROM json_to_recordset($1::json) AS r({record}) "
        f"{conflict}"
    )


_PG_VISITS = _pg_insert("tracking_visits", _COMMON, "ON CONFLICT (site_id, event_id) DO NOTHING")
_PG_CONVERSIONS = _pg_insert(
    "tracking_conversions",
    [*_COMMON, ("goal_id", "bigint"), ("revenue", "double precision")],
    "ON CONFLICT (site_id, event_id) DO NOTHING",
)
_MOVED_BACK = ("event_id", "visit_id", "timestamp", "device_type", "browser", "country", "new_visitor", "custom_data")
_PG_EXPOSURES = _pg_insert(
    "tracking_exposures",
    [*_COMMON, ("experiment_id", "bigint"), ("variation_id", "bigint")],
    "ON CONFLICT (experiment_id, visitor_code) DO UPDATE SET "
    + ", ".join(f'"{name}" = EXCLUDED."{name}"' for name in _MOVED_BACK)
    + " WHERE tracking_exposures.variation_id = EXCLUDED.variation_id"
    + ' AND EXCLUDED."timestamp" < tracking_exposures."timestamp"',
)


def _pg_common(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "visitor_code": event.visitor_code,
        "visit_id": event.visit_id,
        "timestamp": event.timestamp,
        "device_type": event.device_type,
        "browser": event.browser,
        "country": event.country,
        "new_visitor": event.new_visitor,
        "custom_data": event.custom_data,
    }


def _pg_conversion(event: Event) -> dict[str, Any]:
    record = _pg_common(event)
    record["goal_id"] = event.goal_id
    record["revenue"] = event.revenue
    return record


def _pg_exposure(event: Event) -> dict[str, Any]:
    record = _pg_common(event)
    record["experiment_id"] = event.experiment_id
    record["variation_id"] = event.variation_id
    return record


# SQLite (and any other backend): SQLAlchemy's dialect inserts, run as one executemany per table.
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


def _no_extra(_event: Event) -> dict[str, Any]:
    return {}


def _conversion_extra(event: Event) -> dict[str, Any]:
    return {"goal_id": event.goal_id, "revenue": event.revenue}


def _exposure_extra(event: Event) -> dict[str, Any]:
    return {"experiment_id": event.experiment_id, "variation_id": event.variation_id}


def _insert_new(table: Table) -> Any:
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=["site_id", "event_id"])


def _insert_exposures() -> Any:
    table = _table(TrackingExposure)
    statement = sqlite.insert(table)
    moved = ("event_id", "visit_id", "timestamp", "device_type", "browser", "country", "new_visitor", "custom_data")
    return statement.on_conflict_do_update(
        index_elements=["experiment_id", "visitor_code"],
        set_={name: statement.excluded[name] for name in moved},
        where=(table.c.variation_id == statement.excluded.variation_id)
        & (statement.excluded.timestamp < table.c.timestamp),
    )

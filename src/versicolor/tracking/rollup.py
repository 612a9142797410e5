"""Keeping the per-visitor rollups that reports read, in the same transaction as the events they summarise.

Two derived figures, both under `versicolor.tracking.attribution`'s rules:

- `tracking_exposures.visits`: the visitor's visits that count for the experiment;
- `tracking_visitor_goals`: per (experiment, visitor, goal), the counted conversions, the visits they fell in,
  their revenue, and the conversions in the CUPED lookback before the exposure.

They are recomputed, not incremented, for every visitor a batch touches: an exposure may arrive after the
conversions it counts, or move earlier and make earlier conversions count, and recomputing a visitor's few
rows gives the right answer whatever the order events arrived in. On PostgreSQL, batches that touch the same
visitor take turns (`lock_visitors`), so a batch's recomputation always sees the other's committed events;
SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Delete,
    Insert,
    String,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    case,
    delete,
    distinct,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit, TrackingVisitorGoal
from versicolor.tracking import attribution

_E, _C, _V, _R = TrackingExposure, TrackingConversion, TrackingVisit, TrackingVisitorGoal
# The first key of PostgreSQL's two-key advisory locks, so that these locks share no space with others.
_LOCK_CLASS = 0x76636F6C  # "vcol"
# SQLite binds one parameter per visitor in IN (...); PostgreSQL takes them as one array.
_SQLITE_CHUNK = 500


async def lock_visitors(*, session: AsyncSession, site_id: int, visitor_codes: Collection[str]) -> None:
    """PostgreSQL: wait until no other transaction is writing events of these visitors, then hold them until
    this transaction ends. Locks are taken in one statement, in a fixed order, so batches cannot deadlock."""
    if session.get_bind().dialect.name != "postgresql" or not visitor_codes:
        return
    # A 32-bit key per visitor: two visitors sharing one only wait for each other, which is harmless.
    keys = sorted({zlib.crc32(f"{site_id}:{code}".encode()) - 2**31 for code in visitor_codes})
    connection = await session.connection()
    # unnest() yields the array in order, and each row takes its lock before the next row is produced.
    await connection.exec_driver_sql(
        "SELECT count(pg_advisory_xact_lock($1::int, k)) FROM unnest($2::int[]) AS k", (_LOCK_CLASS, keys)
    )


async def refresh(
    *, session: AsyncSession, site_id: int, visits_of: Collection[str], conversions_of: Collection[str]
) -> None:
    """Recompute the rollups of the site's visitors: the counted visits of `visits_of`, the goal rows of
    `conversions_of` (a batch's exposures touch both, its visits the first, its conversions the second)."""
    dialect = session.get_bind().dialect.name
    statements = _statements(dialect)
    for codes in _chunks(visits_of, dialect):
        await session.execute(statements.count_visits, {"site": site_id, "codes": codes})
    for codes in _chunks(conversions_of, dialect):
        await session.execute(statements.drop_goal_rows, {"site": site_id, "codes": codes})
        await session.execute(statements.add_goal_rows, {"site": site_id, "codes": codes})


def _chunks(codes: Collection[str], dialect: str) -> Iterator[list[str]]:
    ordered = sorted(set(codes))
    size = len(ordered) if dialect == "postgresql" else _SQLITE_CHUNK
    for start in range(0, len(ordered), max(size, 1)):
        yield ordered[start : start + size]


@dataclass(frozen=True)
class _Statements:
    """The three statements of a refresh, with parameters `site` and `codes` (the visitor codes)."""

    count_visits: Update
    drop_goal_rows: Delete
    add_goal_rows: Insert


@functools.cache
def _statements(dialect: str) -> _Statements:
    # Built once per dialect and run on Core tables: nothing ORM-side to keep in step, and no statement to
    # build again per batch.
    exposures, goal_rows = _table(_E), _table(_R)
    site_id: BindParameter[int] = bindparam("site")
    return _Statements(
        count_visits=_count_visits(exposures, site_id, _visitor_in(_E.visitor_code, dialect)),
        drop_goal_rows=delete(goal_rows).where(_R.site_id == site_id, _visitor_in(_R.visitor_code, dialect)),
        add_goal_rows=_add_goal_rows(goal_rows, site_id, _visitor_in(_E.visitor_code, dialect), dialect),
    )


def _table(model: type[TrackingExposure] | type[TrackingVisitorGoal]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _visitor_in(column: QueryableAttribute[str], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column == any_(bindparam("codes", type_=postgresql.ARRAY(String)))
    return column.in_(bindparam("codes", expanding=True))


def _count_visits(exposures: Table, site_id: BindParameter[Any], visitor_in: ColumnElement[bool]) -> Update:
    counted = select(func.count()).select_from(_V).where(attribution.visit_counts()).scalar_subquery()
    # Unchanged rows are left alone: on PostgreSQL an UPDATE writes a new row version even for equal values.
    return update(exposures).where(_E.site_id == site_id, visitor_in, _E.visits != counted).values(visits=counted)


def _add_goal_rows(
    goal_rows: Table, site_id: BindParameter[Any], visitor_in: ColumnElement[bool], dialect: str
) -> Insert:
    counted = attribution.after_exposure()
    exposure = [_E.experiment_id, _E.visitor_code]
    copied = [_E.site_id, _E.variation_id, _E.timestamp, _E.device_type, _E.browser, _E.country, _E.new_visitor]
    rows = (
        select(
            *exposure,
            _C.goal_id,
            *copied,
            func.sum(case((counted, 1), else_=0)),
            func.count(distinct(case((counted, _C.visit_id), else_=None))),
            func.sum(case((counted, _C.revenue), else_=None)),
            func.sum(case((counted, 0), else_=1)),
        )
        .select_from(_E)
        .join(_C, and_(attribution.same_visitor(), attribution.within_lookback(dialect)))
        .where(_E.site_id == site_id, visitor_in)
        .group_by(*exposure, _C.goal_id, *copied)
    )
    names = [
        "experiment_id",
        "visitor_code",
        "goal_id",
        "site_id",
        "variation_id",
        "timestamp",
        "device_type",
        "browser",
        "country",
        "new_visitor",
        "conversions",
        "converted_visits",
        "revenue",
        "pre_conversions",
    ]
    return insert(goal_rows).from_select(names, rows)

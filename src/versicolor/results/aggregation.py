"""Stored exposures, visits and conversions -> per-arm (per breakdown key) sufficient statistics, in SQL.

Nothing here loads tracking rows into Python: each query joins one experiment's exposures to its site's
visits or conversions, GROUPs BY visitor (and goal), then by arm and key, and returns a few rows per arm.
Which visits and conversions count for an experiment is `versicolor.tracking.attribution`'s rule; this
module adds what a report asks for (docs/results.md):

- a unit is a visitor (`visitorData` true) or a visit (false). Visitors are what is randomised, so per-visit
  figures are ratios of per-visitor sums (conversions per visitor over visits per visitor);
- a visitor is in the report when its first exposure falls in one of `dateIntervals` (all time if none)
  and its attributes at that exposure pass the filters; its breakdown key comes from that exposure too (its
  time bucket, device type, browser, country or new-visitor flag), so every visitor is in exactly one key;
- its conversions and visits count when attribution says so and they fall in `dateIntervals` (the visit of
  the first exposure always counts, even when it started before an interval);
- CUPED's pre-exposure value is the visitor's conversions on the same goal in the `CUPED_LOOKBACK` before
  its first exposure.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import QueryableAttribute

from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit
from versicolor.results.request import Attribute, BreakdownType, DateInterval, Filter, Interval, ReportRequest
from versicolor.tracking import attribution

CUPED_LOOKBACK = timedelta(days=14)
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
# The key of units that did not send the attribute a report is broken down by.
UNKNOWN_KEY = "_unknown"

_E, _C, _V = TrackingExposure, TrackingConversion, TrackingVisit
_ATTRIBUTE_COLUMNS: dict[Attribute, QueryableAttribute[Any]] = {
    Attribute.DEVICE_TYPE: _E.device_type,
    Attribute.BROWSER: _E.browser,
    Attribute.COUNTRY: _E.country,
    Attribute.NEW_VISITOR: _E.new_visitor,
}


@dataclass(frozen=True)
class Scope:
    """What to aggregate: one experiment's visitors and these goals, as `request` says.

    `periods` are the moments the experiment's deviations changed: visitors are also counted per period
    (0 before the first moment, i after the i-th), for the sample-ratio check.
    """

    experiment_id: int
    goal_ids: tuple[int, ...]
    request: ReportRequest
    periods: tuple[datetime, ...] = ()


@dataclass
class Units:
    """One arm's units in one key: visitors, their visits, and the sum over visitors of visits squared."""

    visitors: int = 0
    visits: int = 0
    visits_squared: int = 0

    def add(self, other: Units) -> None:
        """Add another key's units to these (the totals over keys)."""
        self.visitors += other.visitors
        self.visits += other.visits
        self.visits_squared += other.visits_squared


@dataclass
class GoalSums:
    """One goal in one arm and key: sums over visitors of post-exposure values, and their cross terms.

    k is a visitor's number of conversions, cv its converted visits (per-visit reports only), v its visits,
    pre its conversions before exposure (CUPED only). `converted_visitors` counts visitors with k > 0.
    """

    converted_visitors: int = 0
    conversions: int = 0  # sum k
    conversions_squared: int = 0  # sum k^2
    converted_visits: int = 0  # sum cv (per visitor: the converted visitors)
    converted_visits_squared: int = 0  # sum cv^2
    conversions_by_visits: int = 0  # sum k v
    converted_visits_by_visits: int = 0  # sum cv v
    revenue: float = 0.0
    pre_conversions: int = 0  # sum pre
    pre_conversions_squared: int = 0  # sum pre^2
    pre_converted_visitors: int = 0  # visitors with pre > 0
    conversions_pre: int = 0  # sum k pre
    converted_pre: int = 0  # visitors with k > 0 and pre > 0

    def add(self, other: GoalSums) -> None:
        """Add another key's sums to these (the totals over keys)."""
        for name in _SUM_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_SUM_FIELDS = tuple(GoalSums.__dataclass_fields__)


@dataclass
class Aggregates:
    """Every figure a report needs, keyed by arm (variation id as a string, "0" the original) and breakdown
    key ("" without a breakdown)."""

    units: dict[tuple[str, str], Units] = field(default_factory=dict)
    goals: dict[tuple[str, str, int], GoalSums] = field(default_factory=dict)
    # Visitors per arm and deviation period.
    units_per_period: dict[tuple[str, int], int] = field(default_factory=dict)


_Query = Callable[[AsyncSession, "Scope", str, "Aggregates"], Awaitable[None]]


async def aggregate(
    *, session: AsyncSession, scope: Scope, sessions: async_sessionmaker[AsyncSession] | None = None
) -> Aggregates:
    """Run the report's queries: in the session's transaction, or on PostgreSQL, given `sessions`, side by
    side in three read-only transactions that share one snapshot (so they count the same events)."""
    dialect = session.get_bind().dialect.name
    result = Aggregates()
    queries: list[_Query] = [_count_units]
    if scope.request.visitor_data:
        queries += [_count_visits, *([_sum_conversions] if scope.goal_ids else [])]
    else:
        queries.append(_sum_per_visit)
    if dialect != "postgresql" or sessions is None:
        if dialect == "postgresql":
            await _tune_postgresql(session)
        for query in queries:
            await query(session, scope, dialect, result)
        return result
    async with AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(sessions()) for _ in queries]
        for reader in readers:
            await reader.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
        snapshot = str(await readers[0].scalar(text("SELECT pg_export_snapshot()")))
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
        for reader in readers[1:]:
            # SET TRANSACTION SNAPSHOT takes no parameters; the id was checked above.
            await reader.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        for reader in readers:
            await _tune_postgresql(reader)
        await asyncio.gather(
            *(query(reader, scope, dialect, result) for query, reader in zip(queries, readers, strict=True))
        )
    return result


async def _tune_postgresql(session: AsyncSession) -> None:
    # JIT compilation costs more than it saves on these queries (up to a few hundred ms of a report), and
    # the default work_mem (4MB) makes a million-visitor hash join spill to disk. SET LOCAL ends with the
    # transaction.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL work_mem = '64MB'"))


def _in_intervals(column: Any, intervals: Sequence[DateInterval]) -> ColumnElement[bool]:
    if not intervals:
        return true()
    return or_(*(and_(column >= i.start, column < i.end) for i in intervals))


def _filter_condition(flt: Filter) -> ColumnElement[bool]:
    column = _ATTRIBUTE_COLUMNS[flt.type]
    values: list[Any] = [v == "true" for v in flt.values] if flt.type is Attribute.NEW_VISITOR else list(flt.values)
    if flt.include:
        return column.in_(values)
    # Excluding a value keeps the units that did not send the attribute at all.
    return or_(column.is_(None), column.not_in(values))


def _visitor_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    request = scope.request
    return [
        _E.experiment_id == scope.experiment_id,
        _in_intervals(_E.timestamp, request.date_intervals),
        *(_filter_condition(f) for f in request.filters),
    ]


def _bucket(interval: Interval, dialect: str) -> ColumnElement[Any]:
    # Constants are written into the SQL, not bound: PostgreSQL must see the same expression in SELECT and
    # GROUP BY.
    if dialect == "postgresql":
        unit = {Interval.HOUR: "hour", Interval.DAY: "day", Interval.WEEK: "week", Interval.MONTH: "month"}[interval]
        # date_trunc on a timestamptz follows the session's zone; reports are in UTC whatever the server's.
        utc = func.timezone(literal_column("'UTC'"), _E.timestamp)
        return func.to_char(
            func.date_trunc(literal_column(f"'{unit}'"), utc), literal_column("'YYYY-MM-DD HH24:MI:SS'")
        )
    if interval is Interval.WEEK:
        # 'weekday 0' moves forward to Sunday (or stays there); six days back is that week's Monday.
        return func.strftime(
            literal_column("'%Y-%m-%d 00:00:00'"),
            _E.timestamp,
            literal_column("'weekday 0'"),
            literal_column("'-6 days'"),
        )
    pattern = {
        Interval.HOUR: "%Y-%m-%d %H:00:00",
        Interval.DAY: "%Y-%m-%d 00:00:00",
        Interval.MONTH: "%Y-%m-01 00:00:00",
    }
    return func.strftime(literal_column(f"'{pattern[interval]}'"), _E.timestamp)


def _key(scope: Scope, dialect: str) -> ColumnElement[Any] | QueryableAttribute[Any] | None:
    breakdown = scope.request.breakdown
    if breakdown is None:
        return None
    if breakdown.type is BreakdownType.INTERVAL:
        assert breakdown.interval is not None
        return _bucket(breakdown.interval, dialect)
    column = _ATTRIBUTE_COLUMNS[Attribute(breakdown.type.value)]
    if breakdown.type is BreakdownType.NEW_VISITOR:
        return case(
            (column.is_(None), None), (column == false(), literal_column("'false'")), else_=literal_column("'true'")
        )
    return column


def key_of(raw: Any, scope: Scope) -> str:
    """The breakdown key a query returned, as the report shows it ("" without a breakdown)."""
    breakdown = scope.request.breakdown
    if breakdown is None:
        return ""
    if raw is None:
        return UNKNOWN_KEY
    if breakdown.type is BreakdownType.INTERVAL:
        return str(raw).replace(" ", "T") + "Z"
    return str(raw)


def _period(scope: Scope) -> ColumnElement[int] | None:
    if not scope.periods:
        return None
    return case(
        *((_E.timestamp < moment, index) for index, moment in enumerate(scope.periods)), else_=len(scope.periods)
    )


def _per_visitor_columns(scope: Scope, dialect: str) -> list[Any]:
    """A visitor's arm and key, inside a GROUP BY visitor (each has one exposure row, so min() is that row's)."""
    columns: list[Any] = [func.min(_E.variation_id).label("arm")]
    key = _key(scope, dialect)
    if key is not None:
        columns.append(func.min(key).label("key"))
    return columns


def _groups(source: Any, *names: str) -> list[Any]:
    return [source.c[name] for name in names if name in source.c]


def _key_of_row(values: Any, scope: Scope) -> str:
    return key_of(values.get("key"), scope)


async def _count_units(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    columns: list[Any] = [_E.variation_id.label("arm")]
    key, period = _key(scope, dialect), _period(scope)
    if key is not None:
        columns.append(key.label("key"))
    if period is not None:
        columns.append(period.label("period"))
    # Grouped outside: a key or period expression with bound values would not be recognised in GROUP BY.
    visitors = select(*columns).where(*_visitor_conditions(scope)).subquery("visitors")
    groups = _groups(visitors, "arm", "key", "period")
    for row in await session.execute(select(*groups, func.count().label("n")).group_by(*groups)):
        values = row._mapping
        arm, n = str(values["arm"]), int(values["n"])
        result.units.setdefault((arm, _key_of_row(values, scope)), Units()).visitors += n
        period_key = (arm, int(values.get("period") or 0))
        result.units_per_period[period_key] = result.units_per_period.get(period_key, 0) + n


def _counted_visit(scope: Scope) -> ColumnElement[bool]:
    return and_(
        attribution.visit_counts(),
        or_(_V.visit_id == _E.visit_id, _in_intervals(_V.timestamp, scope.request.date_intervals)),
    )


def _visits_per_visitor(scope: Scope, dialect: str) -> Select[Any]:
    """One row per visitor of the report: its arm, key and number of counted visits."""
    return (
        select(_E.visitor_code, *_per_visitor_columns(scope, dialect), func.count(_V.event_id).label("visits"))
        .select_from(_E)
        .outerjoin(_V, _counted_visit(scope))
        .where(*_visitor_conditions(scope))
        .group_by(_E.visitor_code)
    )


async def _count_visits(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Visits per arm and key (per-visitor reports show only the total: no grouping by visitor needed)."""
    columns: list[Any] = [_E.variation_id.label("arm")]
    key = _key(scope, dialect)
    if key is not None:
        columns.append(key.label("key"))
    joined = (
        select(*columns)
        .select_from(_E)
        .join(_V, _counted_visit(scope))
        .where(*_visitor_conditions(scope))
        .subquery("visits")
    )
    groups = _groups(joined, "arm", "key")
    for row in await session.execute(select(*groups, func.count().label("visits")).group_by(*groups)):
        values = row._mapping
        units = result.units.setdefault((str(values["arm"]), _key_of_row(values, scope)), Units())
        units.visits += int(values["visits"])


def _lookback(dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return _C.timestamp >= _E.timestamp - literal(CUPED_LOOKBACK)
    # SQLite keeps timestamps as text; julianday() makes both sides comparable numbers of days.
    return func.julianday(_C.timestamp) >= func.julianday(_E.timestamp) - CUPED_LOOKBACK.days


def _conversions_per_visitor(scope: Scope, dialect: str) -> Select[Any]:
    """One row per (visitor, goal) with a conversion: post-exposure count k, pre-exposure count and revenue."""
    request = scope.request
    counted = and_(attribution.conversion_counts(), _in_intervals(_C.timestamp, request.date_intervals))
    # The site condition is implied by the visitor's exposure, but it lets the join use the site's index.
    on = [_C.site_id == _E.site_id, _C.visitor_code == _E.visitor_code, _C.goal_id.in_(scope.goal_ids)]
    columns: list[Any] = [_C.visitor_code, _C.goal_id, *_per_visitor_columns(scope, dialect)]
    if request.cuped_goal_ids:
        on.append(_lookback(dialect))
        columns += [
            func.sum(case((counted, 1), else_=0)).label("k"),
            func.sum(case((_C.timestamp < _E.timestamp, 1), else_=0)).label("pre"),
            func.sum(case((counted, _C.revenue), else_=None)).label("revenue"),
        ]
    else:
        on.append(counted)
        columns += [func.count().label("k"), literal_column("0").label("pre"), func.sum(_C.revenue).label("revenue")]
    return (
        select(*columns)
        .select_from(_E)
        .join(_C, and_(*on))
        .where(*_visitor_conditions(scope))
        .group_by(_C.visitor_code, _C.goal_id)
    )


async def _sum_conversions(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    per_visitor = _conversions_per_visitor(scope, dialect).subquery("per_visitor_goal")
    k, pre = per_visitor.c.k, per_visitor.c.pre
    converted = case((k > 0, 1), else_=0)
    pre_converted = case((pre > 0, 1), else_=0)
    groups = [*_groups(per_visitor, "arm", "key"), per_visitor.c.goal_id]
    columns: list[Any] = [
        func.sum(converted).label("converted_visitors"),
        func.sum(k).label("conversions"),
        func.sum(k * k).label("conversions_squared"),
        func.sum(cast(per_visitor.c.revenue, Float)).label("revenue"),
        func.sum(pre).label("pre_conversions"),
        func.sum(pre * pre).label("pre_conversions_squared"),
        func.sum(pre_converted).label("pre_converted_visitors"),
        func.sum(k * pre).label("conversions_pre"),
        func.sum(converted * pre_converted).label("converted_pre"),
    ]
    for row in await session.execute(select(*groups, *columns).group_by(*groups)):
        values = row._mapping
        sums = _goal_sums(values)
        # Per visitor, a converted unit is a converted visitor.
        sums.converted_visits = sums.converted_visitors
        result.goals[(str(values["arm"]), _key_of_row(values, scope), int(values["goal_id"]))] = sums


def _goal_sums(values: Any) -> GoalSums:
    sums = GoalSums()
    for name in _SUM_FIELDS:
        if values.get(name) is not None:
            setattr(sums, name, float(values[name]) if name == "revenue" else int(values[name]))
    return sums


def _conversions_per_visit(scope: Scope) -> Select[Any]:
    """One row per (visitor, goal, visit) with a counted conversion: how many, and their revenue."""
    counted = and_(attribution.conversion_counts(), _in_intervals(_C.timestamp, scope.request.date_intervals))
    on = and_(_C.site_id == _E.site_id, _C.visitor_code == _E.visitor_code, _C.goal_id.in_(scope.goal_ids), counted)
    columns: list[Any] = [
        _C.visitor_code,
        _C.goal_id,
        _C.visit_id,
        func.count().label("n"),
        func.sum(_C.revenue).label("revenue"),
    ]
    return (
        select(*columns)
        .select_from(_E)
        .join(_C, on)
        .where(*_visitor_conditions(scope))
        .group_by(_C.visitor_code, _C.goal_id, _C.visit_id)
    )


async def _sum_per_visit(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Per-visit reports, in one statement: each visitor's visits v are counted once, then summed per arm and
    key (sum v, sum v^2) and joined to its conversions per goal (k, converted visits cv, and k v, cv v).

    Converted visits come from grouping by visit first, not from count(DISTINCT), which would sort.
    """
    visits = _visits_per_visitor(scope, dialect).cte("visits_of")
    v = visits.c.visits
    groups = _groups(visits, "arm", "key")
    unit_part = select(
        *groups,
        cast(null(), BigInteger).label("goal_id"),
        func.sum(v).label("visits"),
        func.sum(v * v).label("visits_squared"),
        *(cast(null(), Float if name == "revenue" else BigInteger).label(name) for name in _PER_VISIT_GOAL_SUMS),
    ).group_by(*groups)
    statement: Any = unit_part
    if scope.goal_ids:
        per_visit = _conversions_per_visit(scope).subquery("per_visit")
        per_goal = (
            select(
                per_visit.c.visitor_code,
                per_visit.c.goal_id,
                func.sum(per_visit.c.n).label("k"),
                func.count().label("cv"),
                func.sum(per_visit.c.revenue).label("revenue"),
            )
            .group_by(per_visit.c.visitor_code, per_visit.c.goal_id)
            .subquery("per_goal")
        )
        k, cv = per_goal.c.k, per_goal.c.cv
        goal_part = (
            select(
                *groups,
                per_goal.c.goal_id,
                cast(null(), BigInteger).label("visits"),
                cast(null(), BigInteger).label("visits_squared"),
                func.count().label("converted_visitors"),
                func.sum(k).label("conversions"),
                func.sum(k * k).label("conversions_squared"),
                func.sum(cast(per_goal.c.revenue, Float)).label("revenue"),
                func.sum(cv).label("converted_visits"),
                func.sum(cv * cv).label("converted_visits_squared"),
                func.sum(k * v).label("conversions_by_visits"),
                func.sum(cv * v).label("converted_visits_by_visits"),
            )
            .select_from(per_goal.join(visits, visits.c.visitor_code == per_goal.c.visitor_code))
            .group_by(*groups, per_goal.c.goal_id)
        )
        statement = union_all(unit_part, goal_part)
    for row in await session.execute(statement):
        values = row._mapping
        arm_key = (str(values["arm"]), _key_of_row(values, scope))
        if values["goal_id"] is None:
            units = result.units.setdefault(arm_key, Units())
            units.visits += int(values["visits"] or 0)
            units.visits_squared += int(values["visits_squared"] or 0)
        else:
            result.goals[(*arm_key, int(values["goal_id"]))] = _goal_sums(values)


_PER_VISIT_GOAL_SUMS = (
    "converted_visitors",
    "conversions",
    "conversions_squared",
    "revenue",
    "converted_visits",
    "converted_visits_squared",
    "conversions_by_visits",
    "converted_visits_by_visits",
)

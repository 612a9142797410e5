"""A report's sums from the raw events: for reports limited to `dateIntervals`, which the rollups cannot answer.

Each query joins one experiment's exposures to its site's visits or conversions, GROUPs BY visitor (and
goal), then by arm and key, and returns a few rows per arm; nothing per visitor reaches Python. Which visits
and conversions count is `versicolor.tracking.attribution`'s rule; this module adds what a report asks for
(docs/results.md):

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

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit
from versicolor.results.sums import (
    Aggregates,
    Scope,
    Units,
    add_per_visitor_goal_sums,
    goal_sums,
    groups,
    in_intervals,
    key,
    key_of_row,
    per_visit_goal_columns,
    period,
    visitor_conditions,
)
from versicolor.tracking import attribution

_E, _C, _V = TrackingExposure, TrackingConversion, TrackingVisit


def _per_visitor_columns(scope: Scope, dialect: str) -> list[Any]:
    """A visitor's arm and key, inside a GROUP BY visitor (each has one exposure row, so min() is that row's)."""
    columns: list[Any] = [func.min(_E.variation_id).label("arm")]
    breakdown_key = key(scope, dialect)
    if breakdown_key is not None:
        columns.append(func.min(breakdown_key).label("key"))
    return columns


async def count_units(
    session: AsyncSession, scope: Scope, dialect: str, result: Aggregates, *, stored_visits: bool = False
) -> None:
    """Visitors per arm, key and period, from the exposures; with `stored_visits`, also their visits as
    ingestion keeps them on the exposure (sum v, and sum v^2 for per-visit reports)."""
    columns: list[Any] = [_E.variation_id.label("arm")]
    breakdown_key, deviation_period = key(scope, dialect), period(scope)
    if breakdown_key is not None:
        columns.append(breakdown_key.label("key"))
    if deviation_period is not None:
        columns.append(deviation_period.label("period"))
    if stored_visits:
        columns.append(_E.visits.label("v"))
    # Grouped outside: a key or period expression with bound values would not be recognised in GROUP BY.
    visitors = select(*columns).where(*visitor_conditions(scope)).subquery("visitors")
    grouped = groups(visitors, "arm", "key", "period")
    sums: list[Any] = [func.count().label("n")]
    if stored_visits:
        v = visitors.c.v
        sums += [func.sum(v).label("visits"), func.sum(v * v).label("visits_squared")]
    for row in await session.execute(select(*grouped, *sums).group_by(*grouped)):
        values = row._mapping
        arm, n = str(values["arm"]), int(values["n"])
        units = result.units.setdefault((arm, key_of_row(values, scope)), Units())
        units.visitors += n
        if stored_visits:
            units.visits += int(values["visits"])
            if not scope.request.visitor_data:
                units.visits_squared += int(values["visits_squared"])
        period_key = (arm, int(values.get("period") or 0))
        result.units_per_period[period_key] = result.units_per_period.get(period_key, 0) + n


def _counted_visit(scope: Scope) -> ColumnElement[bool]:
    return and_(
        attribution.visit_counts(),
        or_(_V.visit_id == _E.visit_id, in_intervals(_V.timestamp, scope.request.date_intervals)),
    )


def _visits_per_visitor(scope: Scope, dialect: str) -> Select[Any]:
    """One row per visitor of the report: its arm, key and number of counted visits."""
    return (
        select(_E.visitor_code, *_per_visitor_columns(scope, dialect), func.count(_V.event_id).label("visits"))
        .select_from(_E)
        .outerjoin(_V, _counted_visit(scope))
        .where(*visitor_conditions(scope))
        .group_by(_E.visitor_code)
    )


async def count_visits(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Visits per arm and key (per-visitor reports show only the total: no grouping by visitor needed)."""
    columns: list[Any] = [_E.variation_id.label("arm")]
    breakdown_key = key(scope, dialect)
    if breakdown_key is not None:
        columns.append(breakdown_key.label("key"))
    joined = (
        select(*columns)
        .select_from(_E)
        .join(_V, _counted_visit(scope))
        .where(*visitor_conditions(scope))
        .subquery("visits")
    )
    grouped = groups(joined, "arm", "key")
    for row in await session.execute(select(*grouped, func.count().label("visits")).group_by(*grouped)):
        values = row._mapping
        units = result.units.setdefault((str(values["arm"]), key_of_row(values, scope)), Units())
        units.visits += int(values["visits"])


def _conversions_per_visitor(scope: Scope, dialect: str) -> Select[Any]:
    """One row per (visitor, goal) with a conversion: post-exposure count k, pre-exposure count and revenue."""
    request = scope.request
    counted = and_(attribution.after_exposure(), in_intervals(_C.timestamp, request.date_intervals))
    on = [attribution.same_visitor(), _C.goal_id.in_(scope.goal_ids)]
    columns: list[Any] = [_C.visitor_code, _C.goal_id, *_per_visitor_columns(scope, dialect)]
    if request.cuped_goal_ids:
        on.append(attribution.within_lookback(dialect))
        columns += [
            func.sum(case((counted, 1), else_=0)).label("k"),
            func.sum(case((attribution.after_exposure(), 0), else_=1)).label("pre"),
            func.sum(case((counted, _C.revenue), else_=None)).label("revenue"),
        ]
    else:
        on.append(counted)
        columns += [func.count().label("k"), literal_column("0").label("pre"), func.sum(_C.revenue).label("revenue")]
    return (
        select(*columns)
        .select_from(_E)
        .join(_C, and_(*on))
        .where(*visitor_conditions(scope))
        .group_by(_C.visitor_code, _C.goal_id)
    )


async def sum_conversions(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Per-visitor sums of every goal per arm and key."""
    per_visitor = _conversions_per_visitor(scope, dialect).subquery("per_visitor_goal")
    await add_per_visitor_goal_sums(session, per_visitor, scope, result)


def _conversions_per_visit(scope: Scope) -> Select[Any]:
    """One row per (visitor, goal, visit) with a counted conversion: how many, and their revenue."""
    counted = and_(attribution.after_exposure(), in_intervals(_C.timestamp, scope.request.date_intervals))
    on = and_(attribution.same_visitor(), _C.goal_id.in_(scope.goal_ids), counted)
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
        .where(*visitor_conditions(scope))
        .group_by(_C.visitor_code, _C.goal_id, _C.visit_id)
    )


async def sum_per_visit(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Per-visit reports, in one statement: each visitor's visits v are counted once, then summed per arm and
    key (sum v, sum v^2) and joined to its conversions per goal (k, converted visits cv, and k v, cv v).

    Converted visits come from grouping by visit first, not from count(DISTINCT), which would sort.
    """
    visits = _visits_per_visitor(scope, dialect).cte("visits_of")
    v = visits.c.visits
    grouped = groups(visits, "arm", "key")
    unit_part = select(
        *grouped,
        cast(null(), BigInteger).label("goal_id"),
        func.sum(v).label("visits"),
        func.sum(v * v).label("visits_squared"),
        *(cast(null(), Float if name == "revenue" else BigInteger).label(name) for name in _PER_VISIT_GOAL_SUMS),
    ).group_by(*grouped)
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
                *grouped,
                per_goal.c.goal_id,
                cast(null(), BigInteger).label("visits"),
                cast(null(), BigInteger).label("visits_squared"),
                *per_visit_goal_columns(k, cv, v, per_goal.c.revenue),
            )
            .select_from(per_goal.join(visits, visits.c.visitor_code == per_goal.c.visitor_code))
            .group_by(*grouped, per_goal.c.goal_id)
        )
        statement = union_all(unit_part, goal_part)
    for row in await session.execute(statement):
        values = row._mapping
        arm_key = (str(values["arm"]), key_of_row(values, scope))
        if values["goal_id"] is None:
            units = result.units.setdefault(arm_key, Units())
            units.visits += int(values["visits"] or 0)
            units.visits_squared += int(values["visits_squared"] or 0)
        else:
            result.goals[(*arm_key, int(values["goal_id"]))] = goal_sums(values)


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

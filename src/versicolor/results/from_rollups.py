"""A report's sums from the rollups ingestion keeps (`versicolor.tracking.rollup`): every report over the
experiment's whole life, which is every report without `dateIntervals`.

The figures are the same as `from_events` would compute (a test holds both to it), but each query reads one
row per visitor (exposures, with their counted visits) or per converting visitor and goal (visitor goals,
with a copy of the exposure), instead of joining raw events and grouping them by visitor.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.db.models import TrackingExposure, TrackingVisitorGoal
from versicolor.results import from_events
from versicolor.results.sums import (
    Aggregates,
    Scope,
    add_per_visitor_goal_sums,
    goal_sums,
    groups,
    key,
    key_of_row,
    needs_exposure,
    per_visit_goal_columns,
    visitor_conditions,
)

_E, _R = TrackingExposure, TrackingVisitorGoal


async def count_units(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Visitors per arm, key and period, with their counted visits."""
    await from_events.count_units(session, scope, dialect, result, stored_visits=True)


def _goal_rows(scope: Scope, dialect: str, *extra: Any, with_exposure: bool = False) -> Any:
    """The report's visitor-goal rows: arm, key, goal and `extra` columns, as a select; joined to the visitor's
    exposure when asked (`extra` may then name its columns) or when the key is only there (custom data)."""
    columns: list[Any] = [_R.variation_id.label("arm"), _R.goal_id, *extra]
    breakdown_key = key(scope, dialect, _R)
    if breakdown_key is not None:
        columns.append(breakdown_key.label("key"))
    conditions = [*visitor_conditions(scope, _R), _R.goal_id.in_(scope.goal_ids)]
    if not scope.request.cuped_goal_ids:
        # Rows kept only for their pre-exposure conversions count for nothing here.
        conditions.append(_R.conversions > 0)
    rows = select(*columns).where(*conditions)
    if with_exposure or needs_exposure(scope):
        rows = rows.join(_E, and_(_E.experiment_id == _R.experiment_id, _E.visitor_code == _R.visitor_code))
    return rows


async def sum_conversions(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Per-visitor sums of every goal per arm and key."""
    pre = _R.pre_conversions if scope.request.cuped_goal_ids else literal_column("0")
    rows = _goal_rows(scope, dialect, _R.conversions.label("k"), pre.label("pre"), _R.revenue).subquery("rows")
    await add_per_visitor_goal_sums(session, rows, scope, result)


async def sum_per_visit(session: AsyncSession, scope: Scope, dialect: str, result: Aggregates) -> None:
    """Per-visit sums of every goal per arm and key: a converting visitor's k and cv, and its counted visits v
    from its exposure."""
    rows = (
        _goal_rows(
            scope,
            dialect,
            _R.conversions.label("k"),
            _R.converted_visits.label("cv"),
            _R.revenue,
            _E.visits.label("v"),
            with_exposure=True,
        )
        .where(_R.conversions > 0)
        .subquery("rows")
    )
    grouped = [*groups(rows, "arm", "key"), rows.c.goal_id]
    columns = per_visit_goal_columns(rows.c.k, rows.c.cv, rows.c.v, rows.c.revenue)
    for row in await session.execute(select(*grouped, *columns).group_by(*grouped)):
        values = row._mapping
        result.goals[(str(values["arm"]), key_of_row(values, scope), int(values["goal_id"]))] = goal_sums(values)

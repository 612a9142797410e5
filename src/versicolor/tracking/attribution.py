"""Which stored data counts for an experiment: the one place the rules are written (docs/tracking.md).

- A visitor is in the experiment from their first exposure on, in the variation it fixed
  (`tracking_exposures`, one row per visitor).
- A conversion counts for the experiment when it was made by an exposed visitor AT OR AFTER their first
  exposure. Earlier conversions stay stored (CUPED reads them as the visitor's pre-exposure value) but never
  count as a result of the experiment.
- A visit counts when it is the visit of the first exposure, or started at or after it.
- A conversion in the `CUPED_LOOKBACK` before the first exposure is the visitor's pre-exposure value (CUPED).

The rollups (`versicolor.tracking.rollup`) and the results engine build on these conditions rather than
restating the rules.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select

from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit

CUPED_LOOKBACK = timedelta(days=14)


def same_visitor() -> ColumnElement[bool]:
    """A conversion and an exposure of the same visitor on the same site."""
    return and_(
        TrackingConversion.site_id == TrackingExposure.site_id,
        TrackingConversion.visitor_code == TrackingExposure.visitor_code,
    )


def after_exposure() -> ColumnElement[bool]:
    """Of a conversion and an exposure of the same visitor: the conversion counts under the exposure."""
    return TrackingConversion.timestamp >= TrackingExposure.timestamp


def conversion_counts() -> ColumnElement[bool]:
    """The join condition of a conversion to the exposure it counts under."""
    return and_(same_visitor(), after_exposure())


def within_lookback(dialect: str) -> ColumnElement[bool]:
    """The conversion is no earlier than `CUPED_LOOKBACK` before the exposure (it may be later)."""
    if dialect == "postgresql":
        return TrackingConversion.timestamp >= TrackingExposure.timestamp - literal(CUPED_LOOKBACK)
    # SQLite keeps timestamps as text; julianday() makes both sides comparable numbers of days.
    return func.julianday(TrackingConversion.timestamp) >= (
        func.julianday(TrackingExposure.timestamp) - CUPED_LOOKBACK.days
    )


def visit_counts() -> ColumnElement[bool]:
    """The join condition of a visit to the exposure it counts under."""
    return and_(
        TrackingVisit.site_id == TrackingExposure.site_id,
        TrackingVisit.visitor_code == TrackingExposure.visitor_code,
        or_(TrackingVisit.visit_id == TrackingExposure.visit_id, TrackingVisit.timestamp >= TrackingExposure.timestamp),
    )


def exposed_visitors(*, account_id: int, experiment_id: int) -> Select[str, int]:
    """Every visitor of the experiment with the variation their first exposure fixed."""
    return select(TrackingExposure.visitor_code, TrackingExposure.variation_id).where(
        TrackingExposure.account_id == account_id, TrackingExposure.experiment_id == experiment_id
    )


def counted_conversions(
    *, account_id: int, experiment_id: int, goal_ids: Collection[int]
) -> Select[int, str, str, int, float | None, datetime]:
    """The conversions on `goal_ids` that count for the experiment, with the variation they count for."""
    return (
        select(
            TrackingExposure.variation_id,
            TrackingConversion.visitor_code,
            TrackingConversion.visit_id,
            TrackingConversion.goal_id,
            TrackingConversion.revenue,
            TrackingConversion.timestamp,
        )
        .join(TrackingConversion, and_(TrackingConversion.goal_id.in_(list(goal_ids)), conversion_counts()))
        .where(TrackingExposure.account_id == account_id, TrackingExposure.experiment_id == experiment_id)
    )


def counted_visits(*, account_id: int, experiment_id: int) -> Select[int, str, str, datetime]:
    """The visits that count for the experiment, with the variation they count for."""
    return (
        select(
            TrackingExposure.variation_id,
            TrackingVisit.visitor_code,
            TrackingVisit.visit_id,
            TrackingVisit.timestamp,
        )
        .join(TrackingVisit, visit_counts())
        .where(TrackingExposure.account_id == account_id, TrackingExposure.experiment_id == experiment_id)
    )

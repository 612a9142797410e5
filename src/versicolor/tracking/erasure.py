"""Finding and forgetting visitors: what a site owner needs to remove poisoned (or unwanted) traffic.

`exposed_visitors` lists an experiment's visitors as they arrived (when the server received their first
exposure, their conversions and revenue under the attribution rules), heaviest revenue first, so that a burst
of forged visitors or an absurd revenue stands out. `forget` deletes everything stored of some visitors on a
site: visits, exposures, conversions and the rollups built from them, in the caller's transaction; reports
asked for afterwards no longer count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit, TrackingVisitorGoal
from versicolor.tracking import rollup
from versicolor.tracking.sites import SiteRef

MAX_LISTED = 1_000
MAX_FORGOTTEN = 1_000


@dataclass(frozen=True)
class ExposedVisitor:
    """One visitor of an experiment, as stored."""

    visitor_code: str
    variation_id: int
    exposed_at: datetime
    received_at: datetime
    conversions: int
    revenue: float | None


@dataclass(frozen=True)
class Forgotten:
    """How many rows forgetting some visitors deleted."""

    visits: int
    exposures: int
    conversions: int


async def exposed_visitors(
    *,
    session: AsyncSession,
    site: SiteRef,
    experiment_id: int,
    received_after: datetime | None,
    received_before: datetime | None,
    limit: int,
) -> list[ExposedVisitor]:
    """The experiment's visitors whose first exposure the server received in the window, most revenue first."""
    goals = (
        select(
            TrackingVisitorGoal.visitor_code.label("visitor_code"),
            func.sum(TrackingVisitorGoal.conversions).label("conversions"),
            func.sum(TrackingVisitorGoal.revenue).label("revenue"),
        )
        .where(TrackingVisitorGoal.experiment_id == experiment_id)
        .group_by(TrackingVisitorGoal.visitor_code)
        .subquery()
    )
    query = (
        select(
            TrackingExposure.visitor_code,
            TrackingExposure.variation_id,
            TrackingExposure.timestamp,
            TrackingExposure.received_at,
            func.coalesce(goals.c.conversions, 0),
            goals.c.revenue,
        )
        .outerjoin(goals, goals.c.visitor_code == TrackingExposure.visitor_code)
        .where(TrackingExposure.experiment_id == experiment_id, TrackingExposure.site_id == site.id)
    )
    if received_after is not None:
        query = query.where(TrackingExposure.received_at >= received_after)
    if received_before is not None:
        query = query.where(TrackingExposure.received_at < received_before)
    # Most revenue first (none last on both backends), then the latest arrivals.
    query = query.order_by(
        goals.c.revenue.is_(None),
        goals.c.revenue.desc(),
        TrackingExposure.received_at.desc(),
        TrackingExposure.visitor_code,
    ).limit(min(limit, MAX_LISTED))
    rows = await session.execute(query)
    return [
        ExposedVisitor(
            visitor_code=code,
            variation_id=variation,
            exposed_at=exposed,
            received_at=received,
            conversions=int(conversions),
            revenue=None if revenue is None else float(revenue),
        )
        for code, variation, exposed, received, conversions, revenue in rows
    ]


async def forget(*, session: AsyncSession, site: SiteRef, visitor_codes: Sequence[str]) -> Forgotten:
    """Delete every visit, exposure, conversion and rollup of these visitors on the site."""
    codes = sorted(set(visitor_codes))
    # PostgreSQL: a batch of these visitors being stored waits, and is not half-forgotten.
    await rollup.lock_visitors(session=session, site_id=site.id, visitor_codes=codes)
    counts = {}
    for name, model in (
        ("goal_rows", TrackingVisitorGoal),
        ("exposures", TrackingExposure),
        ("conversions", TrackingConversion),
        ("visits", TrackingVisit),
    ):
        result = await session.execute(
            delete(model).where(model.visitor_code.in_(codes), model.site_id == site.id),
            execution_options={"synchronize_session": False},
        )
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return Forgotten(visits=counts["visits"], exposures=counts["exposures"], conversions=counts["conversions"])

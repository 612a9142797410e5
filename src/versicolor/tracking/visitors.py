"""Which variation of each live experiment a visitor sees, decided on the server (for server-side SDKs).

For every ACTIVE experiment of the site: a visitor outside the targeting segment is not in it; a visitor whose
first exposure is already stored keeps that variation (a later change of deviations does not move anyone who
has seen the experiment); anyone else gets the deterministic assignment of `tracking.assignment`. Nothing is
recorded here: the SDK reports the exposure when it shows the variation.

A targeting segment whose answer for this visitor hangs on a JS_CODE condition cannot be decided on the
server (only the page can run the code): such an experiment is reported as page-only, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.experiments import deviations as split
from versicolor.core.experiments import experiments as experiment_service
from versicolor.core.experiments.lifecycle import Status
from versicolor.core.segments.evaluator import evaluate
from versicolor.core.segments.visitor import VisitorAttributes
from versicolor.db.models import Experiment, Segment, TrackingExposure
from versicolor.tracking.assignment import assign
from versicolor.tracking.sites import SiteRef


@dataclass(frozen=True)
class Allocation:
    """The variation a visitor sees in one experiment (0 = the original)."""

    experiment_id: int
    variation_id: int
    # True when a stored first exposure decided it rather than the hash.
    fixed_by_exposure: bool


@dataclass(frozen=True)
class Allocations:
    """What the server can decide for a visitor: their variations, and the experiments only a page can decide."""

    allocated: list[Allocation]
    # Experiments whose targeting segment hangs, for this visitor, on a condition only the page can evaluate.
    page_only: list[int]


async def allocations(
    *, session: AsyncSession, site: SiteRef, visitor_code: str, attributes: VisitorAttributes
) -> Allocations:
    """The visitor's variation in every ACTIVE experiment of the site they are in, by experiment id."""
    experiments = list(
        await session.scalars(
            select(Experiment)
            .where(
                Experiment.account_id == site.account_id,
                Experiment.site_id == site.id,
                Experiment.status == Status.ACTIVE,
            )
            .order_by(Experiment.id)
        )
    )
    if not experiments:
        return Allocations([], [])
    ids = [e.id for e in experiments]
    segment_ids = sorted({e.targeting_segment_id for e in experiments if e.targeting_segment_id is not None})
    conditions = {
        row.id: row.conditions_data
        for row in await session.execute(
            select(Segment.id, Segment.conditions_data).where(
                Segment.account_id == site.account_id, Segment.id.in_(segment_ids)
            )
        )
    }
    fixed = {
        row.experiment_id: row.variation_id
        for row in await session.execute(
            select(TrackingExposure.experiment_id, TrackingExposure.variation_id).where(
                TrackingExposure.experiment_id.in_(ids), TrackingExposure.visitor_code == visitor_code
            )
        )
    }
    variation_ids = await experiment_service.variation_ids_of(session=session, experiment_ids=ids)
    found: list[Allocation] = []
    page_only: list[int] = []
    for experiment in experiments:
        if experiment.targeting_segment_id is not None:
            tree = conditions.get(experiment.targeting_segment_id)
            verdict = None if tree is None else evaluate(tree, attributes)
            if tree is not None and verdict is None:
                page_only.append(experiment.id)
            if not verdict:
                continue
        if experiment.id in fixed:
            found.append(Allocation(experiment.id, fixed[experiment.id], fixed_by_exposure=True))
            continue
        shares = split.restricted(experiment.deviations, variation_ids=variation_ids[experiment.id])
        chosen = assign(experiment.id, visitor_code, shares)
        if chosen is not None:
            found.append(Allocation(experiment.id, chosen, fixed_by_exposure=False))
    return Allocations(found, page_only)

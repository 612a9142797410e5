"""Caps on revenue: per conversion, and per visitor (all of a visitor's conversions on a site added up).

Pages cannot prove what they send (docs/tracking.md): without caps, one forged request could add 10^12 to a
variation. A conversion over the per-event cap, or one that would bring its visitor over the per-visitor cap,
refuses its batch (400 naming the event), like any other invalid event. The per-visitor sum is read after the
batch's visitors are locked (tracking/rollup.py), so racing batches cannot both slip under it; an event
already stored (a replay) is counted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core.errors import Detail
from versicolor.db.models import TrackingConversion
from versicolor.tracking.events import Batch, Event
from versicolor.tracking.sites import SiteRef


@dataclass(frozen=True)
class RevenueCaps:
    """The most one conversion may carry, and the most one visitor's conversions on a site may add up to."""

    per_event: float
    per_visitor: float


def event_problems(*, batch: Batch, events: Sequence[Event], caps: RevenueCaps) -> list[Detail]:
    """A detail for each conversion whose revenue is over the per-event cap."""
    return [
        batch.detail(
            event.index,
            "revenue",
            f"{event.revenue:g} is over {caps.per_event:g}, the most one conversion may carry on this service",
        )
        for event in events
        if event.revenue is not None and event.revenue > caps.per_event
    ]


async def visitor_problems(
    *, session: AsyncSession, site: SiteRef, batch: Batch, events: Sequence[Event], caps: RevenueCaps
) -> list[Detail]:
    """A detail for each conversion that would bring its visitor's revenue on the site over the per-visitor cap."""
    sent: dict[str, float] = {}  # event id -> revenue, the first occurrence in the batch (as stored)
    carrying: list[Event] = []
    for event in events:
        if event.revenue is not None and event.id not in sent:
            sent[event.id] = event.revenue
            carrying.append(event)
    if not carrying:
        return []
    visitors = sorted({e.visitor_code for e in carrying})
    rows = await session.execute(
        select(TrackingConversion.visitor_code, TrackingConversion.event_id, TrackingConversion.revenue).where(
            TrackingConversion.visitor_code.in_(visitors),
            TrackingConversion.site_id == site.id,
            TrackingConversion.revenue.is_not(None),
        )
    )
    totals: dict[str, float] = dict.fromkeys(visitors, 0.0)
    for visitor_code, event_id, revenue in rows:
        if event_id not in sent and revenue is not None:  # a replayed event counts once, as it is stored once
            totals[visitor_code] += revenue
    problems = []
    for event in carrying:
        assert event.revenue is not None
        totals[event.visitor_code] += event.revenue
        if totals[event.visitor_code] > caps.per_visitor:
            problems.append(
                batch.detail(
                    event.index,
                    "revenue",
                    f"would bring visitor {event.visitor_code!r} to {totals[event.visitor_code]:g} on this site, "
                    f"over {caps.per_visitor:g}, the most one visitor's conversions may add up to on this service",
                )
            )
    return problems

"""Tracking data: visits, first exposures and conversions, as pages and SDKs report them (docs/tracking.md).

Shaped for the results engine, which aggregates per experiment and variation:

- `tracking_exposures` holds ONE row per (experiment, visitor): the variation the visitor's first exposure
  fixed, and when. Counting visitors per variation is a scan of one experiment's slice of its primary key.
- `tracking_conversions` holds every conversion, also those made before any exposure (CUPED needs them).
  Which of them count for an experiment is decided in one place, `versicolor.tracking.attribution`: those
  at or after the visitor's first exposure.
- `tracking_visits` holds visit starts, for per-visit reports.
- `tracking_visitor_goals` is derived: per (experiment, exposed visitor, goal) what the attribution rule makes
  of that visitor's conversions, kept by ingestion (`versicolor.tracking.rollup`) in the same transaction as
  the events, so a report reads one row per converting visitor instead of joining raw events. An exposure
  row's `visits` is kept the same way.

Visits and conversions are keyed by (site, client-made event id): a replayed event finds its key taken and is
stored once. Rows carry `account_id` for scoping; they are deleted with their site, experiment or goal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import Base
from versicolor.db.types import BigId, UtcDateTime, utcnow

EVENT_ID_LENGTH = 128
VISITOR_CODE_LENGTH = 255
VISIT_ID_LENGTH = 255


class _Attributes:
    """What a page may tell about the visitor with any event; every one optional."""

    device_type: Mapped[str | None] = mapped_column(String(16))
    browser: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    new_visitor: Mapped[bool | None] = mapped_column(Boolean)
    # {"<custom datum index>": value}, as sent.
    custom_data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class TrackingVisit(_Attributes, Base):
    """A visit (session) of a visitor on a site."""

    __tablename__ = "tracking_visits"
    # Per-visit reports join visits to the experiment's exposures by visitor, and ingestion counts a visitor's
    # visits. Visitor first: a site alone selects nearly everything, and a planner without statistics yet (a
    # young table) must not be able to pick an index scan on the site alone.
    __table_args__ = (Index("ix_tracking_visits_visitor_site", "visitor_code", "site_id", "timestamp"),)

    # The site FK deletes a site's visits with it; the primary key leads with site_id, so that is an index scan.
    site_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)
    visitor_code: Mapped[str] = mapped_column(String(VISITOR_CODE_LENGTH))
    visit_id: Mapped[str] = mapped_column(String(VISIT_ID_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TrackingExposure(_Attributes, Base):
    """A visitor's first exposure to an experiment: it fixes the variation for good."""

    __tablename__ = "tracking_exposures"
    # Ingestion recomputes the rollups of the visitors a batch touches (visitor first, as for visits).
    __table_args__ = (Index("ix_tracking_exposures_visitor_site", "visitor_code", "site_id"),)

    experiment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    visitor_code: Mapped[str] = mapped_column(String(VISITOR_CODE_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)
    site_id: Mapped[int] = mapped_column(BigId)
    # 0 is the original ("origin"); no foreign key, since the original is not a row.
    variation_id: Mapped[int] = mapped_column(BigId)
    # The first exposure event (earliest timestamp among those for the fixed variation) and its visit.
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    visit_id: Mapped[str] = mapped_column(String(VISIT_ID_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Derived: the visitor's visits that count for the experiment (attribution.visit_counts).
    visits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TrackingConversion(_Attributes, Base):
    """A conversion on a goal, with its revenue when there is one."""

    __tablename__ = "tracking_conversions"
    # Results join an experiment's exposures to its goals' conversions by visitor, then by time.
    # Ingestion reads a visitor's conversions on a site to keep the rollups (visitor first, as for visits).
    __table_args__ = (
        Index("ix_tracking_conversions_goal_visitor", "goal_id", "visitor_code", "timestamp"),
        Index("ix_tracking_conversions_visitor_site", "visitor_code", "site_id", "timestamp"),
    )

    site_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)
    goal_id: Mapped[int] = mapped_column(BigId, ForeignKey("goals.id", ondelete="CASCADE"))
    visitor_code: Mapped[str] = mapped_column(String(VISITOR_CODE_LENGTH))
    visit_id: Mapped[str] = mapped_column(String(VISIT_ID_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    revenue: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TrackingVisitorGoal(Base):
    """Derived, one row per (experiment, exposed visitor, goal) the visitor converted on after its first
    exposure or within the CUPED lookback before it: the counted conversions, the visits they fell in and their
    revenue, and the pre-exposure conversions. The exposure's variation and attributes are copied in, so that a
    per-visitor report filters, breaks down and sums from this table alone; ingestion rewrites a visitor's
    rows whenever a batch carries an exposure or a conversion of theirs, so the copies never go stale.
    """

    __tablename__ = "tracking_visitor_goals"
    __table_args__ = (Index("ix_tracking_visitor_goals_visitor_site", "visitor_code", "site_id"),)

    experiment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    visitor_code: Mapped[str] = mapped_column(String(VISITOR_CODE_LENGTH), primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    site_id: Mapped[int] = mapped_column(BigId)
    # Copied from the visitor's exposure.
    variation_id: Mapped[int] = mapped_column(BigId)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    device_type: Mapped[str | None] = mapped_column(String(16))
    browser: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    new_visitor: Mapped[bool | None] = mapped_column(Boolean)
    # Under the attribution rule: counted conversions, the visits they fell in, and their revenue (null when
    # none carried any); and the conversions in the lookback before the exposure.
    conversions: Mapped[int] = mapped_column(Integer)
    converted_visits: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float | None] = mapped_column(Float)
    pre_conversions: Mapped[int] = mapped_column(Integer)

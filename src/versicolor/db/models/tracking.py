"""Tracking data: visits, first exposures and conversions, as pages and SDKs report them (CONTRACT §11).

Shaped for the results engine, which aggregates per experiment and variation:

- `tracking_exposures` holds ONE row per (experiment, visitor): the variation the visitor's first exposure
  fixed, and when. Counting visitors per variation is a scan of one experiment's slice of its primary key.
- `tracking_conversions` holds every conversion, also those made before any exposure (CUPED needs them).
  Which of them count for an experiment is decided in one place, `versicolor.tracking.attribution`: those
  at or after the visitor's first exposure.
- `tracking_visits` holds visit starts, for per-visit reports.

Visits and conversions are keyed by (site, client-made event id): a replayed event finds its key taken and is
stored once. Rows carry `account_id` for scoping; they are deleted with their site, experiment or goal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String
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
    # Per-visit reports join visits to the experiment's exposures by visitor.
    __table_args__ = (Index("ix_tracking_visits_site_visitor", "site_id", "visitor_code", "timestamp"),)

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


class TrackingConversion(_Attributes, Base):
    """A conversion on a goal, with its revenue when there is one."""

    __tablename__ = "tracking_conversions"
    # Results join an experiment's exposures to its goals' conversions by visitor, then by time.
    __table_args__ = (Index("ix_tracking_conversions_goal_visitor", "goal_id", "visitor_code", "timestamp"),)

    site_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)
    goal_id: Mapped[int] = mapped_column(BigId, ForeignKey("goals.id", ondelete="CASCADE"))
    visitor_code: Mapped[str] = mapped_column(String(VISITOR_CODE_LENGTH))
    visit_id: Mapped[str] = mapped_column(String(VISIT_ID_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime)
    revenue: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

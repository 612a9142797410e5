"""Segments: named sets of visitors, described by a tree of targeting conditions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Segment(Base):
    """A set of visitors of a site that experiments can target."""

    __tablename__ = "segments"
    __table_args__ = (Index("uq_segments_site_key", "site_id", "key", unique=True), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # A stable name a client gives the object (`versicolor sync` matches objects by it); unique per site.
    key: Mapped[str | None] = mapped_column(String(100))
    segment_type: Mapped[str] = mapped_column(String(16), default="STANDARD")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The validated tree {"firstLevel": [...], "firstLevelOrOperators": [...]} (core.segments.conditions).
    conditions_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The highest condition id the segment ever gave out: condition ids are never reused within it. 0 for a
    # segment stored before conditions had ids (its tree is then read with ids by position).
    last_condition_id: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Kameleoon's audience flags: stored and returned as given; they change nothing in Versicolor yet.
    audience_tracking: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    audience_tracking_editable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

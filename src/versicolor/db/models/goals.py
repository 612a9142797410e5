"""Goals: what counts as a conversion on a site."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Goal(Base):
    """A conversion a site measures: a click, a URL reached, a number of pages or seconds, a custom event."""

    __tablename__ = "goals"
    __table_args__ = (
        # Lists filter by status and type within an account and sort by creation (benchmarks/listing.py):
        # the first index counts the matches without reading the table, the second reads a page in order.
        Index("ix_goals_account_status_type_created", "account_id", "status", "type", "date_created"),
        Index("ix_goals_account_created", "account_id", "date_created"),
        Index("uq_goals_site_key", "site_id", "key", unique=True),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # A stable name a client gives the object (`versicolor sync` matches objects by it); unique per site.
    key: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    # Type-specific settings (matchString, matchType, pageViews, timeSeconds, scrollValue), checked by core.goals.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    has_multiple_conversions: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

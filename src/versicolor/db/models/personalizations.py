"""Personalizations: a site's code shown to every visitor of a segment, with no control group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Personalization(Base):
    """Code (JavaScript and CSS) a site shows to the visitors of one segment; everyone in it sees it."""

    __tablename__ = "personalizations"
    __table_args__ = (Index("ix_personalizations_site_status", "site_id", "status"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # No ON DELETE: a segment a personalization shows to cannot be deleted (409 naming it, as for experiments).
    targeting_segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    # A deleted goal must not take the personalization with it; it just loses its main goal.
    main_goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    # Stored exactly as sent: it is the customer's code.
    javascript_code: Mapped[str | None] = mapped_column(Text)
    css_code: Mapped[str | None] = mapped_column(Text)
    global_script: Mapped[str | None] = mapped_column(Text)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kameleoon's `targetingConfiguration` (SITE, SAVED_TEMPLATE...), kept as given: the segment decides.
    targeting_configuration: Mapped[str | None] = mapped_column(String(32))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    date_started: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_ended: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_status_modified: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PersonalizationGoal(Base):
    """A goal a personalization measures."""

    __tablename__ = "personalization_goals"

    personalization_id: Mapped[int] = mapped_column(
        ForeignKey("personalizations.id", ondelete="CASCADE"), primary_key=True
    )
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)

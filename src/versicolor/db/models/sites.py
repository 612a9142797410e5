"""Sites (projects): the unit that experiments, goals and segments belong to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Site(Base):
    """A website or application of an account (the public service calls it a project)."""

    __tablename__ = "sites"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2048))
    domain_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The page engine's settings (docs/engine.md): how long the snippet may hide a page, in milliseconds, and
    # whether the engine waits for the visitor's consent before storing or sending anything.
    anti_flicker_timeout: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    consent_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Run on every page of the site before any experiment is decided (the page engine).
    tracking_script: Mapped[str | None] = mapped_column(Text)
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

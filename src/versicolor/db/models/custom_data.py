"""Custom data: site-defined values a page reports about a visitor, a visit or a page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class CustomDatum(Base):
    """One custom data definition of a site; pages send values under its `index`."""

    __tablename__ = "custom_data"
    # The index is how pages and segments address the datum, so it names one definition per site.
    __table_args__ = (UniqueConstraint("site_id", "index", name="uq_custom_data_site_id_index"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # The unique (site_id, index) constraint serves as the index for a site's lookups.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

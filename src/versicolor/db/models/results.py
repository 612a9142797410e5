"""Result reports: what was asked, how far its computation got, the answer, and its callback's delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class ResultReport(Base):
    """One requested report of an experiment, found again by its `data_code` until `date_expires`."""

    __tablename__ = "result_reports"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    # Random and unguessable; still, every lookup is also scoped to the caller's account.
    data_code: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="WAITING")
    # The validated request (results.request.ReportRequest.to_json), so that any worker can compute it.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    # PENDING until the first delivery attempt ends; then DELIVERED or FAILED (after every retry).
    callback_status: Mapped[str | None] = mapped_column(String(16))
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_ready: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Expired reports answer 404 and are purged; indexed so that the purge does not scan the table.
    date_expires: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

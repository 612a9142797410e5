"""Experiments, their variations, the goals they measure, and the history of their traffic split."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Experiment(Base):
    """An A/B experiment on one site: variations of a page, goals to compare them by, a lifecycle status."""

    __tablename__ = "experiments"
    # The scheduler looks for due experiments by status and date on every tick.
    __table_args__ = (
        Index("ix_experiments_status_scheduled_start", "status", "scheduled_start"),
        Index("ix_experiments_status_scheduled_end", "status", "scheduled_end"),
        Index("uq_experiments_site_key", "site_id", "key", unique=True),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # A stable name a client gives the object (`versicolor sync` matches objects by it); unique per site.
    key: Mapped[str | None] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(16), default="CLASSIC")
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"origin": share, "<variation id>": share}; checked by core.experiments.deviations.
    deviations: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # True until someone sets the deviations: until then they follow the variations as an equal split.
    deviations_automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    # A deleted goal must not take its experiments with it; the experiment just loses its main goal.
    main_goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    # No ON DELETE: a targeted segment cannot be deleted (core.segments answers 409 naming the experiments).
    targeting_segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    common_javascript_code: Mapped[str | None] = mapped_column(Text)
    common_css_code: Mapped[str | None] = mapped_column(Text)
    # Where the experiment runs (core/experiments/targeting.py); null: the whole site.
    targeting_configuration: Mapped[str | None] = mapped_column(String(32))
    # Run on every page where the experiment runs, whatever the visitor's variation (the page engine).
    global_script: Mapped[str | None] = mapped_column(Text)
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    scheduled_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scheduled_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    date_started: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_ended: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_status_modified: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Variation(Base):
    """One alternative version of a page: code applied over the original, or a redirection."""

    __tablename__ = "variations"
    __table_args__ = (Index("uq_variations_experiment_key", "experiment_id", "key", unique=True), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # A stable name a client gives the object (`versicolor sync` matches objects by it); unique per experiment.
    key: Mapped[str | None] = mapped_column(String(100))
    # Stored exactly as sent (no trimming, no newline conversion): it is the customer's code.
    js_code: Mapped[str | None] = mapped_column(Text)
    css_code: Mapped[str | None] = mapped_column(Text)
    color: Mapped[int | None] = mapped_column(Integer)
    # Fields Kameleoon documents that Versicolor keeps and returns as given, with no meaning of its own yet
    # (docs/compatibility.md), by their camelCase names.
    stored_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    redirection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ExperimentGoal(Base):
    """A goal an experiment measures."""

    __tablename__ = "experiment_goals"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class DeviationChange(Base):
    """The deviations an experiment had from `date_effective` on; the sample-ratio check reads this history."""

    __tablename__ = "experiment_deviation_changes"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    deviations: Mapped[dict[str, float]] = mapped_column(JSON)
    # The experiment's status when the change was made (a change while ACTIVE splits the traffic mid-run).
    status: Mapped[str] = mapped_column(String(16))
    date_effective: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

"""Domains (Urls) and Environments (Url Groups) of the Edit API v3."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import Base
from versicolor.db.types import BigId, UtcDateTime

# 24 lowercase hex digits (core/object_ids.py). Paging compares ids as strings: the "C" collation makes
# PostgreSQL compare bytes, whatever the database's default collation; SQLite compares bytes already.
ObjectId = String(24).with_variant(String(24, collation="C"), "postgresql")

# A DNS name is at most 253 characters (RFC 1035); an IPv6 address is shorter.
HOST_LENGTH = 253


class UrlGroup(Base):
    """An Environment: a named group of an account's Urls (production, staging, ...)."""

    __tablename__ = "url_groups"
    __table_args__ = (Index("ix_url_groups_account_id_id", "account_id", "id"),)

    id: Mapped[str] = mapped_column(ObjectId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Set (to account_id) on the account's Default Environment only; unique, so there is one at most.
    default_for_account_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    short_name: Mapped[str | None] = mapped_column(String(3))
    style_short_name_color: Mapped[str | None] = mapped_column(String(6))
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Url(Base):
    """A Domain: one host of an account, whether pages on it may run experiences, and when it was seen."""

    __tablename__ = "urls"
    __table_args__ = (
        UniqueConstraint("account_id", "host", name="uq_urls_account_id_host"),
        Index("ix_urls_account_id_id", "account_id", "id"),
    )

    id: Mapped[str] = mapped_column(ObjectId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # NULL: the account's Default Environment (the Edit API v3).
    url_group_id: Mapped[str | None] = mapped_column(
        ObjectId, ForeignKey("url_groups.id", ondelete="SET NULL"), index=True
    )
    host: Mapped[str] = mapped_column(String(HOST_LENGTH))
    domain: Mapped[str] = mapped_column(String(HOST_LENGTH))
    enabled: Mapped[str] = mapped_column(String(9))
    installed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def unlisted(self) -> bool:
        """The Edit API v3's deprecated flag, kept in step with `archived_at`."""
        return self.archived_at is not None

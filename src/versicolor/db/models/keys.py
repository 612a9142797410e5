"""Keys the server signs with and can rotate: the access tokens' signing keys, accounts' callback keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class SigningKeyRow(Base):
    """One access-token signing key. The newest whose `not_before` has passed signs; every one whose
    `expires_at` has not passed verifies the tokens that name it (`kid`). Sealed at rest (core/sealing.py)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CallbackKey(Base):
    """One of an account's keys for signing report callbacks; the newest signs, and so does every older one
    until it expires (an overlap for the receiver to switch). Sealed at rest."""

    __tablename__ = "callback_keys"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

"""Sign-in sessions: a browser's signed-in user, kept on the server so that ending a session ends it everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class SignInSession(Base):
    """One signed-in browser session; the cookie holds a random token, the table only its digest."""

    __tablename__ = "sign_in_sessions"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Where the session was started (the authorization page, the dashboard): each ends only its own.
    purpose: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Set when the user signs out, signs in as someone else, or changes password: the token is dead from then on.
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

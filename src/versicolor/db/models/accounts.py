"""Tenancy tables: accounts, their users, and the users' API credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class Account(Base):
    """A customer of the service; everything else belongs to exactly one account."""

    __tablename__ = "accounts"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the account secret accepted as `X-Account-Secret` on /v3 (docs/oauth.md).
    account_secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class User(Base):
    """A person who signs in to an account, with one role."""

    __tablename__ = "users"
    # An email is unique within an account, not across accounts: whether it exists in another account is
    # none of an inviting ADMIN's business (and the same person may work for two customers).
    __table_args__ = (UniqueConstraint("account_id", "email", name="uq_users_account_id_email"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Stored lower-cased so that uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(320), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    date_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ApiCredential(Base):
    """A user's client id and the hash of its secret ("See my API credentials")."""

    __tablename__ = "api_credentials"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # Bumped when the secret is rotated; tokens carry it so that rotation revokes them all at once.
    generation: Mapped[int] = mapped_column(default=1)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ServerSecret(Base):
    """Secrets the server generates for itself on first start (the server secret that preview links, sign-in
    page cookies and the Redis namespace derive from; access tokens have rotating keys of their own)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # sealed at rest when VERSICOLOR_SECRET_KEY is set
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

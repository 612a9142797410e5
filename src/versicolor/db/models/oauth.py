"""OAuth tables (partner applications, codes, authorizations, refresh tokens) and the auth journal.

The journal (`auth_changes`) is how every worker learns, quickly, that tokens it would otherwise accept must
now be refused: a revoked access token (by `jti`), or a user whose state changed (deleted, role, credentials).
Revocations `record` entries; changes to users, their credentials and accounts are recorded by the session
hooks at the bottom of this module, whoever makes them. Either way they are written when the transaction
commits, and only if it does.

Sequence numbers come from a one-row counter that each writing transaction locks until it commits, so
numbers become visible in order: a reader that has seen `seq` N has seen everything up to N.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, ForeignKey, Integer, String, event, insert, update
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from versicolor.db.models.accounts import Account, ApiCredential, User
from versicolor.db.models.base import IDS_NEVER_REUSED, Base
from versicolor.db.types import BigId, UtcDateTime, utcnow


class PartnerApp(Base):
    """A partner application registered for the authorization code flow, with its redirect URIs."""

    __tablename__ = "oauth_apps"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The account that registered the application; users of any account may authorize it.
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # After a rotation the previous secret keeps working until `previous_secret_expires_at` (an overlap).
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A public client (a native or single-page app) cannot keep a secret: it has none, and must use PKCE.
    public: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OAuthAuthorization(Base):
    """A user's approval of a partner application: the family of tokens one authorization code started."""

    __tablename__ = "oauth_authorizations"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # What the application's tokens may do (auth/scopes.py); NULL on authorizations made before scopes existed.
    scope: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuthorizationCode(Base):
    """A one-time code, bound to its application, user, redirect URI and PKCE challenge; stored hashed."""

    __tablename__ = "oauth_codes"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    # The scopes the user approved (space-separated, auth/scopes.py); NULL on codes issued before scopes existed.
    scope: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by the one redemption that wins (a conditional UPDATE), with what that redemption issued.
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    authorization_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_authorizations.id", ondelete="SET NULL"), index=True
    )
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RefreshToken(Base):
    """One refresh token of an authorization, with the access token issued beside it; stored hashed."""

    __tablename__ = "oauth_refresh_tokens"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    authorization_id: Mapped[int] = mapped_column(ForeignKey("oauth_authorizations.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Kept so that revoking the authorization can revoke the access tokens it issued, too.
    access_jti: Mapped[str] = mapped_column(String(64))
    access_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when the token is exchanged (rotation); presenting it again is a replay.
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuthChange(Base):
    """One entry of the auth journal: a revoked access token, or users whose cached state is out of date.

    `jti` set: that access token is refused until `expires_at` (its own expiry). Otherwise the entry names a
    user, every user of an account, or (both empty) every user, and `expires_at` is when it may be pruned.
    """

    __tablename__ = "auth_changes"

    # Counted in `auth_journal_head` (which only ever counts up), never generated by the database.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    jti: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    date_created: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuthJournalHead(Base):
    """The journal's one-row sequence counter (row id 1)."""

    __tablename__ = "auth_journal_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


# How long entries about users are kept. A worker that has not read the journal for half of this reloads
# everything instead of reading only what changed (auth.gate).
USER_CHANGE_RETENTION = timedelta(days=1)

# In a session's `info`: the entries waiting for its commit, and (after it) that it committed some.
_PENDING = "versicolor.auth_journal.pending"
_WRITTEN = "versicolor.auth_journal.written"
COMMITTED = "versicolor.auth_journal.committed"

_local_commits = 0


@dataclass(frozen=True)
class Entry:
    """A journal entry not yet written."""

    expires_at: datetime
    jti: str | None = None
    user_id: int | None = None
    account_id: int | None = None


def local_commits() -> int:
    """How many transactions of this process have committed journal entries (a cheap "look again" signal)."""
    return _local_commits


def record(session: Session, entry: Entry) -> None:
    """Add an entry to the journal when `session` commits.

    Entries are written at commit time, after every other change of the transaction: the counter row is
    then the last lock the transaction takes, so two transactions cannot deadlock over it.
    """
    pending: list[Entry] = session.info.setdefault(_PENDING, [])
    if entry not in pending:
        pending.append(entry)


def _append(connection: Connection, entry: Entry) -> None:
    seq = connection.execute(
        update(AuthJournalHead)
        .where(AuthJournalHead.id == 1)
        .values(seq=AuthJournalHead.seq + 1)
        .returning(AuthJournalHead.seq)
    ).scalar()
    if seq is None:  # a database created without the migration's first row
        connection.execute(insert(AuthJournalHead).values(id=1, seq=1))
        seq = 1
    connection.execute(
        insert(AuthChange).values(
            seq=seq,
            jti=entry.jti,
            user_id=entry.user_id,
            account_id=entry.account_id,
            expires_at=entry.expires_at,
            date_created=utcnow(),
        )
    )


@event.listens_for(Session, "after_flush")
def _journal_flushed_changes(session: Session, _context: Any) -> None:
    expires_at = utcnow() + USER_CHANGE_RETENTION
    touched = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    for obj in touched:
        if isinstance(obj, User):
            record(session, Entry(expires_at, user_id=obj.id))
        elif isinstance(obj, ApiCredential):
            record(session, Entry(expires_at, user_id=obj.user_id))
        elif isinstance(obj, Account) and obj in session.deleted:
            # Its users go with it (ON DELETE CASCADE), unseen by the session.
            record(session, Entry(expires_at, account_id=obj.id))


@event.listens_for(Session, "do_orm_execute")
def _journal_bulk_changes(state: ORMExecuteState) -> None:
    # UPDATE/DELETE/INSERT statements on these tables bypass the flush: say "every user changed".
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in (User, ApiCredential, Account):
        return
    record(state.session, Entry(utcnow() + USER_CHANGE_RETENTION))


@event.listens_for(Session, "before_commit")
def _journal_written(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction goes on, and writes its entries when it commits
    session.flush()  # the last changes reach after_flush, and so the journal, before it is written
    entries = session.info.pop(_PENDING, None)
    if not entries:
        return
    connection = session.connection()
    for entry in entries:
        _append(connection, entry)
    session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _journal_committed(session: Session) -> None:
    global _local_commits
    if session.info.pop(_WRITTEN, False):
        session.info[COMMITTED] = True
        _local_commits += 1


@event.listens_for(Session, "after_rollback")
def _journal_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)

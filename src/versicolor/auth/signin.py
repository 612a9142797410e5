"""Signing a person in with email and password: throttled, off the event loop, the same for every page that
needs it (the authorization page, the dashboard).

    outcome = await signin.attempt(sessions=..., throttle=..., email=..., password=..., address=...)
    if outcome.retry_after: ...      # too many failures from this network: 429, try again later
    elif outcome.choices: ...        # the email and password open several accounts: ask which (account_id=)
    elif outcome.user is None: ...   # wrong email or password (the one answer for both)
    else: token = await signin.open_session(...)  # then put the token in the page's signed cookie

An email is unique within an account only, so one person may have a user in several accounts; a sign-in opens
the one whose password matches, or asks which when several do (showing only those, so nothing is learnt
about accounts whose password was not given).

Failures count per email and caller network, and per network (auth/throttle.py); a success clears the
email's count for that network. The password check runs in argon2's thread pool (core/passwords.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor.auth import sessions as browser_sessions
from versicolor.auth.throttle import FailureThrottle
from versicolor.core import accounts
from versicolor.db.models import Account, User

KIND = "email"


@dataclass(frozen=True)
class Choice:
    """An account the email and password open, offered when they open several."""

    account_id: int
    account_name: str


@dataclass(frozen=True)
class Outcome:
    """How a sign-in attempt ended: a user, a wait (throttled), accounts to choose from, or none of these
    (wrong email or password)."""

    user: User | None = None
    retry_after: int | None = None
    choices: tuple[Choice, ...] = ()


async def attempt(
    *,
    sessions: async_sessionmaker[AsyncSession],
    throttle: FailureThrottle,
    email: str,
    password: str,
    address: str | None,
    account_id: int | None = None,
) -> Outcome:
    """Check an email and password (in `account_id`'s account, once the user chose), unless this email or
    network must wait first."""
    identity = email.strip().lower()
    wait = await throttle.retry_after(kind=KIND, identity=identity, address=address)
    if wait is not None:
        return Outcome(retry_after=wait)
    async with sessions() as session, session.begin():
        users = await accounts.authenticate_user(session=session, email=email, password=password)
        if account_id is not None:
            users = [user for user in users if user.account_id == account_id]
        names: dict[int, str] = {}
        if len(users) > 1:
            rows = await session.execute(
                select(Account.id, Account.name).where(Account.id.in_([u.account_id for u in users]))
            )
            names = {account_id: name for account_id, name in rows}
    if not users:
        await throttle.failed(kind=KIND, identity=identity, address=address)
        return Outcome()
    await throttle.succeeded(kind=KIND, identity=identity, address=address)
    if len(users) > 1:
        return Outcome(choices=tuple(Choice(user.account_id, names.get(user.account_id, "")) for user in users))
    return Outcome(user=users[0])


async def open_session(
    *,
    sessions: async_sessionmaker[AsyncSession],
    user: User,
    purpose: str,
    ttl: timedelta,
    ending: str | None = None,
) -> str:
    """Start a session of `purpose` for `user`, ending the session `ending` (the one this browser had) first."""
    async with sessions() as session, session.begin():
        await browser_sessions.end(session=session, token=ending)
        return await browser_sessions.start(session=session, user=user, purpose=purpose, ttl=ttl)


async def close_session(*, sessions: async_sessionmaker[AsyncSession], token: str | None) -> None:
    """End a session (signing out, or signing in as someone else): every copy of its token stops working."""
    async with sessions() as session, session.begin():
        await browser_sessions.end(session=session, token=token)


async def signed_in_user(*, session: AsyncSession, token: str | None, purpose: str) -> User | None:
    """The user of a live session of `purpose`, or None (no session, ended, expired)."""
    return await browser_sessions.user_of(session=session, token=token, purpose=purpose)

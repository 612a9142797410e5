"""Accounts, their users and the users' API credentials."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import passwords, resources, secrets
from versicolor.core.errors import Conflict, Forbidden, Invalid, NotFound
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Account, ApiCredential, SignInSession, User
from versicolor.db.types import utcnow

# How many accounts' users one sign-in checks the password of (an email in more is checked in the oldest).
MAX_ACCOUNTS_PER_EMAIL = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class IssuedCredentials:
    """A user's API credentials as shown once, at creation or rotation."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class NewUser:
    """A freshly created user and its credentials (the secret in clear, this once)."""

    user: User
    credentials: IssuedCredentials


@dataclass(frozen=True)
class NewAccount:
    """A freshly created account, its first admin, and the secrets shown once."""

    account: Account
    admin: NewUser
    account_secret: str


def normalize_email(email: str) -> str:
    """The stored form of an email address; raises Invalid when it cannot be one."""
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise Invalid.field("email", f"{email!r} is not an email address")
    return email


async def create_account(*, session: AsyncSession, name: str, email: str, password: str | None = None) -> NewAccount:
    """Create an account with its first ADMIN user, that user's API credentials and the account secret."""
    name = resources.name(name)
    account_secret = secrets.new_secret()
    account = Account(name=name, account_secret_hash=secrets.digest(account_secret))
    session.add(account)
    await session.flush()
    admin = await create_user(session=session, account_id=account.id, email=email, password=password, role=Role.ADMIN)
    return NewAccount(account=account, admin=admin, account_secret=account_secret)


async def create_user(
    *,
    session: AsyncSession,
    account_id: int,
    email: str,
    password: str | None = None,
    role: Role = Role.VIEWER,
    first_name: str | None = None,
    last_name: str | None = None,
) -> NewUser:
    """Add a user to an account, with API credentials of its own."""
    if await session.get(Account, account_id) is None:
        raise NotFound.object("account", account_id)
    email = normalize_email(email)
    if password is not None:
        password = await passwords.check_new_password(password, personal=(email, first_name or "", last_name or ""))
    taken = select(User.id).where(User.account_id == account_id, User.email == email)
    if await session.scalar(taken) is not None:
        raise Conflict(f"a user with email {email} already exists in this account")
    user = User(
        account_id=account_id,
        email=email,
        role=role.value,
        first_name=first_name,
        last_name=last_name,
        password_hash=await passwords.hash_password(password) if password else None,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same email
        raise Conflict(f"a user with email {email} already exists in this account") from exc
    client_secret = secrets.new_secret()
    credential = ApiCredential(
        user_id=user.id, client_id=secrets.new_client_id(), secret_hash=secrets.digest(client_secret)
    )
    session.add(credential)
    await session.flush()
    return NewUser(user=user, credentials=IssuedCredentials(credential.client_id, client_secret))


async def get_user(*, session: AsyncSession, principal: Principal, user_id: int) -> User:
    """A user of the caller's account."""
    user = await session.scalar(select(User).where(User.id == user_id, User.account_id == principal.account_id))
    if user is None:
        raise NotFound.object("account", user_id)
    return user


async def rotate_credentials(*, session: AsyncSession, principal: Principal) -> IssuedCredentials:
    """Give the caller a new client secret: the old one, and every token issued from it, stop working."""
    principal.require_first_party()
    if principal.user_id is None:
        raise Forbidden("an account secret has no API credentials of its own; use a user's access token")
    credential = await credentials_of(session=session, user_id=principal.user_id)
    client_secret = secrets.new_secret()
    if credential is None:
        credential = ApiCredential(
            user_id=principal.user_id, client_id=secrets.new_client_id(), secret_hash=secrets.digest(client_secret)
        )
        session.add(credential)
    else:
        credential.secret_hash = secrets.digest(client_secret)
        # Tokens carry the generation they were issued under; the token check refuses older ones.
        credential.generation += 1
    await session.flush()
    return IssuedCredentials(credential.client_id, client_secret)


async def rotate_account_secret(*, session: AsyncSession, principal: Principal) -> str:
    """Give the caller's account a new account secret (X-Account-Secret); the old one stops working."""
    principal.require_first_party()
    account = await session.get(Account, principal.account_id)
    if account is None:
        raise NotFound.object("account", principal.account_id)
    account_secret = secrets.new_secret()
    account.account_secret_hash = secrets.digest(account_secret)
    await session.flush()
    return account_secret


async def change_password(*, session: AsyncSession, principal: Principal, current: str | None, new: str) -> User:
    """Change the caller's own password; `current` must match when the user has one. Raises Forbidden."""
    principal.require_first_party()
    if principal.user_id is None:
        raise Forbidden("an account secret has no password; use a user's access token")
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound.object("account", principal.user_id)
    if user.password_hash is not None and not await passwords.verify_password(current or "", user.password_hash):
        raise Forbidden("currentPassword is not your current password")
    await set_password(session=session, user=user, password=new)
    return user


async def set_password(*, session: AsyncSession, user: User, password: str) -> int:
    """Give `user` a new password (checked against the rules), and end every signed-in session it has; how many
    sessions were still open."""
    password = await passwords.check_new_password(
        password, personal=(user.email, user.first_name or "", user.last_name or "")
    )
    user.password_hash = await passwords.hash_password(password)
    await session.flush()
    # Whoever was signed in as this user, with the old password, is signed out everywhere.
    ended = await session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


async def delete_user(*, session: AsyncSession, principal: Principal, user_id: int) -> None:
    """Remove a user of the caller's account, with its credentials; its tokens are refused from then on."""
    principal.require_first_party()
    user = await get_user(session=session, principal=principal, user_id=user_id)
    if user.id == principal.user_id:
        raise Conflict("you cannot delete yourself; ask another ADMIN of the account")
    await session.delete(user)
    await session.flush()


async def authenticate_user(*, session: AsyncSession, email: str, password: str) -> list[User]:
    """The users this email and password open (signing in): usually one, several when the same person has
    the same password in several accounts, none when wrong. As slow for unknown emails as for known ones."""
    try:
        normalized = normalize_email(email)
    except Invalid:
        normalized = None
    candidates = (
        []
        if normalized is None
        else list(
            await session.scalars(
                select(User).where(User.email == normalized).order_by(User.id).limit(MAX_ACCOUNTS_PER_EMAIL)
            )
        )
    )
    if not candidates:
        await passwords.verify_password(password, None)
        return []
    # Checked side by side in argon2's pool: a second account costs little more time than one.
    verdicts = await asyncio.gather(*(passwords.verify_password(password, user.password_hash) for user in candidates))
    return [user for user, verdict in zip(candidates, verdicts, strict=True) if verdict]


async def find_user(*, session: AsyncSession, user_id: int) -> User | None:
    """A user by id in any account (the authorization page's signed-in user), or None."""
    return await session.get(User, user_id)


async def users_by_email(*, session: AsyncSession, email: str) -> list[User]:
    """Every user with this email, one per account at most, oldest first (the machine's administrator looking
    someone up); raises Invalid when it cannot be an email."""
    return list(await session.scalars(select(User).where(User.email == normalize_email(email)).order_by(User.id)))


async def credentials_of(*, session: AsyncSession, user_id: int) -> ApiCredential | None:
    """The API credentials of a user, if it has any."""
    return await session.scalar(select(ApiCredential).where(ApiCredential.user_id == user_id))


async def count_accounts(*, session: AsyncSession) -> int:
    """How many accounts exist (zero on a fresh database)."""
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)

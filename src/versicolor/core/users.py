"""Managing the users of the caller's account: list, read, invite, rename and change roles."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import accounts, resources
from versicolor.core.errors import Conflict, Invalid
from versicolor.core.roles import Permission, Principal, Role
from versicolor.core.segments.matching import allowed
from versicolor.db.models import User

MAX_NAME = 200


class UserFields(TypedDict, total=False):
    """What an ADMIN may change about a user, snake_case; values are checked by this module."""

    first_name: Any
    last_name: Any
    role: Any


def scoped(principal: Principal) -> Select[User]:
    """Every user of the caller's account, as a query to refine."""
    return select(User).where(User.account_id == principal.account_id)


def _person_name(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_NAME:
        raise Invalid.field(field, f"must be a string of at most {MAX_NAME} characters, or null")
    return value.strip() or None


def parse_role(value: object) -> Role:
    """The role `value` names; raises Invalid listing the allowed ones."""
    if not isinstance(value, str) or value not in Role.__members__:
        raise Invalid.field("role", f"must be {allowed(Role)}, not {value!r}")
    return Role(value)


async def get(*, session: AsyncSession, principal: Principal, user_id: int) -> User:
    """A user of the caller's account."""
    resources.check_id("account", user_id)
    return await accounts.get_user(session=session, principal=principal, user_id=user_id)


async def invite(
    *,
    session: AsyncSession,
    principal: Principal,
    email: str,
    role: Role = Role.VIEWER,
    first_name: str | None = None,
    last_name: str | None = None,
    password: str | None = None,
) -> accounts.NewUser:
    """Add a user to the caller's account (ADMIN only), with API credentials whose secret is shown this once."""
    principal.require(Permission.ADMIN)
    principal.require_first_party()
    return await accounts.create_user(
        session=session,
        account_id=principal.account_id,
        email=email,
        password=password,
        role=role,
        first_name=_person_name(first_name, "firstName"),
        last_name=_person_name(last_name, "lastName"),
    )


async def update(*, session: AsyncSession, principal: Principal, user_id: int, changes: UserFields) -> User:
    """Change a user's names or role (ADMIN only); the account's last ADMIN keeps that role."""
    principal.require(Permission.ADMIN)
    principal.require_first_party()
    user = await get(session=session, principal=principal, user_id=user_id)
    if "first_name" in changes:
        user.first_name = _person_name(changes["first_name"], "firstName")
    if "last_name" in changes:
        user.last_name = _person_name(changes["last_name"], "lastName")
    if "role" in changes:
        new_role = parse_role(changes["role"])
        if user.role == Role.ADMIN and new_role is not Role.ADMIN:
            await _check_another_admin(session, principal, user)
        user.role = new_role.value
    await session.flush()
    return user


async def reset_password(*, session: AsyncSession, principal: Principal, user_id: int, password: str) -> User:
    """Set another user's password (ADMIN only, with the account's own credentials); its sessions end."""
    principal.require(Permission.ADMIN)
    principal.require_first_party()
    user = await get(session=session, principal=principal, user_id=user_id)
    await accounts.set_password(session=session, user=user, password=password)
    return user


async def _check_another_admin(session: AsyncSession, principal: Principal, leaving: User) -> None:
    # Locking the account's ADMIN rows makes two concurrent demotions take turns, so that the second one
    # sees the first and cannot leave the account without an ADMIN (SQLite serialises writers already).
    admins = await session.scalars(
        select(User.id).where(User.account_id == principal.account_id, User.role == Role.ADMIN.value).with_for_update()
    )
    if not any(admin_id != leaving.id for admin_id in admins):
        raise Conflict(
            f"user {leaving.id} ({leaving.email}) is the account's last ADMIN; make another user ADMIN first"
        )

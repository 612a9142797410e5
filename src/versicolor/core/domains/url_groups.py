"""Environments (Url Groups): named groups of an account's Urls, and the Default Environment.

Every account has one Default Environment. Urls in it carry `url_group_id: null` (the Edit API v3); the group itself
is a row like the others, so that it can be listed, renamed and recoloured, but it cannot be archived. It is
made the first time the account's Environments are listed or named, and counts as created with the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import object_ids
from versicolor.core.domains import values
from versicolor.core.domains.values import UNSET, Unset, UrlsActionOnArchive
from versicolor.core.errors import Conflict, Invalid, NotFound
from versicolor.core.roles import Principal
from versicolor.db.models import Account, Url, UrlGroup

DEFAULT_NAME = "Default"
DEFAULT_DESCRIPTION = "Every Url that is not assigned to another Environment"


@dataclass(frozen=True)
class UrlGroupChanges:
    """What an update names; UNSET fields stay as they are, None clears a field."""

    name: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    short_name: str | Unset | None = UNSET
    style_short_name_color: str | Unset | None = UNSET
    archived_at: datetime | Unset | None = UNSET
    urls_action_on_archive: object = UNSET


def scoped(principal: Principal) -> Select[UrlGroup]:
    """Every Environment of the caller's account, as a query to refine."""
    return select(UrlGroup).where(UrlGroup.account_id == principal.account_id)


def parse_id(value: object, *, field: str) -> str:
    """An Environment id from the client, in its stored form; Invalid names `field`."""
    parsed = object_ids.parse(value) if isinstance(value, str) else None
    if parsed is None:
        raise Invalid.field(field, f"{values.shown(value)} is not an id (24 hexadecimal digits)")
    return parsed


async def default(*, session: AsyncSession, account_id: int) -> UrlGroup:
    """The account's Default Environment, made on first use."""
    found = await session.scalar(select(UrlGroup).where(UrlGroup.default_for_account_id == account_id))
    if found is not None:
        return found
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound.object("account", account_id)
    created_at = values.to_ms(account.date_created)
    group = UrlGroup(
        id=object_ids.first_of_second(created_at, account_id),
        account_id=account_id,
        default_for_account_id=account_id,
        name=DEFAULT_NAME,
        description=DEFAULT_DESCRIPTION,
        created_at=created_at,
        updated_at=created_at,
    )
    try:
        async with session.begin_nested():
            session.add(group)
            await session.flush()
    except IntegrityError:  # another request made it meanwhile
        found = await session.scalar(select(UrlGroup).where(UrlGroup.default_for_account_id == account_id))
        if found is None:
            raise
        return found
    return group


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    name: str,
    description: str | None = None,
    short_name: str | None = None,
    style_short_name_color: str | None = None,
) -> UrlGroup:
    """Create an Environment in the caller's account."""
    await default(session=session, account_id=principal.account_id)  # so that it is the oldest
    at = values.now()
    group = UrlGroup(
        id=object_ids.new(at),
        account_id=principal.account_id,
        name=values.name(name),
        description=values.description(description),
        short_name=values.short_name(short_name),
        style_short_name_color=values.color(style_short_name_color),
        created_at=at,
        updated_at=at,
    )
    session.add(group)
    await session.flush()
    return group


async def get(*, session: AsyncSession, principal: Principal, url_group_id: str, field: str = "id") -> UrlGroup:
    """An Environment of the caller's account."""
    group_id = parse_id(url_group_id, field=field)
    group = await session.scalar(scoped(principal).where(UrlGroup.id == group_id))
    if group is None:
        raise NotFound.object("url_group", group_id)
    return group


async def listing(*, session: AsyncSession, principal: Principal) -> Select[UrlGroup]:
    """The query behind the list of Environments; the Default one is made first so that it is listed."""
    await default(session=session, account_id=principal.account_id)
    return scoped(principal)


async def assignable(*, session: AsyncSession, principal: Principal, url_group_id: str | None) -> str | None:
    """The `url_group_id` to store for a Url assigned to `url_group_id` (None: the Default Environment)."""
    if url_group_id is None:
        return None
    group = await get(session=session, principal=principal, url_group_id=url_group_id, field="url_group_id")
    if group.default_for_account_id is not None:
        return None
    if group.archived_at is not None:
        raise Conflict(f"url_group {group.id} is archived; unarchive it before assigning Urls to it")
    return group.id


async def update(
    *, session: AsyncSession, principal: Principal, url_group_id: str, changes: UrlGroupChanges
) -> UrlGroup:
    """Change what `changes` names; archiving with `urls_action_on_archive=archive` archives the group's Urls."""
    group = await get(session=session, principal=principal, url_group_id=url_group_id)
    action = (
        UrlsActionOnArchive.IGNORE
        if changes.urls_action_on_archive is UNSET
        else values.choice("urls_action_on_archive", changes.urls_action_on_archive, UrlsActionOnArchive)
    )
    wanted = {
        "name": UNSET if changes.name is UNSET else values.name(_not_null("name", changes.name)),
        "description": UNSET if changes.description is UNSET else values.description(changes.description),
        "short_name": UNSET if changes.short_name is UNSET else values.short_name(changes.short_name),
        "style_short_name_color": (
            UNSET if changes.style_short_name_color is UNSET else values.color(changes.style_short_name_color)
        ),
        "archived_at": (
            changes.archived_at
            if changes.archived_at is UNSET or changes.archived_at is None
            else values.to_ms(changes.archived_at)
        ),
    }
    archiving = wanted["archived_at"]
    if isinstance(archiving, datetime) and group.default_for_account_id is not None:
        raise Conflict("the Default Environment cannot be archived")
    at = values.now()
    changed = False
    for attribute, value in wanted.items():
        if value is not UNSET and getattr(group, attribute) != value:
            setattr(group, attribute, value)
            changed = True
    if changed:
        group.updated_at = at
    if isinstance(archiving, datetime) and action is UrlsActionOnArchive.ARCHIVE:
        await session.execute(
            sql_update(Url)
            .where(Url.account_id == principal.account_id, Url.url_group_id == group.id, Url.archived_at.is_(None))
            .values(archived_at=archiving, updated_at=at)
            .execution_options(synchronize_session="fetch")
        )
    await session.flush()
    return group


def _not_null(field: str, value: str | None) -> str:
    if value is None:
        raise Invalid.field(field, "cannot be null")
    return value

"""Domains (Urls): the hosts of an account, their authorisation state and their Environment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import object_ids
from versicolor.core.domains import hosts, url_groups, values
from versicolor.core.domains.values import UNSET, Enabled, Unset
from versicolor.core.errors import Conflict, Invalid, NotFound
from versicolor.core.roles import Principal
from versicolor.db.models import Url

# The largest batch update: big enough for a whole account's Urls in a few calls, small enough that one
# request holds its row locks briefly.
MAX_BATCH = 500


@dataclass(frozen=True)
class UrlChanges:
    """What an update names; UNSET fields stay as they are. `enabled` is the client's raw value."""

    enabled: object = UNSET
    archived_at: datetime | Unset | None = UNSET
    unlisted: bool | Unset = UNSET
    url_group_id: str | Unset | None = UNSET


def scoped(principal: Principal) -> Select[Url]:
    """Every Url of the caller's account, as a query to refine."""
    return select(Url).where(Url.account_id == principal.account_id)


def search(principal: Principal, *, domain: str | None = None) -> Select[Url]:
    """The caller's Urls, only those on `domain` and its subdomains when it is given."""
    query = scoped(principal)
    if domain is None:
        return query
    wanted = domain.strip()
    wanted = wanted.removeprefix("*.").removeprefix(".")  # `*.ex.io` and `.ex.io` read as `ex.io`
    host = hosts.normalize(wanted, field="domain")
    # `endswith(autoescape=True)` escapes `%` and `_`: `my_app.io` must not match `myxapp.io`.
    return query.where(or_(Url.host == host, Url.host.endswith("." + host, autoescape=True)))


def parse_id(value: object, *, field: str = "id") -> str:
    """A Url id from the client, in its stored form; Invalid names `field`."""
    parsed = object_ids.parse(value) if isinstance(value, str) else None
    if parsed is None:
        raise Invalid.field(field, f"{values.shown(value)} is not an id (24 hexadecimal digits)")
    return parsed


async def get(*, session: AsyncSession, principal: Principal, url_id: str) -> Url:
    """A Url of the caller's account."""
    parsed = parse_id(url_id)
    url = await session.scalar(scoped(principal).where(Url.id == parsed))
    if url is None:
        raise NotFound.object("url", parsed)
    return url


async def find(*, session: AsyncSession, account_id: int, host: str) -> Url | None:
    """The Url of a normalised host in an account, if there is one."""
    return await session.scalar(select(Url).where(Url.account_id == account_id, Url.host == host))


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    host: object,
    enabled: object = UNSET,
    archived_at: datetime | Unset | None = UNSET,
    unlisted: bool | Unset = UNSET,
    url_group_id: str | Unset | None = UNSET,
) -> Url:
    """Create the Url of a host; without `url_group_id` it joins the Environment of its domain's Url."""
    normalized = hosts.normalize(host)
    domain = hosts.registrable_domain(normalized)
    state = Enabled.ON if enabled is UNSET else values.enabled(enabled)
    at = values.now()
    archived = values.archive_state(archived_at=archived_at, unlisted=unlisted, current=None, at=at)
    existing = await find(session=session, account_id=principal.account_id, host=normalized)
    if existing is not None:
        raise Conflict(f"host {normalized} already has a Url ({existing.id}); update that one instead")
    if url_group_id is UNSET:
        parent = None
        if normalized != domain:
            parent = await find(session=session, account_id=principal.account_id, host=domain)
        group_id = parent.url_group_id if parent is not None else None
    else:
        group_id = await url_groups.assignable(session=session, principal=principal, url_group_id=url_group_id)
    url = Url(
        id=object_ids.new(at),
        account_id=principal.account_id,
        url_group_id=group_id,
        host=normalized,
        domain=domain,
        enabled=state.value,
        archived_at=None if archived is UNSET else archived,
        created_at=at,
        updated_at=at,
    )
    try:
        async with session.begin_nested():
            session.add(url)
            await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same host
        raise Conflict(f"host {normalized} already has a Url; update that one instead") from exc
    return url


async def declare(*, session: AsyncSession, principal: Principal, host: object) -> Url | None:
    """Authorise a host the account declared itself (a site's URL): a new Url `on`; an existing one is kept.

    A host nobody declared still gets the cautious state of first contact (authorization.py); a host that
    already has a Url keeps whatever someone chose for it. None when `host` is not a host name.
    """
    try:
        normalized = hosts.normalize(host)
    except Invalid:
        return None
    existing = await find(session=session, account_id=principal.account_id, host=normalized)
    if existing is not None:
        return existing
    try:
        return await create(session=session, principal=principal, host=normalized)
    except Conflict:  # made meanwhile by a page's first contact or another request: theirs stands
        return await find(session=session, account_id=principal.account_id, host=normalized)


async def update(*, session: AsyncSession, principal: Principal, url_id: str, changes: UrlChanges) -> Url:
    """Change what `changes` names on one Url."""
    url = await get(session=session, principal=principal, url_id=url_id)
    apply = await _prepare(session=session, principal=principal, changes=changes)
    apply(url, values.now())
    await session.flush()
    return url


async def update_many(
    *, session: AsyncSession, principal: Principal, ids: Sequence[object], changes: UrlChanges
) -> list[Url]:
    """Apply `changes` to every listed Url, or to none: one unknown id and nothing changes."""
    if not ids:
        raise Invalid.field("ids", "must list at least one Url id")
    if len(ids) > MAX_BATCH:
        raise Invalid.field("ids", f"at most {MAX_BATCH} ids per batch (got {len(ids)}); split the update")
    wanted = list(dict.fromkeys(parse_id(value, field=f"ids[{i}]") for i, value in enumerate(ids)))
    apply = await _prepare(session=session, principal=principal, changes=changes)
    found = {url.id: url for url in await session.scalars(scoped(principal).where(Url.id.in_(wanted)))}
    missing = [url_id for url_id in wanted if url_id not in found]
    if missing:
        raise NotFound(f"url {', '.join(missing)} not found; nothing was changed")
    at = values.now()
    for url_id in wanted:
        apply(found[url_id], at)
    await session.flush()
    return [found[url_id] for url_id in wanted]


class _Apply:
    """Validated changes, ready to be applied to any number of Urls."""

    def __init__(self, changes: UrlChanges, enabled: Enabled | Unset, group_id: str | Unset | None) -> None:
        self.changes = changes
        self.enabled = enabled
        self.group_id = group_id

    def __call__(self, url: Url, at: datetime) -> None:
        archived = values.archive_state(
            archived_at=self.changes.archived_at, unlisted=self.changes.unlisted, current=url.archived_at, at=at
        )
        wanted: dict[str, object] = {
            "enabled": self.enabled if self.enabled is UNSET else self.enabled.value,
            "archived_at": archived,
            "url_group_id": self.group_id,
        }
        changed = False
        for attribute, value in wanted.items():
            if value is not UNSET and getattr(url, attribute) != value:
                setattr(url, attribute, value)
                changed = True
        if changed:
            url.updated_at = at


async def _prepare(*, session: AsyncSession, principal: Principal, changes: UrlChanges) -> _Apply:
    """Check every named value once, before any Url changes."""
    enabled = UNSET if changes.enabled is UNSET else values.enabled(changes.enabled)
    # Raises now when archived_at and unlisted disagree, whatever the Url's state.
    values.archive_state(archived_at=changes.archived_at, unlisted=changes.unlisted, current=None, at=values.now())
    group_id: str | Unset | None = UNSET
    if changes.url_group_id is not UNSET:
        group_id = await url_groups.assignable(session=session, principal=principal, url_group_id=changes.url_group_id)
    return _Apply(changes, enabled, group_id)

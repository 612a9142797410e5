"""Sites (projects) of an account."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from typing import TypedDict
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import resources, web_urls
from versicolor.core.domains import urls as domain_urls
from versicolor.core.errors import Conflict, Invalid, NotFound
from versicolor.core.experiments import code
from versicolor.core.roles import Principal
from versicolor.db.models import Site

CODE_ALPHABET = string.ascii_lowercase + string.digits
CODE_LENGTH = 10
# How long the page engine's snippet may hide a page while variations are applied (docs/engine.md).
DEFAULT_ANTI_FLICKER_TIMEOUT = 1000
MAX_ANTI_FLICKER_TIMEOUT = 10_000


def new_code() -> str:
    """A random site code: 10 lowercase alphanumerics."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def scoped(principal: Principal) -> Select[Site]:
    """Every site the caller's account owns, as a query to refine."""
    return select(Site).where(Site.account_id == principal.account_id)


def _clean_url(url: str | None) -> str | None:
    return None if url is None else web_urls.checked("url", url)


async def _authorize_own_host(*, session: AsyncSession, principal: Principal, url: str | None) -> None:
    """The host of a site's URL may run the site's experiences from the start: its user just declared it."""
    host = urlsplit(url).hostname if url else None
    if host:
        await domain_urls.declare(session=session, principal=principal, host=host)


def _anti_flicker_timeout(value: int | None) -> int:
    if value is None:
        raise Invalid.field("antiFlickerTimeout", "cannot be null: send 0 for no hiding")
    if isinstance(value, bool) or not 0 <= value <= MAX_ANTI_FLICKER_TIMEOUT:
        raise Invalid.field(
            "antiFlickerTimeout", f"must be milliseconds from 0 (never hide the page) to {MAX_ANTI_FLICKER_TIMEOUT}"
        )
    return value


def _consent_required(value: bool | None) -> bool:
    if value is None:
        raise Invalid.field("consentRequired", "cannot be null: send true or false")
    return value


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    name: str,
    url: str | None = None,
    domain_names: Sequence[str] = (),
    anti_flicker_timeout: int = DEFAULT_ANTI_FLICKER_TIMEOUT,
    consent_required: bool = False,
    tracking_script: str | None = None,
) -> Site:
    """Create a site in the caller's account, with a fresh unique code."""
    url = _clean_url(url)
    for _ in range(5):
        site = Site(
            account_id=principal.account_id,
            code=new_code(),
            name=resources.name(name),
            url=url,
            domain_names=list(domain_names),
            anti_flicker_timeout=_anti_flicker_timeout(anti_flicker_timeout),
            consent_required=_consent_required(consent_required),
            tracking_script=code.check("trackingScript", tracking_script),
        )
        try:
            async with session.begin_nested():
                session.add(site)
                await session.flush()
        except IntegrityError:  # a code collision: 36**10 makes it rare, retrying makes it harmless
            continue
        await _authorize_own_host(session=session, principal=principal, url=url)
        return site
    raise Conflict("could not allocate a unique site code; try again")


async def get(*, session: AsyncSession, principal: Principal, site_id: int) -> Site:
    """A site of the caller's account."""
    return await resources.one(session, scoped(principal).where(Site.id == site_id), kind="site", object_id=site_id)


async def get_by_code(*, session: AsyncSession, principal: Principal, code: str) -> Site:
    """A site of the caller's account, by its code."""
    site = await session.scalar(scoped(principal).where(Site.code == code))
    if site is None:
        raise NotFound(f"site with code {code!r} not found")
    return site


class SiteChanges(TypedDict, total=False):
    """The fields a PATCH names; a field left out stays as it is, `url: None` clears the URL."""

    name: str | None
    url: str | None
    domain_names: Sequence[str] | None
    anti_flicker_timeout: int | None
    consent_required: bool | None
    tracking_script: str | None


async def update(*, session: AsyncSession, principal: Principal, site_id: int, changes: SiteChanges) -> Site:
    """Change the named fields of a site."""
    site = await get(session=session, principal=principal, site_id=site_id)
    if "name" in changes:
        name = changes["name"]
        if name is None:
            raise Invalid.field("name", "cannot be null: a site always has a name")
        site.name = resources.name(name)
    if "url" in changes:
        site.url = _clean_url(changes["url"])
        await _authorize_own_host(session=session, principal=principal, url=site.url)
    if "domain_names" in changes:
        domain_names = changes["domain_names"]
        if domain_names is None:
            raise Invalid.field("domainNames", "cannot be null: send [] to clear it")
        site.domain_names = list(domain_names)
    if "anti_flicker_timeout" in changes:
        site.anti_flicker_timeout = _anti_flicker_timeout(changes["anti_flicker_timeout"])
    if "consent_required" in changes:
        site.consent_required = _consent_required(changes["consent_required"])
    if "tracking_script" in changes:
        site.tracking_script = code.check("trackingScript", changes["tracking_script"])
    await session.flush()
    return site


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    site_id: int,
    name: str,
    url: str | None,
    domain_names: Sequence[str],
    anti_flicker_timeout: int = DEFAULT_ANTI_FLICKER_TIMEOUT,
    consent_required: bool = False,
    tracking_script: str | None = None,
) -> Site:
    """Replace every changeable field of a site (PUT): what is not given is cleared (or takes its default)."""
    site = await get(session=session, principal=principal, site_id=site_id)
    site.name = resources.name(name)
    site.url = url = _clean_url(url)
    site.domain_names = list(domain_names)
    site.anti_flicker_timeout = _anti_flicker_timeout(anti_flicker_timeout)
    site.consent_required = _consent_required(consent_required)
    site.tracking_script = code.check("trackingScript", tracking_script)
    await _authorize_own_host(session=session, principal=principal, url=url)
    await session.flush()
    return site


async def delete(*, session: AsyncSession, principal: Principal, site_id: int) -> None:
    """Delete a site and everything that belongs to it."""
    site = await get(session=session, principal=principal, site_id=site_id)
    await session.delete(site)
    await session.flush()

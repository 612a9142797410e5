"""Who may use a site's Data API: a bearer token of the site's account, or a page on an authorised host.

A page proves nothing about itself but the host its browser names in `Origin` (or, for requests without one,
`Referer`). The Domains service decides whether that host may run experiences and send data (the Edit API v3's first
lines); a host it has never seen gets its Url on this first contact. That decision is committed in its own
transaction before anything else happens, so a refused host still leaves its new Url behind.

Authorised origins get CORS headers; refused ones get a 403 without them, so a browser shows the page nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor import background
from versicolor.api.conventions.limiter import Limiter
from versicolor.api.conventions.ratelimit import Policies
from versicolor.api.deps import runtime_of
from versicolor.api.security import authenticate
from versicolor.core.domains.authorization import (
    DEFAULT_FLUSH_EVERY,
    HostAuthorizer,
    NewHostAllowed,
    Reason,
    authorize_host,
)
from versicolor.core.errors import Forbidden, Unauthenticated
from versicolor.settings import Settings
from versicolor.tracking import sites
from versicolor.tracking.config import ConfigurationCache
from versicolor.tracking.revenue import RevenueCaps
from versicolor.tracking.sites import SiteRef

log = logging.getLogger("versicolor.domains")

# Preflight answers may be reused by the browser this long (seconds).
PREFLIGHT_MAX_AGE = 600
_ALLOWED_REQUEST_HEADERS = "Content-Type, If-None-Match"

_REFUSALS = {
    Reason.OFF: "is not enabled for this account (its Url is off); enable it under Domains",
    Reason.ARCHIVED: "is archived under Domains; unarchive it to use it",
    Reason.INVALID_HOST: "is not a host name",
    Reason.TOO_MANY_NEW_HOSTS: (
        "has no Url under Domains, and this site's pages have named too many new hosts lately to make one for "
        "it now; add it under Domains, or try again later"
    ),
}


@dataclass(frozen=True)
class Access:
    """A granted request: the site, and the CORS headers its answers carry (none for bearer tokens)."""

    site: SiteRef
    cors: dict[str, str] = field(default_factory=dict)


def page_host(request: Request) -> str | None:
    """The host of the page behind a browser request: from `Origin`, else (no Origin at all) from `Referer`.

    `Origin: null` is a sandboxed iframe, a `file://` or `data:` page, or a redirect across origins: a page
    with no host. It is no host even when a `Referer` names one, since a page can choose its Referer (an
    opaque origin may still send one) but not its Origin; a browser that sent `null` never reads our answer.
    """
    origin = request.headers.get("origin")
    value = origin if origin is not None else request.headers.get("referer")
    if not value or value.strip() == "null":
        return None
    try:
        host = urlsplit(value).hostname
    except ValueError:
        host = None
    return host or value


def cors_headers(request: Request, *, preflight: bool = False) -> dict[str, str]:
    """The CORS headers for an authorised browser request (nothing without an Origin)."""
    origin = request.headers.get("origin")
    if not origin:
        return {"Vary": "Origin"}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": "ETag"}
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        headers["Access-Control-Allow-Headers"] = _ALLOWED_REQUEST_HEADERS
        headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return headers


def install(app: FastAPI, settings: Settings) -> None:
    """Give the app its process-wide caches (host decisions, page configurations) and its revenue caps."""
    app.state.host_authorizer = HostAuthorizer()
    app.state.page_configurations = ConfigurationCache()
    app.state.revenue_caps = RevenueCaps(
        per_event=settings.max_revenue_per_event, per_visitor=settings.max_revenue_per_visitor
    )


def revenue_caps(request: Request) -> RevenueCaps:
    """The most revenue one conversion, and one visitor, may carry."""
    caps: RevenueCaps = request.app.state.revenue_caps
    return caps


def configurations(request: Request) -> ConfigurationCache:
    """The process's cache of page configurations."""
    cache: ConfigurationCache = request.app.state.page_configurations
    return cache


@asynccontextmanager
async def sightings_written(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """While the app serves: write the hosts' gathered sightings (`last_seen_at`) every few seconds."""
    authorizer: HostAuthorizer = app.state.host_authorizer
    task = asyncio.create_task(authorizer.flush_periodically(sessions=sessions, every=DEFAULT_FLUSH_EVERY))
    try:
        yield
    finally:
        await background.stop(task)  # it writes what it gathered once more on its way out


def host_authorizer(request: Request) -> HostAuthorizer | None:
    """The process's cache of host decisions (None when the app was built without one: decide from the DB)."""
    authorizer = getattr(request.app.state, "host_authorizer", None)
    return authorizer if isinstance(authorizer, HostAuthorizer) else None


async def by_token(request: Request, site_code: str) -> Access:
    """A bearer token's request: the site must be its account's (another account's answers 404)."""
    async with runtime_of(request).sessions() as session, session.begin():
        return await token_access(request, session, site_code)


async def check_token(request: Request) -> None:
    """Authenticate the request's bearer token (from its headers only), so that `token_access` finds it checked."""
    await authenticate(request, None, runtime_of(request))


async def token_access(request: Request, session: AsyncSession, site_code: str) -> Access:
    """`by_token` inside the caller's transaction (a batch of events checks its token in its own)."""
    principal = await authenticate(request, session, runtime_of(request))
    site = await sites.by_code(session=session, code=site_code)
    if site.account_id != principal.account_id:
        raise sites.not_found(site_code)
    return Access(site=site)


async def by_page(request: Request, site_code: str, *, preflight: bool = False) -> Access:
    """A browser's request: the site must exist, and its page's host be authorised for the site's account."""
    async with runtime_of(request).sessions() as session:
        site = await sites.by_code(session=session, code=site_code)
    return await page_access(request, site, preflight=preflight)


async def page_access(request: Request, site: SiteRef, *, preflight: bool = False) -> Access:
    """A browser's request for a known site: its page's host must be authorised for the site's account."""
    host = page_host(request)
    decision = None
    if host is not None:
        # While the process's decision is fresh the session is never used: no connection, no round trip. A
        # session holds a connection only inside a transaction, so one that ended (or never began) needs no
        # close, and closing even an unused one costs a greenlet switch on this hot path.
        session = runtime_of(request).sessions()
        try:
            decision = await authorize_host(
                session=session,
                account_id=site.account_id,
                host=host,
                authorizer=host_authorizer(request),
                visitor_seen=not preflight,
                new_host_allowed=_new_host_budget(request, site),
            )
            if session.in_transaction():
                await session.commit()  # a first contact's new Url
        finally:
            if session.in_transaction():  # it failed mid-way: roll back, give the connection back
                await session.close()
    # Refused only now, after the commit: a host's first contact keeps its new Url even when it is off.
    if decision is None:
        raise Forbidden("no page host: a browser request must carry an Origin (or Referer) header of an enabled domain")
    if not decision.allowed:
        raise Forbidden(f"host {decision.host or host!r} {_REFUSALS.get(decision.reason, 'is not enabled')}")
    return Access(site=site, cors=cors_headers(request, preflight=preflight))


def _new_host_budget(request: Request, site: SiteRef) -> NewHostAllowed | None:
    """Asked when a page's host is about to get its Url: may this site's pages make one more now?"""
    limiter: Limiter | None = getattr(request.app.state, "rate_limiter", None)
    policies: Policies | None = getattr(request.app.state, "rate_limits", None)
    if limiter is None or policies is None or not policies.new_hosts_per_site:
        return None
    policy = policies.new_hosts_per_site

    async def allowed() -> bool:
        decision = await limiter.decide(policy, f"site:{site.id}")
        if not decision.allowed:
            log.warning(
                "site %s: pages named a new host beyond %s; no Url made",
                site.code,
                decision.window.describe("new host"),
            )
        return decision.allowed

    return allowed


def require_token_or_page(request: Request) -> None:
    """Refuse (401) a request that has neither a bearer token nor a page host."""
    if "authorization" not in request.headers and page_host(request) is None:
        raise Unauthenticated(
            "send a bearer token (Authorization: Bearer <token>), or send from a page on an enabled domain"
        )

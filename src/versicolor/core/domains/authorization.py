"""Host authorisation: may a page on this host run experiences and send data? (the Edit API v3; docs/domains.md)

The rules, in order:

1. A host that cannot be a host name is refused (`invalid_host`); no Url is made for it.
2. A host with a Url decides by that Url alone: archived refuses (`archived`), `off` refuses, `on` and
   `subdomain` allow. So an explicit `off` on a subdomain wins over its domain's `subdomain`.
3. A host with no Url gets one on first contact: `on` when the Url of its registrable domain is `subdomain`
   (and not archived), otherwise `off`. An explicit `off` Url between the host and its domain
   (`b.example.com` for `a.b.example.com`) keeps the new Url `off` too. The new Url joins the Environment of
   its domain's Url. First contact sets `installed_at`, `first_seen_at` and `last_seen_at`.
4. Anyone can name a host (a forged `Origin`), so first contacts are budgeted: the caller passes
   `new_host_allowed`, asked once per Url about to be made; when it says no, no Url is made and the host is
   refused (`too_many_new_hosts`) until the budget frees. Hosts that have a Url are never affected.

This is the hot path of every page view, so `HostAuthorizer` keeps each process's decisions for a few seconds
(`ttl`) and gathers sightings (`last_seen_at`) in memory, written in one statement per flush. How changes
reach the workers: a decision is never older than `ttl`; after a Url changes, every worker answers by the new
state within `ttl` seconds, because its cached decision expires and is read again from the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor.core import object_ids
from versicolor.core.domains import hosts, values
from versicolor.core.domains.values import Enabled
from versicolor.core.errors import Invalid
from versicolor.db.models import Url
from versicolor.db.types import UtcDateTime

log = logging.getLogger("versicolor.domains")

DEFAULT_TTL = 5.0
DEFAULT_FLUSH_EVERY = 5.0
DEFAULT_MAX_ENTRIES = 100_000


class Reason(StrEnum):
    """Why a host was allowed or refused."""

    ON = "on"
    SUBDOMAIN = "subdomain"
    OFF = "off"
    ARCHIVED = "archived"
    INVALID_HOST = "invalid_host"
    TOO_MANY_NEW_HOSTS = "too_many_new_hosts"


@dataclass(frozen=True, slots=True)
class HostDecision:
    """The answer for one host of one account."""

    allowed: bool
    reason: Reason
    host: str | None  # normalised; None when the host was not a host name
    url_id: str | None = None
    url_group_id: str | None = None
    created: bool = False  # this call made the host's Url (first contact)


def _from_url(url: Url, *, created: bool = False) -> HostDecision:
    reason = Reason.ARCHIVED if url.archived_at is not None else Reason(url.enabled)
    return HostDecision(
        allowed=reason in (Reason.ON, Reason.SUBDOMAIN),
        reason=reason,
        host=url.host,
        url_id=url.id,
        url_group_id=url.url_group_id,
        created=created,
    )


def _first_contact_state(parent: Url | None, between: list[Url]) -> Enabled:
    """The `enabled` of a host's new Url, from its domain's Url and any Urls between the two."""
    if parent is None or parent.archived_at is not None or parent.enabled != Enabled.SUBDOMAIN:
        return Enabled.OFF
    if any(url.enabled == Enabled.OFF and url.archived_at is None for url in between):
        return Enabled.OFF
    return Enabled.ON


NewHostAllowed = Callable[[], Awaitable[bool]]


async def decide(
    *, session: AsyncSession, account_id: int, host: str, new_host_allowed: NewHostAllowed | None = None
) -> HostDecision:
    """The decision for `host`, read from the database (and its Url made on first contact); no cache."""
    try:
        normalized = hosts.normalize(host)
        domain = hosts.registrable_domain(normalized)
    except Invalid:
        return HostDecision(allowed=False, reason=Reason.INVALID_HOST, host=None)
    above = hosts.ancestors(normalized, domain)
    known = {
        url.host: url
        for url in await session.scalars(
            select(Url).where(Url.account_id == account_id, Url.host.in_([normalized, *above]))
        )
    }
    own = known.get(normalized)
    if own is not None:
        return _from_url(own)
    if new_host_allowed is not None and not await new_host_allowed():
        return HostDecision(allowed=False, reason=Reason.TOO_MANY_NEW_HOSTS, host=normalized)
    parent = known.get(domain) if above else None
    between = [known[name] for name in above[:-1] if name in known]
    at = values.now()
    url = Url(
        id=object_ids.new(at),
        account_id=account_id,
        url_group_id=parent.url_group_id if parent is not None else None,
        host=normalized,
        domain=domain,
        enabled=_first_contact_state(parent, between).value,
        installed_at=at,
        first_seen_at=at,
        last_seen_at=at,
        created_at=at,
        updated_at=at,
    )
    try:
        async with session.begin_nested():
            session.add(url)
            await session.flush()
    except IntegrityError:  # another worker made it first: decide by theirs
        theirs = await session.scalar(select(Url).where(Url.account_id == account_id, Url.host == normalized))
        if theirs is None:
            raise
        return _from_url(theirs)
    return _from_url(url, created=True)


class HostAuthorizer:
    """One process's cache of decisions and buffer of sightings; make one per process and share it."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._decisions: dict[tuple[int, str], tuple[float, HostDecision]] = {}
        # (account, url) -> the latest sighting, in seconds since 1970; written by flush_sightings.
        self._sightings: dict[tuple[int, str], float] = {}

    async def authorize(
        self,
        *,
        session: AsyncSession,
        account_id: int,
        host: str,
        visitor_seen: bool = True,
        new_host_allowed: NewHostAllowed | None = None,
    ) -> HostDecision:
        """The decision for `host`, from the cache while it is fresh."""
        key = (account_id, host)
        entry = self._decisions.get(key)
        now = self._clock()
        if entry is not None and entry[0] > now:
            decision = entry[1]
        else:
            decision = await decide(
                session=session, account_id=account_id, host=host, new_host_allowed=new_host_allowed
            )
            if len(self._decisions) >= self.max_entries:
                self._decisions.clear()  # rare, and bounds memory whatever hosts clients send
            # Only this call made the Url; later answers from the cache must not say so again.
            self._decisions[key] = (now + self.ttl, replace(decision, created=False) if decision.created else decision)
        if visitor_seen and decision.url_id is not None:
            self._sightings[(account_id, decision.url_id)] = time.time()
        return decision

    def forget(self, account_id: int | None = None) -> None:
        """Drop cached decisions: one account's, or all."""
        if account_id is None:
            self._decisions.clear()
            return
        for key in [key for key in self._decisions if key[0] == account_id]:
            del self._decisions[key]

    @property
    def pending_sightings(self) -> int:
        """How many Urls have sightings not yet written."""
        return len(self._sightings)

    async def flush_sightings(self, *, session: AsyncSession) -> int:
        """Write the gathered sightings: `last_seen_at` moves forward, unset first times are filled in."""
        pending, self._sightings = self._sightings, {}
        if not pending:
            return 0
        seen_at = bindparam("seen_at", type_=UtcDateTime())
        statement = (
            update(Url)
            .where(Url.id == bindparam("url_id"), Url.account_id == bindparam("url_account_id"))
            .values(
                last_seen_at=case(
                    (or_(Url.last_seen_at.is_(None), Url.last_seen_at < seen_at), seen_at), else_=Url.last_seen_at
                ),
                first_seen_at=func.coalesce(Url.first_seen_at, seen_at),
                installed_at=func.coalesce(Url.installed_at, seen_at),
            )
        )
        rows = [
            {
                "url_id": url_id,
                "url_account_id": account_id,
                "seen_at": values.to_ms(datetime.fromtimestamp(at, UTC)),
            }
            for (account_id, url_id), at in pending.items()
        ]
        try:
            connection = await session.connection()
            await connection.execute(statement, rows)
        except BaseException:
            for key, at in pending.items():  # keep them for the next flush
                self._sightings[key] = max(at, self._sightings.get(key, at))
            raise
        return len(rows)

    async def flush_periodically(self, *, sessions: async_sessionmaker[AsyncSession], every: float) -> None:
        """Flush sightings every `every` seconds until cancelled, and once more when cancelled."""
        try:
            while True:
                await asyncio.sleep(every)
                await self._flush_logged(sessions)
        finally:
            await self._flush_logged(sessions)

    async def _flush_logged(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        try:
            async with sessions() as session, session.begin():
                await self.flush_sightings(session=session)
        except Exception:  # the database is away: the sightings wait for the next round
            log.exception("could not write Url sightings; retrying at the next flush")


async def authorize_host(
    *,
    session: AsyncSession,
    account_id: int,
    host: str,
    authorizer: HostAuthorizer | None = None,
    visitor_seen: bool = True,
    new_host_allowed: NewHostAllowed | None = None,
) -> HostDecision:
    """May pages on `host` run experiences? With `authorizer`: cached, and sightings gathered; without: from the DB."""
    if authorizer is None:
        return await decide(session=session, account_id=account_id, host=host, new_host_allowed=new_host_allowed)
    return await authorizer.authorize(
        session=session,
        account_id=account_id,
        host=host,
        visitor_seen=visitor_seen,
        new_host_allowed=new_host_allowed,
    )

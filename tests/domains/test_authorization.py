"""Host authorisation: which hosts may run experiences, first contact, the cache and the sightings buffer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests.factories import Factory
from versicolor.core.domains import authorization, url_groups, urls
from versicolor.core.domains.authorization import HostAuthorizer, Reason, authorize_host
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Url
from versicolor.runtime import Runtime

ARCHIVED = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """Urls an account has (host, enabled, archived), a host asked about, and what must follow."""

    name: str
    existing: list[tuple[str, str, bool]]
    asked: str
    allowed: bool
    reason: Reason
    created: bool
    stored_host: str | None = None


CASES = [
    Case("known on host is allowed", [("app.example.com", "on", False)], "app.example.com", True, Reason.ON, False),
    Case(
        "known subdomain host is allowed",
        [("example.com", "subdomain", False)],
        "example.com",
        True,
        Reason.SUBDOMAIN,
        False,
    ),
    Case("known off host is refused", [("app.example.com", "off", False)], "app.example.com", False, Reason.OFF, False),
    Case(
        "archived host is refused even when on",
        [("app.example.com", "on", True)],
        "app.example.com",
        False,
        Reason.ARCHIVED,
        False,
    ),
    Case(
        "unknown host under a subdomain domain is created on",
        [("example.com", "subdomain", False)],
        "new.example.com",
        True,
        Reason.ON,
        True,
    ),
    Case(
        "unknown host under an on domain is created off",
        [("example.com", "on", False)],
        "new.example.com",
        False,
        Reason.OFF,
        True,
    ),
    Case(
        "unknown host under an off domain is created off",
        [("example.com", "off", False)],
        "new.example.com",
        False,
        Reason.OFF,
        True,
    ),
    Case("unknown host with no domain Url is created off", [], "new.example.com", False, Reason.OFF, True),
    Case("unknown domain itself is created off", [], "example.com", False, Reason.OFF, True),
    Case(
        "an archived subdomain domain grants nothing",
        [("example.com", "subdomain", True)],
        "new.example.com",
        False,
        Reason.OFF,
        True,
    ),
    Case(
        "explicit off on a subdomain wins over the domain's subdomain",
        [("example.com", "subdomain", False), ("internal.example.com", "off", False)],
        "internal.example.com",
        False,
        Reason.OFF,
        False,
    ),
    Case(
        "explicit off on a subdomain also keeps new hosts below it off",
        [("example.com", "subdomain", False), ("internal.example.com", "off", False)],
        "a.internal.example.com",
        False,
        Reason.OFF,
        True,
    ),
    Case(
        "an on Url between host and domain does not block the domain's subdomain",
        [("example.com", "subdomain", False), ("b.example.com", "on", False)],
        "a.b.example.com",
        True,
        Reason.ON,
        True,
    ),
    Case(
        "only the registrable domain's subdomain grants",
        [("b.example.com", "subdomain", False)],
        "a.b.example.com",
        False,
        Reason.OFF,
        True,
    ),
    Case(
        "a lookalike domain grants nothing",
        [("example.com", "subdomain", False)],
        "app.notexample.com",
        False,
        Reason.OFF,
        True,
    ),
    Case(
        "the registrable domain follows the public suffix list",
        [("example.co.uk", "subdomain", False)],
        "shop.example.co.uk",
        True,
        Reason.ON,
        True,
    ),
    Case(
        "a host given as a URL is found by its normal form",
        [("app.example.com", "on", False)],
        "https://App.Example.com:443/pricing?x=1",
        True,
        Reason.ON,
        False,
        "app.example.com",
    ),
    Case(
        "an internationalised host is matched in punycode",
        [("example.de", "subdomain", False)],
        "bücher.example.de",
        True,
        Reason.ON,
        True,
        "xn--bcher-kva.example.de",
    ),
    Case("an IP address is its own domain", [], "http://127.0.0.1:8000/", False, Reason.OFF, True, "127.0.0.1"),
    Case(
        "localhost is its own domain",
        [("localhost", "on", False)],
        "localhost:3000",
        True,
        Reason.ON,
        False,
        "localhost",
    ),
    Case(
        "subdomains of localhost belong to it",
        [("localhost", "subdomain", False)],
        "app.localhost",
        True,
        Reason.ON,
        True,
    ),
    Case("an empty host is refused", [], "", False, Reason.INVALID_HOST, False),
    Case("a public suffix is refused", [], "co.uk", False, Reason.INVALID_HOST, False),
    Case("a malformed host is refused", [], "exa mple.com", False, Reason.INVALID_HOST, False),
]


def _principal(account_id: int) -> Principal:
    return Principal(account_id=account_id, user_id=None, role=Role.ADMIN)


async def _make(runtime: Runtime, account_id: int, existing: list[tuple[str, str, bool]]) -> None:
    async with runtime.sessions() as session, session.begin():
        for host, enabled, archived in existing:
            await urls.create(
                session=session,
                principal=_principal(account_id),
                host=host,
                enabled=enabled,
                archived_at=ARCHIVED if archived else None,
            )


async def _url(runtime: Runtime, account_id: int, host: str) -> Url | None:
    async with runtime.sessions() as session:
        return await urls.find(session=session, account_id=account_id, host=host)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_authorisation_rules(case: Case, runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, case.existing)
    async with runtime.sessions() as session, session.begin():
        count_before = len((await session.scalars(select(Url).where(Url.account_id == account.account_id))).all())
        decision = await authorize_host(session=session, account_id=account.account_id, host=case.asked)
    assert (decision.allowed, decision.reason, decision.created) == (case.allowed, case.reason, case.created)
    async with runtime.sessions() as session:
        count_after = len((await session.scalars(select(Url).where(Url.account_id == account.account_id))).all())
    assert count_after == count_before + (1 if case.created else 0)
    if case.reason is not Reason.INVALID_HOST:
        stored = await _url(runtime, account.account_id, case.stored_host or case.asked)
        assert stored is not None and stored.id == decision.url_id
        if case.created:
            assert stored.enabled == ("on" if case.allowed else "off")


async def test_first_contact_sets_install_and_seen_times_and_joins_the_domains_environment(
    runtime: Runtime, factory: Factory
) -> None:
    account = await factory.account()
    principal = _principal(account.account_id)
    async with runtime.sessions() as session, session.begin():
        staging = await url_groups.create(session=session, principal=principal, name="Staging")
        await urls.create(
            session=session, principal=principal, host="example.com", enabled="subdomain", url_group_id=staging.id
        )
    started = datetime.now(UTC) - timedelta(seconds=1)
    async with runtime.sessions() as session, session.begin():
        decision = await authorize_host(session=session, account_id=account.account_id, host="qa.example.com")
    assert decision.allowed and decision.created and decision.url_group_id == staging.id
    made = await _url(runtime, account.account_id, "qa.example.com")
    assert made is not None
    assert made.url_group_id == staging.id and made.domain == "example.com"
    assert made.installed_at is not None and made.installed_at >= started
    assert made.first_seen_at == made.installed_at == made.last_seen_at


async def test_another_accounts_urls_never_grant(runtime: Runtime, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    await _make(runtime, theirs.account_id, [("example.com", "subdomain", False), ("app.example.com", "on", False)])
    async with runtime.sessions() as session, session.begin():
        known_to_them = await authorize_host(session=session, account_id=mine.account_id, host="app.example.com")
        below_theirs = await authorize_host(session=session, account_id=mine.account_id, host="new.example.com")
    assert not known_to_them.allowed and known_to_them.created
    assert not below_theirs.allowed and below_theirs.reason is Reason.OFF


async def test_concurrent_first_contacts_make_one_url(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("example.com", "subdomain", False)])

    async def contact() -> authorization.HostDecision:
        async with runtime.sessions() as session, session.begin():
            return await authorize_host(session=session, account_id=account.account_id, host="race.example.com")

    decisions = await asyncio.gather(*(contact() for _ in range(4)))
    assert {d.url_id for d in decisions} == {decisions[0].url_id}
    assert all(d.allowed for d in decisions)
    async with runtime.sessions() as session:
        found = (await session.scalars(select(Url).where(Url.account_id == account.account_id))).all()
    assert sorted(u.host for u in found) == ["example.com", "race.example.com"]


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cached_decisions_follow_a_change_within_the_ttl(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False)])
    clock = FakeClock()
    authorizer = HostAuthorizer(ttl=5.0, clock=clock)
    found = await _url(runtime, account.account_id, "app.example.com")
    assert found is not None
    async with runtime.sessions() as session, session.begin():
        first = await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
        assert first.allowed
        await urls.update(
            session=session,
            principal=_principal(account.account_id),
            url_id=found.id,
            changes=urls.UrlChanges(enabled="off"),
        )
    async with runtime.sessions() as session:
        clock.now += 4.9
        stale = await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
        clock.now += 0.2
        fresh = await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
    assert stale.allowed, "within the ttl the cached decision answers"
    assert not fresh.allowed and fresh.reason is Reason.OFF


async def test_forget_drops_an_accounts_decisions_at_once(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False)])
    authorizer = HostAuthorizer(ttl=3600)
    async with runtime.sessions() as session, session.begin():
        await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
        found = await urls.find(session=session, account_id=account.account_id, host="app.example.com")
        assert found is not None
        found.archived_at = ARCHIVED
    authorizer.forget(account.account_id)
    async with runtime.sessions() as session:
        again = await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
    assert again.reason is Reason.ARCHIVED


async def test_warm_decisions_and_sightings_do_not_touch_the_database(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False)])
    authorizer = HostAuthorizer(ttl=3600)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async with runtime.sessions() as session, session.begin():
        await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
        try:
            for _ in range(1000):
                decision = await authorizer.authorize(
                    session=session, account_id=account.account_id, host="app.example.com"
                )
        finally:
            event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert decision.allowed
    assert statements == []
    assert authorizer.pending_sightings == 1


async def test_a_flush_moves_last_seen_forward_and_fills_first_times(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False), ("old.example.com", "on", False)])
    authorizer = HostAuthorizer()
    started = datetime.now(UTC) - timedelta(seconds=1)
    async with runtime.sessions() as session, session.begin():
        for _ in range(50):
            await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
        await authorizer.authorize(session=session, account_id=account.account_id, host="old.example.com")
        future = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)  # stored to the millisecond
        old = await urls.find(session=session, account_id=account.account_id, host="old.example.com")
        assert old is not None
        old.last_seen_at = future  # a later sighting already written by another worker
    before = await _url(runtime, account.account_id, "app.example.com")
    assert before is not None and before.last_seen_at is None and before.installed_at is None
    async with runtime.sessions() as session, session.begin():
        assert await authorizer.flush_sightings(session=session) == 2
    after = await _url(runtime, account.account_id, "app.example.com")
    assert after is not None and after.last_seen_at is not None and after.last_seen_at >= started
    assert after.first_seen_at == after.installed_at == after.last_seen_at
    untouched = await _url(runtime, account.account_id, "old.example.com")
    assert untouched is not None and untouched.last_seen_at == future, "last_seen_at never moves back"
    assert authorizer.pending_sightings == 0


async def test_checks_without_a_visitor_are_not_sightings(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False)])
    authorizer = HostAuthorizer()
    async with runtime.sessions() as session:
        await authorize_host(
            session=session,
            account_id=account.account_id,
            host="app.example.com",
            authorizer=authorizer,
            visitor_seen=False,
        )
    assert authorizer.pending_sightings == 0


async def test_periodic_flush_writes_and_flushes_once_more_when_stopped(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    await _make(runtime, account.account_id, [("app.example.com", "on", False), ("b.example.com", "on", False)])
    authorizer = HostAuthorizer()
    flusher = asyncio.create_task(authorizer.flush_periodically(sessions=runtime.sessions, every=0.05))
    async with runtime.sessions() as session:
        await authorizer.authorize(session=session, account_id=account.account_id, host="app.example.com")
    first = None
    for _ in range(500):  # up to 10 s on a busy machine; the flusher runs every 0.05 s
        await asyncio.sleep(0.02)
        first = await _url(runtime, account.account_id, "app.example.com")
        if first is not None and first.last_seen_at is not None:
            break
    assert first is not None and first.last_seen_at is not None
    async with runtime.sessions() as session:
        await authorizer.authorize(session=session, account_id=account.account_id, host="b.example.com")
    flusher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flusher
    last = await _url(runtime, account.account_id, "b.example.com")
    assert last is not None and last.last_seen_at is not None


async def test_only_the_first_contact_says_it_created_the_url(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    authorizer = HostAuthorizer()
    async with runtime.sessions() as session, session.begin():
        first = await authorizer.authorize(session=session, account_id=account.account_id, host="new.example.com")
        second = await authorizer.authorize(session=session, account_id=account.account_id, host="new.example.com")
    assert first.created and not second.created
    assert first.url_id == second.url_id


async def test_the_cache_is_bounded(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    authorizer = HostAuthorizer(max_entries=10)
    async with runtime.sessions() as session, session.begin():
        for i in range(25):
            await authorizer.authorize(session=session, account_id=account.account_id, host=f"h{i}.example.com")
    assert len(authorizer._decisions) <= 10

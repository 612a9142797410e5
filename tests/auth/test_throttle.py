"""Failed authentications at /oauth/token are throttled per client id and network, and per network.

Nobody can lock others out: a stranger's failures for a client id delay the stranger (its network), never the
owner of the right secret elsewhere (issue: ten bad attempts a minute used to lock a public client id out).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.auth.conftest import unique_address
from tests.factories import Factory, Member
from versicolor.app import create_app
from versicolor.auth.throttle import _MemoryPairs, _RedisPairs, network_of
from versicolor.runtime import Runtime

Strict = Callable[[str | None], AbstractAsyncContextManager[httpx.AsyncClient]]


def _strict_app(runtime: Runtime, redis_url: str | None = None, redis_prefix: str = "versicolor:") -> FastAPI:
    settings = runtime.settings.model_copy(
        update={
            "auth_failures_before_backoff": 2,
            "auth_failures_per_address": "5/minute",
            "redis_url": redis_url,
            "redis_prefix": redis_prefix,
        }
    )
    return create_app(runtime=replace(runtime, settings=settings))


def _opener(app: FastAPI) -> Strict:
    @asynccontextmanager
    async def open_from(address: str | None) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address or unique_address(), 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://api.example") as http:
            yield http

    return open_from


@pytest.fixture
def strict(runtime: Runtime) -> Strict:
    """Clients of an app that lets 2 failures per client id and network go free, and 5 per network a minute."""
    return _opener(_strict_app(runtime))


def _form(member: Member, secret: str | None = None, client_id: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id or member.client_id,
        "client_secret": secret or member.client_secret,
    }


async def test_a_strangers_failures_never_lock_the_owner_of_the_right_secret_out(
    strict: Strict, factory: Factory
) -> None:
    account = await factory.account()
    # The attacker fails for the owner's client id, over and over, from its own network.
    async with strict(unique_address()) as attacker:
        for _ in range(4):
            answer = await attacker.post("/oauth/token", data=_form(account.admin, "wrong"))
            assert answer.status_code in (401, 429)
        blocked = await attacker.post("/oauth/token", data=_form(account.admin))
    # The attacker's own attempts now wait, a right secret too (so a right guess does not show)...
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["error"] == "slow_down" and "retry in" in blocked.json()["error_description"]
    assert int(blocked.headers["retry-after"]) >= 1
    assert "access_token" not in blocked.json()
    # ... but the owner, from its own network, is never refused.
    async with strict(unique_address()) as owner:
        for _ in range(3):
            assert (await owner.post("/oauth/token", data=_form(account.admin))).status_code == 200


async def test_refused_attempts_neither_count_nor_extend_the_wait(strict: Strict, factory: Factory) -> None:
    account = await factory.account()
    async with strict(unique_address()) as attacker:
        for _ in range(3):  # two free, the third starts a one-second wait
            assert (await attacker.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
        waits = []
        for _ in range(5):
            blocked = await attacker.post("/oauth/token", data=_form(account.admin, "wrong"))
            assert blocked.status_code == 429
            waits.append(int(blocked.headers["retry-after"]))
    assert all(wait == 1 for wait in waits), waits


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_ceiling(
    store: str, request: pytest.FixtureRequest
) -> None:
    if store == "redis":
        redis = Redis.from_url(request.getfixturevalue("redis_url"))
        pairs: Any = _RedisPairs(redis, request.getfixturevalue("redis_keys"))
    else:
        pairs = _MemoryPairs()
    now = 1_000_000.0
    waits = []
    try:
        for _ in range(12):
            await pairs.failed("pair", now=now, free=3, ceiling=100.0)
            waits.append(max(0.0, await pairs.locked_until("pair") - now))
        await pairs.clear("pair")
        cleared = await pairs.locked_until("pair")
    finally:
        if store == "redis":
            await redis.aclose()
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 100, 100]
    assert cleared == 0


async def test_a_success_clears_the_count(strict: Strict, factory: Factory) -> None:
    account = await factory.account()
    async with strict(unique_address()) as http:
        for _ in range(2):  # four failures in all: over the two free ones, under the network's five
            for _ in range(2):
                assert (await http.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
            assert (await http.post("/oauth/token", data=_form(account.admin))).status_code == 200


async def test_an_address_is_blocked_after_its_failures_whichever_client_ids_it_tries(
    strict: Strict, factory: Factory
) -> None:
    account = await factory.account()
    address = unique_address()
    async with strict(address) as http:
        for attempt in range(5):
            answer = await http.post("/oauth/token", data=_form(account.admin, "x", client_id=f"guess-{attempt}"))
            assert answer.status_code == 401
        assert (await http.post("/oauth/token", data=_form(account.admin))).status_code == 429
        revoke = await http.post("/oauth/revoke", data={"token": "t"}, auth=(account.admin.client_id, "x"))
        assert revoke.status_code == 429
    async with strict(None) as elsewhere:
        assert (await elsewhere.post("/oauth/token", data=_form(account.admin))).status_code == 200


async def test_successes_are_not_counted(strict: Strict, factory: Factory) -> None:
    account = await factory.account()
    async with strict(None) as http:
        for _ in range(8):
            assert (await http.post("/oauth/token", data=_form(account.admin))).status_code == 200


async def test_with_redis_the_counts_are_shared_by_every_worker(
    runtime: Runtime, factory: Factory, redis_url: str, redis_keys: str
) -> None:
    account = await factory.account()
    first = _opener(_strict_app(runtime, redis_url, redis_keys))
    second = _opener(_strict_app(runtime, redis_url, redis_keys))
    address = unique_address()
    async with first(address) as one, second(address) as two:
        assert (await one.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
        assert (await two.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
        assert (await one.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
        assert (await two.post("/oauth/token", data=_form(account.admin))).status_code == 429
    async with first(unique_address()) as owner:
        assert (await owner.post("/oauth/token", data=_form(account.admin))).status_code == 200


def test_an_ipv6_host_is_counted_by_its_64_and_ipv4_by_its_address() -> None:
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") != network_of("2001:db8:1:2::1")
    assert network_of("::ffff:198.51.100.7") == network_of("198.51.100.7") == "198.51.100.7"
    assert network_of("198.51.100.7") != network_of("198.51.100.8")
    assert network_of(None) is None


async def test_fresh_addresses_of_one_ipv6_64_share_one_count(strict: Strict, factory: Factory) -> None:
    account = await factory.account()
    network = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    for host in range(1, 6):  # five failures, each from a new address of the same /64
        async with strict(f"{network}::{host:x}") as http:
            answer = await http.post("/oauth/token", data=_form(account.admin, "x", client_id=f"g{host}"))
            assert answer.status_code == 401
    async with strict(f"{network}:1:2:3:{99:x}") as http:
        assert (await http.post("/oauth/token", data=_form(account.admin))).status_code == 429
    async with strict(unique_address()) as elsewhere:
        assert (await elsewhere.post("/oauth/token", data=_form(account.admin))).status_code == 200

"""Failed client authentications at /oauth/token are limited per client id and per remote address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from tests.auth.conftest import unique_address
from tests.factories import Factory, Member
from versicolor.app import create_app
from versicolor.runtime import Runtime

Strict = Callable[[str | None], AbstractAsyncContextManager[httpx.AsyncClient]]


def _strict_app(runtime: Runtime, redis_url: str | None = None, redis_prefix: str = "versicolor:") -> FastAPI:
    settings = runtime.settings.model_copy(
        update={
            "auth_failures_per_client": "3/minute",
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
    """Clients of an app that allows 3 failures per client id and 5 per address, per minute."""
    return _opener(_strict_app(runtime))


def _form(member: Member, secret: str | None = None, client_id: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id or member.client_id,
        "client_secret": secret or member.client_secret,
    }


async def test_a_client_id_is_blocked_after_its_failures_even_with_the_right_secret(
    strict: Strict, factory: Factory
) -> None:
    account = await factory.account()
    async with strict(None) as http:
        for _ in range(3):
            assert (await http.post("/oauth/token", data=_form(account.admin, "wrong"))).status_code == 401
        blocked = await http.post("/oauth/token", data=_form(account.admin))
    assert blocked.status_code == 429, blocked.text
    assert blocked.json()["error"] == "slow_down" and "retry in" in blocked.json()["error_description"]
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "access_token" not in blocked.json()
    # From anywhere else too: the limit is the client id's.
    async with strict(None) as elsewhere:
        assert (await elsewhere.post("/oauth/token", data=_form(account.admin))).status_code == 429
    # Other clients are not affected.
    other = await factory.account()
    async with strict(None) as http:
        assert (await http.post("/oauth/token", data=_form(other.admin))).status_code == 200


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

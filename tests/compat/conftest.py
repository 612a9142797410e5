"""Kameleoon client families replayed against the suite's real Versicolor process (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.server import Server


@pytest.fixture(scope="session")
def versicolor(live_server: Server) -> Server:
    """A real `versicolor serve` on the test database: the clients reach it over HTTP only."""
    return live_server


@pytest.fixture
async def kameleoon(versicolor: Server, factory: Factory) -> AsyncIterator[tuple[httpx.AsyncClient, TestAccount]]:
    """An HTTP client at the server's base URL (what the scripts call api.kameleoon.com), and a fresh account."""
    account = await factory.account()
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=60) as http:
        yield http, account


async def bearer(http: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    """The client credentials flow, as every one of these scripts starts: form-encoded, token from the body."""
    answer = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
async def factory_other(factory: Factory) -> TestAccount:
    """Another account, whose objects the first must not reach."""
    return await factory.account()


@pytest.fixture
async def account(factory: Factory) -> TestAccount:
    """A fresh account of the test database, for the clients that make their own HTTP clients."""
    return await factory.account()

"""The client's tests talk to a real `versicolor serve` process over HTTP, as a user's scripts do."""

from __future__ import annotations

import pytest

from tests.factories import Factory, TestAccount
from tests.server import Server
from versicolor.client import RetryPolicy, Versicolor

# Failures are retried quickly in tests: the behaviour is the same, the waits shorter.
QUICK = RetryPolicy(base=0.05, cap=0.5, attempts=6, rate_limit_budget=60)


@pytest.fixture(scope="session")
def api_server(live_server: Server) -> Server:
    """The suite's real server on the test database (tests/conftest.py), without per-token limits (the tests of
    limits start their own)."""
    return live_server


def connect(server: Server, account: TestAccount, **options: object) -> Versicolor:
    """A client of `server` with the account admin's credentials."""
    options.setdefault("retry", QUICK)
    return Versicolor(
        server.base_url,
        client_id=account.admin.client_id,
        client_secret=account.admin.client_secret,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def account(factory: Factory) -> TestAccount:
    """A fresh account of the test database."""
    return await factory.account()

"""The client's tests talk to a real `versicolor serve` process over HTTP, as a user's scripts do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import Factory, TestAccount
from tests.server import Server, serve
from versicolor.client import RetryPolicy, Versicolor

# Failures are retried quickly in tests: the behaviour is the same, the waits shorter.
QUICK = RetryPolicy(base=0.05, cap=0.5, attempts=6, rate_limit_budget=60)


@pytest.fixture(scope="session")
def api_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on the test database, without rate limits (the tests of limits start their own)."""
    log_dir: Path = tmp_path_factory.mktemp("client-server")
    with serve(["--database-url", database_url], log_dir=log_dir, env={"VERSICOLOR_RATE_LIMITS": ""}) as server:
        yield server


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

"""Public client code written for the services Versicolor follows, replayed against a real `versicolor serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import Factory, TestAccount
from tests.server import Server, serve


@pytest.fixture(scope="session")
def public_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on the test database, without rate limits: the clients replayed here pace themselves."""
    log_dir: Path = tmp_path_factory.mktemp("compatibility-server")
    with serve(["--database-url", database_url], log_dir=log_dir, env={"VERSICOLOR_RATE_LIMITS": ""}) as server:
        yield server


@pytest.fixture
async def account(factory: Factory) -> TestAccount:
    """A fresh account of the test database."""
    return await factory.account()

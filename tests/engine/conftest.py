"""The engine's browser tests share one Versicolor process and one page server per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.pages import PageServer, serving
from tests.server import Server, serve


@pytest.fixture(scope="session")
def versicolor(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `versicolor serve` on the test database, for the browser to load the engine from."""
    log_dir: Path = tmp_path_factory.mktemp("engine-server")
    with serve(["--database-url", database_url], log_dir=log_dir) as server:
        yield server


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    """The customer's website: pages served on 127.0.0.1 under any host name."""
    with serving() as server:
        yield server

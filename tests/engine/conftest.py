"""The engine's browser tests share the suite's Versicolor process and one page server per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine.pages import PageServer, serving
from tests.server import Server


@pytest.fixture(scope="session")
def versicolor(live_server: Server) -> Server:
    """A real `versicolor serve` on the test database (the suite's, tests/conftest.py), for the browser to load the
    engine from."""
    return live_server


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    """The customer's website: pages served on 127.0.0.1 under any host name."""
    with serving() as server:
        yield server

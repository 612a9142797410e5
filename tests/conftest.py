"""Fixtures every test shares: a real database per run, the app, and accounts made through the services.

The backend comes from VERSICOLOR_TEST_BACKEND (`sqlite` or `postgresql`); scripts/test runs the suite once
for each (tests/legs.py: what the second leg leaves out). Every test makes its own account, so tests never see
each other's data.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from redis import Redis
from sqlalchemy.engine import make_url

from tests import services
from tests.factories import Factory
from tests.server import Server, serve
from versicolor.app import create_app
from versicolor.runtime import Runtime
from versicolor.settings import Settings

pytest_plugins = ["tests.browsing", "tests.legs"]

# As in scripts/test: the servers and commands this suite starts are new Python processes, and without bytecode on
# disk each one compiles all it imports again (~5 s of CPU per server). Bytecode is written as it is first needed.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

BACKEND = os.environ.get("VERSICOLOR_TEST_BACKEND", "sqlite")
IN_CI = os.environ.get("CI") == "true"


def pytest_report_header() -> str:
    return f"versicolor backend: {BACKEND}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test run, removed afterwards."""
    if BACKEND not in ("sqlite", "postgresql"):
        pytest.exit(f"VERSICOLOR_TEST_BACKEND must be sqlite or postgresql, not {BACKEND!r}", returncode=2)
    if BACKEND == "postgresql" and (problem := services.postgresql_problem()):
        pytest.exit(problem, returncode=2)
    with _new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def own_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's alone, on the backend under test, removed afterwards.

    For tests about what happens while no process uses the database: the session's long-lived servers (the
    engine's, the client's, the dashboard's) run on `database_url`, each with its experiment scheduler."""
    with _new_database(tmp_path) as url:
        yield url


@contextmanager
def _new_database(folder: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite:///{folder / 'versicolor.db'}"
        return
    name = f"versicolor_test_{uuid.uuid4().hex[:12]}"
    admin_url = services.PG_URL
    _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(url: str, statement: str) -> None:
    import asyncio

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real `versicolor serve` on the test database for the tests that reach the service from outside, as users
    do (the client, the command line, sync, Kameleoon's clients, the tutorial, the page engine, the explorer and the
    dashboard in a browser): a start costs seconds, and none of them needs a process of its own.

    Per-token limits are off (the client's tests send many requests with one token); the tests of limits, of what
    a process does when it starts or stops, and of other settings start servers of their own."""
    log_dir: Path = tmp_path_factory.mktemp("live-server")
    # A loaded machine starts a server slowly: be generous.
    env = {"VERSICOLOR_RATE_LIMITS": ""}
    with serve(["--database-url", database_url], log_dir=log_dir, env=env, ready_timeout=240) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for this run; in CI a missing Redis fails the test instead of skipping it."""
    problem = services.redis_problem()
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    return services.REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    """A key prefix unique to this run, so that two runs on one machine do not meet in Redis; what is left under
    it when the run ends (a server process that wrote as a test's own clean-up ran) is deleted then."""
    prefix = f"vctest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    if services.redis_problem() is None:
        redis = Redis.from_url(services.REDIS_URL)
        try:
            for key in redis.scan_iter(match=f"{prefix}*"):
                redis.delete(key)
        finally:
            redis.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings of the app under test.

    Limits per address and per site are off here: the whole suite is one address (127.0.0.1) sharing this app,
    and would spend them in minutes. Their tests make apps and servers of their own with them on.
    """
    return Settings(
        database_url=database_url,
        anonymous_rate_limits="",
        page_events_per_address="",
        page_events_per_site="",
        new_hosts_per_site="",
    )


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The migrated database and the app's long-lived objects."""
    started = await Runtime.start(settings)
    yield started
    await started.close()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> FastAPI:
    """The application under test, in this process."""
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, from a loopback address."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


@pytest.fixture
def factory(runtime: Runtime, client: httpx.AsyncClient) -> Factory:
    """Makes accounts, users and tokens through the same services users reach."""
    return Factory(runtime, client)


@pytest.fixture
def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file under test, or None on PostgreSQL."""
    return Path(make_url(database_url).database or "") if BACKEND == "sqlite" else None

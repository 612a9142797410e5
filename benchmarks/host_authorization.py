"""Host authorisation: decisions per second for a known host, warm per-process cache vs straight from the DB.

The hot path of every page view (core/domains/authorization.py). Target: at least 20,000 decisions/s in one
process with a warm cache. The baseline is the same decision read from the database on every call (what every
call would cost without the cache), measured in the same run on SQLite and, when it answers, PostgreSQL.
Also: the cost of writing gathered sightings (last_seen_at) for 1,000 hosts in one flush.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from tests.services import PG_URL, postgresql_problem

from versicolor.core import accounts
from versicolor.core.domains import urls
from versicolor.core.domains.authorization import HostAuthorizer, authorize_host
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime
from versicolor.settings import Settings

WARM_CALLS = 200_000
UNCACHED_CALLS = 2_000
FLUSHED_HOSTS = 1_000
HOST = "app.example.com"


@asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """A fresh database URL for one backend, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"versicolor_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure(database_url: str) -> dict[str, float]:
    """The figures for one database."""
    runtime = await Runtime.start(Settings(database_url=database_url))
    try:
        async with runtime.sessions() as session, session.begin():
            made = await accounts.create_account(session=session, name="Bench", email="bench@example.com")
            account_id = made.account.id
            principal = Principal(account_id=account_id, user_id=None, role=Role.ADMIN)
            await urls.create(session=session, principal=principal, host=HOST, enabled="on")
            for i in range(FLUSHED_HOSTS):
                await urls.create(session=session, principal=principal, host=f"h{i}.example.com")

        authorizer = HostAuthorizer(ttl=3600)
        async with runtime.sessions() as session:
            assert (
                await authorize_host(session=session, account_id=account_id, host=HOST, authorizer=authorizer)
            ).allowed
            started = time.perf_counter()
            for _ in range(WARM_CALLS):
                await authorize_host(session=session, account_id=account_id, host=HOST, authorizer=authorizer)
            warm = WARM_CALLS / (time.perf_counter() - started)

        # One open transaction: the baseline is the decision's own query, not the cost of a commit per call.
        async with runtime.sessions() as session, session.begin():
            started = time.perf_counter()
            for _ in range(UNCACHED_CALLS):
                await authorize_host(session=session, account_id=account_id, host=HOST)
            uncached = UNCACHED_CALLS / (time.perf_counter() - started)

        async with runtime.sessions() as session:
            for i in range(FLUSHED_HOSTS):
                await authorizer.authorize(session=session, account_id=account_id, host=f"h{i}.example.com")
        async with runtime.sessions() as session, session.begin():
            started = time.perf_counter()
            written = await authorizer.flush_sightings(session=session)
            flush_ms = (time.perf_counter() - started) * 1000
        assert written == FLUSHED_HOSTS + 1
        return {"warm": warm, "uncached": uncached, "flush_ms": flush_ms}
    finally:
        await runtime.close()


async def run(backends: list[str]) -> None:
    print(f"{'backend':<12}{'warm cache':>16}{'uncached (DB)':>18}{'speed-up':>10}{'flush 1,001 Urls':>20}")
    for backend in backends:
        async with scratch_database(backend) as url:
            figures = await measure(url)
        print(
            f"{backend:<12}{figures['warm']:>12,.0f} /s{figures['uncached']:>14,.0f} /s"
            f"{figures['warm'] / figures['uncached']:>9,.0f}x{figures['flush_ms']:>17.1f} ms"
        )
    print("target: at least 20,000 decisions/s with a warm cache, one process")


def main() -> None:
    """Print decisions per second, warm and uncached, on each backend."""
    backends = ["sqlite"]
    problem = postgresql_problem()
    if problem is None:
        backends.append("postgresql")
    else:
        print(f"(PostgreSQL not measured: {problem})")
    asyncio.run(run(backends))

"""List query language: GET /goals over 100,000 goals with two filters, a sort and perPage=200.

In one process over HTTP (httpx's ASGI transport: the whole app, no network), one request at a time, on SQLite
and (when it answers) PostgreSQL. Figures, p50 / p99 latency and requests per second, for:
- baseline: `GET /goals?perPage=200`, no filter, sorted by id (the same run, the same table);
- filtered: `status EQUAL ACTIVE` and `type IN [CLICK, URL]`, sorted by `dateCreated DESC`, perPage=200, with
  the indexes the migrations create for it: (account_id, status, type, date_created), from which the count
  is read without touching the table, and (account_id, date_created), which yields the page already in
  dateCreated order instead of sorting every match;
- filtered again after dropping those two indexes, to show what they buy;
- a text search (`name CONTAINS "42"`), which no index serves: the cost of a scan, for scale.
Every answer also counts the rows on all pages (X-Total-Count). Target: filtered under 25 ms p50 on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from datetime import timedelta

import httpx
from sqlalchemy import insert, text
from tests.services import postgresql_problem

from benchmarks.host_authorization import scratch_database
from versicolor.app import create_app
from versicolor.core import accounts, sites
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Goal
from versicolor.db.types import utcnow
from versicolor.runtime import Runtime
from versicolor.settings import Settings

GOALS = 100_000
REQUESTS = 200
TYPES = ["CLICK", "URL", "PAGE_VIEWS", "CUSTOM", "SCROLL", "TIME_SPENT"]
LIST_INDEXES = ("ix_goals_account_status_type_created", "ix_goals_account_created")

FILTERED = {
    "perPage": "200",
    "filter": json.dumps(
        [
            {"field": "status", "operator": "EQUAL", "parameters": ["ACTIVE"]},
            {"field": "type", "operator": "IN", "parameters": ["CLICK", "URL"]},
        ]
    ),
    "sort": json.dumps([{"field": "dateCreated", "direction": "DESC"}]),
}
BASELINE = {"perPage": "200"}
SCAN = {"perPage": "200", "filter": json.dumps([{"field": "name", "operator": "CONTAINS", "parameters": ["42"]}])}


async def _fill(runtime: Runtime) -> tuple[str, str]:
    """An account with a site and GOALS goals; its client id and secret."""
    async with runtime.sessions() as session, session.begin():
        made = await accounts.create_account(session=session, name="Bench", email="bench@example.com")
        principal = Principal(account_id=made.account.id, user_id=None, role=Role.ADMIN)
        site = await sites.create(session=session, principal=principal, name="Bench")
        randomness = random.Random(7)
        start = utcnow() - timedelta(days=365)
        rows = [
            {
                "account_id": made.account.id,
                "site_id": site.id,
                "name": f"Goal {i} {randomness.choice(['Checkout', 'signup', 'Pricing page', 'scroll'])}",
                "type": randomness.choice(TYPES),
                "status": "ACTIVE" if randomness.random() < 0.7 else "INACTIVE",
                "has_multiple_conversions": randomness.random() < 0.5,
                "description": None if i % 3 else f"description {i}",
                "params": {},
                "tags": [],
                "date_created": start + timedelta(seconds=randomness.randrange(365 * 86400)),
                "date_modified": start,
            }
            for i in range(GOALS)
        ]
        for offset in range(0, GOALS, 5_000):
            await session.execute(insert(Goal), rows[offset : offset + 5_000])
    return made.admin.credentials.client_id, made.admin.credentials.client_secret


async def _analyze(runtime: Runtime) -> None:
    """Fresh planner statistics, and on PostgreSQL the visibility map that index-only scans need."""
    if runtime.engine.dialect.name == "postgresql":
        async with runtime.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE goals"))
    else:
        async with runtime.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


async def _run(http: httpx.AsyncClient, params: dict[str, str]) -> tuple[float, float, float, int]:
    """p50 ms, p99 ms, requests/s, and the total count the answers report."""
    for _ in range(10):  # warm caches, pools and the query plan
        answer = await http.get("/goals", params=params)
        assert answer.status_code == 200, answer.text
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = await http.get("/goals", params=params)
        samples.append(time.perf_counter() - started)
    assert answer.status_code == 200 and len(answer.json()) == 200
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return (
        statistics.median(ordered) * 1000,
        p99 * 1000,
        len(samples) / sum(samples),
        int(answer.headers["x-total-count"]),
    )


async def measure(database_url: str) -> dict[str, tuple[float, float, float, int]]:
    """The figures for one database."""
    settings = Settings(database_url=database_url, rate_limits="")
    runtime = await Runtime.start(settings)
    try:
        client_id, client_secret = await _fill(runtime)
        await _analyze(runtime)
        app = create_app(settings=settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            token = (
                await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
                )
            ).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            figures = {"baseline": await _run(http, BASELINE), "filtered": await _run(http, FILTERED)}
            figures["contains scan"] = await _run(http, SCAN)
            async with runtime.engine.begin() as connection:
                for name in LIST_INDEXES:
                    await connection.execute(text(f"DROP INDEX {name}"))
            await _analyze(runtime)
            figures["filtered, no index"] = await _run(http, FILTERED)
        return figures
    finally:
        await runtime.close()


async def _all(backends: list[str]) -> None:
    for backend in backends:
        async with scratch_database(backend) as url:
            figures = await measure(url)
        print(f"{backend}: {GOALS:,} goals, {REQUESTS} sequential requests each, perPage=200")
        for name, (p50, p99, rate, total) in figures.items():
            print(f"  {name:18} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  {rate:7.1f} req/s  (X-Total-Count {total:,})")


def main() -> None:
    """Print the figures."""
    backends = ["sqlite"]
    problem = postgresql_problem()  # before the event loop: it runs one of its own
    if problem:
        print(f"PostgreSQL skipped: {problem}")
    else:
        backends.append("postgresql")
    asyncio.run(_all(backends))


if __name__ == "__main__":
    main()

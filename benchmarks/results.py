"""Results: time from POST /experiments/{id}/results to READY, 3 arms and 5 goals, 100,000 and 1,000,000 visitors.

On PostgreSQL (a scratch database at VERSICOLOR_TEST_PG_URL, dropped afterwards). The tracking tables are
bulk-loaded with COPY: every visitor is exposed once (arms at random, a third each) at a random moment of
four weeks, has one to three visits, and converts on each of 5 goals with probability 4%-12% (a converter
converts again with probability 1/3), with revenue on half the conversions; 5% of the conversions come
before the exposure (CUPED reads them, the report must not count them). Visitor codes are random hex, as
browsers make them, so a table's physical order is not visitor order.

Figures, each the median of RUNS after a warm-up, in-process over HTTP (ASGI):
- POST to READY: the default report (per visitor, ALL_CONVERSION, 5 goals), per visit, broken down by day,
  Bayesian with sequential testing;
- the aggregation alone, as the service runs it (three queries side by side on one shared snapshot), and the
  baseline of the same run: the same queries one after another in one transaction;
- the floor: count(*) over the rows a report reads (the experiment's exposures, the goals' conversions, the
  site's visits);
- for comparison, the same per-arm sums from a per-(visitor, goal) rollup table, which is what a report would
  cost if ingestion kept such a rollup (see docs/results.md).
The load average is printed too: the machine may be shared. Target: under 1 s at 1,000,000 visitors.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.services import PG_URL

from versicolor.app import create_app
from versicolor.core import accounts
from versicolor.results import aggregation
from versicolor.results.request import ReportRequest
from versicolor.runtime import Runtime
from versicolor.settings import Settings

SIZES = (100_000, 1_000_000)
GOALS = 5
RUNS = 5
TARGET_SECONDS = 1.0
CHUNK = 50_000
START = datetime(2024, 4, 1, tzinfo=UTC)
DEVICES = ("DESKTOP", "MOBILE", "TABLET")
BROWSERS = ("CHROME", "SAFARI", "FIREFOX", "EDGE")
COUNTRIES = ("FR", "DE", "US", "GB", "ES", "IT")
ROLLUP = """
CREATE TABLE bench_rollup AS
SELECT e.experiment_id, min(e.variation_id) AS variation_id, c.goal_id, c.visitor_code, count(*) AS k,
       sum(c.revenue) AS revenue
FROM tracking_exposures e JOIN tracking_conversions c
  ON c.site_id = e.site_id AND c.visitor_code = e.visitor_code AND c.timestamp >= e.timestamp
GROUP BY e.experiment_id, c.visitor_code, c.goal_id
"""
ROLLUP_QUERY = (
    "SELECT variation_id, goal_id, count(*), sum(k), sum(k * k), sum(revenue) FROM bench_rollup "
    "WHERE experiment_id = {experiment} GROUP BY variation_id, goal_id"
)


@asynccontextmanager
async def scratch_postgresql() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"versicolor_bench_results_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Shop:
    """The benchmark's experiment and who may read it."""

    token: str
    account_id: int
    site_id: int
    experiment_id: int
    arms: list[int]
    goal_ids: list[int]


async def make_shop(client: httpx.AsyncClient, runtime: Runtime) -> Shop:
    """An account, a site, 5 goals and an ACTIVE experiment with two variations, made over HTTP."""
    async with runtime.sessions() as session, session.begin():
        made = await accounts.create_account(session=session, name="Bench", email="bench@example.com")
    credentials = made.admin.credentials
    token = (
        await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
        )
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await client.post(path, json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    site = await post("/sites", {"name": "Bench shop", "url": "https://bench.example"})
    goals = [
        (await post("/goals", {"name": f"G{n}", "siteId": site["id"], "type": "CUSTOM"}))["id"] for n in range(GOALS)
    ]
    experiment = await post(
        "/experiments",
        {
            "name": "Bench",
            "siteId": site["id"],
            "baseURL": "https://bench.example/",
            "goals": goals,
            "mainGoalId": goals[0],
        },
    )
    variations = [
        (await post("/variations", {"name": f"V{n}", "experimentId": experiment["id"]}))["id"] for n in (1, 2)
    ]
    activated = await client.patch(f"/experiments/{experiment['id']}", params={"action": "ACTIVATE"})
    assert activated.status_code == 200, activated.text
    return Shop(token, made.account.id, site["id"], experiment["id"], [0, *variations], goals)


def _rows(
    shop: Shop, first: int, last: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Exposures, visits and conversions of visitors first..last-1 (deterministic per visitor)."""
    exposures, visits, conversions = [], [], []
    site, account = shop.site_id, shop.account_id
    for i in range(first, last):
        rnd = random.Random(i)
        code = hashlib.blake2b(i.to_bytes(8, "little"), digest_size=16).hexdigest()
        arm = shop.arms[rnd.randrange(3)]
        exposed = START + timedelta(seconds=rnd.randrange(28 * 86400))
        device, browser, country = rnd.choice(DEVICES), rnd.choice(BROWSERS), rnd.choice(COUNTRIES)
        new = rnd.random() < 0.6
        attributes = (device, browser, country, new)
        exposures.append(
            (shop.experiment_id, code, account, site, arm, f"x{i}", f"{code}-0", exposed, exposed, *attributes)
        )
        count = 1 + (rnd.random() < 0.5) + (rnd.random() < 0.2)
        for v in range(count):
            started = exposed - timedelta(minutes=1) + timedelta(days=v)
            visits.append((site, f"v{i}-{v}", account, code, f"{code}-{v}", started, started, *attributes))
        for g, goal in enumerate(shop.goal_ids):
            chance = 0.04 + 0.02 * g + (0.01 if arm == shop.arms[2] else 0.0)
            k = 0
            while rnd.random() < chance:
                before = rnd.random() < 0.05
                at = exposed + timedelta(minutes=rnd.randrange(1, 3000)) * (-1 if before else 1)
                revenue = round(rnd.uniform(5, 200), 2) if rnd.random() < 0.5 else None
                visit = f"{code}-{min(k, count - 1)}"
                conversions.append((site, f"c{i}-{g}-{k}", account, goal, code, visit, at, revenue, at, *attributes))
                k += 1
                chance = 1 / 3
    return exposures, visits, conversions


_ATTRIBUTE_COLUMNS = ["device_type", "browser", "country", "new_visitor"]
_COLUMNS = {
    "tracking_exposures": [
        "experiment_id", "visitor_code", "account_id", "site_id", "variation_id", "event_id", "visit_id",
        "timestamp", "received_at", *_ATTRIBUTE_COLUMNS,
    ],
    "tracking_visits": [
        "site_id", "event_id", "account_id", "visitor_code", "visit_id", "timestamp", "received_at",
        *_ATTRIBUTE_COLUMNS,
    ],
    "tracking_conversions": [
        "site_id", "event_id", "account_id", "goal_id", "visitor_code", "visit_id", "timestamp", "revenue",
        "received_at", *_ATTRIBUTE_COLUMNS,
    ],
}  # fmt: skip


async def load(database_url: str, shop: Shop, visitors: int) -> dict[str, int]:
    """COPY `visitors` visitors' rows into the tracking tables; how many rows each got."""
    connection = await asyncpg.connect(make_url(database_url).render_as_string(hide_password=False))
    counts = dict.fromkeys(_COLUMNS, 0)
    try:
        for first in range(0, visitors, CHUNK):
            tables = zip(_COLUMNS, _rows(shop, first, min(first + CHUNK, visitors)), strict=True)
            for table, rows in tables:
                await connection.copy_records_to_table(table, records=rows, columns=_COLUMNS[table])
                counts[table] += len(rows)
        await connection.execute("VACUUM ANALYZE tracking_exposures, tracking_visits, tracking_conversions")
    finally:
        await connection.close()
    return counts


async def time_report(client: httpx.AsyncClient, shop: Shop, body: dict[str, Any]) -> float:
    """Seconds from the POST to the GET that answers READY."""
    started = time.perf_counter()
    asked = await client.post(f"/experiments/{shop.experiment_id}/results", json=body)
    assert asked.status_code == 200, asked.text
    while True:
        answer = await client.get("/results", params={"dataCode": asked.json()["dataCode"]})
        status = answer.json()["status"]
        if status != "WAITING":
            break
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    assert status == "READY", answer.text
    return elapsed


async def median(measure: Callable[[], Awaitable[float]]) -> float:
    """The median of RUNS measurements, after one warm-up."""
    await measure()
    return statistics.median([await measure() for _ in range(RUNS)])


async def read_floor(runtime: Runtime, shop: Shop) -> float:
    """Seconds to merely count the rows a report reads."""
    started = time.perf_counter()
    async with runtime.sessions() as session:
        for statement in (
            f"SELECT count(*) FROM tracking_exposures WHERE experiment_id = {shop.experiment_id}",
            f"SELECT count(*) FROM tracking_conversions WHERE site_id = {shop.site_id} AND goal_id IN "
            f"({', '.join(map(str, shop.goal_ids))})",
            f"SELECT count(*) FROM tracking_visits WHERE site_id = {shop.site_id}",
        ):
            await session.execute(text(statement))
    return time.perf_counter() - started


async def time_aggregation(runtime: Runtime, shop: Shop, *, side_by_side: bool) -> float:
    """Seconds for the default report's aggregate queries alone."""
    scope = aggregation.Scope(experiment_id=shop.experiment_id, goal_ids=tuple(shop.goal_ids), request=ReportRequest())
    started = time.perf_counter()
    async with runtime.sessions() as session, session.begin():
        await aggregation.aggregate(session=session, scope=scope, sessions=runtime.sessions if side_by_side else None)
    return time.perf_counter() - started


async def time_statement(runtime: Runtime, statement: str) -> float:
    """Seconds to run one SQL statement."""
    started = time.perf_counter()
    async with runtime.sessions() as session:
        await session.execute(text(statement))
    return time.perf_counter() - started


@dataclass
class Figures:
    """One size's measurements, in seconds, and the load average around them."""

    visitors: int
    rows: dict[str, int]
    load: float
    default: float
    per_visit: float
    by_day: float
    bayesian: float
    side_by_side: float
    one_after_another: float
    floor: float
    rollup: float
    load_average: tuple[float, float]


async def measure(visitors: int) -> Figures:
    """Every figure for one size, in a fresh database."""
    async with scratch_postgresql() as database_url:
        settings = Settings(database_url=database_url, rate_limits="100000000/10s;1000000000/1h", log_level="warning")
        runtime = await Runtime.start(settings)
        try:
            transport = httpx.ASGITransport(app=create_app(runtime=runtime), client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=600) as client:
                shop = await make_shop(client, runtime)
                started = time.perf_counter()
                rows = await load(database_url, shop, visitors)
                loaded = time.perf_counter() - started
                load_before = os.getloadavg()[0]

                async def report(body: dict[str, Any]) -> float:
                    return await median(lambda: time_report(client, shop, body))

                default = await report({})
                per_visit = await report({"visitorData": False})
                by_day = await report({"breakdown": {"type": "INTERVAL", "interval": "DAY"}})
                bayesian = await report({"bayesian": True, "sequentialTesting": True})
                side_by_side = await median(lambda: time_aggregation(runtime, shop, side_by_side=True))
                one_after_another = await median(lambda: time_aggregation(runtime, shop, side_by_side=False))
                floor = await median(lambda: read_floor(runtime, shop))
                async with runtime.engine.begin() as connection:
                    await connection.execute(text(ROLLUP))
                rollup = await median(
                    lambda: time_statement(runtime, ROLLUP_QUERY.format(experiment=shop.experiment_id))
                )
                load_after = os.getloadavg()[0]
        finally:
            await runtime.close()
    return Figures(
        visitors, rows, loaded, default, per_visit, by_day, bayesian, side_by_side, one_after_another, floor,
        rollup, (load_before, load_after),
    )  # fmt: skip


def _print(figures: list[Figures]) -> None:
    for f in figures:
        print(
            f"\n{f.visitors:,} visitors: {f.rows['tracking_exposures']:,} exposures, "
            f"{f.rows['tracking_visits']:,} visits, {f.rows['tracking_conversions']:,} conversions "
            f"(COPY + VACUUM ANALYZE {f.load:.1f}s); "
            f"load average {f.load_average[0]:.1f} -> {f.load_average[1]:.1f} on {os.cpu_count()} CPUs"
        )
        rows = [
            ("POST to READY, per visitor, 5 goals (target < 1 s at 1M)", f.default),
            ("POST to READY, per visit", f.per_visit),
            ("POST to READY, broken down by day", f.by_day),
            ("POST to READY, Bayesian + sequential", f.bayesian),
            ("aggregation alone, queries side by side", f.side_by_side),
            ("baseline: aggregation, queries one after another", f.one_after_another),
            ("baseline: count(*) of the rows a report reads", f.floor),
            ("comparison: per-arm sums from a visitor rollup", f.rollup),
        ]
        for label, seconds in rows:
            print(f"  {label:<58} {seconds * 1000:8.0f} ms")
    if len(figures) == 2:
        small, large = figures
        growth = large.visitors / small.visitors
        print(f"\ngrowth from {small.visitors:,} to {large.visitors:,} visitors (x{growth:.0f}):")
        for label, a, b in (
            ("POST to READY, per visitor", small.default, large.default),
            ("POST to READY, per visit", small.per_visit, large.per_visit),
            ("aggregation, side by side", small.side_by_side, large.side_by_side),
            ("count(*) floor", small.floor, large.floor),
        ):
            print(f"  {label:<30} x{b / a:5.1f}")
        verdict = "meets" if large.default < TARGET_SECONDS else "misses"
        print(f"\n{large.visitors:,} visitors: {large.default:.2f}s, {verdict} the {TARGET_SECONDS:.0f} s target")


def main() -> None:
    """Measure every size and print the figures."""
    _print([asyncio.run(measure(size)) for size in SIZES])


if __name__ == "__main__":
    main()

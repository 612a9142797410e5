"""Results: time from POST /experiments/{id}/results to READY, 3 arms and 5 goals, 100,000 and 1,000,000 visitors.

On PostgreSQL (a scratch database at VERSICOLOR_TEST_PG_URL, dropped afterwards). The tracking tables are
bulk-loaded with COPY: every visitor is exposed once (arms at random, a third each) at a random moment of
four weeks, has one to three visits, and converts on each of 5 goals with probability 4%-12% (a converter
converts again with probability 1/3), with revenue on half the conversions; 5% of the conversions come
before the exposure (CUPED reads them, the report must not count them). Visitor codes are random hex, as
browsers make them, so a table's physical order is not visitor order.

Ingestion keeps per-visitor rollups (versicolor.tracking.rollup) batch by batch; after the COPY, the
benchmark rolls the loaded events up with the same code, chunk by chunk, and reports how long that took.

Figures, each the median of RUNS after a warm-up, in-process over HTTP (ASGI):
- POST to READY: the default report (per visitor, ALL_CONVERSION, 5 goals), per visit, broken down by day,
  Bayesian with sequential testing: all read the rollups;
- the baseline of the same run: the default report limited to a date interval that holds every event, which
  must read the raw events (joins by visitor, then grouping per visitor), as every report did before the
  rollups;
- the aggregation alone, as the service runs it (queries side by side on one shared snapshot), from the
  rollups and from the raw events.
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
from sqlalchemy.engine import make_url
from tests.services import PG_URL

from versicolor.app import create_app
from versicolor.core import accounts
from versicolor.results import aggregation, sums
from versicolor.results.request import ReportRequest
from versicolor.runtime import Runtime
from versicolor.settings import Settings
from versicolor.tracking import rollup

SIZES = (100_000, 1_000_000)
GOALS = 5
RUNS = 5
TARGET_SECONDS = 1.0
CHUNK = 50_000
START = datetime(2024, 4, 1, tzinfo=UTC)
DEVICES = ("DESKTOP", "MOBILE", "TABLET")
BROWSERS = ("CHROME", "SAFARI", "FIREFOX", "EDGE")
COUNTRIES = ("FR", "DE", "US", "GB", "ES", "IT")


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


async def load(database_url: str, runtime: Runtime, shop: Shop, visitors: int) -> tuple[dict[str, int], float]:
    """COPY `visitors` visitors' rows into the tracking tables and roll them up; how many rows each table got,
    and the seconds the rollups took."""
    connection = await asyncpg.connect(make_url(database_url).render_as_string(hide_password=False))
    counts = dict.fromkeys(_COLUMNS, 0)
    rolling_up = 0.0
    try:
        for first in range(0, visitors, CHUNK):
            exposures, visits, conversions = _rows(shop, first, min(first + CHUNK, visitors))
            for table, rows in zip(_COLUMNS, (exposures, visits, conversions), strict=True):
                await connection.copy_records_to_table(table, records=rows, columns=_COLUMNS[table])
                counts[table] += len(rows)
            codes = [row[1] for row in exposures]
            started = time.perf_counter()
            async with runtime.sessions() as session, session.begin():
                await rollup.refresh(session=session, site_id=shop.site_id, visits_of=codes, conversions_of=codes)
            rolling_up += time.perf_counter() - started
        await connection.execute(
            "VACUUM ANALYZE tracking_exposures, tracking_visits, tracking_conversions, tracking_visitor_goals"
        )
    finally:
        await connection.close()
    return counts, rolling_up


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


# Every event of the data set falls in this interval: a report limited to it counts what the default one does.
EVERYTHING = {"start": (START - timedelta(days=30)).isoformat(), "end": (START + timedelta(days=60)).isoformat()}


async def time_aggregation(runtime: Runtime, shop: Shop, *, from_raw_events: bool) -> float:
    """Seconds for the default report's aggregate queries alone, side by side, from the rollups or (limited
    to an interval holding every event) from the raw events."""
    intervals = [(datetime.fromisoformat(EVERYTHING["start"]), datetime.fromisoformat(EVERYTHING["end"]))]
    request = ReportRequest.build(date_intervals=intervals) if from_raw_events else ReportRequest()
    scope = sums.Scope(experiment_id=shop.experiment_id, goal_ids=tuple(shop.goal_ids), request=request)
    started = time.perf_counter()
    async with runtime.sessions() as session, session.begin():
        await aggregation.aggregate(session=session, scope=scope, sessions=runtime.sessions)
    return time.perf_counter() - started


@dataclass
class Figures:
    """One size's measurements, in seconds, and the load average around them."""

    visitors: int
    rows: dict[str, int]
    load: float
    rolling_up: float
    default: float
    per_visit: float
    by_day: float
    bayesian: float
    raw_events: float
    aggregation: float
    aggregation_raw: float
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
                rows, rolling_up = await load(database_url, runtime, shop, visitors)
                loaded = time.perf_counter() - started
                load_before = os.getloadavg()[0]

                async def report(body: dict[str, Any]) -> float:
                    return await median(lambda: time_report(client, shop, body))

                default = await report({})
                per_visit = await report({"visitorData": False})
                by_day = await report({"breakdown": {"type": "INTERVAL", "interval": "DAY"}})
                bayesian = await report({"bayesian": True, "sequentialTesting": True})
                raw_events = await report({"dateIntervals": [EVERYTHING]})
                aggregated = await median(lambda: time_aggregation(runtime, shop, from_raw_events=False))
                aggregated_raw = await median(lambda: time_aggregation(runtime, shop, from_raw_events=True))
                load_after = os.getloadavg()[0]
        finally:
            await runtime.close()
    return Figures(
        visitors, rows, loaded - rolling_up, rolling_up, default, per_visit, by_day, bayesian, raw_events,
        aggregated, aggregated_raw, (load_before, load_after),
    )  # fmt: skip


def _print(figures: list[Figures]) -> None:
    for f in figures:
        print(
            f"\n{f.visitors:,} visitors: {f.rows['tracking_exposures']:,} exposures, "
            f"{f.rows['tracking_visits']:,} visits, {f.rows['tracking_conversions']:,} conversions "
            f"(COPY + VACUUM ANALYZE {f.load:.1f}s, then rolled up in {f.rolling_up:.1f}s); "
            f"load average {f.load_average[0]:.1f} -> {f.load_average[1]:.1f} on {os.cpu_count()} CPUs"
        )
        rows = [
            ("POST to READY, per visitor, 5 goals (target < 1 s at 1M)", f.default),
            ("POST to READY, per visit", f.per_visit),
            ("POST to READY, broken down by day", f.by_day),
            ("POST to READY, Bayesian + sequential", f.bayesian),
            ("baseline: POST to READY from raw events (dateIntervals)", f.raw_events),
            ("aggregation alone, from the rollups", f.aggregation),
            ("baseline: aggregation alone, from raw events", f.aggregation_raw),
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
            ("baseline: from raw events", small.raw_events, large.raw_events),
            ("aggregation, from the rollups", small.aggregation, large.aggregation),
        ):
            print(f"  {label:<30} x{b / a:5.1f}")
        verdict = "meets" if large.default < TARGET_SECONDS else "misses"
        print(f"\n{large.visitors:,} visitors: {large.default:.2f}s, {verdict} the {TARGET_SECONDS:.0f} s target")


def main() -> None:
    """Measure every size and print the figures."""
    _print([asyncio.run(measure(size)) for size in SIZES])


if __name__ == "__main__":
    main()

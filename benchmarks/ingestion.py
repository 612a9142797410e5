"""Event ingestion: events/s through HTTP in batches of 1,000, beside a raw PostgreSQL COPY of the same rows.

A real `versicolor serve` process (one worker, rate limits set out of the way through VERSICOLOR_RATE_LIMITS)
takes `POST /data/v1/sites/{code}/events` with a bearer token, on PostgreSQL and on SQLite. Each batch is
40% visits, 40% exposures (each a new visitor) and 20% conversions, with fresh event ids; a few batches are
sent in parallel over keep-alive connections, as several SDK instances would. The baseline is asyncpg's
`copy_records_to_table` of the very same rows into the same (emptied) tables: the fastest way PostgreSQL
takes rows, with no HTTP, no validation and no de-duplication. Target: at least 20,000 events/s on PostgreSQL.

Needs PostgreSQL at VERSICOLOR_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch
database is made and dropped.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from tests.server import serve

from benchmarks._shop import Site, scratch_postgresql, setup

BATCH = 1_000
BATCHES = 60
WARMUP_BATCHES = 3
IN_FLIGHT = 4
TARGET = 20_000
SERVER_ENV = {"VERSICOLOR_RATE_LIMITS": "10000000/10s;1000000000/1h", "VERSICOLOR_LOG_LEVEL": "warning"}


def make_batches(site: Site, count: int) -> list[list[dict[str, Any]]]:
    """`count` batches of BATCH events with fresh ids and visitors."""
    now = int(time.time() * 1000)
    batches = []
    arms = [0, *site.variation_ids]
    for _ in range(count):
        events: list[dict[str, Any]] = []
        for n in range(BATCH):
            visitor = uuid.uuid4().hex
            base = {"id": uuid.uuid4().hex, "visitorCode": visitor, "visitId": visitor[:16], "timestamp": now - n}
            kind = n % 5
            if kind in (0, 1):
                events.append({**base, "type": "VISIT", "deviceType": "DESKTOP", "browser": "CHROME", "country": "FR"})
            elif kind in (2, 3):
                events.append(
                    {**base, "type": "EXPOSURE", "experimentId": site.experiment_id, "variationId": arms[n % 3]}
                )
            else:
                events.append({**base, "type": "CONVERSION", "goalId": site.goal_id, "revenue": 12.5})
        batches.append(events)
    return batches


async def send_all(base_url: str, site: Site, bodies: list[bytes]) -> tuple[float, list[float]]:
    """Send every body with IN_FLIGHT requests at a time; the wall time and each request's latency."""
    headers = {"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"}
    queue = list(reversed(bodies))
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                answer = await http.post(f"/data/v1/sites/{site.code}/events", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 202, answer.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return time.perf_counter() - started, latencies


@dataclass
class Run:
    """What one HTTP run measured."""

    rate: float
    p50_ms: float
    p99_ms: float
    # CPU seconds per batch, of the server process and of this database's PostgreSQL backends (None when
    # they cannot be read: not Linux, or PostgreSQL on another host). Unlike the rate, these do not depend on
    # what else the machine is running.
    server_cpu_ms: float | None
    database_cpu_ms: float | None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a local process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving `database_url`'s database right now."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def analyze(database_url: str) -> None:
    """Gather planner statistics, as autovacuum does."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def cpu_of(pids: list[int]) -> float | None:
    """The summed CPU seconds of `pids`, or None if any cannot be read."""
    times = [cpu_seconds(pid) for pid in pids]
    return None if not times or None in times else sum(t for t in times if t is not None)


def http_rate(
    base_url: str, site: Site, batches: list[list[dict[str, Any]]], *, server_pid: int, database_url: str | None
) -> Run:
    """Send the batches through HTTP; the rate, batch latencies and CPU per batch."""
    warmup = [json.dumps({"events": b}).encode() for b in make_batches(site, WARMUP_BATCHES)]
    asyncio.run(send_all(base_url, site, warmup))
    if database_url:
        # A live database has planner statistics: autovacuum analyzes a table within a minute of its first
        # rows. A scratch database seconds old has none yet, and plans its lookups as if every table were
        # empty; the run would measure that first minute, not ingestion.
        asyncio.run(analyze(database_url))
    bodies = [json.dumps({"events": b}).encode() for b in batches]
    pids = asyncio.run(backend_pids(database_url)) if database_url else []
    server_before, database_before = cpu_seconds(server_pid), cpu_of(pids)
    elapsed, latencies = asyncio.run(send_all(base_url, site, bodies))
    server_after, database_after = cpu_seconds(server_pid), cpu_of(pids)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    per_batch = 1000 / len(batches)
    return Run(
        rate=BATCH * len(batches) / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=p99 * 1000,
        server_cpu_ms=(server_after - server_before) * per_batch
        if server_before is not None and server_after is not None
        else None,
        database_cpu_ms=(database_after - database_before) * per_batch
        if database_before is not None and database_after is not None
        else None,
    )


async def copy_rate(database_url: str, site: Site, batches: list[list[dict[str, Any]]]) -> float:
    """Rows per second of asyncpg COPY of the same rows into the same tables, emptied first."""
    now = datetime.now(UTC)
    visits, exposures, conversions = [], [], []
    for events in batches:
        for e in events:
            at = datetime.fromtimestamp(e["timestamp"] / 1000, UTC)
            common = (e["visitorCode"], e["visitId"], at, now, e.get("deviceType"), e.get("browser"), e.get("country"))
            if e["type"] == "VISIT":
                visits.append((site.site_id, e["id"], site.account_id, *common))
            elif e["type"] == "EXPOSURE":
                exposures.append(
                    (site.experiment_id, site.account_id, site.site_id, e["variationId"], e["id"], *common)
                )
            else:
                conversions.append((site.site_id, e["id"], site.account_id, site.goal_id, e["revenue"], *common))
    tail = ["visitor_code", "visit_id", "timestamp", "received_at", "device_type", "browser", "country"]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("TRUNCATE tracking_visits, tracking_exposures, tracking_conversions")
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "tracking_visits", records=visits, columns=["site_id", "event_id", "account_id", *tail]
            )
            await connection.copy_records_to_table(
                "tracking_exposures",
                records=exposures,
                columns=["experiment_id", "account_id", "site_id", "variation_id", "event_id", *tail],
            )
            await connection.copy_records_to_table(
                "tracking_conversions",
                records=conversions,
                columns=["site_id", "event_id", "account_id", "goal_id", "revenue", *tail],
            )
        elapsed = time.perf_counter() - started
        await connection.execute("TRUNCATE tracking_visits, tracking_exposures, tracking_conversions")
    finally:
        await connection.close()
    return (len(visits) + len(exposures) + len(conversions)) / elapsed


def measure(label: str, database_url: str, folder: Path, *, postgresql: bool) -> float:
    """Run the server on `database_url`, print its rate (and for PostgreSQL the COPY baseline); return events/s."""
    env = {**SERVER_ENV, "VERSICOLOR_DATABASE_URL": database_url}
    with serve(["--workers", "1"], log_dir=folder, env=env) as server:
        site = setup(server.base_url, database_url)
        batches = make_batches(site, BATCHES)
        run = http_rate(
            server.base_url,
            site,
            batches,
            server_pid=server.process.pid,
            database_url=database_url if postgresql else None,
        )
    print(
        f"  {label:<11} HTTP, batches of {BATCH:,}, 1 worker, {IN_FLIGHT} in flight: "
        f"{run.rate:>9,.0f} events/s   (batch p50 {run.p50_ms:.0f} ms, p99 {run.p99_ms:.0f} ms)"
    )
    if run.server_cpu_ms is not None:
        database = f", PostgreSQL backends {run.database_cpu_ms:.1f} ms" if run.database_cpu_ms is not None else ""
        capacity = 1000 * BATCH / run.server_cpu_ms
        print(
            f"  {label:<11}   CPU per batch: server {run.server_cpu_ms:.1f} ms{database} "
            f"-> the worker alone could take ~{capacity:,.0f} events/s on a core of its own"
        )
    if postgresql:
        baseline = asyncio.run(copy_rate(database_url, site, batches))
        print(f"  {label:<11} baseline: asyncpg COPY of the same rows:   {baseline:>9,.0f} rows/s")
    return run.rate


def main() -> None:
    """Print events/s on PostgreSQL and SQLite, beside PostgreSQL's raw COPY."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{BATCHES} batches of {BATCH:,} events (after {WARMUP_BATCHES} warm-up batches); "
        f"{os.cpu_count()} CPUs, load average {load} (other work lowers the rates, not the CPU per batch)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with scratch_postgresql() as pg_url:
            pg_rate = measure("PostgreSQL", pg_url, folder, postgresql=True)
        measure("SQLite", f"sqlite:///{folder / 'bench.db'}", folder, postgresql=False)
    verdict = "met" if pg_rate >= TARGET else "NOT met"
    print(f"  target >= {TARGET:,} events/s on PostgreSQL: {verdict}")


if __name__ == "__main__":
    main()

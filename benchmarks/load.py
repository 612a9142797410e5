"""Load: mixed traffic from hundreds of clients on one and on two server processes (PostgreSQL + Redis).

The traffic of the load test (tests/operations/traffic.py): 200 concurrent clients, each sending one request
after another for 15 s to a server drawn at random: reads and lists of experiments, changes to them, new goals,
pages' event batches and configurations, reports asked for and read back. One process (`versicolor serve`,
one worker) is the baseline; then two processes on other ports sharing the database and Redis, as two
machines would. Figures: requests answered per second, latency p50 and p99 over every request, and the
statuses (any 5xx is a fault). On one machine the two processes share its cores: two machines of their own
would add what a second core is worth, not what this shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

from tests.operations import traffic
from tests.server import run_cli, serve
from tests.services import REDIS_URL, redis_problem

from benchmarks._shop import scratch_postgresql

CLIENTS = 200
SECONDS = float(os.environ.get("VERSICOLOR_BENCH_LOAD_SECONDS", "15"))
WARMUP_SECONDS = 3.0


def _account(database_url: str) -> dict[str, str]:
    made = run_cli(
        ["accounts", "create", "--name", "Load", "--email", f"load-{uuid.uuid4().hex[:8]}@example.com", "--json"],
        env={"VERSICOLOR_DATABASE_URL": database_url},
    )
    assert made.returncode == 0, made.stderr
    account: dict[str, str] = json.loads(made.stdout)
    return account


def measure(processes: int, database_url: str, folder: Path) -> traffic.Record:
    """Run the traffic against `processes` servers of one worker each; print and return its record."""
    env = {
        "VERSICOLOR_DATABASE_URL": database_url,
        "VERSICOLOR_REDIS_URL": REDIS_URL,
        "VERSICOLOR_REDIS_PREFIX": f"bench-load-{uuid.uuid4().hex[:8]}:",
        # No per-token windows: a very large one (1000000/1s) costs Redis a scan of its entries per decision.
        "VERSICOLOR_RATE_LIMITS": "",
        "VERSICOLOR_PAGE_EVENTS_PER_ADDRESS": "",
        "VERSICOLOR_PAGE_EVENTS_PER_SITE": "",
        "VERSICOLOR_LOG_LEVEL": "warning",
        "VERSICOLOR_KEEP_ALIVE_TIMEOUT": "60",  # longer than the clients keep an idle connection
    }
    account = _account(database_url)
    with ExitStack() as stack:
        servers = [stack.enter_context(serve(["--workers", "1"], log_dir=folder, env=env)) for _ in range(processes)]
        urls = [server.base_url for server in servers]
        shop = traffic.prepare(urls[0], account["clientId"], account["clientSecret"])
        asyncio.run(traffic.Clients(urls, shop, count=CLIENTS, variant=1).run(WARMUP_SECONDS))
        record = asyncio.run(traffic.Clients(urls, shop, count=CLIENTS).run(SECONDS))
    statuses = ", ".join(f"{status or 'no answer'}: {n:,}" for status, n in sorted(record.statuses().items()))
    label = f"{processes} process{'es' if processes > 1 else ''}"
    print(
        f"  {label:<12} {record.throughput():>6,.0f} requests/s   p50 {record.median():>6.1f} ms   "
        f"p99 {record.percentile(0.99):>7.1f} ms   ({statuses})"
    )
    kinds = ", ".join(f"{kind} {n:,} ({p50:,.0f} ms)" for kind, (n, p50) in record.by_kind().items())
    print(f"  {'':<12} by kind, answered (p50): {kinds}")
    return record


def main() -> None:
    """Print throughput and latencies for one and two server processes on PostgreSQL + Redis."""
    problem = redis_problem()
    if problem:
        print(f"  not run: {problem}")
        return
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{CLIENTS} clients, {SECONDS:g}s after {WARMUP_SECONDS:g}s warm-up, one worker a process; "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    with tempfile.TemporaryDirectory() as tmp, scratch_postgresql() as pg_url:
        one = measure(1, pg_url, Path(tmp))
        two = measure(2, pg_url, Path(tmp))
    print(f"  two processes: {two.throughput() / one.throughput():.2f}x the throughput of one")


if __name__ == "__main__":
    main()

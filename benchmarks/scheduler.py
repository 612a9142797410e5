"""Experiment scheduler: what one tick costs every worker every second, idle and with many experiments due.

Every server process ticks once a second (core/experiments/scheduler.py), so an idle tick is a standing cost.
Figures, on SQLite and (when it answers) PostgreSQL, with 100,000 experiments of which 2,000 are SCHEDULED
in the future and 2,000 ACTIVE with a future end:
- idle tick (nothing due): p50 / p99 over 300 ticks, next to the baseline of an empty transaction that
  only runs `SELECT 1` (the least a tick could cost);
- a tick that starts 1,000 due experiments at once (after an outage, say).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert, text
from tests.services import postgresql_problem

from benchmarks.host_authorization import scratch_database
from versicolor.core import accounts, sites
from versicolor.core.experiments.scheduler import Scheduler
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Experiment
from versicolor.db.types import utcnow
from versicolor.runtime import Runtime
from versicolor.settings import Settings

EXPERIMENTS = 100_000
SCHEDULED = 2_000
ENDING = 2_000
DUE = 1_000
TICKS = 300


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def measure(database_url: str) -> dict[str, float]:
    """The figures for one database."""
    runtime = await Runtime.start(Settings(database_url=database_url))
    try:
        now = utcnow()
        async with runtime.sessions() as session, session.begin():
            made = await accounts.create_account(session=session, name="Bench", email="bench@example.com")
            principal = Principal(account_id=made.account.id, user_id=None, role=Role.ADMIN)
            site = await sites.create(session=session, principal=principal, name="Bench")
            base = {"account_id": made.account.id, "site_id": site.id, "base_url": "https://bench.example/"}
            rows = []
            for i in range(EXPERIMENTS):
                row = {**base, "name": f"e{i}", "status": "DRAFT", "deviations": {}, "tags": []}
                if i < SCHEDULED:
                    # One a minute from tomorrow on: the first DUE fall due by tomorrow + DUE minutes.
                    row.update(status="SCHEDULED", scheduled_start=now + timedelta(days=1, minutes=i))
                elif i < SCHEDULED + ENDING:
                    row.update(status="ACTIVE", scheduled_end=now + timedelta(days=60))
                elif i % 3 == 0:
                    row.update(status="STOPPED")
                rows.append(row)
            for start in range(0, len(rows), 5_000):
                await session.execute(insert(Experiment), rows[start : start + 5_000])

        async def baseline() -> None:
            async with runtime.sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))

        idle = Scheduler(runtime.sessions)
        for work in (baseline, idle.tick):  # warm the pools and caches
            await work()
        figures: dict[str, float] = {}
        for name, work in (("baseline", baseline), ("idle", idle.tick)):
            samples = []
            for _ in range(TICKS):
                started = time.perf_counter()
                await work()
                samples.append(time.perf_counter() - started)
            figures[f"{name}_p50"], figures[f"{name}_p99"] = _ms(samples)

        catch_up = Scheduler(runtime.sessions, clock=lambda: now + timedelta(days=1, minutes=DUE - 1, seconds=30))
        started = time.perf_counter()
        moved = await catch_up.tick()
        figures["due_ms"] = (time.perf_counter() - started) * 1000
        figures["due_moved"] = len(moved)
        return figures
    finally:
        await runtime.close()


async def run(backends: list[str]) -> None:
    for backend in backends:
        async with scratch_database(backend) as url:
            f = await measure(url)
        print(
            f"  {backend:10} idle tick p50 {f['idle_p50']:.2f} ms, p99 {f['idle_p99']:.2f} ms   "
            f"(baseline empty transaction p50 {f['baseline_p50']:.2f} ms, p99 {f['baseline_p99']:.2f} ms)"
        )
        print(f"  {backend:10} one tick moving {int(f['due_moved'])} due experiments: {f['due_ms']:.1f} ms")


def main() -> None:
    """Print the figures."""
    backends = ["sqlite"]
    problem = postgresql_problem()  # before the event loop: it runs one of its own
    if problem is None:
        backends.append("postgresql")
    else:
        print(f"  postgresql skipped: {problem}")
    asyncio.run(run(backends))

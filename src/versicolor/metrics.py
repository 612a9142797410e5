"""What the service counts for Prometheus (docs/operations.md, "Metrics"), and the text `/metrics` answers.

The metrics are module-level objects of `prometheus_client`, so any layer counts with one call and no wiring:
requests in `api/metrics.py`, event batches in the Data API, report computations in `results`, rate-limit
refusals in the limiter, the database pool here. A leaf like `background`: it imports nothing of ours.

Several workers. `versicolor serve` points PROMETHEUS_MULTIPROC_DIR at a directory of its own before any
worker starts (cli/server/serve.py); `prometheus_client` then keeps each process's values in memory-mapped
files there, and `/metrics`, answered by whichever worker gets the scrape, adds up every process's files.
Counters and histograms keep the counts of workers that have exited; the pool's gauges count live processes
only (`livesum`): a worker removes its own on the way out, and one that starts removes those of processes
that died without doing so. Without the variable (the app in a test's process) the values live in memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from weakref import WeakSet

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "versicolor_http_request_duration_seconds",
    "Requests by method, route template (never a raw path) and status, and how long each took to answer whole; "
    "_count is the number of requests",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_INGESTED = Counter(
    "versicolor_events_ingested", "Events of batches stored by the Data API (answered 202), by type", ("type",)
)
EVENT_BATCHES = Counter("versicolor_event_batches_stored", "Event batches stored by the Data API (answered 202)")
REPORT_COMPUTATIONS = Counter(
    "versicolor_report_computations", "Reports computed, by outcome (ready, or failed: an error)", ("outcome",)
)
REPORT_SECONDS = Histogram(
    "versicolor_report_computation_duration_seconds",
    "How long computing one report took (queries and statistics)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
RATE_LIMIT_REFUSALS = Counter(
    "versicolor_rate_limit_refusals",
    "Requests (or pages' event batches) refused with a 429, by limit: api, anonymous, data, page-address, "
    "page-site, new-hosts",
    ("limit",),
)
DB_POOL_IN_USE = Gauge(
    "versicolor_db_pool_connections_in_use",
    "Database connections checked out of the workers' pools right now (by a request or a background task)",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "versicolor_db_pool_capacity",
    "The most connections the workers' pools may hold checked out together (pool size plus overflow); "
    "in use near it, requests wait for a connection",
    multiprocess_mode="livesum",
)


def exposition(accept: str) -> tuple[bytes, str]:
    """The metrics summed over every process of this server, in the format the `Accept` header asks for
    (Prometheus text, or OpenMetrics), and that format's media type."""
    encode, media_type = choose_encoder(accept)
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if not directory:
        return encode(REGISTRY), media_type
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return encode(registry), media_type


def watch_pool(engine: AsyncEngine) -> None:
    """Count this process's connections in use as `engine`'s pool hands them out and takes them back."""
    pool: Any = engine.sync_engine.pool
    if pool in _watched or not hasattr(pool, "size"):
        return  # already watched, or a pool with no bound (SQLite in memory)
    _watched.add(pool)
    event.listen(pool, "checkout", _checked_out)
    event.listen(pool, "checkin", _checked_in)
    # QueuePool keeps its overflow private; the engine sets it (db/engine.py).
    DB_POOL_CAPACITY.inc(pool.size() + max(getattr(pool, "_max_overflow", 0), 0))


_watched: WeakSet[Any] = WeakSet()


def _checked_out(*_: Any) -> None:
    DB_POOL_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    DB_POOL_IN_USE.dec()


def process_started() -> None:
    """Forget the live gauges of processes of this server that died without a word (killed, crashed)."""
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if not directory:
        return
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def process_exiting() -> None:
    """Remove this process's live gauges: the pool it held is gone."""
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if directory:
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

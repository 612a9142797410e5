"""Page configuration: requests/s of a warm, unchanged configuration (ETag hit, 304), beside /healthz.

A real `versicolor serve` process (one worker) on PostgreSQL and on SQLite; a site with one ACTIVE experiment
(two variations with code, a goal) on an enabled host. Every request carries the page's `Origin` and the
`If-None-Match` of the current version, so each one is authorised (the host decision is cached per process)
and answered 304. The baseline is `GET /healthz` from the same client in the same run: the cost of the HTTP
stack alone. A full 200 answer is measured too. SQLite is served twice: as it is, then with /metrics on
(VERSICOLOR_METRICS_TOKEN: every request timed into the workers' shared files), beside one request's timing
measured alone in a process of its own. The client is a minimal keep-alive HTTP/1.1 loop over a few
connections, so that the client's own cost stays small beside the server's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.server import serve

from benchmarks._shop import HOST, scratch_postgresql, setup

CONNECTIONS = 8
SECONDS = 5.0
WARMUP_SECONDS = 1.0


async def _one_connection(port: int, request: bytes, expected: int, deadline: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != expected:
                raise RuntimeError(f"expected {expected}, got {head.decode(errors='replace')}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def _rate(port: int, request: bytes, expected: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    counts = await asyncio.gather(*(_one_connection(port, request, expected, deadline) for _ in range(CONNECTIONS)))
    return sum(counts) / (time.perf_counter() - started)


def rate(port: int, path: str, headers: dict[str, str], expected: int) -> float:
    """Requests per second of GET `path` with `headers`, all answered `expected`."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    asyncio.run(_rate(port, request, expected, WARMUP_SECONDS))
    return asyncio.run(_rate(port, request, expected, SECONDS))


def measure(label: str, database_url: str, folder: Path, **more_env: str) -> None:
    """Serve `database_url` and print the three rates."""
    env = {"VERSICOLOR_DATABASE_URL": database_url, "VERSICOLOR_LOG_LEVEL": "warning", **more_env}
    with serve(["--workers", "1"], log_dir=folder, env=env) as server:
        site = setup(server.base_url, database_url)
        port = int(server.base_url.rsplit(":", 1)[1])
        path = f"/data/v1/sites/{site.code}/config"
        origin = {"Origin": f"https://{HOST}"}
        first = httpx.get(server.base_url + path, headers=origin)
        assert first.status_code == 200, first.text
        etag = first.headers["ETag"]
        healthz = rate(port, "/healthz", {}, 200)
        hit = rate(port, path, {**origin, "If-None-Match": etag}, 304)
        full = rate(port, path, origin, 200)
    print(f"  {label:<11} baseline GET /healthz:                 {healthz:>7,.0f} requests/s")
    print(f"  {label:<11} GET config, ETag hit (304):            {hit:>7,.0f} requests/s ({hit / healthz:.0%} of it)")
    print(f"  {label:<11} GET config, full answer (200, {len(first.content):,} B): {full:>7,.0f} requests/s")


def main() -> None:
    """Print requests/s of the warm configuration beside /healthz, on PostgreSQL and SQLite."""
    print(f"one worker, {CONNECTIONS} keep-alive connections, {SECONDS:g}s a figure after {WARMUP_SECONDS:g}s warm-up")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with scratch_postgresql() as pg_url:
            measure("PostgreSQL", pg_url, folder)
        measure("SQLite", f"sqlite:///{folder / 'bench.db'}", folder)
        measure("+ /metrics", f"sqlite:///{folder / 'bench.db'}", folder, VERSICOLOR_METRICS_TOKEN="b" * 32)
    print(f"  one request's timing alone (labels and observe, multiprocess files): {timing_cost():.1f} µs")


def timing_cost() -> float:
    """Microseconds the metrics middleware's bookkeeping costs a request, in a process whose values live in
    files as a served worker's do (the variable must be set before prometheus_client is imported)."""
    with tempfile.TemporaryDirectory() as folder:
        code = (
            "import time\n"
            "from versicolor import metrics\n"
            "n = 100_000\n"
            "started = time.perf_counter()\n"
            "for _ in range(n):\n"
            "    metrics.REQUEST_SECONDS.labels('GET', '/experiments/{experiment_id}', '200').observe(0.01)\n"
            "print((time.perf_counter() - started) / n * 1e6)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder},
            capture_output=True,
            text=True,
            check=True,
        )
    return float(done.stdout)


if __name__ == "__main__":
    main()

"""The limit holds across worker processes: real `versicolor serve --workers 2` processes sharing one Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.factories import Factory
from tests.server import Server, serve


@contextmanager
def limited_server(
    *, database_url: str, redis_url: str, redis_prefix: str, rate_limits: str, log_dir: Path
) -> Iterator[Server]:
    env = {"VERSICOLOR_RATE_LIMITS": rate_limits, "VERSICOLOR_REDIS_PREFIX": f"{redis_prefix}{uuid.uuid4().hex[:6]}:"}
    args = ["--workers", "2", "--database-url", database_url, "--redis-url", redis_url]
    with serve(args, log_dir=log_dir, env=env, ready_timeout=180) as server:
        yield server


def _not_access_log(server: Server) -> str:
    return "\n".join(line for line in server.output().splitlines() if "HTTP/1.1" not in line)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def connections_per_worker(server: Server) -> dict[int, int]:
    """For each worker process of `server`, how many established connections on its port it holds right now."""
    port = int(server.base_url.rsplit(":", 1)[1])
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    counts = {}
    for child in _children(server.process.pid):
        inodes = set()
        for fd in Path(f"/proc/{child}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        counts[child] = len(inodes & established)
    return {pid: n for pid, n in counts.items() if n}


@pytest.mark.server
async def test_sixty_requests_over_two_workers_yield_exactly_fifty(
    factory: Factory, database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    account = await factory.account()
    with limited_server(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        rate_limits="50/10s;1000/1h",
        log_dir=tmp_path,
    ) as server:
        # Waves of concurrent requests, each wave on connections of its own, all held open until the end: a
        # worker busy with one wave leaves the next connections to the other, and we can see who held which.
        async with AsyncExitStack() as stack:
            answers: list[httpx.Response] = []
            for _ in range(12):
                http = await stack.enter_async_context(httpx.AsyncClient(base_url=server.base_url, timeout=60))
                answers += await asyncio.gather(*(http.get("/sites", headers=account.headers) for _ in range(5)))
            spread = connections_per_worker(server)
            v3 = await http.get("/v3/edit/urls", headers=account.headers)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 50 + [429] * 10, _not_access_log(server)
        assert len(spread) == 2, f"expected both workers to hold connections, got {spread}"
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["status"] == 429 and "at most 50 requests in 10 seconds" in refused.json()["message"]
        assert refused.headers["x-ratelimit-limit"] == "50" and refused.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        # The token's windows are the same whichever dialect it calls.
        assert v3.status_code == 429 and v3.json()["code"] == 429
        assert v3.json()["wait"] == int(v3.headers["x-ratelimit-wait"]) == int(v3.headers["retry-after"])
        # Concurrent requests may read the same count before each takes its slot: the header is a hint.
        assert all(0 <= int(a.headers["x-ratelimit-remaining"]) < 50 for a in answers if a.status_code == 200)


@pytest.mark.server
async def test_the_long_window_holds_across_workers(
    factory: Factory, database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    account = await factory.account()
    with limited_server(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        rate_limits="3/2s;5/20s",
        log_dir=tmp_path,
    ) as server:
        # No keep-alive: every request may land on either worker.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as http:
            burst = [await http.get("/sites", headers=account.headers) for _ in range(4)]
            started = time.monotonic()
            assert [a.status_code for a in burst] == [200, 200, 200, 429], _not_access_log(server)
            assert burst[3].headers["x-ratelimit-limit"] == "3"
            await asyncio.sleep(max(0.0, 2.1 - (time.monotonic() - started)) + int(burst[3].headers["retry-after"]) - 1)
            later = [await http.get("/sites", headers=account.headers) for _ in range(3)]
        assert [a.status_code for a in later] == [200, 200, 429]
        refused = later[2]
        assert refused.headers["x-ratelimit-limit"] == "5"
        assert 14 <= int(refused.headers["retry-after"]) <= 20
        assert "at most 5 requests in 20 seconds" in refused.json()["message"]

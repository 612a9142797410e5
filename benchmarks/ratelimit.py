"""Rate limiter: what it adds to a request, and one decision alone, in memory and in Redis, beside baselines.

Requests: the default windows (50/10s;1000/1h), 1,000 valid access tokens taking turns so that none is refused,
one request at a time through the whole app in process (httpx's ASGI transport) to `GET /healthz` with a
bearer token: the cheapest route, so the difference to the baseline (the same app with no windows
configured) is the limiter, with the token's verification (cached after its first request). Targets: under
1 ms per request with memory, under 2 ms with Redis.

Decisions alone (`Limiter.decide`): the default windows over 1,000 keys, and a large limit (100000/1h) on 10
keys that already hold 5,000 requests each. Beside them: an empty coroutine (what any decision costs to
call), and the `limits` library's own memory storage, which the limiter used before (same windows, same run).
Target: under 10 µs a decision in memory.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import redis
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from tests.services import REDIS_URL, redis_problem

from versicolor.api.conventions.limiter import LibraryWindows, Limiter, Policy
from versicolor.app import create_app
from versicolor.auth import tokens
from versicolor.runtime import Runtime
from versicolor.settings import Settings

TOKENS = 1_000
REQUESTS = 10_000
DECISIONS = 10_000
LARGE_KEYS = 10
LARGE_FILL = 5_000


def _summary(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and mean, in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000,
        ordered[int(len(ordered) * 0.99) - 1] * 1000,
        statistics.fmean(ordered) * 1000,
    )


async def _requests(runtime: Runtime, settings: Settings, bearer: list[str]) -> tuple[float, float, float]:
    app = create_app(settings=settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            for i in range(TOKENS):  # warm up: every token verified once
                await http.get("/healthz", headers={"Authorization": bearer[i]})
            samples = []
            for i in range(REQUESTS):
                started = time.perf_counter()
                answer = await http.get("/healthz", headers={"Authorization": bearer[i % TOKENS]})
                samples.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
    finally:
        await app.state.rate_limiter.aclose()
    return _summary(samples)


Decide = Callable[[str], Awaitable[object]]


async def _decisions(decide: Decide, keys: list[str], count: int) -> tuple[float, float, float]:
    for key in keys[:100]:
        await decide(key)
    samples = []
    for i in range(count):
        key = keys[i % len(keys)]
        started = time.perf_counter()
        await decide(key)
        samples.append(time.perf_counter() - started)
    return _summary(samples)


def _print(name: str, figures: tuple[float, float, float]) -> None:
    p50, p99, mean = figures
    print(f"  {name:38} p50 {p50 * 1000:8.1f} µs  p99 {p99 * 1000:8.1f} µs  mean {mean * 1000:8.1f} µs")


async def _decisions_alone(redis_url: str | None, prefix: str) -> None:
    default = Policy.parse("api", "50/10s;1000/1h")
    large = Policy.parse("large", "100000/1h")
    keys = [f"token:{uuid.uuid4().hex}" for _ in range(TOKENS)]
    large_keys = [f"token:{uuid.uuid4().hex}" for _ in range(LARGE_KEYS)]

    async def nothing(_key: str) -> None:
        return None

    print(f"Limiter.decide alone, {DECISIONS:,} decisions; default windows over {TOKENS:,} keys")
    _print("empty coroutine (baseline)", await _decisions(nothing, keys, DECISIONS))
    before = LibraryWindows(MovingWindowRateLimiter(MemoryStorage()), default.windows)
    _print("memory, `limits` library (before)", await _decisions(lambda k: before.decide(k, 1), keys, DECISIONS))
    memory = Limiter(redis_url=None, redis_prefix=prefix, redis_retry=5)
    _print("memory (now)", await _decisions(lambda k: memory.decide(default, k), keys, DECISIONS))
    shared = None
    if redis_url:
        shared = Limiter(redis_url=redis_url, redis_prefix=prefix + "direct:", redis_retry=5)
        _print("redis", await _decisions(lambda k: shared.decide(default, k), keys, DECISIONS))

    print(f"large limit 100000/1h: {LARGE_KEYS} keys already holding {LARGE_FILL:,} requests each")
    before_large = LibraryWindows(MovingWindowRateLimiter(MemoryStorage()), large.windows)
    candidates: list[tuple[str, Decide]] = [
        ("memory, `limits` library (before)", lambda k: before_large.decide(k, 1)),
        ("memory (now)", lambda k: memory.decide(large, k)),
    ]
    if shared is not None:
        candidates.append(("redis", lambda k: shared.decide(large, k)))
    for name, decide in candidates:
        for key in large_keys:
            for _ in range(LARGE_FILL):
                await decide(key)
        _print(name, await _decisions(decide, large_keys, DECISIONS))
    await memory.aclose()
    if shared is not None:
        await shared.aclose()


async def _all(redis_url: str | None, prefix: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        base = Settings(database_url=f"sqlite:///{Path(scratch) / 'bench.db'}", require_https=False)
        runtime = await Runtime.start(base)
        try:
            bearer = [
                "Bearer "
                + tokens.issue(key=runtime.keyring.signer(), user_id=1, account_id=1, ttl=3600, client_id="bench").token
                for _ in range(TOKENS)
            ]
            runs: list[tuple[str, Settings]] = [
                ("no limit (baseline)", base.model_copy(update={"rate_limits": ""})),
                ("memory", base),
            ]
            if redis_url:
                runs.append(("redis", base.model_copy(update={"redis_url": redis_url, "redis_prefix": prefix})))
            print(
                f"GET /healthz with a bearer token, {REQUESTS:,} sequential requests over {TOKENS:,} tokens, "
                "50/10s;1000/1h"
            )
            figures = {}
            for name, settings in runs:
                figures[name] = await _requests(runtime, settings, bearer)
                p50, p99, mean = figures[name]
                print(f"  {name:20} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  mean {mean:6.3f} ms")
            baseline = figures["no limit (baseline)"]
            for name in ("memory", "redis"):
                if name in figures:
                    added = [figures[name][i] - baseline[i] for i in range(3)]
                    print(
                        f"  added by {name:11} p50 {added[0]:+6.3f} ms  p99 {added[1]:+6.3f} ms  "
                        f"mean {added[2]:+6.3f} ms"
                    )
        finally:
            await runtime.close()
    await _decisions_alone(redis_url, prefix)


def main() -> None:
    """Print the figures."""
    problem = redis_problem()
    if problem:
        print(f"Redis skipped: {problem}")
    prefix = f"vcbench:{uuid.uuid4().hex[:8]}:"
    try:
        asyncio.run(_all(None if problem else REDIS_URL, prefix))
    finally:
        if not problem:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
            client.close()


if __name__ == "__main__":
    main()

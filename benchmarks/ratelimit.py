"""Rate limiter: what it adds to a request, with windows in memory and in Redis, beside an unlimited baseline.

The default windows (50/10s;1000/1h), 1,000 tokens taking turns so that none is refused, one request at a
time through the whole app in process (httpx's ASGI transport) to `GET /healthz` with a bearer token: the
cheapest route, so the difference to the baseline (the same app with no windows configured) is the limiter.
Also the limiter's decision alone (`Limiter.decide`), without HTTP. Targets: under 1 ms per request with
memory, under 2 ms with Redis.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import httpx
import redis
from tests.services import REDIS_URL, redis_problem

from versicolor.api.conventions.ratelimit import Limiter, parse_windows
from versicolor.app import create_app
from versicolor.settings import Settings

TOKENS = 1_000
REQUESTS = 10_000
DECISIONS = 10_000


def _summary(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and mean, in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000,
        ordered[int(len(ordered) * 0.99) - 1] * 1000,
        statistics.fmean(ordered) * 1000,
    )


async def _requests(settings: Settings) -> tuple[float, float, float]:
    app = create_app(settings=settings)
    tokens = [f"Bearer bench-{uuid.uuid4().hex}" for _ in range(TOKENS)]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            for i in range(200):  # warm up
                await http.get("/healthz", headers={"Authorization": tokens[i % TOKENS]})
            samples = []
            for i in range(REQUESTS):
                started = time.perf_counter()
                answer = await http.get("/healthz", headers={"Authorization": tokens[i % TOKENS]})
                samples.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
    finally:
        await app.state.rate_limiter.aclose()
    return _summary(samples)


async def _decisions(limiter: Limiter) -> tuple[float, float, float]:
    keys = [f"token:{uuid.uuid4().hex}" for _ in range(TOKENS)]
    for key in keys[:100]:
        await limiter.decide(key)
    samples = []
    for i in range(DECISIONS):
        started = time.perf_counter()
        decision = await limiter.decide(keys[i % TOKENS])
        samples.append(time.perf_counter() - started)
        assert decision.allowed
    await limiter.aclose()
    return _summary(samples)


async def _all(redis_url: str | None, prefix: str) -> None:
    base = {"database_url": "sqlite:///:memory:", "require_https": False}
    runs: list[tuple[str, Settings]] = [
        ("no limit (baseline)", Settings(**base, rate_limits="")),
        ("memory", Settings(**base)),
    ]
    if redis_url:
        runs.append(("redis", Settings(**base, redis_url=redis_url, redis_prefix=prefix)))
    print(f"GET /healthz with a bearer token, {REQUESTS:,} sequential requests over {TOKENS:,} tokens, 50/10s;1000/1h")
    figures = {}
    for name, settings in runs:
        figures[name] = await _requests(settings)
        p50, p99, mean = figures[name]
        print(f"  {name:20} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  mean {mean:6.3f} ms")
    baseline = figures["no limit (baseline)"]
    for name in ("memory", "redis"):
        if name in figures:
            added = [figures[name][i] - baseline[i] for i in range(3)]
            print(f"  added by {name:11} p50 {added[0]:+6.3f} ms  p99 {added[1]:+6.3f} ms  mean {added[2]:+6.3f} ms")
    print(f"Limiter.decide alone, {DECISIONS:,} decisions over {TOKENS:,} keys")
    windows = parse_windows("50/10s;1000/1h")
    limiters = [("memory", Limiter(windows, redis_url=None, redis_prefix=prefix, redis_retry=5))]
    if redis_url:
        limiters.append(
            ("redis", Limiter(windows, redis_url=redis_url, redis_prefix=prefix + "direct:", redis_retry=5))
        )
    for name, limiter in limiters:
        p50, p99, mean = await _decisions(limiter)
        print(f"  {name:20} p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  mean {mean:6.3f} ms")


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

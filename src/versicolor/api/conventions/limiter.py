"""The process's rate limiter: sets of moving windows ("policies") per key, shared through Redis when configured.

Every limit of the service (per access token, per address, per site...) is a `Policy` decided by the one
`Limiter` of the app, so they share one Redis connection pool and one outage state. With `redis_url` the
windows live in Redis (the `limits` library's moving windows: every worker and host of a deployment counts in
the same ones, exactly); without it, in this process's memory (api/conventions/windows.py).

- A request is admitted only if every window of its policy has room; it then counts in each of them. A
  refused request counts in none (with Redis, save a race for the very last slot, which may leave one count
  in a shorter window), so hammering a full window does not push the client's next slot further away.
- Redis unreachable mid-flight: the service keeps answering. The limiter logs one warning, falls back to
  per-process memory windows (so N workers allow up to N times the limit while it lasts) and tries Redis
  again every `redis_retry` seconds; it logs once more when Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from versicolor import metrics
from versicolor.api.conventions.windows import Decision, MemoryWindows, Window, admission, parse_windows, refusal

log = logging.getLogger("versicolor.ratelimit")

# A Redis that does not answer must cost little: a bounded wait, then Redis is left alone for a while.
# Not much shorter: a busy event loop (a burst of requests on a small machine) delays replies that did come.
_REDIS_TIMEOUT = 2.0
_REDIS_CONNECTIONS = 32
# How long one wait for a free connection lasts before the request waits again (the pool's own queue, never
# taken for Redis failing); the same as a command's timeout unless a test shortens it to make the queue long.
_REDIS_POOL_WAIT = _REDIS_TIMEOUT


@dataclass(frozen=True)
class Policy:
    """A named set of windows; `unit` is what one count stands for in messages ("request", "event")."""

    name: str
    windows: tuple[Window, ...]
    unit: str = "request"

    @classmethod
    def parse(cls, name: str, text: str, unit: str = "request") -> Policy:
        """The policy of a `COUNT/[N]UNIT;...` setting."""
        return cls(name=name, windows=parse_windows(text), unit=unit)

    def __bool__(self) -> bool:
        return bool(self.windows)


class LibraryWindows:
    """The moving windows of one policy in a `limits` library storage: Redis, shared by every process alike."""

    def __init__(self, strategy: MovingWindowRateLimiter, windows: tuple[Window, ...]) -> None:
        self.strategy = strategy
        self.windows = windows

    async def decide(self, key: str, cost: int) -> Decision:
        now = time.time()
        stats = await asyncio.gather(*(self.strategy.get_window_stats(w.item, key) for w in self.windows))
        full = [(w, s.reset_time) for w, s in zip(self.windows, stats, strict=True) if s.remaining < cost]
        if full:
            return refusal(full, now)
        for window in self.windows:
            # Another request may have taken the last slot since the look above; the hit itself is atomic.
            if not await self.strategy.hit(window.item, key, cost=cost):
                again = await self.strategy.get_window_stats(window.item, key)
                return refusal([(window, again.reset_time)], now)
        return admission(
            [(w, w.limit - s.remaining, s.reset_time - w.seconds) for w, s in zip(self.windows, stats, strict=True)],
            now,
            cost,
        )


class Limiter:
    """Decides per policy and key; shared windows in Redis when configured, with memory as the fallback."""

    def __init__(self, *, redis_url: str | None, redis_prefix: str, redis_retry: float) -> None:
        self._memory: dict[Policy, MemoryWindows] = {}
        self._shared: dict[Policy, LibraryWindows] = {}
        self._strategy: MovingWindowRateLimiter | None = None
        self._pool: BlockingConnectionPool | None = None
        if redis_url:
            # A burst waits for one of a bounded set of connections rather than failing for want of one.
            pool = BlockingConnectionPool.from_url(
                redis_url,
                max_connections=_REDIS_CONNECTIONS,
                timeout=_REDIS_POOL_WAIT,
                socket_timeout=_REDIS_TIMEOUT,
                socket_connect_timeout=_REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 0),  # fail at once; the limiter decides when to try again
            )
            self._pool = pool
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=f"{redis_prefix}ratelimit",
                wrap_exceptions=True,
                connection_pool=pool,  # type: ignore[arg-type]  # options are handed to redis as they are
            )
            self._strategy = MovingWindowRateLimiter(storage)
        self.redis_retry = redis_retry
        self.redis_down_since: float | None = None
        self._next_redis_try = 0.0
        self._probing = False

    @property
    def shared(self) -> bool:
        """Whether windows live in Redis (when it answers)."""
        return self._strategy is not None

    async def decide(self, policy: Policy, key: str, cost: int = 1) -> Decision:
        """Count `cost` requests of `key` under `policy` if every window has room for them."""
        if self._strategy is not None:
            probe = self.redis_down_since is not None
            if not probe or (not self._probing and time.monotonic() >= self._next_redis_try):
                # While Redis is down, one request at a time finds out whether it is back; the others go on.
                self._probing = self._probing or probe
                try:
                    decision = await self._decide_in_redis(policy, key, cost)
                except (TimeoutError, StorageError, RedisError, OSError) as exc:
                    self._redis_failed(exc)
                else:
                    self._redis_answered()
                    return _counted(decision, policy)
                finally:
                    if probe:
                        self._probing = False
        return _counted(self.decide_in_memory(policy, key, cost), policy)

    async def _decide_in_redis(self, policy: Policy, key: str, cost: int) -> Decision:
        while True:
            try:
                return await self._redis_windows(policy).decide(key, cost)
            except (StorageError, RedisError) as exc:
                # Every connection of this process stayed busy for the whole wait, yet no command failed: a burst
                # of our own, not Redis failing. Limiting in memory now would let each process admit the whole
                # limit (tests/operations/test_load.py saw 155 and 179 of a limit of 150 pass on two servers),
                # so the request waits again; once a command does fail, Redis is down and the wait ends too.
                if not _waited_for_a_connection(exc) or self.redis_down_since is not None:
                    raise

    def decide_in_memory(self, policy: Policy, key: str, cost: int = 1) -> Decision:
        """`decide` in this process's memory alone."""
        windows = self._memory.get(policy)
        if windows is None:
            windows = self._memory[policy] = MemoryWindows(policy.windows)
        return windows.decide(key, cost)

    def keys_in_memory(self, policy: Policy) -> int:
        """How many keys this process holds windows for under `policy`."""
        windows = self._memory.get(policy)
        return len(windows) if windows is not None else 0

    def _redis_windows(self, policy: Policy) -> LibraryWindows:
        windows = self._shared.get(policy)
        if windows is None:
            assert self._strategy is not None
            windows = self._shared[policy] = LibraryWindows(self._strategy, policy.windows)
        return windows

    def _redis_answered(self) -> None:
        if self.redis_down_since is not None:
            log.warning(
                "Redis answers again after %.0fs: rate limits are shared across workers again",
                time.monotonic() - self.redis_down_since,
            )
            self.redis_down_since = None

    def _redis_failed(self, exc: Exception) -> None:
        self._next_redis_try = time.monotonic() + self.redis_retry
        if self.redis_down_since is None:
            self.redis_down_since = time.monotonic()
            reason = getattr(exc, "storage_error", exc)
            log.warning(
                "Redis unreachable for rate limits (%s: %s): limiting per process in memory until it answers; "
                "retrying every %ss",
                type(reason).__name__,
                reason,
                self.redis_retry,
            )

    async def aclose(self) -> None:
        """Release the Redis connections."""
        if self._pool is not None:
            await self._pool.disconnect()


def _counted(decision: Decision, policy: Policy) -> Decision:
    if not decision.allowed:
        metrics.RATE_LIMIT_REFUSALS.labels(policy.name).inc()
    return decision


def _waited_for_a_connection(exc: Exception) -> bool:
    """Whether `exc` is the connection pool's wait running out (redis-py's BlockingConnectionPool)."""
    reason = getattr(exc, "storage_error", exc)
    return (
        isinstance(reason, RedisConnectionError)
        and isinstance(reason.__cause__, TimeoutError)
        and "No connection available" in str(reason)
    )

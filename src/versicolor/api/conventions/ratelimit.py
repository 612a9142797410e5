"""Rate limits per access token, and per account secret on /v3 (docs/conventions.md), as one pure ASGI middleware.

Windows are moving windows from the `limits` library (`limits.aio`): "50 in any 10 seconds" never lets 100
through across a boundary. They live in Redis when `redis_url` is set, so that every worker and host of a
deployment shares them, and in this process's memory otherwise.

- The key is a hash of the credential as sent (bearer token, or account secret on /v3), so the limiter runs
  before authentication and never holds a usable secret. Requests without credentials are not limited
  here: they are refused with a 401 anyway.
- A request is admitted only if every window has room; it then counts in each of them. A refused request
  counts in none (save a race for the very last slot, which may leave one count in a shorter window), so
  hammering a full window does not push the client's next slot further away.
- Every answer to a request with credentials carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
  `X-RateLimit-Reset` (Unix time, seconds, when the window's oldest counted request leaves it) for the
  window nearest to running out. A 429 adds `Retry-After`; on /v3 also `X-Ratelimit-Wait` and
  `{"code": 429, "messages": [...], "wait": seconds}`.
- Redis unreachable mid-flight: the service keeps answering. The limiter logs one warning, falls back to
  per-process memory windows (so N workers allow up to N times the limit while it lasts) and tries Redis
  again every `rate_limit_redis_retry` seconds; it logs once more when Redis is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.api.dialects import Dialect, dialect_of, error_response
from versicolor.settings import Settings

log = logging.getLogger("versicolor.ratelimit")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNIT_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")

# A Redis that does not answer must cost little: a bounded wait, then Redis is left alone for a while.
# Not much shorter: a busy event loop (a burst of requests on a small machine) delays replies that did come.
_REDIS_TIMEOUT = 2.0
_REDIS_CONNECTIONS = 32


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds` seconds."""

    limit: int
    seconds: int
    span: str  # the window in words, as configured: "10 seconds", "1 hour"
    item: RateLimitItem  # the same window for the `limits` library

    def describe(self) -> str:
        """In words: "50 requests in 10 seconds"."""
        return f"{self.limit} request{'s' if self.limit != 1 else ''} in {self.span}"


def parse_windows(text: str) -> list[Window]:
    """`COUNT/[N]UNIT` pairs separated by `;` (units s, m, h, d), e.g. `50/10s;1000/1h`; empty means no limit."""
    windows = []
    for part in (p for p in text.split(";") if p.strip()):
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(
                f"rate limit {part.strip()!r} is not COUNT/[N]UNIT with UNIT one of s, m, h, d (e.g. 50/10s;1000/1h)"
            )
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
        if count < 1 or multiple < 1:
            raise ValueError(f"rate limit {part.strip()!r} needs a count and a window of at least 1")
        seconds = multiple * _UNITS[unit]
        span = f"{multiple} {_UNIT_NAMES[unit]}{'s' if multiple != 1 else ''}"
        windows.append(Window(limit=count, seconds=seconds, span=span, item=RateLimitItemPerSecond(count, seconds)))
    # Shortest first: it is the one usually full, so a refused request touches as little as possible.
    return sorted(windows, key=lambda w: w.seconds)


@dataclass(frozen=True)
class Decision:
    """What the limiter decided for one request, and what the headers say."""

    allowed: bool
    window: Window  # the window nearest to running out (when refused: the one that refused longest)
    remaining: int
    reset: float  # Unix time when that window's oldest counted request leaves it
    retry_after: int  # seconds until a request would be admitted (refused requests only)

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The rate limit headers of the answer."""
        headers = [
            (b"x-ratelimit-limit", str(self.window.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(self.reset)).encode()),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        return headers


class _Windows:
    """The moving windows of one storage."""

    def __init__(self, storage: Storage, windows: list[Window]) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.windows = windows

    async def decide(self, key: str) -> Decision:
        now = time.time()
        stats = await asyncio.gather(*(self.strategy.get_window_stats(w.item, key) for w in self.windows))
        full = [(w, s.reset_time) for w, s in zip(self.windows, stats, strict=True) if s.remaining <= 0]
        if full:
            return _refusal(full, now)
        for window in self.windows:
            # Another request may have taken the last slot since the look above; the hit itself is atomic.
            if not await self.strategy.hit(window.item, key):
                again = await self.strategy.get_window_stats(window.item, key)
                return _refusal([(window, again.reset_time)], now)
        nearest = min(
            zip(self.windows, stats, strict=True),
            key=lambda pair: (pair[1].remaining - 1, -pair[0].seconds),
        )
        window, stat = nearest
        # An empty window's start is "now": its oldest request will be this one.
        reset = now + window.seconds if stat.remaining >= window.limit else max(stat.reset_time, now)
        return Decision(allowed=True, window=window, remaining=stat.remaining - 1, reset=reset, retry_after=0)


def _refusal(full: list[tuple[Window, float]], now: float) -> Decision:
    window, reset = max(full, key=lambda pair: pair[1])
    reset = max(reset, now)
    return Decision(allowed=False, window=window, remaining=0, reset=reset, retry_after=max(1, math.ceil(reset - now)))


class Limiter:
    """Decides per credential key; shared windows in Redis when configured, with memory as the fallback."""

    def __init__(self, windows: list[Window], *, redis_url: str | None, redis_prefix: str, redis_retry: float) -> None:
        self.windows = windows
        self.memory = _Windows(MemoryStorage(), windows)
        self.shared: _Windows | None = None
        self._pool: BlockingConnectionPool | None = None
        if redis_url:
            # A burst waits for one of a bounded set of connections rather than failing for want of one.
            pool = BlockingConnectionPool.from_url(
                redis_url,
                max_connections=_REDIS_CONNECTIONS,
                timeout=_REDIS_TIMEOUT,
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
            self.shared = _Windows(storage, windows)
        self.redis_retry = redis_retry
        self.redis_down_since: float | None = None
        self._next_redis_try = 0.0
        self._probing = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        """The limiter the settings describe."""
        return cls(
            parse_windows(settings.rate_limits),
            redis_url=settings.redis_url,
            redis_prefix=settings.redis_prefix,
            redis_retry=settings.rate_limit_redis_retry,
        )

    async def decide(self, key: str) -> Decision:
        """Count one request of `key` if every window has room."""
        if self.shared is not None:
            probe = self.redis_down_since is not None
            if not probe or (not self._probing and time.monotonic() >= self._next_redis_try):
                # While Redis is down, one request at a time finds out whether it is back; the others go on.
                self._probing = self._probing or probe
                try:
                    decision = await self.shared.decide(key)
                except (TimeoutError, StorageError, RedisError, OSError) as exc:
                    self._redis_failed(exc)
                else:
                    self._redis_answered()
                    return decision
                finally:
                    if probe:
                        self._probing = False
        return await self.memory.decide(key)

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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _query_param(scope: Scope, name: str) -> str | None:
    raw: str = scope.get("query_string", b"").decode("latin-1")
    if name not in raw:
        return None
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if key == name:
            return value
    return None


def credential_key(scope: Scope) -> str | None:
    """Whose windows a request counts in: a hash of its account secret (on /v3) or bearer token, or None."""
    if dialect_of(scope["path"]) is Dialect.V3:
        secret = _header(scope, b"x-account-secret") or _query_param(scope, "account_secret")
        if secret:
            return "secret:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    authorization = _header(scope, b"authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return None


class RateLimitMiddleware:
    """Counts each request with credentials, refuses it with a 429 when over, and stamps the headers."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        key = credential_key(scope) if scope["type"] == "http" and self.limiter.windows else None
        if key is None:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.decide(key)
        if not decision.allowed:
            await self._refuse(scope, receive, send, decision, key)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *decision.headers()]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, decision: Decision, key: str) -> None:
        dialect = dialect_of(scope["path"])
        whose = "account secret" if key.startswith("secret:") else "access token"
        message = (
            f"rate limit exceeded: at most {decision.window.describe()} per {whose}; "
            f"retry in {decision.retry_after} second{'s' if decision.retry_after != 1 else ''}"
        )
        extra: dict[str, Any] | None = None
        headers = {k.decode(): v.decode() for k, v in decision.headers()}
        if dialect is Dialect.V3:
            extra = {"wait": decision.retry_after}
            headers["X-Ratelimit-Wait"] = str(decision.retry_after)
        response = error_response(dialect, 429, message, headers=headers, extra=extra)
        await response(scope, receive, send)

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.limiter.aclose()
            await send(message)

        return closing


def install(app: FastAPI, settings: Settings) -> Limiter:
    """Add the rate limit middleware to `app`; the limiter is also kept at `app.state.rate_limiter`."""
    limiter = Limiter.from_settings(settings)
    app.state.rate_limiter = limiter
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    return limiter

"""Throttling failed authentications, so that secrets and passwords cannot be guessed quickly.

Failures are counted in moving windows (the `limits` library) per identity (a client id, or an email at the
sign-in page) and per remote address. While either is over its limit every attempt for it is refused before
the secret is even looked at, also a correct one: otherwise an attacker would learn that a guess was right.
The counts live in Redis when it is configured (shared by every worker), in memory otherwise. If Redis fails
the throttle lets attempts through (and logs it): refusing every sign-in would be worse.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from versicolor.auth import signing_key
from versicolor.runtime import Runtime

log = logging.getLogger("versicolor.auth")
_MAX_KEY = 128


class FailureThrottle:
    """Failed authentications per identity and per address; one per process and application."""

    def __init__(self, *, per_identity: str, per_address: str, redis_url: str | None, redis_prefix: str) -> None:
        self._identity_limits: list[RateLimitItem] = parse_many(per_identity)
        self._address_limits: list[RateLimitItem] = parse_many(per_address)
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=f"{redis_prefix}auth-failures",
                wrap_exceptions=True,
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> FailureThrottle:
        """The throttle of a running service."""
        settings = runtime.settings
        return cls(
            per_identity=settings.auth_failures_per_client,
            per_address=settings.auth_failures_per_address,
            redis_url=settings.redis_url,
            redis_prefix=signing_key.redis_prefix(settings.redis_prefix, runtime.signing_key),
        )

    def _buckets(self, kind: str, identity: str | None, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
        buckets = []
        if identity:
            buckets += [(item, f"{kind}:{identity[:_MAX_KEY]}", "identity") for item in self._identity_limits]
        if address:
            buckets += [(item, address[:_MAX_KEY], "address") for item in self._address_limits]
        return buckets

    async def retry_after(self, *, kind: str, identity: str | None, address: str | None) -> int | None:
        """Seconds to wait before `identity` (of `kind`) or `address` may try again, or None if they may now."""
        wait = 0.0
        try:
            for item, key, scope in self._buckets(kind, identity, address):
                if not await self._limiter.test(item, scope, key):
                    stats = await self._limiter.get_window_stats(item, scope, key)
                    wait = max(wait, stats.reset_time - time.time(), 1.0)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("cannot read authentication failure counts (%s); not throttling", exc)
            return None
        return math.ceil(wait) if wait > 0 else None

    async def failed(self, *, kind: str, identity: str | None, address: str | None) -> None:
        """Count one failed authentication."""
        try:
            for item, key, scope in self._buckets(kind, identity, address):
                await self._limiter.hit(item, scope, key)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("cannot count an authentication failure (%s)", exc)

"""Throttling failed authentications, so that secrets and passwords cannot be guessed quickly, without letting
anyone lock others out.

Two counts, both keyed on the caller's network rather than its full address (`network_of`: an IPv4 address,
or the /64 an IPv6 host can take addresses from at will):

- per **identity and network** (a client id or an email, from one network): the first failures are free,
  then every further one doubles the wait before the next attempt (1 s, 2 s, 4 s, ... up to a ceiling). A
  success clears the count. A stranger failing for someone's client id or email only delays the stranger:
  the owner, from another network, is never refused.
- per **network**, whatever identities it tries (a moving window of the `limits` library): past it, every
  attempt from that network waits.

While either applies, an attempt is refused before the secret is even looked at, also a correct one:
otherwise an attacker would learn that a guess was right. The counts live in Redis when it is configured
(shared by every worker), in memory otherwise (bounded: the oldest are forgotten first). If Redis fails the
throttle lets attempts through, and logs it: refusing every sign-in would be worse.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from typing import Protocol

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from versicolor.auth import signing_key
from versicolor.runtime import Runtime

log = logging.getLogger("versicolor.auth")

BACKOFF_BASE = 1.0  # seconds of the first wait, doubled by each further failure
IPV6_PREFIX = 64
_MEMORY_PAIRS = 100_000


def network_of(address: str | None) -> str | None:
    """The network an address is counted under: an IPv4 address itself, an IPv6 address's /64.

    An IPv6 host is usually given a whole /64 and can use any address in it, so counting full IPv6 addresses
    would give one attacker 2^64 fresh counts. Text that is no IP address (a test client's name) is itself.
    """
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


class _Pairs(Protocol):
    async def locked_until(self, key: str) -> float: ...

    async def failed(self, key: str, *, now: float, free: int, ceiling: float) -> None: ...

    async def clear(self, key: str) -> None: ...


def _wait_after(failures: int, *, free: int, ceiling: float) -> float:
    """Seconds to wait after `failures` failures in a row: none while they are free, then doubling."""
    if failures <= free:
        return 0.0
    return min(BACKOFF_BASE * 2.0 ** min(failures - free - 1, 40), ceiling)


class _MemoryPairs:
    """Counts in this process, the least recently failed forgotten first past a bound."""

    def __init__(self, *, capacity: int = _MEMORY_PAIRS) -> None:
        self._pairs: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # failures, locked until, seen
        self._capacity = capacity

    async def locked_until(self, key: str) -> float:
        entry = self._pairs.get(key)
        return 0.0 if entry is None else entry[1]

    async def failed(self, key: str, *, now: float, free: int, ceiling: float) -> None:
        failures, _, seen = self._pairs.pop(key, (0, 0.0, now))
        if now - seen > _forget_after(ceiling):
            failures = 0
        failures += 1
        self._pairs[key] = (failures, now + _wait_after(failures, free=free, ceiling=ceiling), now)
        while len(self._pairs) > self._capacity:
            self._pairs.popitem(last=False)

    async def clear(self, key: str) -> None:
        self._pairs.pop(key, None)


# One round trip, atomic: count the failure, set the time until which the pair must wait, forget it later.
_FAILED = """
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
local free = tonumber(ARGV[2])
if failures > free then
  local wait = tonumber(ARGV[3]) * 2 ^ math.min(failures - free - 1, 40)
  if wait > tonumber(ARGV[4]) then wait = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'u', tostring(tonumber(ARGV[1]) + wait))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return failures
"""


class _RedisPairs:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._failed = redis.register_script(_FAILED)

    async def locked_until(self, key: str) -> float:
        value = await self._redis.hget(self._prefix + key, "u")
        return float(value) if value else 0.0

    async def failed(self, key: str, *, now: float, free: int, ceiling: float) -> None:
        forget_ms = int(_forget_after(ceiling) * 1000)
        args: list[str | int] = [repr(now), free, repr(BACKOFF_BASE), repr(ceiling), forget_ms]
        await self._failed(keys=[self._prefix + key], args=args)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


def _forget_after(ceiling: float) -> float:
    # Failures are forgotten after an hour without any (or twice the longest wait, if that is longer).
    return max(3600.0, 2 * ceiling)


class FailureThrottle:
    """Failed authentications per identity and network, and per network; one per process and application."""

    def __init__(
        self,
        *,
        free_failures: int,
        backoff_ceiling: float,
        per_network: str,
        redis_url: str | None,
        redis_prefix: str,
    ) -> None:
        self._free = free_failures
        self._ceiling = backoff_ceiling
        self._network_limits: list[RateLimitItem] = parse_many(per_network) if per_network.strip() else []
        storage: Storage
        self._pairs: _Pairs
        if redis_url:
            storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                key_prefix=f"{redis_prefix}auth-failures",
                wrap_exceptions=True,
            )
            self._pairs = _RedisPairs(Redis.from_url(redis_url), f"{redis_prefix}auth-pair:")
        else:
            storage = MemoryStorage()
            self._pairs = _MemoryPairs()
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> FailureThrottle:
        """The throttle of a running service."""
        settings = runtime.settings
        return cls(
            free_failures=settings.auth_failures_before_backoff,
            backoff_ceiling=float(settings.auth_backoff_ceiling),
            per_network=settings.auth_failures_per_address,
            redis_url=settings.redis_url,
            redis_prefix=signing_key.redis_prefix(settings.redis_prefix, runtime.signing_key),
        )

    @staticmethod
    def _pair(kind: str, identity: str, network: str | None) -> str:
        # Hashed: an identity is whatever a caller typed, of any length; the key stays short and fixed.
        material = f"{kind}\x00{identity}\x00{network or '-'}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(material).hexdigest()[:32]

    async def retry_after(self, *, kind: str, identity: str | None, address: str | None) -> int | None:
        """Seconds before `identity` (of `kind`) may be tried again from `address`, or None if it may now."""
        network = network_of(address)
        now = time.time()
        wait = 0.0
        try:
            if identity:
                wait = (await self._pairs.locked_until(self._pair(kind, identity, network))) - now
            if network:
                for item in self._network_limits:
                    if not await self._limiter.test(item, "network", network):
                        stats = await self._limiter.get_window_stats(item, "network", network)
                        wait = max(wait, stats.reset_time - now, 1.0)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("cannot read authentication failure counts (%s); not throttling", exc)
            return None
        return math.ceil(wait) if wait > 0 else None

    async def failed(self, *, kind: str, identity: str | None, address: str | None) -> None:
        """Count one failed authentication."""
        network = network_of(address)
        try:
            if identity:
                key = self._pair(kind, identity, network)
                await self._pairs.failed(key, now=time.time(), free=self._free, ceiling=self._ceiling)
            if network:
                for item in self._network_limits:
                    await self._limiter.hit(item, "network", network)
        except (StorageError, RedisError, OSError) as exc:
            log.warning("cannot count an authentication failure (%s)", exc)

    async def succeeded(self, *, kind: str, identity: str, address: str | None) -> None:
        """Forget the failures of `identity` from `address`'s network: its owner got it right."""
        try:
            await self._pairs.clear(self._pair(kind, identity, network_of(address)))
        except (RedisError, OSError) as exc:
            log.warning("cannot clear authentication failure counts (%s)", exc)

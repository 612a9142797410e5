"""When a failed request is sent again, and how long the client waits first."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Methods HTTP defines as safe to repeat: sending one twice leaves the server as sending it once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses a proxy or a restarting server answers while the service is briefly away.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before it gives up.

    Failures (no connection, a connection cut, 502/503/504) are retried up to `attempts` times in all, after
    waits that double from `base` up to `cap` seconds, each drawn at random below that bound ("full jitter", so
    that many clients do not come back at the same moment). A 429 is always retried after the wait the server
    asks for (plus up to `jitter` seconds), as long as the call's waits on 429s stay within `rate_limit_budget`
    seconds; past it the call raises RateLimited.
    """

    attempts: int = 6
    base: float = 0.5
    cap: float = 10.0
    rate_limit_budget: float = 300.0
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1 for the first)."""
        return self.rng.uniform(0, min(self.cap, self.base * 2 ** (failures - 1)))

    def rate_limit_wait(self, advised: float | None, failures: int) -> float:
        """Seconds to wait after a 429: the server's advice plus jitter, or a backoff without advice."""
        if advised is None:
            return self.backoff(failures)
        return max(0.0, advised) + self.rng.uniform(0, self.jitter)


NO_RETRIES = RetryPolicy(attempts=1, rate_limit_budget=0.0)

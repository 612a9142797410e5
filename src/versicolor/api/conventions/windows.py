"""Moving windows ("at most 50 in any 10 seconds"): their configuration, a decision, and one process's memory of them.

`MemoryWindows` keeps, per key, the times of the requests it admitted, newest last, in an `array` of doubles
(8 bytes a request), and only as many as the largest limit needs. A decision is a binary search per window
and an append: no task, no lock, no await (one event loop runs it, and nothing yields inside a decision, so
check-then-count is atomic). Keys live in the order of their latest admission, so the ones whose every
window has emptied are at the front and leave as the next decisions pass by: memory is bounded by the keys
active within the longest window (and by `max_keys` whatever happens).

Why not the `limits` library's memory storage: it schedules an expiry task on nearly every hit, inserts at
the front of a Python list of objects, and wraps each step in a coroutine: 40 µs a decision with the default
windows, 165 µs with a large limit. pyrate-limiter's in-memory bucket (12 µs, 22 µs with a large limit on the
same machine) keeps a Python object per request, a thread that leaks them, and reports no window state for
the headers. The Redis side still uses `limits` (api/conventions/limiter.py).
"""

from __future__ import annotations

import math
import re
import time
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNIT_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_FORMAT = "COUNT/[N]UNIT with UNIT one of s, m, h, d (e.g. 50/10s;1000/1h)"

DEFAULT_MAX_KEYS = 1_000_000


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds` seconds."""

    limit: int
    seconds: int
    span: str  # the window in words, as configured: "10 seconds", "1 hour"
    item: RateLimitItem  # the same window for the `limits` library (the Redis side)

    def describe(self, unit: str = "request") -> str:
        """In words: "50 requests in 10 seconds"."""
        return f"{self.limit} {unit}{'s' if self.limit != 1 else ''} in {self.span}"


def parse_windows(text: str) -> tuple[Window, ...]:
    """`COUNT/[N]UNIT` pairs separated by `;` (units s, m, h, d), e.g. `50/10s;1000/1h`; empty means no limit."""
    windows = []
    for part in (p for p in text.split(";") if p.strip()):
        match = _WINDOW.match(part)
        if match is None:
            raise ValueError(f"rate limit {part.strip()!r} is not {_FORMAT}")
        count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
        if count < 1 or multiple < 1:
            raise ValueError(f"rate limit {part.strip()!r} needs a count and a window of at least 1")
        seconds = multiple * _UNITS[unit]
        span = f"{multiple} {_UNIT_NAMES[unit]}{'s' if multiple != 1 else ''}"
        windows.append(Window(limit=count, seconds=seconds, span=span, item=RateLimitItemPerSecond(count, seconds)))
    # Shortest first: it is the one usually full, so a refused request touches as little as possible.
    return tuple(sorted(windows, key=lambda w: w.seconds))


def check_windows(text: str) -> str:
    """`text` if it parses as windows; raises ValueError naming the part that does not (for settings)."""
    parse_windows(text)
    return text


@dataclass(frozen=True, slots=True)
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


def refusal(full: list[tuple[Window, float]], now: float) -> Decision:
    """The refusal when `full` windows (with the time each frees a slot) have no room: the longest wait wins."""
    window, reset = max(full, key=lambda pair: pair[1])
    reset = max(reset, now)
    return Decision(allowed=False, window=window, remaining=0, reset=reset, retry_after=max(1, math.ceil(reset - now)))


def admission(counts: list[tuple[Window, int, float]], now: float, cost: int = 1) -> Decision:
    """The decision for an admitted request, from each window's count before it and its oldest counted time."""
    window, count, oldest = min(counts, key=lambda c: (c[0].limit - c[1] - cost, -c[0].seconds))
    # An empty window's start is "now": its oldest request will be this one.
    reset = now + window.seconds if count == 0 else max(oldest + window.seconds, now)
    return Decision(allowed=True, window=window, remaining=window.limit - count - cost, reset=reset, retry_after=0)


class MemoryWindows:
    """One set of moving windows for many keys, in this process's memory."""

    def __init__(
        self,
        windows: tuple[Window, ...],
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not windows:
            raise ValueError("MemoryWindows needs at least one window")
        self.windows = windows
        self._longest = max(w.seconds for w in windows)
        self._keep = max(w.limit for w in windows)  # older requests than the largest limit's never matter
        self._slack = max(64, self._keep // 4)  # trimmed in steps, so trimming costs O(1) per request
        self._max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, array[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def decide(self, key: str, cost: int = 1) -> Decision:
        """Count `cost` requests of `key` if every window has room for them; otherwise count nothing."""
        now = self._clock()
        self._expire(now)
        hits = self._hits.get(key)
        if hits is None:
            hits = array("d")
        n = len(hits)
        counts: list[tuple[Window, int, float]] = []
        full: list[tuple[Window, float]] | None = None
        for window in self.windows:
            limit = window.limit
            first = bisect_right(hits, now - window.seconds, max(0, n - limit))
            count = n - first
            if count + cost > limit:
                # The slot frees when enough of the newest `limit` have left for `cost` more to fit.
                needed = n - limit + cost - 1
                frees = hits[needed] + window.seconds if 0 <= needed < n else now + window.seconds
                (full := full or []).append((window, frees))
            else:
                counts.append((window, count, hits[first] if count else now))
        if full:
            return refusal(full, now)
        if cost == 1:
            hits.append(now)
        else:
            hits.extend([now] * cost)
        if len(hits) > self._keep + self._slack:
            del hits[: len(hits) - self._keep]
        if n:
            self._hits.move_to_end(key)
        else:
            self._hits[key] = hits
            if len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)  # the stalest key forgets its windows: lenient, never wrong
        return admission(counts, now, cost)

    def _expire(self, now: float) -> None:
        horizon = now - self._longest
        hits = self._hits
        while hits:
            key = next(iter(hits))
            if hits[key][-1] > horizon:
                return
            del hits[key]

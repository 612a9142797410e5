"""Ids of the Edit v3 dialect: 24 lowercase hex digits laid out like a MongoDB ObjectId (docs/conventions.md).

Layout (12 bytes): 4 bytes of creation time in seconds since 1970 (big-endian), 5 random bytes drawn once
per process, 3 bytes of a per-process counter. So ids sort by creation second first, and within one process
strictly by creation order; clients that read the time out of an ObjectId get the creation second.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from datetime import UTC, datetime

LENGTH = 24
_PATTERN = re.compile(r"[0-9a-f]{24}\Z")
_COUNTER_MASK = 0xFFFFFF
_MAX_SECONDS = 0xFFFFFFFF


class _Generator:
    """The per-process part of new ids; renewed in a forked child so that two workers never share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.process = int.from_bytes(secrets.token_bytes(5), "big")
        self.counter = secrets.randbelow(_COUNTER_MASK + 1)
        self.last = 0

    def next(self, seconds: int) -> int:
        with self.lock:
            self.counter = (self.counter + 1) & _COUNTER_MASK
            value = (seconds << 64) | (self.process << 24) | self.counter
            # The counter wraps after 16M ids and clocks can step back: never hand out an id that does
            # not sort after the previous one, so that this process's ids follow its creation order.
            if value <= self.last:
                value = self.last + 1
            self.last = value
            return value


_generator = _Generator()
os.register_at_fork(after_in_child=_generator.reset)


def _seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    seconds = int(at.timestamp())
    if not 0 <= seconds <= _MAX_SECONDS:
        raise ValueError(f"{at.isoformat()} cannot be held in an id (1970 to 2106)")
    return seconds


def new(at: datetime | None = None) -> str:
    """A fresh id for an object created at `at` (now when omitted); later calls in a process sort later."""
    seconds = _seconds(at or datetime.now(UTC))
    return f"{_generator.next(seconds):024x}"


def first_of_second(at: datetime, unique: int) -> str:
    """An id of time `at` that sorts before every id `new` makes in that second (for backdated objects).

    Its process part is zero, where `new`'s is random; `unique` (below 2**64, e.g. the owner's id) keeps two
    such ids of one second apart.
    """
    if not 0 <= unique < 1 << 64:
        raise ValueError("unique must fit in 8 bytes")
    return f"{(_seconds(at) << 64) | unique:024x}"


def parse(text: str) -> str | None:
    """`text` as an id in its stored (lowercase) form, or None when it is not 24 hex digits."""
    lowered = text.strip().lower()
    return lowered if _PATTERN.match(lowered) else None


def time_of(object_id: str) -> datetime:
    """The creation second an id carries."""
    return datetime.fromtimestamp(int(object_id[:8], 16), UTC)

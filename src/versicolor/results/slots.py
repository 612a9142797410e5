"""How many reports one service process computes at once, sized from its database pool.

A report holds a connection for its transaction and, on PostgreSQL, takes one more for each of its aggregate
queries (results/aggregation.py), one after another. Reports that each held part of what they need and waited
for the rest could empty the pool between them: every request then waited for a connection until the pool's
timeout, and failed. So a report first waits for a slot, and the slots together never need more than half the
pool: requests, which hold one connection at a time, always find the other half, and give it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from versicolor.results.aggregation import MOST_QUERIES

# The report's own transaction, and one reader per aggregate query.
CONNECTIONS_SIDE_BY_SIDE = 1 + MOST_QUERIES


class ReportSlots:
    """Reports computed at once by this process; whether each may spread its queries over connections."""

    def __init__(self, pool: int) -> None:
        """`pool`: the connections the process may hold at once (pool size plus overflow)."""
        share = pool // 2
        # A pool too small to give a report its readers runs each report's queries one after another.
        self.side_by_side = share >= CONNECTIONS_SIDE_BY_SIDE
        self.limit = max(1, share // CONNECTIONS_SIDE_BY_SIDE if self.side_by_side else share)
        self._free = asyncio.Semaphore(self.limit)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot while computing a report."""
        async with self._free:
            yield

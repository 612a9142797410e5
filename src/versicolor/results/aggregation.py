"""Stored tracking data -> per-arm (per breakdown key) sufficient statistics, in SQL.

A report over the experiment's whole life reads the rollups ingestion keeps (`from_rollups`: one row per
visitor, or per converting visitor and goal); a report limited to `dateIntervals` needs to know when each
event happened, so it reads the raw events (`from_events`). Both give the same figures for the same events.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import AsyncExitStack

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor.results import from_events, from_rollups
from versicolor.results.sums import Aggregates, Query, Scope

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
# The most queries `queries_for` gives a report: side by side, each takes a connection (results/slots.py).
MOST_QUERIES = 3


def queries_for(scope: Scope) -> list[Query]:
    """The queries that compute `scope`'s aggregates, each filling in its part."""
    request = scope.request
    if not request.date_intervals:
        per_goal = from_rollups.sum_conversions if request.visitor_data else from_rollups.sum_per_visit
        return [from_rollups.count_units, *([per_goal] if scope.goal_ids else [])]
    if request.visitor_data:
        return [
            from_events.count_units,
            from_events.count_visits,
            *([from_events.sum_conversions] if scope.goal_ids else []),
        ]
    return [from_events.count_units, from_events.sum_per_visit]


async def aggregate(
    *, session: AsyncSession, scope: Scope, sessions: async_sessionmaker[AsyncSession] | None = None
) -> Aggregates:
    """Run the report's queries: in the session's transaction, or on PostgreSQL, given `sessions`, side by
    side in read-only transactions that share one snapshot (so they count the same events)."""
    dialect = session.get_bind().dialect.name
    result = Aggregates()
    queries = queries_for(scope)
    if dialect != "postgresql" or sessions is None or len(queries) == 1:
        if dialect == "postgresql":
            await _tune_postgresql(session)
        for query in queries:
            await query(session, scope, dialect, result)
        return result
    async with AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(sessions()) for _ in queries]
        for reader in readers:
            await reader.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
        snapshot = str(await readers[0].scalar(text("SELECT pg_export_snapshot()")))
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
        for reader in readers[1:]:
            # SET TRANSACTION SNAPSHOT takes no parameters; the id was checked above.
            await reader.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        for reader in readers:
            await _tune_postgresql(reader)
        await asyncio.gather(
            *(query(reader, scope, dialect, result) for query, reader in zip(queries, readers, strict=True))
        )
    return result


async def _tune_postgresql(session: AsyncSession) -> None:
    # JIT compilation costs more than it saves on these queries (up to a few hundred ms of a report), and
    # the default work_mem (4MB) makes a million-visitor hash join spill to disk. SET LOCAL ends with the
    # transaction.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL work_mem = '64MB'"))

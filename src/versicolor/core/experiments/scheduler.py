"""The scheduler: starts SCHEDULED experiments at their start date and stops them at their end date.

Design. The schedule lives in the database (`experiments.scheduled_start`, `scheduled_end`), so nothing is
lost when the service restarts: the first tick after a restart makes every transition that fell due while
it was down. Every worker process runs its own scheduler; each tick is one transaction of conditional
UPDATEs taken from the lifecycle table, e.g.

    UPDATE experiments SET status = 'ACTIVE', date_started = :now, ...
    WHERE status = 'SCHEDULED' AND scheduled_start <= :now RETURNING id

which is idempotent: on PostgreSQL a second worker's UPDATE waits for the first one's row locks and then
re-checks `status`, finding nothing left to do; SQLite runs one writing transaction at a time. So each
transition happens exactly once however many workers tick together, with no leader to elect and no lock
to lose. A person's lifecycle call locks the same row (SELECT ... FOR UPDATE), so the two take turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor import background
from versicolor.core.experiments import lifecycle
from versicolor.core.experiments.lifecycle import ClockEvent, Status
from versicolor.db.models import Experiment
from versicolor.db.types import utcnow

log = logging.getLogger("versicolor.scheduler")

# How often each worker looks for due experiments: a scheduled start happens within this many seconds.
DEFAULT_INTERVAL = 1.0

# Which date makes each clock event due; starts run before ends so that an experiment whose whole
# window passed while the service was down is started and then stopped in the same tick.
_DUE_DATE: tuple[tuple[ClockEvent, str], ...] = (
    (ClockEvent.SCHEDULED_START, "scheduled_start"),
    (ClockEvent.SCHEDULED_END, "scheduled_end"),
)


@dataclass(frozen=True)
class Moved:
    """One experiment the scheduler moved."""

    experiment_id: int
    event: ClockEvent
    status: Status


async def run_due(*, session: AsyncSession, now: datetime) -> list[Moved]:
    """Make every clock transition due at `now`; safe to run at the same time in several processes."""
    moved: list[Moved] = []
    table = cast(Table, Experiment.__table__)
    for event, due in _DUE_DATE:
        # Transitions of one event with the same effect run as one UPDATE (ACTIVE and PAUSED both stop).
        effects: dict[tuple[Status, bool, bool], list[Status]] = {}
        for step in lifecycle.by_clock(event):
            effects.setdefault((step.target, step.starts, step.ends), []).append(step.source)
        for (target, starts, ends), sources in effects.items():
            values: dict[str, object] = {"status": target, "date_status_modified": now, "date_modified": now}
            if starts:
                values["date_started"] = now
            if ends:
                values["date_ended"] = now
            # A Core UPDATE: the ORM's bulk-update bookkeeping would cost more than the statement itself,
            # and this runs every second in every worker.
            statement = (
                update(table)
                .where(table.c.status.in_(sources), table.c[due].is_not(None), table.c[due] <= now)
                .values(values)
                .returning(table.c.id)
            )
            ids = (await session.scalars(statement)).all()
            moved.extend(Moved(experiment_id=i, event=event, status=target) for i in ids)
    return moved


class Scheduler:
    """Runs `run_due` every `interval` seconds in its own transactions."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.clock = clock
        self._failing = False

    async def tick(self) -> list[Moved]:
        """One pass: make the transitions due now, in one committed transaction."""
        async with self.sessions() as session, session.begin():
            moved = await run_due(session=session, now=self.clock())
        for item in moved:
            log.info("experiment %s is now %s (%s)", item.experiment_id, item.status, item.event)
        return moved

    async def run_forever(self) -> None:
        """Tick until cancelled; a failing database is logged once and retried, never fatal."""
        while True:
            try:
                await self.tick()
            except Exception:
                if not self._failing:
                    log.exception(
                        "the experiment scheduler cannot reach the database; retrying every %ss", self.interval
                    )
                self._failing = True
            else:
                if self._failing:
                    log.info("the experiment scheduler reaches the database again")
                self._failing = False
            await asyncio.sleep(self.interval)


@contextlib.asynccontextmanager
async def running(
    sessions: async_sessionmaker[AsyncSession], *, interval: float = DEFAULT_INTERVAL
) -> AsyncIterator[Scheduler]:
    """A scheduler ticking in the background for as long as the context lasts (the app's lifespan)."""
    scheduler = Scheduler(sessions, interval=interval)
    task = asyncio.create_task(scheduler.run_forever(), name="versicolor-experiment-scheduler")
    try:
        yield scheduler
    finally:
        await background.stop(task)

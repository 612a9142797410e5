"""Tasks a process runs beside its requests (the experiment scheduler, the hosts' sightings, the token gate's
listener on Redis), and how they are stopped for sure.

One `cancel()` does not always end a task: a cancellation can be lost on its way in, and the task runs on.
CPython 3.11's `asyncio.wait_for`, which redis-py uses to write every command, drops a cancellation that
arrives just as the operation it waits for completes (python/cpython#86296, fixed in 3.12). A shutdown that
cancels once and then awaits the task waits forever for a task that was never told again.
"""

from __future__ import annotations

import asyncio
from typing import Any

# How long a cancelled task has to end, its clean-up on the way out included (the sightings' last write),
# before it is cancelled again.
CANCEL_AGAIN_AFTER = 5.0


async def stop(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and return once it has ended; raise what it raised, if anything but its cancellation."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_AGAIN_AFTER)
    if not task.cancelled():
        task.result()

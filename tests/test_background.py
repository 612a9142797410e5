"""Stopping a background task for sure, even one whose first cancellation is lost."""

from __future__ import annotations

import asyncio

import pytest

from versicolor import background


async def test_a_task_that_loses_its_first_cancellation_is_cancelled_again_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "CANCEL_AGAIN_AFTER", 0.05)
    cancellations = 0

    async def runs_on() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations == 2:
                    raise  # the first one was lost, as CPython 3.11's wait_for can lose one

    task = asyncio.create_task(runs_on())
    await asyncio.sleep(0)
    await asyncio.wait_for(background.stop(task), 5)
    assert task.cancelled() and cancellations == 2


async def test_a_task_gets_time_to_clean_up_before_it_is_cancelled_again() -> None:
    cleaned = asyncio.Event()

    async def cleans_up() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.2)  # its last write, on the way out
            cleaned.set()

    task = asyncio.create_task(cleans_up())
    await asyncio.sleep(0)
    await background.stop(task)
    assert cleaned.is_set() and task.cancelled()


async def test_what_a_task_raised_is_raised_by_stop() -> None:
    async def fails() -> None:
        raise RuntimeError("it broke")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="it broke"):
        await background.stop(task)


async def test_stopping_a_task_that_has_ended_returns_at_once() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await asyncio.wait_for(background.stop(task), 1)

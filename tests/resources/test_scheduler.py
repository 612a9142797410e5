"""The scheduler: SCHEDULED experiments start and stop by themselves, once, across workers and restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make
from tests.server import serve
from versicolor.app import create_app
from versicolor.core.experiments import scheduler
from versicolor.core.experiments.scheduler import Scheduler
from versicolor.runtime import Runtime
from versicolor.settings import Settings

if TYPE_CHECKING:
    from tests.factories import TestAccount


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def minutes_ahead(minutes: int) -> datetime:
    """A whole second some minutes from now (the API shows milliseconds)."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


async def scheduled(
    client: httpx.AsyncClient, account: TestAccount, start: datetime, end: datetime | None = None
) -> dict[str, Any]:
    """A launchable experiment, SCHEDULED through the API."""
    ready = await make.ready(client, account)
    return await schedule(client, account, ready.id, start, end)


async def schedule(
    client: httpx.AsyncClient, account: TestAccount, experiment_id: int, start: datetime, end: datetime | None = None
) -> dict[str, Any]:
    """The experiment SCHEDULED through the API, as the API answers it."""
    params = {"action": "SCHEDULE", "dateStart": stamp(start)}
    if end is not None:
        params["dateEnd"] = stamp(end)
    answer = await client.patch(f"/experiments/{experiment_id}", params=params, headers=account.headers)
    assert answer.status_code == 200, answer.text
    experiment: dict[str, Any] = answer.json()
    return experiment


async def status_of(client: httpx.AsyncClient, account: TestAccount, experiment_id: int) -> dict[str, Any]:
    got: dict[str, Any] = (await client.get(f"/experiments/{experiment_id}", headers=account.headers)).json()
    return got


def mine(moved: list[scheduler.Moved], ids: set[int]) -> list[tuple[int, str]]:
    # The test database is shared by the whole run: other tests' experiments may be due too.
    return sorted((m.experiment_id, m.status) for m in moved if m.experiment_id in ids)


async def test_a_scheduled_experiment_starts_then_stops_at_its_dates(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    start = minutes_ahead(30)
    end = start + timedelta(minutes=30)
    experiment = await scheduled(client, account, start, end)
    ids = {experiment["id"]}
    assert mine(await Scheduler(runtime.sessions, clock=clock_at(start - timedelta(seconds=1))).tick(), ids) == []
    assert (await status_of(client, account, experiment["id"]))["status"] == "SCHEDULED"

    started_at = start + timedelta(seconds=1)
    assert mine(await Scheduler(runtime.sessions, clock=clock_at(started_at)).tick(), ids) == [
        (experiment["id"], "ACTIVE")
    ]
    active = await status_of(client, account, experiment["id"])
    assert active["status"] == "ACTIVE"
    assert parse(active["dateStarted"]) == started_at
    assert parse(active["dateStatusModified"]) == started_at
    assert active["dateEnded"] is None
    assert mine(await Scheduler(runtime.sessions, clock=clock_at(started_at)).tick(), ids) == [], "done once only"

    ended_at = end + timedelta(seconds=1)
    assert mine(await Scheduler(runtime.sessions, clock=clock_at(ended_at)).tick(), ids) == [
        (experiment["id"], "STOPPED")
    ]
    stopped = await status_of(client, account, experiment["id"])
    assert stopped["status"] == "STOPPED"
    assert parse(stopped["dateEnded"]) == ended_at
    assert stopped["dateStarted"] == active["dateStarted"]


async def test_a_window_missed_while_down_is_started_and_stopped_in_one_tick(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    start = minutes_ahead(40)
    experiment = await scheduled(client, account, start, start + timedelta(minutes=1))
    later = start + timedelta(minutes=5)
    moved = mine(await Scheduler(runtime.sessions, clock=clock_at(later)).tick(), {experiment["id"]})
    assert moved == [(experiment["id"], "ACTIVE"), (experiment["id"], "STOPPED")]
    after = await status_of(client, account, experiment["id"])
    assert after["status"] == "STOPPED"
    assert after["dateStarted"] == after["dateEnded"]


async def test_a_paused_experiment_stops_at_its_end_date(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    start = minutes_ahead(50)
    end = start + timedelta(minutes=5)
    experiment = await scheduled(client, account, start, end)
    await Scheduler(runtime.sessions, clock=clock_at(start)).tick()
    paused = await client.patch(f"/experiments/{experiment['id']}", params={"action": "PAUSE"}, headers=account.headers)
    assert paused.json()["status"] == "PAUSED"
    moved = mine(await Scheduler(runtime.sessions, clock=clock_at(end)).tick(), {experiment["id"]})
    assert moved == [(experiment["id"], "STOPPED")]


async def test_a_person_can_overtake_the_schedule(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    start = minutes_ahead(60)
    experiment = await scheduled(client, account, start, start + timedelta(minutes=5))
    answer = await client.patch(
        f"/experiments/{experiment['id']}", params={"action": "DEACTIVATE"}, headers=account.headers
    )
    assert answer.status_code == 200
    moved = await Scheduler(runtime.sessions, clock=clock_at(start + timedelta(hours=1))).tick()
    assert mine(moved, {experiment["id"]}) == []
    assert (await status_of(client, account, experiment["id"]))["status"] == "DEACTIVATED"
    # Stopped by hand after the scheduled start, it is not stopped again at the end.
    second = await scheduled(client, account, start + timedelta(minutes=1), start + timedelta(minutes=9))
    await Scheduler(runtime.sessions, clock=clock_at(start + timedelta(minutes=2))).tick()
    stop = await client.patch(f"/experiments/{second['id']}", params={"action": "STOP"}, headers=account.headers)
    ended = stop.json()["dateEnded"]
    assert (
        mine(await Scheduler(runtime.sessions, clock=clock_at(start + timedelta(hours=1))).tick(), {second["id"]}) == []
    )
    assert (await status_of(client, account, second["id"]))["dateEnded"] == ended


async def test_two_schedulers_on_one_database_move_each_experiment_once(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, settings: Settings
) -> None:
    account = await factory.account()
    start = minutes_ahead(70)
    # Several experiments of one site and goal: three requests each keeps one token under its rate limit.
    site = await make.site(client, account)
    goal = await make.goal(client, account, site["id"])
    ids = set()
    for _ in range(10):
        made = await make.experiment(client, account, site["id"], goals=[goal["id"]], mainGoalId=goal["id"])
        await make.variation(client, account, made["id"])
        params = {"action": "SCHEDULE", "dateStart": stamp(start)}
        answer = await client.patch(f"/experiments/{made['id']}", params=params, headers=account.headers)
        assert answer.status_code == 200, answer.text
        ids.add(made["id"])
    # A second "worker": its own engine and connection pool on the same database.
    other = await Runtime.start(settings)
    try:
        due = clock_at(start + timedelta(seconds=1))
        first, second = Scheduler(runtime.sessions, clock=due), Scheduler(other.sessions, clock=due)
        results = await asyncio.gather(*(s.tick() for s in (first, second, first, second)))
    finally:
        await other.close()
    moved = [pair for result in results for pair in mine(result, ids)]
    assert sorted(moved) == sorted((i, "ACTIVE") for i in ids), "every experiment moved, none twice"
    listed = await client.get("/experiments", params={"perPage": "-1"}, headers=account.headers)
    assert {(e["id"], e["status"], parse(e["dateStarted"])) for e in listed.json()} == {
        (i, "ACTIVE", start + timedelta(seconds=1)) for i in ids
    }


async def test_a_second_scheduler_waits_for_the_first_and_finds_nothing_left(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, settings: Settings
) -> None:
    account = await factory.account()
    start = minutes_ahead(80)
    experiment = await scheduled(client, account, start)
    ids = {experiment["id"]}
    due = start + timedelta(seconds=1)
    other = await Runtime.start(settings)
    try:
        async with runtime.sessions() as session, session.begin():
            # The first worker has moved the experiment but not committed yet...
            assert mine(await scheduler.run_due(session=session, now=due), ids) == [(experiment["id"], "ACTIVE")]
            rival = asyncio.create_task(Scheduler(other.sessions, clock=clock_at(due)).tick())
            await asyncio.sleep(0.5)
            assert not rival.done(), "the second worker must wait for the first one's transaction"
        # ...and once it commits, the second worker's conditional UPDATE finds the row no longer SCHEDULED.
        assert mine(await rival, ids) == []
    finally:
        await other.close()
    assert (await status_of(client, account, experiment["id"]))["status"] == "ACTIVE"


async def test_the_schedule_survives_a_restart(client: httpx.AsyncClient, factory: Factory, settings: Settings) -> None:
    account = await factory.account()
    start = minutes_ahead(90)
    experiment = await scheduled(client, account, start)
    # A process that starts after the start date (everything it knows comes from the database).
    restarted = await Runtime.start(settings)
    try:
        moved = await Scheduler(restarted.sessions, clock=clock_at(start + timedelta(minutes=3))).tick()
    finally:
        await restarted.close()
    assert mine(moved, {experiment["id"]}) == [(experiment["id"], "ACTIVE")]


async def test_the_background_task_ticks_and_stops_cleanly(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    start = datetime.now(UTC) + timedelta(seconds=2)  # after making it: the API refuses a start in the past
    experiment = await schedule(client, account, ready.id, start, start + timedelta(seconds=1))
    async with scheduler.running(runtime.sessions, interval=0.2):
        deadline = time.monotonic() + 15
        while (await status_of(client, account, experiment["id"]))["status"] != "STOPPED":
            assert time.monotonic() < deadline, "the scheduler did not start and stop the experiment"
            await asyncio.sleep(0.3)
    after = await status_of(client, account, experiment["id"])
    assert parse(after["dateStarted"]) >= start
    assert parse(after["dateEnded"]) >= start + timedelta(seconds=1)


@pytest.mark.server
async def test_a_served_app_runs_the_schedule_across_a_restart(own_database_url: str, tmp_path: Path) -> None:
    # A database of its own: the session's long-lived servers tick their schedulers on the shared one, and would
    # run the experiment "while no server runs".
    own = await Runtime.start(Settings(database_url=own_database_url))
    transport = httpx.ASGITransport(app=create_app(runtime=own), client=("127.0.0.1", 50000))
    try:
        # In this process: the app without its lifespan, so without a scheduler.
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            account = await Factory(own, client).account()
            with serve(["--database-url", own_database_url], log_dir=tmp_path) as server:
                async with httpx.AsyncClient(base_url=server.base_url, headers=account.headers, timeout=30) as http:
                    ready = await make.ready(http, account)
                    # Dates a few seconds ahead of the request that sets them (the API refuses a past start).
                    now = datetime.now(UTC)
                    first = await schedule(
                        http, account, ready.id, now + timedelta(seconds=3), now + timedelta(seconds=5)
                    )
                    deadline = time.monotonic() + 60
                    while (current := await status_of(client, account, first["id"]))["status"] != "STOPPED":
                        assert time.monotonic() < deadline, f"still {current['status']}:\n{server.output()}"
                        await asyncio.sleep(0.5)
                    assert parse(current["dateStarted"]) >= parse(first["dateScheduledStart"])
                    assert parse(current["dateEnded"]) >= parse(first["dateScheduledEnd"])
            # Due while no server runs (scheduled once the server has exited, so that its last ticks cannot reach
            # it): the next server to start makes it ACTIVE.
            waiting = await make.ready(client, account)
            second = await schedule(client, account, waiting.id, datetime.now(UTC) + timedelta(seconds=2))
            past_due = parse(second["dateScheduledStart"]) + timedelta(seconds=1)
            await asyncio.sleep(max(0.0, (past_due - datetime.now(UTC)).total_seconds()))
            assert (await status_of(client, account, second["id"]))["status"] == "SCHEDULED", (
                "nothing ran it while down"
            )
            with serve(["--database-url", own_database_url], log_dir=tmp_path) as server:
                deadline = time.monotonic() + 60
                while (await status_of(client, account, second["id"]))["status"] != "ACTIVE":
                    assert time.monotonic() < deadline, server.output()
                    await asyncio.sleep(0.5)
    finally:
        await own.close()

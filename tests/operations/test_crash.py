"""A server killed with SIGKILL under load loses nothing it acknowledged and leaves nothing half-stored.

A real `versicolor serve` takes steady traffic (event batches from pages, experiments created and renamed
with a token) and is killed at seeded random moments, then started again on the same database. Afterwards
every batch answered 202 is stored whole, every experiment answered 201 exists as it was sent and every
rename answered 200 holds; a request cut short by the kill may be stored or not, but never in part.
A cut-off request is never sent again here, so that one stored in part could not be hidden by its replay.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.factories import Factory
from tests.server import Server, free_port, serve
from tests.tracking.fixtures import ORIGIN, Shop, now_ms, shop
from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit, TrackingVisitorGoal
from versicolor.runtime import Runtime

# Seeded, so that a failure can be replayed: VERSICOLOR_TEST_CRASH_SEED=N picks other moments.
SEED = int(os.environ.get("VERSICOLOR_TEST_CRASH_SEED", "20"))
KILLS = 3
VISITORS_PER_BATCH = 20  # each: a visit, an exposure and a conversion, so a batch writes four tables
EVENT_SENDERS = 6
EXPERIMENT_WRITERS = 2
# The per-address and per-site limits of pages, and the per-token limit, are not what this test is about.
UNLIMITED = {
    "VERSICOLOR_RATE_LIMITS": "1000000/1s",
    "VERSICOLOR_PAGE_EVENTS_PER_ADDRESS": "",
    "VERSICOLOR_PAGE_EVENTS_PER_SITE": "",
}


@dataclass
class Outcomes:
    """What the clients were told: acknowledged requests, those cut off by a kill, and anything else."""

    batches_stored: set[int] = field(default_factory=set)
    batches_cut: set[int] = field(default_factory=set)
    created: dict[str, int] = field(default_factory=dict)  # name -> id, answered 201
    creations_cut: set[str] = field(default_factory=set)
    renamed: set[int] = field(default_factory=set)  # ids whose rename was answered 200
    unexpected: list[str] = field(default_factory=list)


def batch(made: Shop, number: int) -> dict[str, Any]:
    """Batch `number`: its visitors are `b{number}-{i}`, each visiting, exposed, then converting."""
    events = []
    start = now_ms()
    for i in range(VISITORS_PER_BATCH):
        visitor = f"b{number}-{i}"
        common = {"visitorCode": visitor, "visitId": f"{visitor}-1"}
        events += [
            {"id": f"{visitor}-v", "type": "VISIT", "timestamp": start, **common},
            {
                "id": f"{visitor}-e",
                "type": "EXPOSURE",
                "timestamp": start + 1,
                "experimentId": made.experiment_id,
                "variationId": made.variation_ids[i % 2],
                **common,
            },
            {"id": f"{visitor}-c", "type": "CONVERSION", "timestamp": start + 2, "goalId": made.goal_id, **common},
        ]
    return {"events": events}


class Traffic:
    """Clients sending without pause while servers come and go at one address."""

    def __init__(self, base_url: str, made: Shop) -> None:
        self.made = made
        self.outcomes = Outcomes()
        self.running = True
        self.next_batch = 0
        self.next_experiment = 0
        # A short connect timeout: while the server is down, clients try again quickly.
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30, connect=2))

    async def send_events(self) -> None:
        while self.running:
            number = self.next_batch
            self.next_batch += 1
            try:
                answer = await self.http.post(self.made.events_path, json=batch(self.made, number), headers=_PAGE)
            except httpx.TransportError:
                self.outcomes.batches_cut.add(number)
                await asyncio.sleep(0.05)
                continue
            if answer.status_code == 202:
                self.outcomes.batches_stored.add(number)
            else:
                self.outcomes.unexpected.append(f"batch {number}: {answer.status_code} {answer.text}")

    async def write_experiments(self) -> None:
        headers = self.made.account.headers
        while self.running:
            name = f"crash-{self.next_experiment}"
            self.next_experiment += 1
            body = {
                "name": name,
                "siteId": self.made.site_id,
                "baseURL": "https://shop.example/cart",
                "goals": [self.made.goal_id, self.made.other_goal_id],
                "mainGoalId": self.made.goal_id,
            }
            try:
                answer = await self.http.post("/experiments", json=body, headers=headers)
            except httpx.TransportError:
                self.outcomes.creations_cut.add(name)
                await asyncio.sleep(0.05)
                continue
            if answer.status_code != 201:
                self.outcomes.unexpected.append(f"create {name}: {answer.status_code} {answer.text}")
                continue
            experiment_id = answer.json()["id"]
            self.outcomes.created[name] = experiment_id
            try:
                renamed = await self.http.patch(
                    f"/experiments/{experiment_id}", json={"name": f"{name}-renamed"}, headers=headers
                )
            except httpx.TransportError:
                await asyncio.sleep(0.05)
                continue
            if renamed.status_code == 200:
                self.outcomes.renamed.add(experiment_id)
            else:
                self.outcomes.unexpected.append(f"rename {name}: {renamed.status_code} {renamed.text}")


_PAGE = {"Origin": ORIGIN, "Content-Type": "text/plain"}


async def kill_repeatedly(database_url: str, made: Shop, log_dir: Path) -> tuple[Outcomes, list[Server]]:
    """Serve on one port, killing the server KILLS times at seeded moments under traffic, then once more
    politely; what the clients were told, and the servers (their output) for failure messages."""
    moments = random.Random(SEED)
    port = free_port()
    traffic = Traffic(f"http://127.0.0.1:{port}", made)
    clients = [asyncio.create_task(traffic.send_events()) for _ in range(EVENT_SENDERS)]
    clients += [asyncio.create_task(traffic.write_experiments()) for _ in range(EXPERIMENT_WRITERS)]
    servers: list[Server] = []
    try:
        for round_ in range(KILLS + 1):
            with ExitStack() as stack:
                # Starting blocks while /healthz is polled: in a thread, so that the clients keep sending.
                server = await asyncio.to_thread(
                    stack.enter_context,
                    serve(
                        ["--database-url", database_url], log_dir=log_dir, env=UNLIMITED, port=port, ready_timeout=180
                    ),
                )
                servers.append(server)
                await asyncio.sleep(moments.uniform(0.5, 2.5))
                if round_ < KILLS:
                    server.process.kill()
                    await asyncio.to_thread(server.process.wait)
                else:
                    traffic.running = False
                    await asyncio.gather(*clients)
                # Leaving the stack stops a live server politely; a killed one is already gone.
                await asyncio.to_thread(stack.close)
    finally:
        traffic.running = False
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        await traffic.http.aclose()
    return traffic.outcomes, servers


async def stored_per_batch(runtime: Runtime, made: Shop) -> dict[int, Counter[str]]:
    """For each batch number, how many rows of each table its visitors have."""
    per_batch: dict[int, Counter[str]] = {}
    async with runtime.sessions() as session:
        for name, model in (
            ("visits", TrackingVisit),
            ("exposures", TrackingExposure),
            ("conversions", TrackingConversion),
            ("visitor goals", TrackingVisitorGoal),
        ):
            codes = await session.scalars(select(model.visitor_code).where(model.site_id == made.site_id))
            for code in codes:
                per_batch.setdefault(int(code[1:].split("-")[0]), Counter())[name] += 1
    return per_batch


@pytest.mark.server
async def test_sigkill_under_load_loses_no_acknowledged_write_and_half_stores_none(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    made = await shop(client, factory)
    started = time.monotonic()
    outcomes, servers = await kill_repeatedly(database_url, made, tmp_path)
    seed = f"(seed {SEED}; {time.monotonic() - started:.0f}s)"
    logs = "\n".join(s.output()[-3000:] for s in servers)
    assert outcomes.unexpected == [], f"{seed} {outcomes.unexpected[:5]}\n{logs}"
    # The test proves something only if the kills cut requests in flight and others were acknowledged.
    assert outcomes.batches_stored and outcomes.created and outcomes.renamed, seed
    assert outcomes.batches_cut, f"{seed} no kill cut a batch in flight"

    whole = Counter({name: VISITORS_PER_BATCH for name in ("visits", "exposures", "conversions", "visitor goals")})
    per_batch = await stored_per_batch(runtime, made)
    lost = sorted(n for n in outcomes.batches_stored if per_batch.get(n) != whole)
    assert lost == [], f"{seed} batches answered 202 but not stored whole: {[(n, per_batch.get(n)) for n in lost]}"
    half = {n: counts for n, counts in per_batch.items() if counts != whole}
    assert half == {}, f"{seed} batches stored in part: {half}"
    assert set(per_batch) <= outcomes.batches_stored | outcomes.batches_cut

    # Every page: a quiet machine makes hundreds of experiments in the run, more than one page holds.
    experiments: dict[int, dict[str, Any]] = {}
    for page in itertools.count(1):
        listed = await client.get(
            "/experiments",
            params={"perPage": "200", "page": str(page), "optionalFields": "goals"},
            headers=made.account.headers,
        )
        assert listed.status_code == 200
        experiments |= {e["id"]: e for e in listed.json() if e["name"].startswith("crash-")}
        if len(listed.json()) < 200:
            break
    for name, experiment_id in outcomes.created.items():
        found = experiments.get(experiment_id)
        assert found is not None, f"{seed} experiment {name} answered 201 is gone"
        wanted = f"{name}-renamed" if experiment_id in outcomes.renamed else None
        assert wanted is None or found["name"] == wanted, f"{seed} the rename of {name} answered 200 is gone"
    for found in experiments.values():
        assert sorted(found["goals"]) == sorted([made.goal_id, made.other_goal_id]), f"{seed} {found}"
        assert found["mainGoalId"] == made.goal_id, f"{seed} {found}"
    names = Counter(e["name"].removesuffix("-renamed") for e in experiments.values())
    assert set(names) <= set(outcomes.created) | outcomes.creations_cut
    assert max(names.values()) == 1, f"{seed} an experiment was created twice"

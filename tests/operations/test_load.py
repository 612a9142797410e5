"""Two servers on one PostgreSQL and one Redis, as two machines would be, under mixed traffic from hundreds of
clients: no 5xx, a rate limit exact across processes, each scheduled transition made once, a revocation that
holds everywhere at once.

Server A runs two workers, server B one, on other ports: three processes that share nothing but the database
and Redis. While 200 clients read, write, send events and ask for results on both, a token sends more Data API
batches than its window allows, a token is revoked, and experiments reach their scheduled start and end.

PostgreSQL's leg of the suite runs it; SQLite's names it as left out (tests/legs.py): several machines writing
at once are PostgreSQL's deployment (docs/operations.md), SQLite takes one writer at a time.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import Factory, TestAccount
from tests.operations import traffic
from tests.resources import experiment_fixtures as make
from tests.server import Server, serve
from versicolor.app import create_app
from versicolor.db.models import TrackingVisit
from versicolor.runtime import Runtime
from versicolor.settings import Settings

pytestmark = pytest.mark.backend(
    "postgresql", reason="several server processes writing one database at once, as machines share PostgreSQL"
)

CLIENTS = 200
SECONDS = 12.0
DATA_LIMIT = 150  # per token per minute on the Data API, shared by every process through Redis
OVER_THE_LIMIT = 200
SCHEDULED = 6


async def scheduled_experiments(client: httpx.AsyncClient, account: TestAccount, start: datetime) -> set[int]:
    """Launchable experiments, SCHEDULED to start at `start` and to stop two seconds later."""
    site = await make.site(client, account, name="Scheduled")
    goal = await make.goal(client, account, site["id"])
    ids = set()
    for _ in range(SCHEDULED):
        made = await make.experiment(client, account, site["id"], goals=[goal["id"]], mainGoalId=goal["id"])
        await make.variation(client, account, made["id"])
        params = {
            "action": "SCHEDULE",
            "dateStart": start.isoformat().replace("+00:00", "Z"),
            "dateEnd": (start + timedelta(seconds=2)).isoformat().replace("+00:00", "Z"),
        }
        answer = await client.patch(f"/experiments/{made['id']}", params=params, headers=account.headers)
        assert answer.status_code == 200, answer.text
        ids.add(made["id"])
    return ids


async def over_the_limit(servers: list[str], shop: traffic.Shop, token: str) -> Counter[int]:
    """OVER_THE_LIMIT one-visit batches with one token, all at once, half to each server: their statuses."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=OVER_THE_LIMIT)) as http:

        async def send(n: int) -> int:
            visitor = f"limited-{n}"
            event = {"id": visitor, "type": "VISIT", "visitorCode": visitor, "visitId": visitor}
            event["timestamp"] = int(time.time() * 1000)
            url = f"{servers[n % len(servers)]}/data/v1/sites/{shop.code}/events"
            return (await http.post(url, json={"events": [event]}, headers=headers)).status_code

        return Counter(await asyncio.gather(*(send(n) for n in range(OVER_THE_LIMIT))))


async def revoked_everywhere(servers: list[str], account: TestAccount) -> tuple[set[int], set[int]]:
    """A token used on every server, then revoked on the first: the statuses before, and right after."""
    async with httpx.AsyncClient(timeout=60) as http:
        issued = await http.post(
            f"{servers[0]}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(account.admin.client_id, account.admin.client_secret),
        )
        token = issued.json()["access_token"]

        async def statuses(rounds: int) -> set[int]:
            # A new connection per request, so that they reach every worker of a server.
            headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
            answers = await asyncio.gather(
                *(http.get(f"{server}/accounts/me", headers=headers) for server in servers for _ in range(rounds))
            )
            return {answer.status_code for answer in answers}

        before = await statuses(8)
        revoked = await http.post(
            f"{servers[0]}/oauth/revoke",
            data={"token": token},
            auth=(account.admin.client_id, account.admin.client_secret),
        )
        assert revoked.status_code == 200, revoked.text
        return before, await statuses(16)


def transitions(servers: list[Server], ids: set[int]) -> Counter[tuple[int, str]]:
    """How many times any process logged moving one of `ids` to a status."""
    logged: Counter[tuple[int, str]] = Counter()
    for server in servers:
        for found in re.finditer(r"experiment (\d+) is now (\w+)", server.output()):
            if int(found.group(1)) in ids:
                logged[(int(found.group(1)), found.group(2))] += 1
    return logged


@pytest.mark.server
async def test_two_servers_share_the_load_the_limits_the_schedule_and_revocations(
    own_database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    # A database of its own: the session's long-lived servers tick their schedulers on the shared one, and would
    # make the scheduled transitions themselves (no process of this test then logs them).
    own = await Runtime.start(Settings(database_url=own_database_url))
    transport = httpx.ASGITransport(app=create_app(runtime=own), client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            await _two_servers(client, Factory(own, client), own, own_database_url, redis_url, redis_prefix, tmp_path)
    finally:
        await own.close()


async def _two_servers(
    client: httpx.AsyncClient,
    factory: Factory,
    runtime: Runtime,
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    account = await factory.account()
    env = {
        "VERSICOLOR_REDIS_URL": redis_url,
        "VERSICOLOR_REDIS_PREFIX": f"{redis_prefix}load-{uuid.uuid4().hex[:6]}:",
        # No per-token windows for the traffic's tokens: only the Data API's, which the test counts, ask Redis.
        # (Under this load on two cores, the traffic's own decisions queued for the limiter's Redis connections
        # past its timeout, and each process then limited in its own memory: 179 of 200 let through, not 150.)
        "VERSICOLOR_RATE_LIMITS": "",
        "VERSICOLOR_DATA_RATE_LIMITS": f"{DATA_LIMIT}/1m",
        "VERSICOLOR_PAGE_EVENTS_PER_ADDRESS": "",
        "VERSICOLOR_PAGE_EVENTS_PER_SITE": "",
        # Without Redis's signal a process would not look at the revocation journal again for an hour.
        "VERSICOLOR_AUTH_SYNC_INTERVAL": "3600",
        # Three processes beside the rest of the suite's: well under PostgreSQL's 100 connections.
        "VERSICOLOR_DATABASE_POOL_SIZE": "4",
        "VERSICOLOR_DATABASE_MAX_OVERFLOW": "6",
        # The clients drop a connection idle for 2 s; the servers keep one 60 s, so that a worker's event loop
        # held up for seconds on a busy machine never closes a connection a request is already on its way to.
        "VERSICOLOR_KEEP_ALIVE_TIMEOUT": "60",
    }
    with ExitStack() as first, ExitStack() as second:
        servers = await asyncio.gather(
            asyncio.to_thread(
                first.enter_context,
                serve(["--database-url", database_url, "--workers", "2"], log_dir=tmp_path, env=env, ready_timeout=180),
            ),
            asyncio.to_thread(
                second.enter_context,
                serve(["--database-url", database_url], log_dir=tmp_path, env=env, ready_timeout=180),
            ),
        )
        urls = [server.base_url for server in servers]
        shop = await asyncio.to_thread(traffic.prepare, urls[0], account.admin.client_id, account.admin.client_secret)
        limited = await asyncio.to_thread(
            traffic.token, httpx.Client(base_url=urls[1]), account.admin.client_id, account.admin.client_secret
        )
        start = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
        ids = await scheduled_experiments(client, account, start)

        async def beside_the_traffic() -> tuple[Counter[int], tuple[set[int], set[int]]]:
            await asyncio.sleep(2)
            limits = await over_the_limit(urls, shop, limited)
            return limits, await revoked_everywhere(urls, account)

        record, (limits, (before, after)) = await asyncio.gather(
            traffic.Clients(urls, shop, count=CLIENTS).run(SECONDS), beside_the_traffic()
        )
        for _ in range(60):  # the last ends are due a few seconds after the traffic at most
            if len(transitions(servers, ids)) == 2 * SCHEDULED:
                break
            await asyncio.sleep(0.5)
        # Stopped politely before their logs are read for the last time.
    logs = "\n".join(server.output() for server in servers)

    statuses = record.statuses()
    failed = [o for o in record.outcomes if o.status == 0 or o.status >= 500]
    died = [line for line in logs.splitlines() if "died" in line or "Traceback" in line or "ERROR" in line]
    assert failed == [], f"{len(failed)} failures, e.g. {failed[:3]}\n{died[:20]}\n{logs[-3000:]}"
    assert died == [], died[:20]
    unexpected = [o for o in record.outcomes if o.status not in (200, 201, 202)]
    assert unexpected == [], unexpected[:5]
    assert len(record.outcomes) > CLIENTS, statuses  # every client got answers, many of them

    fallback = [line for line in logs.splitlines() if "limiting per process in memory" in line]
    assert limits == {202: DATA_LIMIT, 429: OVER_THE_LIMIT - DATA_LIMIT}, (limits, fallback)
    async with runtime.sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(TrackingVisit)
            .where(TrackingVisit.site_id == shop.site_id, TrackingVisit.visitor_code.like("limited-%"))
        )
    assert stored == DATA_LIMIT

    assert before == {200} and after == {403}, (before, after)

    logged = transitions(servers, ids)
    assert logged == Counter({(i, s): 1 for i in ids for s in ("ACTIVE", "STOPPED")}), f"{logged}\n{logs[-4000:]}"
    for experiment_id in ids:
        shown = (await client.get(f"/experiments/{experiment_id}", headers=account.headers)).json()
        assert shown["status"] == "STOPPED" and shown["dateStarted"] <= shown["dateEnded"]

"""A batch is stored whole or not at all: a client that goes away, or storage that fails mid-batch, leaves
nothing behind and is never told "stored"."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND
from tests.factories import Factory
from tests.tracking.fixtures import Shop, conversion, shop, stored, visit
from versicolor.runtime import Runtime


@pytest.fixture
async def live(client: httpx.AsyncClient, factory: Factory) -> Shop:
    return await shop(client, factory)


async def call_with_body_cut_short(app: FastAPI, live: Shop, body: bytes) -> list[dict[str, Any]]:
    """Drive the app as a server would for a client that sends part of its body and then disconnects."""
    half = body[: len(body) // 2]
    incoming = [
        {"type": "http.request", "body": half, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # a disconnected client sends nothing more
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    token = live.account.headers["Authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": live.events_path,
        "raw_path": live.events_path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"authorization", token),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def test_a_client_that_disconnects_mid_body_stores_nothing(app: FastAPI, live: Shop, runtime: Runtime) -> None:
    body = json.dumps({"events": [visit(f"v{n}") for n in range(200)]}).encode()
    sent = await call_with_body_cut_short(app, live, body)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def _post_while_postgresql_dies(
    client: httpx.AsyncClient, live: Shop, events: list[dict[str, Any]], database_url: str
) -> httpx.Response:
    """Hold the conversions table locked, so the batch stops after its visits; then end its server process."""
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    locker = await asyncpg.connect(plain)
    try:
        lock = locker.transaction()
        await lock.start()
        await locker.execute("LOCK TABLE tracking_conversions IN ACCESS EXCLUSIVE MODE")

        async def terminate_when_waiting() -> None:
            for _ in range(400):
                # This run's database: the only session waiting for a lock is the batch's, stopped at the
                # conversions (its query column may still show the previous statement).
                pid = await locker.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if pid is not None:
                    await locker.execute("SELECT pg_terminate_backend($1)", pid)
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("the batch never reached the conversions table")

        answer, _ = await asyncio.gather(
            client.post(live.events_path, json={"events": events}, headers=live.account.headers),
            terminate_when_waiting(),
        )
        await lock.rollback()
    finally:
        await locker.close()
    return answer


async def _post_while_sqlite_fills_up(
    client: httpx.AsyncClient, live: Shop, events: list[dict[str, Any]], runtime: Runtime
) -> httpx.Response:
    """Cap the database file a few pages above its size: the visits fit, the conversions do not."""

    def cap(connection: Any) -> None:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {int(pages) + 8}")

    event.listen(runtime.engine.sync_engine, "begin", cap)
    try:
        return await client.post(live.events_path, json={"events": events}, headers=live.account.headers)
    finally:
        event.remove(runtime.engine.sync_engine, "begin", cap)
        await runtime.engine.dispose()  # the cap belongs to the pooled connections: let them go


async def test_storage_failing_mid_batch_stores_nothing_and_answers_5xx(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime, database_url: str
) -> None:
    # PostgreSQL: the server process of the batch's connection is terminated between two statements.
    # SQLite (no server to lose): the disk fills up between two statements.
    long = "x" * 250
    events = [visit(f"early-{n}") for n in range(5)] + [
        conversion(live.goal_id, f"{long}-{n}", visitId=f"{long}-{n}") for n in range(3000)
    ]
    if BACKEND == "postgresql":
        answer = await _post_while_postgresql_dies(client, live, events, database_url)
    else:
        answer = await _post_while_sqlite_fills_up(client, live, events, runtime)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"].isdigit()
    assert "nothing of it was stored" in answer.json()["message"]
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}
    again = await client.post(live.events_path, json={"events": events[:10]}, headers=live.account.headers)
    assert again.status_code == 202, again.text
    assert await stored(runtime, live.site_id) == {"visits": 5, "exposures": 0, "conversions": 5}

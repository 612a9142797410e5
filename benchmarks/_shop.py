"""What the tracking benchmarks share: a scratch PostgreSQL database and a shop with a live experiment."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from tests.server import run_cli
from tests.services import PG_URL

HOST = "bench.example"


@dataclass
class Site:
    """The benchmark's site and the ids its events refer to."""

    token: str
    code: str
    site_id: int
    account_id: int
    experiment_id: int
    variation_ids: list[int]
    goal_id: int


def setup(base_url: str, database_url: str) -> Site:
    """An account (CLI), then over HTTP: a token, a site, a goal, an ACTIVE experiment with two variations,
    and its host enabled under Domains."""
    made = run_cli(
        ["accounts", "create", "--name", "Bench", "--email", f"bench-{uuid.uuid4().hex[:8]}@example.com", "--json"],
        env={"VERSICOLOR_DATABASE_URL": database_url},
    )
    assert made.returncode == 0, made.stderr
    account = json.loads(made.stdout)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": account["clientId"],
                "client_secret": account["clientSecret"],
            },
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = http.post(path, json=body)
            assert answer.status_code == 201, answer.text
            created: dict[str, Any] = answer.json()
            return created

        site = post("/sites", {"name": "Bench shop", "url": f"https://{HOST}"})
        goal = post("/goals", {"name": "Purchase", "siteId": site["id"], "type": "CUSTOM"})
        experiment = post(
            "/experiments",
            {
                "name": "Bench",
                "siteId": site["id"],
                "baseURL": f"https://{HOST}/",
                "goals": [goal["id"]],
                "mainGoalId": goal["id"],
            },
        )
        variations = [post("/variations", {"name": f"V{n}", "experimentId": experiment["id"]})["id"] for n in (1, 2)]
        activated = http.patch(f"/experiments/{experiment['id']}", params={"action": "ACTIVATE"})
        assert activated.status_code == 200, activated.text
        # The site's url already authorised its host (docs/domains.md); make sure it is on.
        enabled = http.post("/v3/edit/urls", json={"host": HOST, "enabled": "on"})
        assert enabled.status_code in (201, 409), enabled.text
    return Site(
        token=token,
        code=site["code"],
        site_id=site["id"],
        account_id=account["accountId"],
        experiment_id=experiment["id"],
        variation_ids=variations,
        goal_id=goal["id"],
    )


@contextmanager
def scratch_postgresql() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"versicolor_bench_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(PG_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

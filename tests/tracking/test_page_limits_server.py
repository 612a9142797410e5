"""Anonymous limits hold across worker processes: real `versicolor serve --workers 2` sharing one Redis."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from tests.factories import Factory
from tests.server import serve
from tests.tracking.fixtures import ORIGIN, shop, visit


@pytest.mark.server
async def test_pages_junk_tokens_and_new_hosts_are_limited_exactly_across_workers(
    client: httpx.AsyncClient, factory: Factory, database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    made = await shop(client, factory)
    env = {
        "VERSICOLOR_REDIS_PREFIX": f"{redis_prefix}{uuid.uuid4().hex[:6]}:",
        "VERSICOLOR_PAGE_EVENTS_PER_ADDRESS": "30/1m",
        "VERSICOLOR_PAGE_EVENTS_PER_SITE": "",
        "VERSICOLOR_NEW_HOSTS_PER_SITE": "3/1h",
        "VERSICOLOR_ANONYMOUS_RATE_LIMITS": "10/1m",
    }
    args = ["--workers", "2", "--database-url", database_url, "--redis-url", redis_url]
    with serve(args, log_dir=tmp_path, env=env, ready_timeout=180) as server:
        # No keep-alive: every request may land on either worker.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as http:
            batches = await asyncio.gather(
                *(
                    http.post(
                        made.events_path,
                        json={"events": [visit(f"v{i}") for _ in range(5)]},
                        headers={"Origin": ORIGIN},
                    )
                    for i in range(10)
                )
            )
            forged = await asyncio.gather(
                *(http.get(made.config_path, headers={"Origin": f"https://forged{i}.example"}) for i in range(8))
            )
            junk = await asyncio.gather(
                *(http.get("/sites", headers={"Authorization": f"Bearer junk-{i}"}) for i in range(14))
            )
    assert sorted(b.status_code for b in batches) == [202] * 6 + [429] * 4, server.output()[-3000:]
    assert [f.status_code for f in forged] == [403] * 8
    too_many = [f for f in forged if "too many new hosts" in f.json()["message"]]
    assert len(too_many) == 5
    urls = (await client.get("/v3/edit/urls", params={"limit": 500}, headers=made.account.headers)).json()["urls"]
    assert len([u for u in urls if u["host"].startswith("forged")]) == 3
    assert sorted(j.status_code for j in junk) == [401] * 10 + [429] * 4

"""The Data API in a real `versicolor serve` process: what only a running service does."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.factories import Factory
from tests.server import serve
from tests.tracking.fixtures import ORIGIN, conversion, exposure, shop, stored, visit
from versicolor.runtime import Runtime


@pytest.mark.server
async def test_a_running_service_stores_batches_and_writes_hosts_sightings_on_its_way_out(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    made = await shop(client, factory)
    before = (await client.get(f"/v3/edit/urls/{made.url_id}", headers=made.account.headers)).json()["url"]
    assert before["last_seen_at"] is None
    events = [visit(), exposure(made.experiment_id, made.variation_ids[0]), conversion(made.goal_id, revenue=9)]
    with serve(["--database-url", database_url], log_dir=tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            from_page = await http.post(made.events_path, json={"events": events}, headers={"Origin": ORIGIN})
            assert from_page.status_code == 202, from_page.text
            config = await http.get(made.config_path, headers={"Origin": ORIGIN})
            assert config.status_code == 200
            etag = config.headers["ETag"]
            again = await http.get(made.config_path, headers={"Origin": ORIGIN, "If-None-Match": etag})
            assert again.status_code == 304
    # The server has stopped (SIGTERM): the page's sighting was written on the way out.
    after = (await client.get(f"/v3/edit/urls/{made.url_id}", headers=made.account.headers)).json()["url"]
    assert after["last_seen_at"] is not None
    assert await stored(runtime, made.site_id) == {"visits": 1, "exposures": 1, "conversions": 1}

"""Finding an experiment's visitors as they arrived, and forgetting poisoned ones (docs/tracking.md)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory
from tests.tracking.fixtures import ORIGIN, Shop, conversion, exposure, shop, stored, visit
from versicolor.core.roles import Role
from versicolor.runtime import Runtime

PAGE = {"Origin": ORIGIN}


@pytest.fixture
async def live(client: httpx.AsyncClient, factory: Factory) -> Shop:
    return await shop(client, factory)


async def _send(client: httpx.AsyncClient, live: Shop, visitor: str, revenue: float | None = None) -> None:
    events = [visit(visitor), exposure(live.experiment_id, live.variation_ids[0], visitor)]
    if revenue is not None:
        events.append(conversion(live.goal_id, visitor, revenue=revenue))
    answer = await client.post(live.events_path, json={"events": events}, headers=PAGE)
    assert answer.status_code == 202, answer.text


async def test_poisoned_visitors_stand_out_and_are_forgotten_from_reports(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    await _send(client, live, "real-1", revenue=20)
    await _send(client, live, "real-2")
    for i in range(3):
        await _send(client, live, f"forged-{i}", revenue=900_000)
    path = f"/data/v1/sites/{live.code}/visitors"
    listed = await client.get(path, params={"experimentId": live.experiment_id}, headers=live.account.headers)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["visitors"]
    assert [r["visitorCode"] for r in rows][:3] == ["forged-2", "forged-1", "forged-0"]
    assert [r["visitorCode"] for r in rows][3:] == ["real-1", "real-2"]
    assert rows[0]["revenue"] == 900_000 and rows[0]["conversions"] == 1 and rows[4]["revenue"] is None
    window = await client.get(
        path,
        params={"experimentId": live.experiment_id, "receivedAfter": rows[0]["receivedAt"], "limit": 1},
        headers=live.account.headers,
    )
    assert [r["visitorCode"] for r in window.json()["visitors"]] == ["forged-2"]

    forgotten = await client.post(
        f"{path}/forget",
        json={"visitorCodes": ["forged-0", "forged-1", "forged-2", "nobody"]},
        headers=live.account.headers,
    )
    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json() == {"visitors": 4, "visits": 3, "exposures": 3, "conversions": 3}
    assert await stored(runtime, live.site_id) == {"visits": 2, "exposures": 2, "conversions": 1}
    report = await client.post(
        f"/experiments/{live.experiment_id}/results", json={"goalsIds": [live.goal_id]}, headers=live.account.headers
    )
    assert report.status_code == 200, report.text
    answer = await client.get("/results", params={"dataCode": report.json()["dataCode"]}, headers=live.account.headers)
    data = answer.json()["data"]["variationData"][str(live.variation_ids[0])]["breakdownData"]["_reference"]
    assert data["generalData"]["visitorCount"] == 2
    assert data["generalData"]["goalsData"][str(live.goal_id)]["revenueCount"] == 20


async def test_listing_and_forgetting_refuse_what_they_cannot_take(
    client: httpx.AsyncClient, live: Shop, factory: Factory
) -> None:
    path = f"/data/v1/sites/{live.code}/visitors"
    headers = live.account.headers
    other = await factory.account()
    viewer = await factory.member(live.account, Role.VIEWER)
    cases = [
        (await client.get(path, headers=headers), 400),  # experimentId missing
        (await client.get(path, params={"experimentId": 999999}, headers=headers), 404),
        (await client.get(path, params={"experimentId": 2**70}, headers=headers), 400),  # was a 500 (fuzz stage)
        (
            await client.get(
                path, params={"experimentId": live.experiment_id, "receivedAfter": "yesterday"}, headers=headers
            ),
            400,
        ),
        (await client.get(path, params={"experimentId": live.experiment_id, "limit": 5000}, headers=headers), 400),
        (await client.get(path, params={"experimentId": live.experiment_id}, headers=PAGE), 401),
        (await client.get(path, params={"experimentId": live.experiment_id}, headers=other.headers), 404),
        (await client.post(f"{path}/forget", json={"visitorCodes": []}, headers=headers), 400),
        (await client.post(f"{path}/forget", json={"visitorCodes": [""]}, headers=headers), 400),
        (await client.post(f"{path}/forget", json={"codes": ["a"]}, headers=headers), 400),
        (
            await client.post(f"{path}/forget", content=b"{", headers={**headers, "Content-Type": "application/json"}),
            400,
        ),
        (await client.post(f"{path}/forget", json={"visitorCodes": ["a"] * 1001}, headers=headers), 400),
        (await client.post(f"{path}/forget", json={"visitorCodes": ["a"]}, headers=viewer.headers), 403),
        (await client.post(f"{path}/forget", json={"visitorCodes": ["a"]}, headers=other.headers), 404),
        (await client.post(f"{path}/forget", json={"visitorCodes": ["a"]}, headers=PAGE), 401),
    ]
    assert [answer.status_code for answer, _ in cases] == [status for _, status in cases], [a.text for a, _ in cases]
    assert cases[2][0].json()["details"][0]["field"] == "experimentId"
    assert "receivedAfter" in cases[3][0].json()["details"][0]["field"]

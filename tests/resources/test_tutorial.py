"""The Automation API's "Create an experiment" tutorial, end to end over real HTTP against a `versicolor serve` process.

token -> site by code -> experiment -> JavaScript in its first variation -> segment -> goal -> update -> launch ->
pause -> resume -> stop -> delete, each step as a script written against the public service would send it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.server import Server

VARIATION_JS = """// Make the call to action stand out.
const button = document.querySelector("#checkout");
if (button) { button.style.background = "#2e7d32"; button.textContent = "Buy now \u2192"; }
"""


def expect(answer: httpx.Response, status: int) -> Any:
    assert answer.status_code == status, f"{answer.request.method} {answer.request.url}: {answer.text}"
    return answer.json() if answer.content else None


@pytest.mark.server
async def test_create_an_experiment_tutorial(factory: Factory, live_server: Server) -> None:
    account = await factory.account()
    credentials = {"client_id": account.admin.client_id, "client_secret": account.admin.client_secret}
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        # 1. Obtain an access token (client credentials flow).
        token = expect(
            await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", **credentials},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            200,
        )
        assert token["token_type"] == "Bearer"
        http.headers.update({"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"})

        # 2. Find the site (project) by its code: the API works with numeric ids.
        code = expect(await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}), 201)["code"]
        site = expect(await http.get(f"/sites/byCode/{code}"), 200)
        site_id = site["id"]

        # 3. Create the experiment.
        experiment = expect(
            await http.post(
                "/experiments",
                json={"name": "Checkout button colour", "siteId": site_id, "baseURL": "https://shop.example/cart"},
            ),
            201,
        )
        experiment_id = experiment["id"]
        assert experiment["status"] == "DRAFT"

        # 4. Push JavaScript into the variation the new experiment came with.
        (first,) = experiment["variations"]
        variation = expect(
            await http.patch(f"/variations/{first}", json={"name": "Green button", "jsCode": VARIATION_JS}),
            200,
        )
        assert variation["jsCode"] == VARIATION_JS and variation["experimentId"] == experiment_id
        assert expect(await http.get(f"/experiments/{experiment_id}"), 200)["variations"] == [variation["id"]]

        # 5. Create a segment to target.
        segment = expect(
            await http.post(
                "/segments",
                json={
                    "name": "Desktop visitors",
                    "siteId": site_id,
                    "conditionsData": {
                        "firstLevel": [
                            {"conditions": [{"targetingType": "DEVICE_TYPE", "include": True, "value": ["DESKTOP"]}]}
                        ]
                    },
                },
            ),
            201,
        )

        # 6. Create the goal to measure.
        goal = expect(
            await http.post(
                "/goals",
                json={
                    "name": "Order confirmed",
                    "siteId": site_id,
                    "type": "URL",
                    "params": {"matchString": "/order/confirmation", "matchType": "CONTAINS"},
                },
            ),
            201,
        )

        # 7. Update the experiment: goals, main goal, targeting and traffic split.
        split = {"origin": 0.5, str(variation["id"]): 0.5}
        updated = expect(
            await http.patch(
                f"/experiments/{experiment_id}",
                params={"optionalFields": "goals"},
                json={
                    "goals": [goal["id"]],
                    "mainGoalId": goal["id"],
                    "targetingSegmentId": segment["id"],
                    "deviations": split,
                },
            ),
            200,
        )
        assert updated["goals"] == [goal["id"]] and updated["mainGoalId"] == goal["id"]
        assert updated["targetingSegmentId"] == segment["id"] and updated["deviations"] == split

        # 8-11. Launch, pause, resume, stop.
        steps = [("ACTIVATE", "ACTIVE"), ("PAUSE", "PAUSED"), ("RESUME", "ACTIVE"), ("STOP", "STOPPED")]
        for action, status in steps:
            moved = expect(await http.patch(f"/experiments/{experiment_id}", params={"action": action}), 200)
            assert moved["status"] == status, action
        stopped = expect(await http.get(f"/experiments/{experiment_id}"), 200)
        assert stopped["dateStarted"] is not None and stopped["dateEnded"] is not None
        assert stopped["dateStarted"] <= stopped["dateEnded"]

        # A segment still targeted by an experiment cannot be deleted.
        expect(await http.delete(f"/segments/{segment['id']}"), 409)

        # 12. Delete the experiment; its variation goes with it.
        expect(await http.delete(f"/experiments/{experiment_id}"), 204)
        expect(await http.get(f"/experiments/{experiment_id}"), 404)
        expect(await http.get(f"/variations/{variation['id']}"), 404)
        listed = expect(await http.get("/experiments"), 200)
        assert experiment_id not in [e["id"] for e in listed]

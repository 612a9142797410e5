"""Kameleoon's `/personalizations` as an agency's public gulp toolkit calls it, call for call, against a real server.

Source (read, not copied; the requests are rebuilt here from what each task sends): a public gulp toolkit for
Kameleoon projects, found with the code search by its functions. Its `create` task (`createNewPersonalization`,
`updatePersonalization`) makes a project's goals and personalization; its `deploy` task (`getPersonalizationUrl`,
`deployPersonalization`, `deployTargeting`) reads the personalization, writes its code back in the whole object
with PATCH, and gives it a JavaScript targeting segment. Only the base URL differs from what it sends to
api.kameleoon.com.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import TestAccount
from tests.server import Server

pytestmark = pytest.mark.server


async def _token(http: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    # getAccessToken: client credentials as a form.
    answer = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        },
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}", "Content-Type": "application/json"}


async def _ok(answer: httpx.Response) -> Any:
    # apiJson: anything but a 2xx with JSON stops the task.
    assert answer.is_success, answer.text
    return answer.json()


async def test_the_toolkit_creates_deploys_and_targets_a_personalization(
    versicolor: Server, account: TestAccount
) -> None:
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=30) as http:
        auth = await _token(http, account)
        made_site = await _ok(
            await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=auth)
        )
        # create: getSiteByCode, then the config's goals, then the personalization, then its goals.
        site = await _ok(await http.get(f"/sites/byCode/{made_site['code']}", headers=auth))
        goals = [
            await _ok(
                await http.post(
                    "/goals",
                    json={"name": name, "siteId": site["id"], "type": "CUSTOM", "hasMultipleConversions": True},
                    headers=auth,
                )
            )
            for name in ("add to cart", "purchase")
        ]
        created = await _ok(
            await http.post("/personalizations", json={"siteId": site["id"], "name": "Free shipping"}, headers=auth)
        )
        assert created["id"] and created["name"] == "Free shipping"
        goal_ids = [g["id"] for g in goals]
        await _ok(
            await http.patch(
                f"/personalizations/{created['id']}", json={"goals": goal_ids, "mainGoalId": goal_ids[0]}, headers=auth
            )
        )

        # deploy: the personalization with its goals, its code compared, then the whole object written back.
        url = f"/personalizations/{created['id']}?optionalFields=goals"
        platform = await _ok(await http.get(url, headers=auth))
        assert platform["goals"] == goal_ids and platform["mainGoalId"] == goal_ids[0]
        assert platform["status"] != "active", "not live: the toolkit deploys without --force-live"
        assert platform["cssCode"] is None and platform["javaScriptCode"] is None
        platform["javaScriptCode"] = "document.body.classList.add('free-shipping');\n"
        platform["cssCode"] = ".free-shipping .banner { display: block; }\n"
        deployed = await _ok(await http.patch(url, json=platform, headers=auth))
        assert deployed["javaScriptCode"] == platform["javaScriptCode"]
        assert deployed["cssCode"] == platform["cssCode"]

        # deploy --targeting: no targeting segment yet, so a JS_CODE segment is made and the personalization
        # patched, whole, to point at it.
        actual = await _ok(await http.get(url, headers=auth))
        assert actual["targetingSegmentId"] is None
        segment = await _ok(
            await http.post(
                "/segments",
                json={
                    "name": actual["name"],
                    "siteId": actual["siteId"],
                    "audienceTracking": False,
                    "audienceTrackingEditable": False,
                    "isFavorite": False,
                    "conditionsData": {
                        "firstLevelOrOperators": [False],
                        "firstLevel": [
                            {
                                "conditions": [
                                    {"targetingType": "JS_CODE", "jsCode": "return true;", "applied": "IMMEDIATE"}
                                ]
                            }
                        ],
                    },
                },
                headers=auth,
            )
        )
        actual["targetingSegmentId"] = segment["id"]
        actual["targetingConfiguration"] = "SAVED_TEMPLATE"
        targeted = await _ok(await http.patch(url, json=actual, headers=auth))
        assert targeted["targetingSegmentId"] == segment["id"]
        assert targeted["targetingConfiguration"] == "SAVED_TEMPLATE"
        assert targeted["goals"] == goal_ids, "the whole object went back: nothing was lost"
        live = await _ok(await http.patch(f"/personalizations/{created['id']}?action=ACTIVATE", headers=auth))
        assert live["status"] == "ACTIVE"

"""Kameleoon's `/personalizations` as an agency's public gulp toolkit calls it, call for call, against a real server.

Source (read, not copied; the requests are rebuilt here from what each run sends): kamalOptiPhoenix/kam-Inchcape,
gulp-tasks/create.js and gulp-tasks/deploy.js (the deploy task is replayed for experiments in
test_gulp_deploy_toolkit.py). Every run gets a token first (client credentials as a form).

- `gulp create` on a personalizations folder: `GET /sites/byCode/{code}`, one `POST /goals` per goal of the
  project's config, `POST /personalizations` with `{siteId, name}`, then `PATCH /personalizations/{id}` with
  `{goals, mainGoalId}`. Every call of this task sends `Content-Type: application/json`, GETs too (`apiJson`
  with `authHeaders`), and stops at the first answer that is not a 2xx with JSON.
- `gulp deploy` of the personalization's code (`deployPersonalization`):
  `GET /personalizations/{id}?optionalFields=goals`, its `javaScriptCode` and `cssCode` set, the whole object
  `PATCH`ed to the same URL.
- `gulp deploy --targeting` (`deployTargeting`): the personalization read; without a targeting segment, a
  `JS_CODE` segment is made and the personalization `PATCH`ed whole with it and `SAVED_TEMPLATE`.

Only the base URL differs from what the toolkit sends to api.kameleoon.com.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.compat.conftest import bearer
from tests.factories import TestAccount
from tests.server import Server

pytestmark = pytest.mark.server

JSON = {"Content-Type": "application/json"}


async def _ok(answer: httpx.Response) -> Any:
    # apiJson (create) and the deploy task: anything but a 2xx with JSON stops the run.
    assert answer.is_success, answer.text
    return answer.json()


async def test_the_toolkit_creates_deploys_and_targets_a_personalization(
    versicolor: Server, account: TestAccount
) -> None:
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=30) as http:
        # What the toolkit's user has beforehand: a site, whose code names the project's folder.
        made_site = await _ok(
            await http.post(
                "/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=await bearer(http, account)
            )
        )

        # gulp create --path <client>/<siteCode>-shop/personalizations/<name>
        create = {**await bearer(http, account), **JSON}
        site = await _ok(await http.get(f"/sites/byCode/{made_site['code']}", headers=create))
        goals = [
            await _ok(
                await http.post(
                    "/goals",
                    json={"name": name, "siteId": site["id"], "type": "CUSTOM", "hasMultipleConversions": True},
                    headers=create,
                )
            )
            for name in ("add to cart", "purchase")
        ]
        created = await _ok(
            await http.post("/personalizations", json={"siteId": site["id"], "name": "Free shipping"}, headers=create)
        )
        assert created["id"] and created["name"] == "Free shipping"
        goal_ids = [g["id"] for g in goals]
        await _ok(
            await http.patch(
                f"/personalizations/{created['id']}",
                json={"goals": goal_ids, "mainGoalId": goal_ids[0]},
                headers=create,
            )
        )

        # gulp deploy of the personalization's code: read with its goals, code compared, the whole object back.
        url = f"/personalizations/{created['id']}?optionalFields=goals"
        auth = await bearer(http, account)
        platform = await _ok(await http.get(url, headers=auth))
        assert platform["goals"] == goal_ids and platform["mainGoalId"] == goal_ids[0]
        assert platform["status"] != "active", "not live: the toolkit deploys without --force-live"
        assert platform["cssCode"] is None and platform["javaScriptCode"] is None
        platform["javaScriptCode"] = "document.body.classList.add('free-shipping');\n"
        platform["cssCode"] = ".free-shipping .banner { display: block; }\n"
        deployed = await _ok(await http.patch(url, json=platform, headers={**auth, **JSON}))
        assert deployed["javaScriptCode"] == platform["javaScriptCode"]
        assert deployed["cssCode"] == platform["cssCode"]

        # gulp deploy --targeting: no targeting segment yet, so a JS_CODE segment is made and the personalization
        # patched, whole, to point at it.
        auth = await bearer(http, account)
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
                headers={**auth, **JSON},
            )
        )
        actual["targetingSegmentId"] = segment["id"]
        actual["targetingConfiguration"] = "SAVED_TEMPLATE"
        targeted = await _ok(await http.patch(url, json=actual, headers={**auth, **JSON}))
        assert targeted["targetingSegmentId"] == segment["id"]
        assert targeted["targetingConfiguration"] == "SAVED_TEMPLATE"
        assert targeted["goals"] == goal_ids, "the whole object went back: nothing was lost"
        assert targeted["javaScriptCode"] == platform["javaScriptCode"]

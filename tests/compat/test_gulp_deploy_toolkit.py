"""An agency's gulp deploy task for Kameleoon, replayed call for call with only the base URL changed.

Source: a public gulp toolkit's deploy task (`deploy.js` beside its `build.js`; found with the code search by
its `getConditionSegmentURL`/`deployCodeToPlatform` functions). It reads an object, changes its code fields
and writes the whole object back: PUT for sites and variations, PATCH for an experiment's common code and
targeting, PUT for one segment condition.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount

JSON = {"Content-Type": "application/json"}


async def _project(http: httpx.AsyncClient, auth: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], int]:
    # What the toolkit's user made in the back office beforehand: a site and an experiment.
    site = (await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=auth)).json()
    experiment = await http.post(
        "/experiments", json={"name": "Hero", "siteId": site["id"], "baseURL": "https://shop.example/"}, headers=auth
    )
    assert experiment.status_code == 201, experiment.text
    # The experiment comes with its first variation, as in Kameleoon: the toolkit deploys into that one.
    (variation_id,) = experiment.json()["variations"]
    return site, experiment.json(), variation_id


async def test_deploys_global_common_variation_and_targeting_code(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    auth = await bearer(http, account)
    site, experiment, variation_id = await _project(http, auth)
    experiment_url = f"/experiments/{experiment['id']}?optionalFields=goals"

    # deployGlobal: the site by its code, its trackingScript replaced, the whole site PUT back.
    found = await http.get(f"/sites/byCode/{site['code']}", headers=auth)
    assert found.status_code == 200, found.text
    global_site = found.json()
    global_site["trackingScript"] = "window.kGlobal = 1;"
    put = await http.put(f"/sites/{global_site['id']}", json=global_site, headers={**auth, **JSON})
    assert put.status_code == 200, put.text
    assert put.json()["trackingScript"] == "window.kGlobal = 1;"

    # deployCommon: the experiment with its goals, common code set, the whole experiment PATCHed back.
    platform = (await http.get(experiment_url, headers=auth)).json()
    platform["commonJavaScriptCode"] = "window.kCommon = 1;"
    platform["commonCssCode"] = ".hero { color: red; }"
    patched = await http.patch(experiment_url, json=platform, headers={**auth, **JSON})
    assert patched.status_code == 200, patched.text
    assert patched.json()["commonCssCode"] == ".hero { color: red; }"

    # deployVariation: the experiment read first, then the variation, its code set, the whole variation PUT.
    assert (await http.get(experiment_url, headers=auth)).status_code == 200
    variation = (await http.get(f"/variations/{variation_id}", headers=auth)).json()
    variation["jsCode"] = "document.title = 'B';"
    variation["cssCode"] = "body { margin: 0; }"
    put = await http.put(f"/variations/{variation_id}", json=variation, headers={**auth, **JSON})
    assert put.status_code == 200, put.text
    assert put.json()["jsCode"] == "document.title = 'B';"

    # deployTargeting, first time: no segment yet, so a JS_CODE segment is made and the experiment PATCHed
    # whole with it and targetingConfiguration SAVED_TEMPLATE.
    platform = (await http.get(experiment_url, headers=auth)).json()
    assert platform["targetingSegmentId"] is None
    segment = await http.post(
        "/segments",
        json={
            "name": platform["name"],
            "siteId": platform["siteId"],
            "audienceTracking": False,
            "audienceTrackingEditable": False,
            "isFavorite": False,
            "conditionsData": {
                "firstLevelOrOperators": [False],
                "firstLevel": [
                    {"conditions": [{"targetingType": "JS_CODE", "jsCode": "return true;", "applied": "IMMEDIATE"}]}
                ],
            },
        },
        headers={**auth, **JSON},
    )
    assert segment.status_code == 201, segment.text
    platform["targetingSegmentId"] = segment.json()["id"]
    platform["targetingConfiguration"] = "SAVED_TEMPLATE"
    patched = await http.patch(experiment_url, json=platform, headers={**auth, **JSON})
    assert patched.status_code == 200, patched.text
    assert patched.json()["targetingConfiguration"] == "SAVED_TEMPLATE"

    # deployTargeting, next time: the segment's JS_CODE condition replaced in place by its id.
    platform = (await http.get(experiment_url, headers=auth)).json()
    current = (await http.get(f"/segments/{platform['targetingSegmentId']}", headers=auth)).json()
    condition = next(
        c for c in current["conditionsData"]["firstLevel"][0]["conditions"] if c["targetingType"] == "JS_CODE"
    )
    put = await http.put(
        f"/segments/{current['id']}/conditions/{condition['id']}",
        json={"targetingType": "JS_CODE", "id": condition["id"], "jsCode": "return window.ok === true;"},
        headers={**auth, **JSON},
    )
    assert put.status_code == 200, put.text
    conditions = put.json()["conditionsData"]["firstLevel"][0]["conditions"]
    assert [c["jsCode"] for c in conditions] == ["return window.ok === true;"]


async def test_an_echo_changed_by_hand_is_refused_naming_it(kameleoon: tuple[httpx.AsyncClient, TestAccount]) -> None:
    http, account = kameleoon
    auth = await bearer(http, account)
    site, experiment, _ = await _project(http, auth)
    got = (await http.get(f"/sites/byCode/{site['code']}", headers=auth)).json()
    refused = await http.put(f"/sites/{got['id']}", json={**got, "code": "zzzzzzzzzz"}, headers=auth)
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "code", refused.text
    platform = (await http.get(f"/experiments/{experiment['id']}", headers=auth)).json()
    refused = await http.patch(
        f"/experiments/{experiment['id']}", json={**platform, "siteCode": "zzzzzzzzzz"}, headers=auth
    )
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "siteCode", refused.text
    other = await http.patch(f"/experiments/{experiment['id']}", json={**platform, "typo": 1}, headers=auth)
    assert other.status_code == 400 and "typo" in other.text

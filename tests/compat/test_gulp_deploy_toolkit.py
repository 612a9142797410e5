"""An agency's gulp deploy task for Kameleoon, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each run sends): kamalOptiPhoenix/kam-Inchcape,
gulp-tasks/deploy.js, a fork of the deploy task of Kameleoon's own Git integration template (Kameleoon/dev-template,
gulp-tasks/deploy.js, replayed in test_kameleoon_dev_template.py). Every `gulp deploy` run gets a token first
(`getAccessToken`: client credentials as a form), then:

- `--global` (`deployGlobal`): `GET /sites/byCode/{code}`, its `trackingScript` replaced, the whole site `PUT`;
- `--common` (`deployCommon`): `GET /experiments/{id}?optionalFields=goals`, its common code set, the whole
  experiment `PATCH`ed to the same URL;
- `--variation-id` (`deployVariation`): the experiment read first, then `GET /variations/{id}`, its code set,
  the whole variation `PUT`;
- `--targeting` (`deployTargeting`): the experiment read; without a targeting segment, a `JS_CODE` segment is
  made (`createNewSegment`) and the experiment `PATCH`ed whole with it and `SAVED_TEMPLATE`; with one, the
  segment is read and its `JS_CODE` condition replaced in place (`updateTargetingSegment`:
  `PUT /segments/{id}/conditions/{conditionId}`), or, when it has none, one is appended to its first group with
  an AND and the whole segment `PUT` back.

GETs carry only `Authorization`; writes add `Content-Type: application/json` (`deployCodeToPlatform`).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount

JSON = {"Content-Type": "application/json"}


async def _platform(http: httpx.AsyncClient, url: str, auth: dict[str, str]) -> Any:
    """`getActualPlatformData`: anything but a 2xx stops the run."""
    answer = await http.get(url, headers=auth)
    assert answer.is_success, answer.text
    return answer.json()


async def _deploy(http: httpx.AsyncClient, method: str, url: str, body: Any, auth: dict[str, str]) -> Any:
    """`deployCodeToPlatform`: PATCH for common code and for a patch request, PUT otherwise."""
    answer = await http.request(method, url, json=body, headers={**auth, **JSON})
    assert answer.is_success, answer.text
    return answer.json()


def _js_code_segment(name: str, site_id: int, code: str) -> dict[str, Any]:
    """`createNewSegment`'s body: one group holding one `JS_CODE` condition."""
    return {
        "name": name,
        "siteId": site_id,
        "audienceTracking": False,
        "audienceTrackingEditable": False,
        "isFavorite": False,
        "conditionsData": {
            "firstLevelOrOperators": [False],
            "firstLevel": [{"conditions": [{"targetingType": "JS_CODE", "jsCode": code, "applied": "IMMEDIATE"}]}],
        },
    }


async def _project(http: httpx.AsyncClient, account: TestAccount) -> tuple[dict[str, Any], dict[str, Any], int]:
    # What the toolkit's user made in the back office beforehand: a site and an experiment.
    auth = await bearer(http, account)
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
    site, experiment, variation_id = await _project(http, account)
    experiment_url = f"/experiments/{experiment['id']}?optionalFields=goals"

    # gulp deploy --global
    auth = await bearer(http, account)
    global_site = await _platform(http, f"/sites/byCode/{site['code']}", auth)
    assert global_site["trackingScript"] is None, "nothing deployed yet: the platform and _deployed agree"
    global_site["trackingScript"] = "window.kGlobal = 1;"
    deployed = await _deploy(http, "PUT", f"/sites/{global_site['id']}", global_site, auth)
    assert deployed["trackingScript"] == "window.kGlobal = 1;"

    # gulp deploy --common
    auth = await bearer(http, account)
    platform = await _platform(http, experiment_url, auth)
    platform["commonJavaScriptCode"] = "window.kCommon = 1;"
    platform["commonCssCode"] = ".hero { color: red; }"
    deployed = await _deploy(http, "PATCH", experiment_url, platform, auth)
    assert deployed["commonCssCode"] == ".hero { color: red; }"

    # gulp deploy --variation-id
    auth = await bearer(http, account)
    await _platform(http, experiment_url, auth)
    variation = await _platform(http, f"/variations/{variation_id}", auth)
    assert variation["jsCode"] is None and variation["cssCode"] is None
    variation["jsCode"] = "document.title = 'B';"
    variation["cssCode"] = "body { margin: 0; }"
    deployed = await _deploy(http, "PUT", f"/variations/{variation_id}", variation, auth)
    assert deployed["jsCode"] == "document.title = 'B';"

    # gulp deploy --targeting, first time: no segment yet.
    auth = await bearer(http, account)
    platform = await _platform(http, experiment_url, auth)
    assert platform["targetingSegmentId"] is None
    made = await http.post(
        "/segments",
        json=_js_code_segment(platform["name"], platform["siteId"], "return true;"),
        headers={**auth, **JSON},
    )
    assert made.is_success, made.text
    platform["targetingSegmentId"] = made.json()["id"]
    platform["targetingConfiguration"] = "SAVED_TEMPLATE"
    deployed = await _deploy(http, "PATCH", experiment_url, platform, auth)
    assert deployed["targetingConfiguration"] == "SAVED_TEMPLATE"
    assert deployed["commonJavaScriptCode"] == "window.kCommon = 1;", "the whole object went back"

    # gulp deploy --targeting, next time: the segment's JS_CODE condition replaced in place by its id.
    auth = await bearer(http, account)
    platform = await _platform(http, experiment_url, auth)
    current = await _platform(http, f"/segments/{platform['targetingSegmentId']}", auth)
    condition = next(
        c for c in current["conditionsData"]["firstLevel"][0]["conditions"] if c["targetingType"] == "JS_CODE"
    )
    assert condition["jsCode"] == "return true;", "the platform still holds what was deployed"
    deployed = await _deploy(
        http,
        "PUT",
        f"/segments/{current['id']}/conditions/{condition['id']}",
        {"targetingType": "JS_CODE", "id": condition["id"], "jsCode": "return window.ok === true;"},
        auth,
    )
    conditions = deployed["conditionsData"]["firstLevel"][0]["conditions"]
    assert [c["jsCode"] for c in conditions] == ["return window.ok === true;"]


async def test_targeting_appends_a_js_condition_to_a_segment_made_in_the_back_office(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    site, experiment, _ = await _project(http, account)
    experiment_url = f"/experiments/{experiment['id']}?optionalFields=goals"
    # The experiment already targets a segment someone made by hand: returning visitors on a phone.
    owner = await bearer(http, account)
    by_hand = await http.post(
        "/segments",
        json={
            "name": "Returning phones",
            "siteId": site["id"],
            "conditionsData": {
                "firstLevel": [
                    {
                        "conditions": [
                            {"targetingType": "NEW_VISITORS", "visitorType": "RETURNING"},
                            {"targetingType": "DEVICE_TYPE", "device": "PHONE"},
                        ],
                        "orOperators": [False],
                    }
                ]
            },
        },
        headers=owner,
    )
    assert by_hand.status_code == 201, by_hand.text
    targeted = await http.patch(
        f"/experiments/{experiment['id']}", json={"targetingSegmentId": by_hand.json()["id"]}, headers=owner
    )
    assert targeted.status_code == 200, targeted.text

    # gulp deploy --targeting: the segment has no JS_CODE condition, so one is appended to its first group, with
    # an AND before it, and the whole segment is PUT back.
    auth = await bearer(http, account)
    platform = await _platform(http, experiment_url, auth)
    segment = await _platform(http, f"/segments/{platform['targetingSegmentId']}", auth)
    group = segment["conditionsData"]["firstLevel"][0]
    assert all(c["targetingType"] != "JS_CODE" for c in group["conditions"])
    group["conditions"].append({"targetingType": "JS_CODE", "jsCode": "return true;", "applied": "IMMEDIATE"})
    group["orOperators"].append(False)
    deployed = await _deploy(http, "PUT", f"/segments/{segment['id']}", segment, auth)
    conditions = deployed["conditionsData"]["firstLevel"][0]["conditions"]
    assert [c["targetingType"] for c in conditions] == ["NEW_VISITORS", "DEVICE_TYPE", "JS_CODE"]
    assert deployed["conditionsData"]["firstLevel"][0]["orOperators"] == [False, False]
    # The next run finds that condition by its id and replaces it in place.
    appended = conditions[2]
    auth = await bearer(http, account)
    await _platform(http, experiment_url, auth)
    again = await _platform(http, f"/segments/{segment['id']}", auth)
    assert (
        next(c for c in again["conditionsData"]["firstLevel"][0]["conditions"] if c["targetingType"] == "JS_CODE")["id"]
        == appended["id"]
    )
    replaced = await _deploy(
        http,
        "PUT",
        f"/segments/{segment['id']}/conditions/{appended['id']}",
        {"targetingType": "JS_CODE", "id": appended["id"], "jsCode": "return 1;"},
        auth,
    )
    assert [c.get("jsCode") for c in replaced["conditionsData"]["firstLevel"][0]["conditions"]] == [
        None,
        None,
        "return 1;",
    ]


async def test_an_echo_changed_by_hand_is_refused_naming_it(kameleoon: tuple[httpx.AsyncClient, TestAccount]) -> None:
    http, account = kameleoon
    auth = await bearer(http, account)
    site, experiment, _ = await _project(http, account)
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

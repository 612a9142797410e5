"""The deploy task of Kameleoon's own Git integration template, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each run sends): Kameleoon/dev-template,
gulp-tasks/deploy.js (its readme points to Kameleoon's Git integration guide). An agency's fork of it is replayed in
test_gulp_deploy_toolkit.py; this one differs in what it reads:

- the token form is written out by hand (`grant_type=...&client_id=...&client_secret=...`, nothing encoded);
- `--global` (`deployGlobal`) lists the sites (`GET /sites`, one page), takes the one with the code, sets its
  `trackingScript` and `PUT`s that list entry back as the whole site;
- experiments and personalizations are read without `optionalFields` (`GET /experiments/{id}`,
  `GET /personalizations/{id}`) and written back whole to the same URL;
- a run without flags deploys every variation file and the common code at once (`deployExperiment`, its
  requests in flight together).

GETs carry only `Authorization`; writes add `Content-Type: application/json`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount

JSON = {"Content-Type": "application/json"}


async def _token(http: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    """`getAccessToken`, at the start of every run."""
    body = (
        f"grant_type=client_credentials&client_id={account.admin.client_id}&client_secret={account.admin.client_secret}"
    )
    answer = await http.post(
        "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _platform(http: httpx.AsyncClient, url: str, auth: dict[str, str]) -> Any:
    """`getActualPlatformData`: anything but a 2xx stops the run."""
    answer = await http.get(url, headers=auth)
    assert answer.is_success, answer.text
    return answer.json()


async def _deploy(http: httpx.AsyncClient, method: str, url: str, body: Any, auth: dict[str, str]) -> Any:
    """`deployCodeToPlatform`."""
    answer = await http.request(method, url, json=body, headers={**auth, **JSON})
    assert answer.is_success, answer.text
    return answer.json()


async def _deploy_variation(
    http: httpx.AsyncClient, experiment_url: str, variation_id: int, js: str, css: str, auth: dict[str, str]
) -> Any:
    """`deployVariation`: the experiment read, then the variation, its code set, the whole variation PUT."""
    await _platform(http, experiment_url, auth)
    variation = await _platform(http, f"/variations/{variation_id}", auth)
    variation["jsCode"], variation["cssCode"] = js, css
    return await _deploy(http, "PUT", f"/variations/{variation_id}", variation, auth)


async def _deploy_common(http: httpx.AsyncClient, experiment_url: str, js: str, css: str, auth: dict[str, str]) -> Any:
    """`deployCommon`: the experiment read, its common code set, the whole experiment PATCHed."""
    experiment = await _platform(http, experiment_url, auth)
    experiment["commonJavaScriptCode"], experiment["commonCssCode"] = js, css
    return await _deploy(http, "PATCH", experiment_url, experiment, auth)


async def test_the_template_deploys_global_experiment_targeting_and_personalization_code(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    # The account as the template's folders describe it: two sites, an experiment with two variations, a
    # personalization, made in the back office.
    owner = await bearer(http, account)
    sites = []
    for name, url in (("Example", "https://www.example.com"), ("Another", "https://another.example.com")):
        made = await http.post("/sites", json={"name": name, "url": url}, headers=owner)
        assert made.status_code == 201, made.text
        sites.append(made.json())
    site = sites[1]
    experiment = await http.post(
        "/experiments", json={"name": "Name of experiment", "siteId": site["id"], "baseURL": site["url"]}, headers=owner
    )
    assert experiment.status_code == 201, experiment.text
    first = experiment.json()["variations"][0]
    second = await http.post(
        "/variations", json={"name": "Other variation", "experimentId": experiment.json()["id"]}, headers=owner
    )
    personalization = await http.post(
        "/personalizations", json={"name": "Name of personalization", "siteId": site["id"]}, headers=owner
    )
    assert second.status_code == 201 and personalization.status_code == 201, (second.text, personalization.text)
    experiment_url = f"/experiments/{experiment.json()['id']}"

    # gulp deploy --sitecode <code> --global
    auth = await _token(http, account)
    listed = await _platform(http, "/sites", auth)
    entry = next(s for s in listed if s["code"] == site["code"])
    entry["trackingScript"] = "window.kameleoonGlobal = true;"
    deployed = await _deploy(http, "PUT", f"/sites/{entry['id']}", entry, auth)
    assert deployed["trackingScript"] == "window.kameleoonGlobal = true;" and deployed["name"] == "Another"

    # gulp deploy --sitecode <code> --experiment-id <id>: every variation and the common code at once.
    auth = await _token(http, account)
    results = await asyncio.gather(
        _deploy_variation(http, experiment_url, first, "console.log('first');", ".first{}", auth),
        _deploy_variation(http, experiment_url, second.json()["id"], "console.log('second');", ".second{}", auth),
        _deploy_common(http, experiment_url, "window.common = 1;", ".common{}", auth),
    )
    assert [r.get("jsCode", r.get("commonJavaScriptCode")) for r in results] == [
        "console.log('first');",
        "console.log('second');",
        "window.common = 1;",
    ]

    # gulp deploy --experiment-id <id> --targeting: no segment yet, so one is made and the experiment PATCHed.
    auth = await _token(http, account)
    platform = await _platform(http, experiment_url, auth)
    assert platform["targetingSegmentId"] is None
    segment = await _deploy(
        http,
        "POST",
        "/segments",
        {
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
        auth,
    )
    platform["targetingSegmentId"] = segment["id"]
    platform["targetingConfiguration"] = "SAVED_TEMPLATE"
    targeted = await _deploy(http, "PATCH", experiment_url, platform, auth)
    assert targeted["targetingSegmentId"] == segment["id"]
    assert targeted["commonJavaScriptCode"] == "window.common = 1;", "the whole object went back"

    # gulp deploy --personalization-id <id> --variation-id <id>: read, code set, the whole object PATCHed.
    auth = await _token(http, account)
    persona_url = f"/personalizations/{personalization.json()['id']}"
    platform = await _platform(http, persona_url, auth)
    platform["javaScriptCode"] = "console.log('personalized');"
    platform["cssCode"] = ".banner{}"
    deployed = await _deploy(http, "PATCH", persona_url, platform, auth)
    assert deployed["javaScriptCode"] == "console.log('personalized');" and deployed["cssCode"] == ".banner{}"

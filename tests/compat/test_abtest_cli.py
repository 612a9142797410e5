"""An A/B testing CLI and its webpack plugin for Kameleoon, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each step sends): kbekher/abtest-cli,
commands/deploy.js (`abtest create`) and template/douglas-ab-testing-boilerplate/plugins/KameleoonPlugin.js (the
webpack plugin of the project it makes, run by every build).

- `abtest create`, answered "a new control, two variations, two goals": a token (`authenticate`: the form as
  `URLSearchParams`, which fetch sends as `application/x-www-form-urlencoded;charset=UTF-8`), `GET /sites` and
  the site named after the shop's domain, `POST /experiments` (`DEVELOPER`, the site's `url` as `baseURL`), the
  experiment's first variation renamed `New Control` (`PATCH /variations/{id}` with `{name, siteId}`), two
  variations made with `{name, siteId}` alone, attached to nothing, two goals made side by side, then one
  `PATCH /experiments/{id}` with the answer's `deviations` plus a share of 0 for each variation (its comment:
  "adding deviations is the only way to add variations to the experiment") and the goals. `sendRequest` sends
  `Content-Type: application/json` and `Accept: */*` on every call and never looks at the status.
- A build (`KameleoonPlugin`): a token, each built file's code `PATCH`ed into its variation with the experiment's
  id (`{cssCode, experimentId, jsCode}`) or, for `global`, into the experiment's common code, one after the other,
  then `GET /experiments/simulate/{id}`, whose answer it reads as text and opens in the browser.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount
from versicolor.engine import preview

SEND = {"Content-Type": "application/json", "Accept": "*/*"}


async def _authenticate(http: httpx.AsyncClient, account: TestAccount) -> str:
    """`authenticate` (and the plugin's token request): `URLSearchParams` as fetch sends it."""
    answer = await http.post(
        "/oauth/token",
        content=urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": account.admin.client_id,
                "client_secret": account.admin.client_secret,
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    assert answer.status_code == 200, answer.text
    return f"Bearer {answer.json()['access_token']}"


async def _send(http: httpx.AsyncClient, method: str, url: str, token: str, data: Any = None) -> httpx.Response:
    """`sendRequest`: the same headers every time, a JSON body when there is one."""
    return await http.request(method, url, json=data, headers={**SEND, "Authorization": token})


async def test_the_cli_creates_an_experiment_and_the_build_uploads_its_code(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    # The account's shop, made in the back office.
    made = await http.post(
        "/sites", json={"name": "www.douglas.de", "url": "https://www.douglas.de"}, headers=await bearer(http, account)
    )
    assert made.status_code == 201, made.text

    # abtest create
    token = await _authenticate(http, account)
    sites = (await _send(http, "GET", "/sites", token)).json()
    project = next(site for site in sites if site["name"] == "www.douglas.de")
    experiment = (
        await _send(
            http,
            "POST",
            "/experiments",
            token,
            {
                "baseURL": project["url"],
                "name": "[DE - DEV] 0315 | UX-0815 - Sticky basket",
                "siteId": project["id"],
                "type": "DEVELOPER",
            },
        )
    ).json()
    control = experiment["variations"][0]
    renamed = await _send(
        http, "PATCH", f"/variations/{control}", token, {"name": "New Control", "siteId": project["id"]}
    )
    assert renamed.status_code == 200, renamed.text
    created = await asyncio.gather(
        *(
            _send(http, "POST", "/variations", token, {"name": f"Variation {i + 1}", "siteId": project["id"]})
            for i in range(2)
        )
    )
    variation_ids = [control, *(answer.json()["id"] for answer in created)]
    goals = await asyncio.gather(
        *(
            _send(
                http,
                "POST",
                "/goals",
                token,
                {"name": f"UX-0815: {goal}", "siteId": project["id"], "type": "CUSTOM", "hasMultipleConversions": True},
            )
            for goal in ("Add to basket", "Checkout")
        )
    )
    goal_ids = [answer.json()["id"] for answer in goals]
    patched = await _send(
        http,
        "PATCH",
        f"/experiments/{experiment['id']}",
        token,
        {"deviations": {**experiment["deviations"], **{str(v): 0 for v in variation_ids}}, "goals": goal_ids},
    )
    # The CLI does not read this answer; the experiment it leaves is what a user then finds.
    assert patched.status_code == 200, patched.text
    after = (await _send(http, "GET", f"/experiments/{experiment['id']}?optionalFields=goals", token)).json()
    # Made side by side, the two variations may get their ids in either order.
    assert sorted(after["variations"]) == sorted(variation_ids), "the shares added the variations made alone"
    assert after["deviations"] == {"origin": 0.5, **{str(v): 0 for v in variation_ids}}
    assert sorted(after["goals"]) == sorted(goal_ids)
    keys = {"control": control, "variation-01": variation_ids[1], "variation-02": variation_ids[2]}

    # npm run build: the plugin uploads dist/ (control, global, variation-01, variation-02, in that order).
    token = await _authenticate(http, account)
    built = {
        "control": {"cssCode": "", "jsCode": "console.log('control');"},
        "global": {"cssCode": ".ux0815__basket{position:sticky}", "jsCode": "window.ux0815=1;"},
        "variation-01": {"cssCode": ".ux0815__v1{top:0}", "jsCode": "console.log('v1');"},
        "variation-02": {"cssCode": ".ux0815__v2{top:8px}", "jsCode": "console.log('v2');"},
    }
    for name, code in built.items():
        if name == "global":
            url = f"/experiments/{experiment['id']}"
            body = {"commonCssCode": code["cssCode"], "commonJavaScriptCode": code["jsCode"]}
        else:
            url = f"/variations/{keys[name]}"
            body = {"cssCode": code["cssCode"], "experimentId": experiment["id"], "jsCode": code["jsCode"]}
        uploaded = await _send(http, "PATCH", url, token, body)
        assert uploaded.status_code == 200, (name, uploaded.text)
    simulation = await http.get(
        f"/experiments/simulate/{experiment['id']}",
        headers={"Authorization": token, "Content-Type": "application/json"},
    )
    assert simulation.status_code == 200, simulation.text
    link = simulation.text  # opened as it is
    assert link.startswith("https://www.douglas.de/?versicolor_preview="), link
    shown = await http.get(
        f"/data/v1/sites/{project['code']}/preview",
        params={"token": parse_qs(urlsplit(link).query)[preview.PARAMETER][0]},
        headers={"Origin": "https://www.douglas.de"},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["variationId"] == control
    final = (await _send(http, "GET", f"/experiments/{experiment['id']}", token)).json()
    assert final["commonJavaScriptCode"] == "window.ux0815=1;"
    for name, variation_id in keys.items():
        variation = (await _send(http, "GET", f"/variations/{variation_id}", token)).json()
        assert variation["jsCode"] == built[name]["jsCode"] and variation["experimentId"] == experiment["id"]

"""Another agency's gulp tasks for Kameleoon projects, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each task sends): amit1366/NEW-KAMELEOON-test-dev,
gulp-tasks/create.js, gulp-tasks/simulation.js, gulp-tasks/copySegments.js and gulp-tasks/find.js. Every task
gets a token first, the form written out by hand (`grant_type=...&client_id=...&client_secret=...`); every call
after it sends `Content-Type: application/json`, GETs too, and reads the answer without looking at the status.

- `gulp create` on an experiments folder: `GET /sites?perPage=99` and the site by its code, one `POST /goals` per
  goal of the project's config, `POST /experiments` with `siteId`, `name`, `siteCode`, the site's `url` as
  `baseURL` and `type: DEVELOPER`, the first variation the experiment came with renamed and given the experiment
  (`PATCH /variations/{id}` with `{experimentId, name}`), then `PATCH /experiments/{id}` with an even split
  written by `toFixed(8)` (numbers as strings: `"0.50000000"`), the goals and the main goal. A config with more
  than one variation makes the others with Kameleoon's GraphQL API (`POST /v1/graphql`), which Versicolor does
  not have: the replayed config has one.
- `gulp sim`: `GET /experiments/simulate/{id}`, the answer printed as text: the link.
- `gulp seg`: a segment copied from one experiment to another, possibly of another account: both experiments read
  (each with its account's token), the first one's segment read, its conditions' ids deleted, `POST /segments` with
  the second experiment's name and site and the same `conditionsData` (a name taken: retried as `name (2)`), then
  `PATCH /experiments/{id}` with `{targetingSegmentId}`.
- `gulp find --sitecode`: `GET /sites`, the site by code, `GET /experiments?perPage=-1` (all of them) filtered by
  site; `--global`: the site's `trackingScript` from `GET /sites`. (`--experiment-id` reads `variationsId`, a
  field Kameleoon's experiments no longer have; it is not replayed.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.compat.conftest import bearer
from tests.factories import Factory, TestAccount
from tests.server import Server
from versicolor.engine import preview

JSON = {"Content-Type": "application/json"}


class Task:
    """One gulp task's calls, with the token it got at its start."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.auth: dict[str, str] = {}

    async def token(self, account: TestAccount) -> None:
        body = (
            f"grant_type=client_credentials&client_id={account.admin.client_id}"
            f"&client_secret={account.admin.client_secret}"
        )
        answer = await self.http.post(
            "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert answer.status_code == 200, answer.text
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def call(self, method: str, url: str, body: Any = None) -> httpx.Response:
        return await self.http.request(method, url, json=body, headers={**self.auth, **JSON})


async def _site(http: httpx.AsyncClient, account: TestAccount, name: str, url: str) -> dict[str, Any]:
    # Made in the back office; its code names the project's folder (<customer>/<siteCode>-<host>/...).
    made = await http.post("/sites", json={"name": name, "url": url}, headers=await bearer(http, account))
    assert made.status_code == 201, made.text
    site: dict[str, Any] = made.json()
    return site


async def test_create_then_sim_then_find(kameleoon: tuple[httpx.AsyncClient, TestAccount]) -> None:
    http, account = kameleoon
    site = await _site(http, account, "Congstar", "https://www.congstar.de")
    existing_goal = await http.post(
        "/goals", json={"name": "Order", "siteId": site["id"], "type": "CUSTOM"}, headers=await bearer(http, account)
    )
    config = {
        "projectName": "T07 PLP product highlight",
        "variations": ["position"],
        "goalsToCreate": ["highlight click", "highlight view"],
        "goalsToAdd": [existing_goal.json()["id"]],
        "primaryGoal": None,
    }

    # gulp create --path <customer>/<siteCode>-congstar.de/experiments/<folder>
    create = Task(http)
    await create.token(account)
    sites = (await create.call("GET", "/sites?perPage=99")).json()
    found = next(s for s in sites if s["code"] == site["code"])
    goals = [
        (
            await create.call(
                "POST",
                "/goals",
                {"name": name, "siteId": found["id"], "type": "CUSTOM", "hasMultipleConversions": True},
            )
        ).json()
        for name in config["goalsToCreate"]
    ]
    total_goals = [g["id"] for g in goals] + config["goalsToAdd"]
    main_goal = config["primaryGoal"] or total_goals[0]
    experiment = (
        await create.call(
            "POST",
            "/experiments",
            {
                "siteId": found["id"],
                "name": config["projectName"],
                "siteCode": site["code"],
                "baseURL": found["url"],
                "type": "DEVELOPER",
            },
        )
    ).json()
    first = (
        await create.call(
            "PATCH",
            f"/variations/{experiment['variations'][0]}",
            {"experimentId": experiment["id"], "name": config["variations"][0]},
        )
    ).json()
    even = f"{1 / 2:.8f}"
    updated = await create.call(
        "PATCH",
        f"/experiments/{experiment['id']}",
        {"deviations": {"origin": even, str(first["id"]): even}, "goals": total_goals, "mainGoalId": main_goal},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["deviations"] == {"origin": 0.5, str(first["id"]): 0.5}
    assert updated.json()["mainGoalId"] == goals[0]["id"]
    with_goals = await create.call("GET", f"/experiments/{experiment['id']}?optionalFields=goals")
    assert sorted(with_goals.json()["goals"]) == sorted(total_goals)

    # gulp sim --path <customer>/<siteCode>-congstar.de/experiments/<id>-<name>
    sim = Task(http)
    await sim.token(account)
    link = (await sim.call("GET", f"/experiments/simulate/{experiment['id']}")).text
    assert link.startswith("https://www.congstar.de/?versicolor_preview="), link
    token = parse_qs(urlsplit(link).query)[preview.PARAMETER][0]
    shown = await http.get(
        f"/data/v1/sites/{site['code']}/preview", params={"token": token}, headers={"Origin": "https://www.congstar.de"}
    )
    assert shown.status_code == 200 and shown.json()["variationId"] == first["id"], shown.text

    # gulp find --sitecode <code> --exp, then --global
    find = Task(http)
    await find.token(account)
    listed_site = next(s for s in (await find.call("GET", "/sites")).json() if s["code"] == site["code"])
    every = (await find.call("GET", "/experiments?perPage=-1")).json()
    assert [(e["id"], e["name"]) for e in every if e["siteId"] == listed_site["id"]] == [
        (experiment["id"], config["projectName"])
    ]
    find = Task(http)
    await find.token(account)
    global_site = next(s for s in (await find.call("GET", "/sites")).json() if s["code"] == site["code"])
    assert global_site["trackingScript"] is None  # "Global code of <code> is empty in BO"


async def test_seg_copies_a_segment_to_another_accounts_experiment(
    versicolor: Server, factory: Factory, account: TestAccount
) -> None:
    other = await factory.account()
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=60) as http:
        copy_site = await _site(http, account, "Shop", "https://shop.example")
        paste_site = await _site(http, other, "Shop FR", "https://shop.example.fr")
        owner = await bearer(http, account)
        segment = await http.post(
            "/segments",
            json={
                "name": "Phones with the flag",
                "siteId": copy_site["id"],
                "conditionsData": {
                    "firstLevel": [
                        {"conditions": [{"targetingType": "DEVICE_TYPE", "device": "PHONE"}]},
                        {
                            "conditions": [
                                {"targetingType": "JS_CODE", "jsCode": "return window.flag === 1;"},
                                {"targetingType": "NEW_VISITORS", "visitorType": "RETURNING", "include": False},
                            ],
                            "orOperators": [True],
                        },
                    ],
                    "firstLevelOrOperators": [False],
                },
            },
            headers=owner,
        )
        assert segment.status_code == 201, segment.text
        source = await http.post(
            "/experiments",
            json={
                "name": "Hero",
                "siteId": copy_site["id"],
                "baseURL": "https://shop.example/",
                "targetingSegmentId": segment.json()["id"],
            },
            headers=owner,
        )
        target = await http.post(
            "/experiments",
            json={"name": "Hero FR", "siteId": paste_site["id"], "baseURL": "https://shop.example.fr/"},
            headers=await bearer(http, other),
        )
        assert source.status_code == 201 and target.status_code == 201, (source.text, target.text)

        # gulp seg --copyPath <customer>/<code>-shop/experiments/<id>-hero --pastePath <other>/<code>-shop-fr/...
        copy, paste = Task(http), Task(http)
        await copy.token(account)
        await paste.token(other)
        copied_experiment = (await copy.call("GET", f"/experiments/{source.json()['id']}")).json()
        pasted_experiment = (await paste.call("GET", f"/experiments/{target.json()['id']}")).json()
        copied = (await copy.call("GET", f"/segments/{copied_experiment['targetingSegmentId']}")).json()
        for group in copied["conditionsData"]["firstLevel"]:
            for condition in group["conditions"]:
                del condition["id"]
        made = (
            await paste.call(
                "POST",
                "/segments",
                {
                    "name": pasted_experiment["name"],
                    "siteId": pasted_experiment["siteId"],
                    "conditionsData": copied["conditionsData"],
                },
            )
        ).json()
        assert "message" not in made, made
        updated = (
            await paste.call("PATCH", f"/experiments/{pasted_experiment['id']}", {"targetingSegmentId": made["id"]})
        ).json()
        assert updated["name"] == "Hero FR" and updated["targetingSegmentId"] == made["id"]

        def shape(tree: dict[str, Any]) -> Any:
            return tree["firstLevelOrOperators"], [
                (g["orOperators"], [{k: v for k, v in c.items() if k != "id"} for c in g["conditions"]])
                for g in tree["firstLevel"]
            ]

        assert shape(made["conditionsData"]) == shape(segment.json()["conditionsData"])
        assert made["siteId"] == paste_site["id"]

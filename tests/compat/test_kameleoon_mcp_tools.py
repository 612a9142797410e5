"""The Kameleoon tools of a local CRO workflow's MCP server, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each tool sends): gueripep/kameleoon-test-writer,
local-cro-workflow/mcp/kameleoon_push.js (the tools), local-cro-workflow/mcp/kameleoon_qa.js (the API half of
`kameleoon_push_and_simulate`) and local-cro-workflow/extension/background.js (how each call is sent:
`Accept: application/json` always, `Content-Type: application/json` with a body). The tool sends the user's
app.kameleoon.com session cookie; here the one difference besides the base URL is a bearer token instead.

- `list_kameleoon_experiments`: the site by `GET /sites?perPage=50&filter=[code EQUAL]`, then
  `GET /experiments?perPage=200&page=1&filter=[siteId EQUAL, status EQUAL]` (the filter JSON URL-encoded by
  hand), archived ones dropped.
- `create_kameleoon_goal`: `GET /goals?perPage=50&filter=[siteId EQUAL, name EQUAL]` first; a `CUSTOM` goal with
  that name is reused, otherwise `POST /goals` with `status: ACTIVE`; then each experiment to attach it to is
  read with `optionalFields=goals`, `PATCH`ed with the whole list plus the goal, and read back.
- `create_kameleoon_experiment`: the site by `filter=[id EQUAL]`, an experiment of that name reused, otherwise
  `POST /experiments` with `siteId`, `siteCode`, `baseURL` and `type: DEVELOPER` and no status; goals attached
  one by one as above, `PATCH {mainGoalId}`, then read back (it must be a `DRAFT`).
- `create_kameleoon_variation`: the experiment read, `POST /variations` with `siteId`, `creationMode: CODE_BASE`
  and `experimentId`, then `PATCH /experiments/{id}` with the whole `variations` list and an even split (the
  rounding remainder to `origin`: 0.34, 0.33, 0.33).
- `push_variation_code`: the variation read, `PATCH` of `{experimentId, jsCode, cssCode}`, read back to verify.
- `push_experiment_script`: the experiment read with `optionalFields=globalScript` and its site read, `PATCH
  {globalScript}`, both read again: the site's `trackingScript` must not have changed.
- `get_kameleoon_code`: the experiment, then each of its variations.
- `kameleoon_push_and_simulate`: the code pushed, then the experiment read for its `baseURL` and `variations`.
- `get_kameleoon_results` (a later version of kameleoon_push.js): the experiment read with its goals, each goal
  and variation read for its name, `POST /experiments/{id}/results` with `goalsIds`, `referenceVariationId: "0"`
  (a string), `visitorData: false`, `conversionType: ALL_CONVERSION` and, when asked, a `breakdown` and one
  `dateIntervals` entry, then `GET /results?dataCode=` until `READY`, read per variation and breakdown key
  (`_reference` without a breakdown): `visitCount`, `visitorCount` and per goal `conversionCount`,
  `convertedVisitCount`, `revenueCount`, `averageCart`, `conversionRate`, `improvementRate`, `reliability`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import httpx

from tests.compat.conftest import bearer
from tests.factories import Factory, TestAccount
from tests.results.dataset import history, send
from tests.server import Server
from tests.tracking.fixtures import shop

ACCEPT = {"Accept": "application/json"}


def _query(*, per_page: int | None = None, page: int | None = None, where: list[dict[str, Any]]) -> str:
    """`buildQuery`: perPage, page, then the filter as URL-encoded JSON."""
    parts = []
    if per_page is not None:
        parts.append(f"perPage={per_page}")
    if page is not None:
        parts.append(f"page={page}")
    if where:
        parts.append("filter=" + quote(json.dumps(where, separators=(",", ":")), safe="!~*'()"))
    return "?" + "&".join(parts) if parts else ""


def _equal(field: str, value: object) -> dict[str, Any]:
    return {"field": field, "operator": "EQUAL", "parameters": [value]}


class Tools:
    """The tools' calls; `apiRequest` turns anything but a 2xx into an error."""

    def __init__(self, http: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.http = http
        self.auth = auth

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        headers = {**ACCEPT, **self.auth}
        if body is not None and method != "GET":
            answer = await self.http.request(
                method, path, json=body, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            answer = await self.http.request(method, path, headers=headers)
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def list_experiments(self, site_code: str, status: str | None = None) -> list[dict[str, Any]]:
        sites = await self.api("GET", "/sites" + _query(per_page=50, where=[_equal("code", site_code)]))
        site = next(s for s in sites if s["code"] == site_code)
        wanted = [_equal("siteId", site["id"])] + ([_equal("status", status.upper())] if status else [])
        found = await self.api("GET", "/experiments" + _query(per_page=200, page=1, where=wanted))
        return [e for e in found if not e["isArchived"]]

    async def attach_goal(self, experiment_id: int, goal_id: int) -> list[int]:
        experiment = await self.api("GET", f"/experiments/{experiment_id}?optionalFields=goals")
        before = list(experiment["goals"])
        if goal_id in before:
            return before
        await self.api("PATCH", f"/experiments/{experiment_id}", {"goals": [*before, goal_id]})
        read_back = await self.api("GET", f"/experiments/{experiment_id}?optionalFields=goals")
        return list(read_back["goals"])

    async def create_goal(self, site_id: int, name: str, attach_to: list[int]) -> tuple[int, bool]:
        same_name = await self.api(
            "GET", "/goals" + _query(per_page=50, where=[_equal("siteId", site_id), _equal("name", name)])
        )
        matches = [g for g in same_name if g["name"] == name and not g.get("isArchived")]
        assert all(g["type"] == "CUSTOM" for g in matches), "a goal of another type with this name is a clash"
        created = not matches
        if created:
            body = {"name": name, "siteId": site_id, "type": "CUSTOM", "hasMultipleConversions": False}
            goal = await self.api("POST", "/goals", {**body, "status": "ACTIVE"})
        else:
            goal = matches[0]
        for experiment_id in attach_to:
            assert goal["id"] in await self.attach_goal(experiment_id, goal["id"])
        return goal["id"], created

    async def create_experiment(
        self, site_id: int, name: str, base_url: str, goal_ids: list[int], main_goal_id: int
    ) -> tuple[dict[str, Any], bool]:
        sites = await self.api("GET", "/sites" + _query(per_page=50, where=[_equal("id", site_id)]))
        site = next(s for s in sites if s["id"] == site_id)
        same_name = await self.api(
            "GET", "/experiments" + _query(per_page=50, where=[_equal("siteId", site_id), _equal("name", name)])
        )
        experiment = next((e for e in same_name if e["name"] == name and not e["isArchived"]), None)
        created = experiment is None
        if experiment is None:
            body = {"name": name, "siteId": site["id"], "siteCode": site["code"], "baseURL": base_url}
            experiment = await self.api("POST", "/experiments", {**body, "type": "DEVELOPER"})
        for goal_id in goal_ids:
            await self.attach_goal(experiment["id"], goal_id)
        await self.api("PATCH", f"/experiments/{experiment['id']}", {"mainGoalId": main_goal_id})
        read_back = await self.api("GET", f"/experiments/{experiment['id']}?optionalFields=goals")
        assert read_back["status"].upper() == "DRAFT" and read_back["baseURL"] == base_url
        return read_back, created

    async def create_variation(self, experiment_id: int, name: str) -> tuple[int, dict[str, float]]:
        experiment = await self.api("GET", f"/experiments/{experiment_id}")
        assert not experiment["isArchived"] and experiment["type"] != "MVT"
        body = {"name": name, "siteId": experiment["siteId"], "creationMode": "CODE_BASE"}
        made = await self.api("POST", "/variations", {**body, "experimentId": experiment_id})
        after = [*experiment["variations"], made["id"]]
        share = (100 // (len(after) + 1)) / 100
        split = {str(v): share for v in after}
        split["origin"] = round(1 - share * len(after), 2)
        await self.api("PATCH", f"/experiments/{experiment_id}", {"variations": after, "deviations": split})
        return made["id"], split

    async def push_variation_code(self, variation_id: int, experiment_id: int, js: str, css: str) -> bool:
        existing = await self.api("GET", f"/variations/{variation_id}")
        assert existing["experimentId"] in (None, experiment_id)
        await self.api(
            "PATCH", f"/variations/{variation_id}", {"experimentId": experiment_id, "jsCode": js, "cssCode": css}
        )
        read_back = await self.api("GET", f"/variations/{variation_id}")
        return bool(read_back["jsCode"] == js and read_back["cssCode"] == css)

    async def push_experiment_script(self, experiment_id: int, script: str) -> bool:
        experiment = await self.api("GET", f"/experiments/{experiment_id}?optionalFields=globalScript")
        site_before = (await self.api("GET", f"/sites/{experiment['siteId']}")).get("trackingScript")
        await self.api("PATCH", f"/experiments/{experiment_id}", {"globalScript": script})
        read_back = await self.api("GET", f"/experiments/{experiment_id}?optionalFields=globalScript")
        site_after = (await self.api("GET", f"/sites/{experiment['siteId']}")).get("trackingScript")
        assert site_after == site_before, "the site's global script is never touched"
        return bool(read_back["globalScript"] == script)

    async def get_results(
        self,
        experiment_id: int,
        breakdown: dict[str, Any] | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        experiment = await self.api("GET", f"/experiments/{experiment_id}?optionalFields=goals")
        goal_ids = experiment["goals"]
        goal_names = {str(g): (await self.api("GET", f"/goals/{g}"))["name"] for g in goal_ids}
        names = {str(v): (await self.api("GET", f"/variations/{v}"))["name"] for v in experiment["variations"]}
        body: dict[str, Any] = {
            "goalsIds": goal_ids,
            "referenceVariationId": "0",
            "visitorData": False,
            "conversionType": "ALL_CONVERSION",
        }
        if breakdown:
            body["breakdown"] = breakdown
        if start or end:
            body["dateIntervals"] = [{"start": start, "end": end}]
        data_code = (await self.api("POST", f"/experiments/{experiment_id}/results", body))["dataCode"]
        for _ in range(30):
            report = await self.api("GET", f"/results?dataCode={data_code}")
            if report["status"] == "READY":
                break
            await asyncio.sleep(0.2)
        assert report["status"] == "READY", report
        fields = ("conversionCount", "convertedVisitCount", "revenueCount", "averageCart", "conversionRate")
        table = {}
        for variation_id, variation in report["data"]["variationData"].items():
            rows = {}
            for key, value in sorted(variation["breakdownData"].items()):
                general = value["generalData"]
                goals = {
                    goal_names.get(goal_id, goal_id): {f: g[f] for f in (*fields, "improvementRate", "reliability")}
                    for goal_id, g in general["goalsData"].items()
                }
                rows[key] = {"visits": general["visitCount"], "visitors": general["visitorCount"], "goals": goals}
            table[names.get(variation_id, "Original" if variation_id == "0" else variation_id)] = rows
        return table

    async def get_code(self, experiment_id: int) -> list[dict[str, Any]]:
        experiment = await self.api("GET", f"/experiments/{experiment_id}")
        return [await self.api("GET", f"/variations/{v}") for v in experiment["variations"]]


async def test_the_tools_make_an_experiment_its_goal_variation_code_and_script(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    owner = await bearer(http, account)
    site = (await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=owner)).json()
    other_site = (
        await http.post("/sites", json={"name": "Other", "url": "https://other.example"}, headers=owner)
    ).json()
    unrelated = await http.post(
        "/experiments",
        json={"name": "Elsewhere", "siteId": other_site["id"], "baseURL": "https://other.example/"},
        headers=owner,
    )
    assert unrelated.status_code == 201, unrelated.text
    tools = Tools(http, owner)

    assert await tools.list_experiments(site["code"]) == []
    goal_id, created = await tools.create_goal(site["id"], "Login success", attach_to=[])
    assert created
    assert await tools.create_goal(site["id"], "Login success", attach_to=[]) == (goal_id, False), "reused by name"

    experiment, created = await tools.create_experiment(
        site["id"], "Login CTA", "https://shop.example/account/login", goal_ids=[goal_id], main_goal_id=goal_id
    )
    assert created and experiment["goals"] == [goal_id] and experiment["mainGoalId"] == goal_id
    again, created = await tools.create_experiment(
        site["id"], "Login CTA", "https://shop.example/account/login", goal_ids=[goal_id], main_goal_id=goal_id
    )
    assert not created and again["id"] == experiment["id"] and again["goals"] == [goal_id]
    listed = await tools.list_experiments(site["code"], status="draft")
    assert [e["id"] for e in listed] == [experiment["id"]]

    second_goal, _ = await tools.create_goal(site["id"], "Signup", attach_to=[experiment["id"]])
    variation_id, split = await tools.create_variation(experiment["id"], "Bigger button")
    (first,) = experiment["variations"]
    assert split == {str(first): 0.33, str(variation_id): 0.33, "origin": 0.34}
    current = (await http.get(f"/experiments/{experiment['id']}?optionalFields=goals", headers=owner)).json()
    assert current["variations"] == [first, variation_id] and current["deviations"] == split
    assert current["goals"] == [goal_id, second_goal]

    assert await tools.push_variation_code(variation_id, experiment["id"], "document.body.dataset.v = '2';\n", "")
    assert await tools.push_experiment_script(experiment["id"], "window.loginCta = true;")
    code = await tools.get_code(experiment["id"])
    assert [v["jsCode"] for v in code] == [None, "document.body.dataset.v = '2';\n"]

    # kameleoon_push_and_simulate: push again, then the experiment's page and variations before opening it.
    assert await tools.push_variation_code(variation_id, experiment["id"], "document.body.dataset.v = '3';\n", "")
    read = await tools.api("GET", f"/experiments/{experiment['id']}")
    assert read["baseURL"] == "https://shop.example/account/login" and variation_id in read["variations"]


async def test_the_results_tool_reads_a_report_per_variation(
    versicolor: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    # A shop with an active experiment and a small history (tests/results/dataset.py), stored through the Data API.
    stocked = await shop(client, factory)
    await send(client, stocked, history(stocked))
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=60) as http:
        tools = Tools(http, await bearer(http, stocked.account))
        table = await tools.get_results(stocked.experiment_id)
        assert set(table) == {"Original", "Green", "Blue"}
        assert {arm: rows["_reference"]["visitors"] for arm, rows in table.items()} == {
            "Original": 4,
            "Green": 3,
            "Blue": 1,
        }
        purchase = {arm: rows["_reference"]["goals"]["Purchase"] for arm, rows in table.items()}
        assert (purchase["Original"]["conversionCount"], purchase["Original"]["revenueCount"]) == (2, 30)
        assert (purchase["Green"]["conversionCount"], purchase["Green"]["revenueCount"]) == (3, 35)
        assert purchase["Original"]["improvementRate"] is None, "the reference is compared with nothing"

        by_day = await tools.get_results(
            stocked.experiment_id,
            breakdown={"type": "INTERVAL", "interval": "DAY"},
            start="2024-05-06T00:00:00Z",
            end="2024-05-09T00:00:00Z",
        )
        days = {f"2024-05-0{d}T00:00:00Z" for d in (6, 7, 8)}
        for arm, rows in by_day.items():
            assert set(rows) - {"_reference"} and set(rows) <= days | {"_reference"}, (arm, rows)
        assert by_day["Original"]["2024-05-06T00:00:00Z"]["goals"]["Purchase"]["revenueCount"] > 0

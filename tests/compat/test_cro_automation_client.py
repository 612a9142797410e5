"""A TypeScript automation class of CRO tooling for Kameleoon, replayed call for call with only the base URL changed.

Source (read, not copied; the requests are rebuilt here from what each method sends): tomteixeira/automationAPI,
automationAPI/AutomationAPI.ts with automationAPI/utils/init.ts (`init`), automationAPI/site/getter.ts
(`getAllSiteID`, `getAllSiteCode`), the script that drives it (script.ts) and its readme.md.

- `init`: `POST /oauth/token` with the form written out by hand (`grant_type=...&client_id=...&client_secret=...`,
  nothing encoded) as `application/x-www-form-urlencoded`; the bearer is kept.
- script.ts: `init`, `getGoalId` (`GET /goals?page=1&perPage=200`, then `page=2`, ids collected from both), then
  `createGoal` for a list of names (one `POST /goals` each: `CUSTOM`, counted each time).
- The other methods as readme.md shows them: `getAllSiteID` and `getAllSiteCode` (`GET /sites?perPage=100`),
  `createCD` (`POST /custom-datas` with Kameleoon's `method: CLIENT`, `type: UNIQUE` and the scope, `VISIT` when
  none is given), `createNewAcessToPageGoal` (a `URL` goal per `{name: url}` with a match type), `getAllSegments`
  (`GET /segments`), `createAAtest` (`POST /experiments` with goals, main goal, `targetingConfiguration` and
  `type`) and `updateGlobalScript` (`GET /sites/{id}`, `trackingScript` set, the whole site `PUT`).

Every call sends `Accept: */*`; writes, and the site read of `updateGlobalScript`, send
`Content-Type: application/json`.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount

ACCEPT = {"Accept": "*/*"}
JSON = {"Content-Type": "application/json", **ACCEPT}


class AutomationClass:
    """The class's calls, with its headers; `fetchData` throws on anything but a 2xx (axios)."""

    def __init__(self, http: httpx.AsyncClient, account: TestAccount) -> None:
        self.http = http
        self.account = account
        self.auth: dict[str, str] = {}

    async def _fetch(self, method: str, url: str, headers: dict[str, str], data: Any = None) -> Any:
        answer = await self.http.request(method, url, headers={**headers, **self.auth}, json=data)
        assert answer.is_success, answer.text
        return answer.json()

    async def init(self) -> None:
        body = (
            f"grant_type=client_credentials&client_id={self.account.admin.client_id}"
            f"&client_secret={self.account.admin.client_secret}"
        )
        answer = await self.http.post(
            "/oauth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert answer.status_code == 200, answer.text
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def get_goal_id(self) -> list[int]:
        first = await self._fetch("GET", "/goals?page=1&perPage=200", ACCEPT)
        second = await self._fetch("GET", "/goals?page=2&perPage=200", ACCEPT)
        return [goal["id"] for goal in first + second if goal["id"]]

    async def create_goal(self, site_id: int, names: list[str]) -> dict[str, int]:
        made = {}
        for name in names:
            body = {"name": name, "siteId": site_id, "type": "CUSTOM", "hasMultipleConversions": True}
            made[name] = (await self._fetch("POST", "/goals", JSON, body))["id"]
        return made

    async def get_all_site_id(self) -> list[int]:
        return [site["id"] for site in await self._fetch("GET", "/sites?perPage=100", ACCEPT) if site["id"]]

    async def get_all_site_code(self) -> list[str]:
        return [site["code"] for site in await self._fetch("GET", "/sites?perPage=100", ACCEPT) if site["code"]]

    async def create_cd(self, site_id: int, cds: list[tuple[str, ...]]) -> dict[str, int]:
        made = {}
        for name, data_format, *scope in cds:
            body = {
                "format": data_format,
                "method": "CLIENT",
                "name": name,
                "siteId": site_id,
                "type": "UNIQUE",
                "scope": scope[0] if scope else "VISIT",
            }
            made[name] = (await self._fetch("POST", "/custom-datas", JSON, body))["id"]
        return made

    async def create_access_to_page_goal(self, site_id: int, goals: list[dict[str, str]], match_type: str) -> list[int]:
        made = []
        for goal in goals:
            ((name, url),) = goal.items()
            body = {
                "name": name,
                "siteId": site_id,
                "type": "URL",
                "hasMultipleConversions": True,
                "params": {"matchString": url, "matchType": match_type},
            }
            made.append((await self._fetch("POST", "/goals", JSON, body))["id"])
        return made

    async def get_all_segments(self) -> list[int]:
        return [segment["id"] for segment in await self._fetch("GET", "/segments", ACCEPT) if segment["id"]]

    async def create_aa_test(self, config: dict[str, Any]) -> Any:
        keys = ("name", "siteId", "goals", "baseURL", "targetingConfiguration", "type", "mainGoalId")
        return await self._fetch("POST", "/experiments", JSON, {key: config[key] for key in keys})

    async def update_global_script(self, site_id: int, script: str) -> None:
        configuration = await self._fetch("GET", f"/sites/{site_id}", JSON)
        configuration["trackingScript"] = script
        await self._fetch("PUT", f"/sites/{site_id}", JSON, configuration)


async def test_creates_goals_custom_data_an_aa_test_and_the_global_script(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    # The account's site, made in the back office.
    owner = await bearer(http, account)
    site = (await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=owner)).json()
    site_id = site["id"]

    # script.ts: init, the goals' ids, then a goal per name.
    client = AutomationClass(http, account)
    await client.init()
    assert await client.get_goal_id() == []
    created = await client.create_goal(site_id, ["add_to_cart", "begin_checkout", "purchase"])
    assert list(created) == ["add_to_cart", "begin_checkout", "purchase"]

    # readme.md: the account's sites by id and by code.
    assert await client.get_all_site_id() == [site_id]
    assert await client.get_all_site_code() == [site["code"]]
    # createCD: the readme's valid rows (the class itself skips bad names, formats and scopes before any call).
    cds = await client.create_cd(
        site_id, [("page_views", "NUMBER", "VISITOR"), ("isLoggedIn", "BOOLEAN"), ("lastPage", "STRING", "PAGE")]
    )
    for name, scope in [("page_views", "VISITOR"), ("isLoggedIn", "VISIT"), ("lastPage", "PAGE")]:
        got = await http.get(f"/custom-datas/{cds[name]}", headers=client.auth)
        assert got.status_code == 200 and got.json()["scope"] == scope and got.json()["method"] == "CLIENT", got.text
    # createNewAcessToPageGoal: a URL goal from {name: url} and a match type.
    (checkout,) = await client.create_access_to_page_goal(site_id, [{"checkout": "/checkout"}], "CONTAINS")
    ids = await client.get_goal_id()
    assert sorted(ids) == sorted([*created.values(), checkout])
    assert await client.get_all_segments() == []

    # createAAtest: an experiment with goals, a main goal and where it runs.
    aa = await client.create_aa_test(
        {
            "name": "[KAM] new test aa",
            "siteId": site_id,
            "goals": [created["add_to_cart"], checkout],
            "baseURL": "https://shop.example/",
            "targetingConfiguration": "SITE",
            "type": "CLASSIC",
            "mainGoalId": created["add_to_cart"],
        }
    )
    assert aa["targetingConfiguration"] == "SITE" and aa["siteCode"] == site["code"]

    # updateGlobalScript: the site read, trackingScript set, the whole site PUT back.
    await client.update_global_script(site_id, "window.dataLayer = window.dataLayer || [];")
    got = await http.get(f"/sites/{site_id}", headers=client.auth)
    assert got.json()["trackingScript"] == "window.dataLayer = window.dataLayer || [];"


async def test_site_code_alone_names_the_site_and_must_agree_with_site_id(
    kameleoon: tuple[httpx.AsyncClient, TestAccount], factory_other: TestAccount
) -> None:
    http, account = kameleoon
    auth = await bearer(http, account)
    site = (await http.post("/sites", json={"name": "Shop"}, headers=auth)).json()
    other = (await http.post("/sites", json={"name": "Other"}, headers=auth)).json()
    body = {"name": "By code", "baseURL": "https://shop.example/"}
    by_code = await http.post("/experiments", json={**body, "siteCode": site["code"]}, headers=auth)
    assert by_code.status_code == 201 and by_code.json()["siteId"] == site["id"], by_code.text
    both = await http.post("/experiments", json={**body, "siteCode": site["code"], "siteId": other["id"]}, headers=auth)
    assert both.status_code == 400 and both.json()["details"][0]["field"] == "siteCode", both.text
    foreign_auth = await bearer(http, factory_other)
    foreign = await http.post("/experiments", json={**body, "siteCode": site["code"]}, headers=foreign_auth)
    assert foreign.status_code == 404, foreign.text
    # Another account's experiment, and its preview links, are a 404.
    for path in (f"/experiments/{by_code.json()['id']}", f"/experiments/simulate/{by_code.json()['id']}"):
        assert (await http.get(path, headers=foreign_auth)).status_code == 404
    # Shares as numeric strings are numbers; true is not.
    experiment_id = by_code.json()["id"]
    shares = await http.patch(f"/experiments/{experiment_id}", json={"deviations": {"origin": "1"}}, headers=auth)
    assert shares.status_code == 200 and shares.json()["deviations"] == {"origin": 1.0}, shares.text
    boolean = await http.patch(f"/experiments/{experiment_id}", json={"deviations": {"origin": True}}, headers=auth)
    assert boolean.status_code == 400, boolean.text
    # SCHEDULE without dates: a 400 without a stored schedule, the stored one otherwise.
    unscheduled = await http.patch(f"/experiments/{experiment_id}", params={"action": "SCHEDULE"}, headers=auth)
    assert unscheduled.status_code == 400, unscheduled.text
    goal = (await http.post("/goals", json={"name": "g", "siteId": site["id"], "type": "CUSTOM"}, headers=auth)).json()
    made = await http.post("/variations", json={"name": "B", "experimentId": experiment_id}, headers=auth)
    assert made.status_code == 201, made.text
    ready = await http.patch(
        f"/experiments/{experiment_id}",
        json={
            "goals": [goal["id"]],
            "mainGoalId": goal["id"],
            "deviations": None,
            "schedules": [{"dateStart": "2099-01-31T09:00:00Z"}],
        },
        headers=auth,
    )
    assert ready.status_code == 200, ready.text
    assert ready.json()["schedules"] == [{"dateStart": "2099-01-31T09:00:00.000Z", "dateEnd": None}]
    scheduled = await http.patch(f"/experiments/{experiment_id}", params={"action": "SCHEDULE"}, headers=auth)
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "SCHEDULED", scheduled.text
    assert scheduled.json()["dateScheduledStart"] == "2099-01-31T09:00:00.000Z"

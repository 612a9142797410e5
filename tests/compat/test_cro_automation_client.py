"""A TypeScript automation class of CRO tooling for Kameleoon, replayed call for call with only the base URL changed.

Source: a public TypeScript `AutomationAPI` class (found with the code search by its `createAAtest`,
`createCD` and `updateGlobalScript` methods). It creates goals (custom, and access-to-page with matchString and
matchType), custom data with Kameleoon's `method`, an A/A test with `targetingConfiguration`, lists goals two
pages of 200 at a time and segments, and sets the site's global script by reading the site and PUTting it back.
"""

from __future__ import annotations

import httpx

from tests.compat.conftest import bearer
from tests.factories import TestAccount

JSON = {"Content-Type": "application/json", "Accept": "*/*"}


async def test_creates_goals_custom_data_an_aa_test_and_the_global_script(
    kameleoon: tuple[httpx.AsyncClient, TestAccount],
) -> None:
    http, account = kameleoon
    auth = {**await bearer(http, account), **JSON}
    site = (await http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}, headers=auth)).json()
    site_id = site["id"]

    # createGoal: one CUSTOM goal per name, counted each time.
    custom = await http.post(
        "/goals",
        json={"name": "addToCart", "siteId": site_id, "type": "CUSTOM", "hasMultipleConversions": True},
        headers=auth,
    )
    assert custom.status_code == 201, custom.text
    # createNewAcessToPageGoal: a URL goal from {name: url} and a match type.
    page = await http.post(
        "/goals",
        json={
            "name": "checkout",
            "siteId": site_id,
            "type": "URL",
            "hasMultipleConversions": True,
            "params": {"matchString": "/checkout", "matchType": "CONTAINS"},
        },
        headers=auth,
    )
    assert page.status_code == 201, page.text

    # createCD: custom data with Kameleoon's collection method, kept as given.
    datum = await http.post(
        "/custom-datas",
        json={
            "format": "STRING",
            "method": "CLIENT",
            "name": "plan",
            "siteId": site_id,
            "type": "UNIQUE",
            "scope": "VISIT",
        },
        headers=auth,
    )
    assert datum.status_code == 201, datum.text
    assert datum.json()["method"] == "CLIENT"

    # getGoalId: two pages of 200, ids collected from both.
    ids = []
    for number in (1, 2):
        listed = await http.get(f"/goals?page={number}&perPage=200", headers=auth)
        assert listed.status_code == 200, listed.text
        ids += [goal["id"] for goal in listed.json() if goal["id"]]
    assert sorted(ids) == sorted([custom.json()["id"], page.json()["id"]])
    # getAllSegments: a bare list of objects with ids.
    segments = await http.get("/segments", headers=auth)
    assert segments.status_code == 200 and segments.json() == []

    # createAAtest: an experiment with goals, a main goal and where it runs.
    aa = await http.post(
        "/experiments",
        json={
            "name": "A/A test",
            "siteId": site_id,
            "goals": ids,
            "baseURL": "https://shop.example/",
            "targetingConfiguration": "SITE",
            "type": "CLASSIC",
            "mainGoalId": custom.json()["id"],
        },
        headers=auth,
    )
    assert aa.status_code == 201, aa.text
    assert aa.json()["targetingConfiguration"] == "SITE" and aa.json()["siteCode"] == site["code"]

    # updateGlobalScript: the site read, trackingScript set, the whole site PUT back.
    configuration = (await http.get(f"/sites/{site_id}", headers=auth)).json()
    configuration["trackingScript"] = "window.dataLayer = window.dataLayer || [];"
    put = await http.put(f"/sites/{site_id}", json=configuration, headers=auth)
    assert put.status_code == 200, put.text
    assert put.json()["trackingScript"] == "window.dataLayer = window.dataLayer || [];"


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

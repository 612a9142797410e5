"""`/personalizations` over HTTP: code shown to a segment's visitors, its lifecycle, and every way to get it wrong."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.resources.experiment_fixtures import check_every_field, goal, post, segment, site
from versicolor.api.automation.personalizations import PERSONALIZATION_FIELDS
from versicolor.core.roles import Role

FIELDS = {
    "id",
    "name",
    "siteId",
    "baseURL",
    "status",
    "description",
    "tags",
    "mainGoalId",
    "targetingSegmentId",
    "javaScriptCode",
    "cssCode",
    "globalScript",
    "isArchived",
    "targetingConfiguration",
    "dateCreated",
    "dateModified",
    "dateStarted",
    "dateEnded",
    "dateStatusModified",
}


async def _made(client: httpx.AsyncClient, account: TestAccount, **fields: Any) -> dict[str, Any]:
    made_site = await site(client, account)
    made_segment = await segment(client, account, made_site["id"])
    body = {"name": "Welcome banner", "siteId": made_site["id"], "targetingSegmentId": made_segment["id"], **fields}
    return await post(client, account, "/personalizations", body)


async def test_a_name_and_a_site_make_a_draft(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made_site = await site(client, account)
    made = await post(client, account, "/personalizations", {"siteId": made_site["id"], "name": "Banner"})
    assert set(made) == FIELDS
    assert made["status"] == "DRAFT" and made["siteId"] == made_site["id"] and made["tags"] == []
    assert made["targetingSegmentId"] is None and made["javaScriptCode"] is None and made["isArchived"] is False
    assert made["dateStarted"] is None and made["dateCreated"] == made["dateModified"]
    shown = await client.get(f"/personalizations/{made['id']}", headers=account.headers)
    assert shown.json() == made


async def test_fields_are_stored_as_sent_and_goals_come_when_asked(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _made(client, account)
    goals = [await goal(client, account, made["siteId"], name=n) for n in ("Purchase", "Signup")]
    code = "document.title = 'Welcome back';\r\n  // kept as sent  "
    changed = await client.patch(
        f"/personalizations/{made['id']}",
        params={"optionalFields": "goals"},
        json={
            "javaScriptCode": code,
            "cssCode": "h1 { color: red }",
            "globalScript": "window.seen = 1;",
            "goals": [g["id"] for g in goals],
            "mainGoalId": goals[1]["id"],
            "tags": ["promo", "promo", "q3"],
            "description": "for returning visitors",
            "baseURL": "https://shop.example/",
            "isArchived": True,
        },
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["javaScriptCode"] == code and body["cssCode"] == "h1 { color: red }"
    assert body["goals"] == sorted(g["id"] for g in goals) and body["mainGoalId"] == goals[1]["id"]
    assert body["tags"] == ["promo", "q3"] and body["isArchived"] is True
    plain = (await client.get(f"/personalizations/{made['id']}", headers=account.headers)).json()
    assert "goals" not in plain
    unknown = await client.get(f"/personalizations/{made['id']}?optionalFields=variations", headers=account.headers)
    assert unknown.status_code == 400 and "optionalFields" in unknown.text


async def test_patch_and_put_take_back_what_a_get_returned(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _made(client, account, javaScriptCode="go()")
    shown = (await client.get(f"/personalizations/{made['id']}?optionalFields=goals", headers=account.headers)).json()
    for method in ("PATCH", "PUT"):
        echoed = await client.request(
            method, f"/personalizations/{made['id']}", json={**shown, "cssCode": "p{}"}, headers=account.headers
        )
        assert echoed.status_code == 200, (method, echoed.text)
        assert echoed.json()["cssCode"] == "p{}" and echoed.json()["javaScriptCode"] == "go()"
    reset = await client.put(f"/personalizations/{made['id']}", json={"name": "Only a name"}, headers=account.headers)
    assert reset.status_code == 200
    assert reset.json()["javaScriptCode"] is None and reset.json()["targetingSegmentId"] is None, "PUT resets"


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"id": 1}, "id"),
        ({"siteId": 1}, "siteId"),
        ({"status": "ACTIVE"}, "status"),
        ({"dateCreated": "2001-01-01T00:00:00.000Z"}, "dateCreated"),
    ],
)
async def test_a_changed_read_only_field_is_a_400_naming_it(
    client: httpx.AsyncClient, factory: Factory, changed: dict[str, Any], field: str
) -> None:
    account = await factory.account()
    made = await _made(client, account)
    for method in ("PATCH", "PUT"):
        refused = await client.request(
            method, f"/personalizations/{made['id']}", json={**made, **changed}, headers=account.headers
        )
        assert refused.status_code == 400, (method, refused.text)
        assert refused.json()["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"siteId": "1"}, "siteId"),
        ({"javaScriptCode": 7}, "javaScriptCode"),
        ({"goals": "1"}, "goals"),
        ({"isArchived": "yes"}, "isArchived"),
        ({"variationCode": "x"}, "variationCode"),
        ({"baseURL": "javascript:alert(1)"}, "baseURL"),
        ({"javaScriptCode": "a\u0000b"}, "javaScriptCode"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    account = await factory.account()
    made_site = await site(client, account)
    refused = await client.post(
        "/personalizations", json={"name": "n", "siteId": made_site["id"], **body}, headers=account.headers
    )
    assert refused.status_code == 400, refused.text
    assert field in json.dumps(refused.json()["details"]) or field in refused.json()["message"]
    assert (await client.get("/personalizations", headers=account.headers)).json() == [], "nothing was made"


async def test_the_lifecycle_and_its_refusals(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _made(client, account)
    path = f"/personalizations/{made['id']}"

    async def act(action: str) -> httpx.Response:
        return await client.patch(path, params={"action": action}, headers=account.headers)

    assert (await act("PAUSE")).status_code == 409
    scheduled = await act("SCHEDULE")
    assert scheduled.status_code == 409 and "ACTIVATE" in scheduled.json()["message"], "no schedule: ACTIVATE it"
    assert (await act("LAUNCH")).status_code == 400
    active = await act("ACTIVATE")
    assert active.status_code == 200 and active.json()["status"] == "ACTIVE" and active.json()["dateStarted"]
    kept = await client.patch(path, json={"targetingSegmentId": None}, headers=account.headers)
    assert kept.status_code == 409 and "segment" in kept.json()["message"], "a live personalization keeps a segment"
    assert (await client.delete(path, headers=account.headers)).status_code == 409
    assert (await act("PAUSE")).json()["status"] == "PAUSED"
    assert (await act("RESUME")).json()["status"] == "ACTIVE"
    stopped = await act("STOP")
    assert stopped.json()["status"] == "STOPPED" and stopped.json()["dateEnded"]
    again = await act("ACTIVATE")
    assert again.status_code == 409 and "STOPPED" in again.json()["message"]
    assert (await client.delete(path, headers=account.headers)).status_code == 204
    assert (await client.get(path, headers=account.headers)).status_code == 404


async def test_without_a_segment_it_cannot_start(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made_site = await site(client, account)
    made = await post(client, account, "/personalizations", {"siteId": made_site["id"], "name": "Banner"})
    refused = await client.patch(f"/personalizations/{made['id']}?action=ACTIVATE", headers=account.headers)
    assert refused.status_code == 409 and "targetingSegmentId" in refused.json()["message"]
    deactivated = await client.patch(f"/personalizations/{made['id']}?action=DEACTIVATE", headers=account.headers)
    assert deactivated.json()["status"] == "DEACTIVATED"


async def test_lifecycle_refusals_name_the_personalization(client: httpx.AsyncClient, factory: Factory) -> None:
    # Experiments and personalizations share these refusals (core/experiments/lifecycle.py); each names its own kind.
    account = await factory.account()
    made_site = await site(client, account)
    bare = await post(client, account, "/personalizations", {"siteId": made_site["id"], "name": "Banner"})
    refused = await client.patch(f"/personalizations/{bare['id']}?action=ACTIVATE", headers=account.headers)
    assert (refused.status_code, refused.json()["message"]) == (
        409,
        f"cannot ACTIVATE personalization {bare['id']}: it has no segment to show to (set targetingSegmentId)",
    )
    made = await _made(client, account)
    path = f"/personalizations/{made['id']}"
    assert (await client.patch(f"{path}?action=ACTIVATE", headers=account.headers)).json()["status"] == "ACTIVE"
    echoed = await client.patch(path, json={"status": "DRAFT"}, headers=account.headers)
    assert echoed.status_code == 400
    assert echoed.json()["details"] == [
        {"field": "status", "message": f"is ACTIVE; change it with PATCH /personalizations/{made['id']}?action=..."}
    ]
    deleted = await client.delete(path, headers=account.headers)
    assert (deleted.status_code, deleted.json()["message"]) == (
        409,
        f"personalization {made['id']} is ACTIVE: only DRAFT or STOPPED personalizations can be deleted "
        "(STOP it first)",
    )


async def test_segments_and_goals_of_another_site_or_account_are_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account, other = await factory.account(), await factory.account()
    made = await _made(client, account)
    other_site = await site(client, account, name="Other")
    their_site = await site(client, other)
    their_segment = await segment(client, other, their_site["id"])
    elsewhere = await segment(client, account, other_site["id"])
    path = f"/personalizations/{made['id']}"
    for body, status in [
        ({"targetingSegmentId": their_segment["id"]}, 404),
        ({"targetingSegmentId": elsewhere["id"]}, 400),
        ({"goals": [(await goal(client, other, their_site["id"]))["id"]]}, 404),
        ({"mainGoalId": (await goal(client, account, other_site["id"]))["id"]}, 400),
        ({"targetingSegmentId": 0}, 404),
    ]:
        answer = await client.patch(path, json=body, headers=account.headers)
        assert answer.status_code == status, (body, answer.text)
    on_their_site = await client.post(
        "/personalizations", json={"name": "n", "siteId": their_site["id"]}, headers=account.headers
    )
    assert on_their_site.status_code == 404


async def test_a_goal_or_segment_of_another_site_is_named_with_the_personalizations_site(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    made = await _made(client, account)
    other_site = await site(client, account, name="Other")
    elsewhere = await segment(client, account, other_site["id"])
    goal_elsewhere = await goal(client, account, other_site["id"])
    for body, field, what in [
        ({"targetingSegmentId": elsewhere["id"]}, "targetingSegmentId", f"segment {elsewhere['id']}"),
        ({"mainGoalId": goal_elsewhere["id"]}, "mainGoalId", f"goal {goal_elsewhere['id']}"),
        ({"goals": [goal_elsewhere["id"]]}, "goals", f"goal {goal_elsewhere['id']}"),
    ]:
        answer = await client.patch(f"/personalizations/{made['id']}", json=body, headers=account.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["details"] == [
            {
                "field": field,
                "message": f"{what} belongs to site {other_site['id']}, not to the personalization's site "
                f"{made['siteId']}",
            }
        ]


async def test_another_accounts_personalization_is_not_there(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    made = await _made(client, theirs)
    path = f"/personalizations/{made['id']}"
    for method, target, body in [
        ("GET", path, None),
        ("PATCH", path, {"name": "mine now"}),
        ("PATCH", f"{path}?action=ACTIVATE", None),
        ("PUT", path, {"name": "mine now"}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, target, json=body, headers=mine.headers)
        assert answer.status_code == 404, (method, target, answer.text)
    assert (await client.get("/personalizations", headers=mine.headers)).json() == []
    assert (await client.get(path, headers=theirs.headers)).json() == made


async def test_roles_viewers_read_editors_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _made(client, account)
    viewer = await factory.member(account, Role.VIEWER)
    editor = await factory.member(account, Role.EDITOR)
    path = f"/personalizations/{made['id']}"
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    assert (await client.post("/personalizations/search", json={}, headers=viewer.headers)).status_code == 200
    for method, target, body in [
        ("POST", "/personalizations", {"name": "n", "siteId": made["siteId"]}),
        ("PATCH", path, {"name": "x"}),
        ("PATCH", f"{path}?action=ACTIVATE", None),
        ("PUT", path, {"name": "x"}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, target, json=body, headers=viewer.headers)
        assert answer.status_code == 403, (method, answer.text)
    assert (await client.patch(f"{path}?action=ACTIVATE", headers=editor.headers)).json()["status"] == "ACTIVE"


async def test_lists_page_filter_sort_and_search(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    first = await _made(client, account, name="Alpha", description="a")
    for name in ("Beta", "Gamma"):
        await post(client, account, "/personalizations", {"name": name, "siteId": first["siteId"], "isArchived": True})
    await client.patch(f"/personalizations/{first['id']}?action=ACTIVATE", headers=account.headers)
    page = await client.get("/personalizations", params={"perPage": 2, "page": 2}, headers=account.headers)
    assert page.headers["x-total-count"] == "3" and len(page.json()) == 1 and 'rel="prev"' in page.headers["link"]
    active = await client.post(
        "/personalizations/search",
        json={"filter": [{"field": "status", "operator": "EQUAL", "parameters": ["ACTIVE"]}]},
        headers=account.headers,
    )
    assert [p["name"] for p in active.json()] == ["Alpha"]
    hidden = await client.get(
        "/personalizations",
        params={"filter": json.dumps([{"field": "goals", "operator": "IS_NULL"}])},
        headers=account.headers,
    )
    assert hidden.status_code == 400
    await check_every_field(client, factory, account, "/personalizations", PERSONALIZATION_FIELDS)


async def test_a_segment_shown_to_cannot_be_deleted_and_names_who_uses_it(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    made = await _made(client, account)
    segment_id = made["targetingSegmentId"]
    experiment = await post(
        client,
        account,
        "/experiments",
        {"name": "Hero", "siteId": made["siteId"], "baseURL": "https://shop.example", "targetingSegmentId": segment_id},
    )
    users = await client.get(
        f"/segments/{segment_id}", params={"optionalFields": "experiments,personalizations"}, headers=account.headers
    )
    assert users.json()["experiments"] == [experiment["id"]] and users.json()["personalizations"] == [made["id"]]
    listed = await client.get("/segments", params={"optionalFields": "personalizations"}, headers=account.headers)
    assert [s.get("personalizations") for s in listed.json()] == [[made["id"]]] and "experiments" not in listed.json()[
        0
    ]
    plain = (await client.get(f"/segments/{segment_id}", headers=account.headers)).json()
    assert "experiments" not in plain and "personalizations" not in plain
    bad = await client.get(f"/segments/{segment_id}", params={"optionalFields": "goals"}, headers=account.headers)
    assert bad.status_code == 400
    refused = await client.delete(f"/segments/{segment_id}", headers=account.headers)
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert f"{made['id']} {made['name']!r}" in message and f"{experiment['id']} 'Hero'" in message
    await client.patch(f"/experiments/{experiment['id']}", json={"targetingSegmentId": None}, headers=account.headers)
    still = await client.delete(f"/segments/{segment_id}", headers=account.headers)
    assert still.status_code == 409 and "personalizations" in still.json()["message"]
    await client.patch(f"/personalizations/{made['id']}", json={"targetingSegmentId": None}, headers=account.headers)
    assert (await client.delete(f"/segments/{segment_id}", headers=account.headers)).status_code == 204

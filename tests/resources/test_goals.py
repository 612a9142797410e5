"""`/goals` over HTTP: type-specific params, PATCH/PUT semantics, tenancy, roles and the list language."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Factory
from tests.resources.every_field import check_every_field_filters_and_sorts
from versicolor.api.automation.goals import GOAL_FIELDS
from versicolor.core.roles import Role


async def _site(client: httpx.AsyncClient, account: factories.TestAccount, name: str = "Shop") -> int:
    answer = await client.post("/sites", json={"name": name}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    site_id: int = answer.json()["id"]
    return site_id


async def _goal(
    client: httpx.AsyncClient, account: factories.TestAccount, site_id: int, **fields: Any
) -> dict[str, Any]:
    body = {"name": "Checkout reached", "siteId": site_id, "type": "CUSTOM", **fields}
    answer = await client.post("/goals", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    goal: dict[str, Any] = answer.json()
    return goal


def _fields_at_fault(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [d["field"] for d in answer.json()["details"]]


async def test_create_url_goal_then_read_it_back(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    body = {
        "name": "Thank-you page",
        "siteId": site_id,
        "type": "URL",
        "params": {"matchString": "/thank-you", "matchType": "CONTAINS"},
        "hasMultipleConversions": True,
        "description": "order confirmed",
        "tags": ["checkout", "q3"],
    }
    created = await client.post("/goals", json=body, headers=account.headers)
    assert created.status_code == 201, created.text
    goal = created.json()
    assert goal["params"] == {"matchString": "/thank-you", "matchType": "CONTAINS"}
    assert goal["status"] == "ACTIVE" and goal["hasMultipleConversions"] is True
    assert goal["tags"] == ["checkout", "q3"] and goal["siteId"] == site_id
    assert goal["dateCreated"].endswith("Z") and goal["dateModified"].endswith("Z")
    assert (await client.get(f"/goals/{goal['id']}", headers=account.headers)).json() == goal
    listed = await client.get("/goals", headers=account.headers)
    assert listed.json() == [goal] and listed.headers["x-total-count"] == "1"


@pytest.mark.parametrize(
    ("goal_type", "params"),
    [
        ("URL", {"matchString": "^/orders/\\d+$", "matchType": "REGULAR_EXPRESSION"}),
        ("URL", {"matchString": "https://shop.example/done", "matchType": "CORRESPONDS_EXACTLY"}),
        ("PAGE_VIEWS", {"pageViews": 5}),
        ("TIME_SPENT", {"timeSeconds": 90}),
        ("SCROLL", {"scrollValue": 0}),
        ("SCROLL", {"scrollValue": 100}),
        ("CLICK", {"cssSelector": "#buy-now"}),
        ("CLICK", {}),
        ("CUSTOM", {}),
    ],
)
async def test_every_type_takes_its_params(
    client: httpx.AsyncClient, factory: Factory, goal_type: str, params: dict[str, Any]
) -> None:
    account = await factory.account()
    goal = await _goal(client, account, await _site(client, account), type=goal_type, params=params)
    assert goal["type"] == goal_type and goal["params"] == params


@pytest.mark.parametrize(
    ("goal_type", "params", "field", "words"),
    [
        ("URL", {"matchType": "CONTAINS"}, "params.matchString", "is required"),
        ("URL", {"matchString": "/x"}, "params.matchType", "CONTAINS, CORRESPONDS_EXACTLY or REGULAR_EXPRESSION"),
        ("URL", {"matchString": "/x", "matchType": "STARTS"}, "params.matchType", "CORRESPONDS_EXACTLY"),
        ("URL", {"matchString": "", "matchType": "CONTAINS"}, "params.matchString", "must not be empty"),
        ("URL", {"matchString": "(", "matchType": "REGULAR_EXPRESSION"}, "params.matchString", "regular expression"),
        ("URL", {"matchString": "[a-", "matchType": "REGULAR_EXPRESSION"}, "params.matchString", "regular expression"),
        ("URL", None, "params.matchType params.matchString", "is required"),
        ("PAGE_VIEWS", {}, "params.pageViews", "is required for a PAGE_VIEWS goal"),
        ("PAGE_VIEWS", {"pageViews": 0}, "params.pageViews", "from 1 to 1000"),
        ("PAGE_VIEWS", {"pageViews": "3"}, "params.pageViews", "integer"),
        ("PAGE_VIEWS", {"pageViews": True}, "params.pageViews", "integer"),
        ("TIME_SPENT", {"timeSeconds": 0}, "params.timeSeconds", "from 1 to 86400"),
        ("TIME_SPENT", {"timeSeconds": 2.5}, "params.timeSeconds", "integer"),
        ("SCROLL", {"scrollValue": 101}, "params.scrollValue", "from 0 to 100"),
        ("SCROLL", {"scrollValue": -1}, "params.scrollValue", "from 0 to 100"),
        ("SCROLL", {}, "params.scrollValue", "is required"),
        ("CUSTOM", {"matchString": "/x"}, "params.matchString", "a CUSTOM goal takes no params"),
        ("CLICK", {"selector": "#a"}, "params.selector", "takes only cssSelector"),
        ("CLICK", {"cssSelector": " "}, "params.cssSelector", "CSS selector"),
        ("PAGE_VIEWS", {"pageViews": 2, "timeSeconds": 3}, "params.timeSeconds", "takes only pageViews"),
    ],
)
async def test_params_that_do_not_fit_the_type_are_refused(
    client: httpx.AsyncClient, factory: Factory, goal_type: str, params: Any, field: str, words: str
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await client.post(
        "/goals", json={"name": "g", "siteId": site_id, "type": goal_type, "params": params}, headers=account.headers
    )
    assert _fields_at_fault(answer) == field.split()
    assert words in answer.json()["message"]
    assert (await client.get("/goals", headers=account.headers)).json() == []


async def test_params_must_be_an_object(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await client.post(
        "/goals", json={"name": "g", "siteId": site_id, "type": "URL", "params": ["/x"]}, headers=account.headers
    )
    assert _fields_at_fault(answer) == ["params"]


async def test_missing_required_fields_are_named(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/goals", json={"params": {}}, headers=account.headers)
    assert sorted(_fields_at_fault(answer)) == ["name", "siteId", "type"]
    blank = await client.post(
        "/goals", json={"name": "  ", "siteId": await _site(client, account), "type": "CUSTOM"}, headers=account.headers
    )
    assert _fields_at_fault(blank) == ["name"]


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await client.post(
        "/goals", json={"name": "g", "siteId": site_id, "type": "CUSTOM", "colour": "red"}, headers=account.headers
    )
    assert _fields_at_fault(answer) == ["colour"]


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("type", "PURCHASE", ["CLICK", "URL", "PAGE_VIEWS", "CUSTOM", "SCROLL", "TIME_SPENT"]),
        ("status", "PAUSED", ["ACTIVE", "INACTIVE"]),
    ],
)
async def test_wrong_enum_values_list_the_allowed_ones(
    client: httpx.AsyncClient, factory: Factory, field: str, value: str, allowed: list[str]
) -> None:
    account = await factory.account()
    body = {"name": "g", "siteId": await _site(client, account), "type": "CUSTOM", field: value}
    answer = await client.post("/goals", json=body, headers=account.headers)
    assert _fields_at_fault(answer) == [field]
    assert all(name in answer.json()["message"] for name in allowed)
    goal = await _goal(client, account, body["siteId"])
    patched = await client.patch(f"/goals/{goal['id']}", json={field: value}, headers=account.headers)
    assert _fields_at_fault(patched) == [field]
    assert all(name in patched.json()["message"] for name in allowed)


async def test_patch_replaces_only_what_it_names(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    goal = await _goal(client, account, site_id, description="first", tags=["a", "b"], status="INACTIVE")
    patched = await client.patch(f"/goals/{goal['id']}", json={"tags": ["c"]}, headers=account.headers)
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["tags"] == ["c"]  # arrays are replaced whole
    assert after["description"] == "first" and after["status"] == "INACTIVE" and after["name"] == goal["name"]
    cleared = await client.patch(f"/goals/{goal['id']}", json={"description": None}, headers=account.headers)
    assert cleared.json()["description"] is None
    null_name = await client.patch(f"/goals/{goal['id']}", json={"name": None}, headers=account.headers)
    assert _fields_at_fault(null_name) == ["name"]


async def test_changing_the_type_checks_the_params_against_the_new_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    goal = await _goal(
        client,
        account,
        await _site(client, account),
        type="URL",
        params={"matchString": "/done", "matchType": "CONTAINS"},
    )
    refused = await client.patch(f"/goals/{goal['id']}", json={"type": "PAGE_VIEWS"}, headers=account.headers)
    assert _fields_at_fault(refused) == ["params.matchString"]
    assert (await client.get(f"/goals/{goal['id']}", headers=account.headers)).json()["type"] == "URL"
    changed = await client.patch(
        f"/goals/{goal['id']}", json={"type": "PAGE_VIEWS", "params": {"pageViews": 3}}, headers=account.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["type"] == "PAGE_VIEWS" and changed.json()["params"] == {"pageViews": 3}
    bad_params = await client.patch(f"/goals/{goal['id']}", json={"params": {"pageViews": 0}}, headers=account.headers)
    assert _fields_at_fault(bad_params) == ["params.pageViews"]


async def test_put_changes_what_it_names_as_kameleoon_updates_a_goal(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    goal = await _goal(client, account, site_id, description="d", tags=["t"], hasMultipleConversions=True)
    # A real client switches a goal off with a partial PUT of its name and status.
    renamed = await client.put(
        f"/goals/{goal['id']}", json={"name": "Off", "status": "INACTIVE"}, headers=account.headers
    )
    assert renamed.status_code == 200, renamed.text
    after = renamed.json()
    assert after["name"] == "Off" and after["status"] == "INACTIVE" and after["type"] == goal["type"]
    assert after["description"] == "d" and after["tags"] == ["t"] and after["hasMultipleConversions"] is True
    changed = await client.put(
        f"/goals/{goal['id']}",
        json={"name": "Scrolled", "type": "SCROLL", "params": {"scrollValue": 75}},
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["params"] == {"scrollValue": 75} and changed.json()["dateCreated"] == goal["dateCreated"]


async def test_a_goal_sent_back_as_read_goes_through_put_and_patch(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    goal = await _goal(client, account, site_id, description="d")
    for method in ("PUT", "PATCH"):
        again = await client.request(method, f"/goals/{goal['id']}", json=goal, headers=account.headers)
        assert again.status_code == 200, again.text
        assert {k: v for k, v in again.json().items() if k != "dateModified"} == {
            k: v for k, v in goal.items() if k != "dateModified"
        }
    for field, value in [("id", goal["id"] + 1), ("dateCreated", "2001-01-01T00:00:00.000Z")]:
        changed = await client.put(f"/goals/{goal['id']}", json={**goal, field: value}, headers=account.headers)
        assert changed.status_code == 400 and _fields_at_fault(changed) == [field], changed.text


async def test_a_goal_cannot_move_to_another_site(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    goal = await _goal(client, account, site_a)
    for method, body in [
        ("PATCH", {"siteId": site_b}),
        ("PUT", {"name": "g", "type": "CUSTOM", "siteId": site_b}),
    ]:
        answer = await client.request(method, f"/goals/{goal['id']}", json=body, headers=account.headers)
        assert _fields_at_fault(answer) == ["siteId"], method
    same = await client.patch(f"/goals/{goal['id']}", json={"siteId": site_a, "name": "kept"}, headers=account.headers)
    assert same.status_code == 200 and same.json()["siteId"] == site_a


async def test_another_accounts_site_and_goals_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    their_site = await _site(client, theirs)
    their_goal = await _goal(client, theirs, their_site)
    answer = await client.post(
        "/goals", json={"name": "g", "siteId": their_site, "type": "CUSTOM"}, headers=mine.headers
    )
    assert answer.status_code == 404 and f"site {their_site}" in answer.json()["message"]
    path = f"/goals/{their_goal['id']}"
    assert (await client.get(path, headers=mine.headers)).status_code == 404
    assert (await client.patch(path, json={"name": "mine"}, headers=mine.headers)).status_code == 404
    assert (await client.put(path, json={"name": "m", "type": "CUSTOM"}, headers=mine.headers)).status_code == 404
    assert (await client.delete(path, headers=mine.headers)).status_code == 404
    assert (await client.get("/goals", headers=mine.headers)).json() == []
    assert (await client.get(path, headers=theirs.headers)).json() == their_goal
    for impossible in ("/goals/0", "/goals/99999999999999999999"):
        assert (await client.get(impossible, headers=mine.headers)).status_code == 404
    huge_site = await client.post("/goals", json={"name": "g", "siteId": 2**64, "type": "CUSTOM"}, headers=mine.headers)
    assert huge_site.status_code == 404


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    goal = await _goal(client, account, site_id)
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.get("/goals", headers=viewer.headers)).status_code == 200
    assert (await client.get(f"/goals/{goal['id']}", headers=viewer.headers)).status_code == 200
    assert (await client.post("/goals/search", json={}, headers=viewer.headers)).status_code == 200
    path = f"/goals/{goal['id']}"
    for method, target, body in [
        ("POST", "/goals", {"name": "g", "siteId": site_id, "type": "CUSTOM"}),
        ("PATCH", path, {"name": "x"}),
        ("PUT", path, {"name": "x", "type": "CUSTOM"}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, target, json=body, headers=viewer.headers)
        assert answer.status_code == 403, (method, answer.text)
    assert (await client.get(path, headers=account.headers)).json() == goal
    editor = await factory.member(account, Role.EDITOR)
    assert (await client.patch(path, json={"name": "by editor"}, headers=editor.headers)).status_code == 200


async def test_delete_removes_the_goal(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    goal = await _goal(client, account, await _site(client, account))
    assert (await client.delete(f"/goals/{goal['id']}", headers=account.headers)).status_code == 204
    assert (await client.get(f"/goals/{goal['id']}", headers=account.headers)).status_code == 404
    assert (await client.delete(f"/goals/{goal['id']}", headers=account.headers)).status_code == 404


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/goals", content="name=g", headers={**account.headers, "Content-Type": "text/plain"})
    assert answer.status_code == 400 and "Content-Type: application/json" in answer.json()["message"]


async def test_every_returned_scalar_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    await _goal(client, account, site_a, name="beta", type="URL", params={"matchString": "/a", "matchType": "CONTAINS"})
    await _goal(client, account, site_b, name="Alpha", status="INACTIVE", description="has one")
    await _goal(
        client,
        account,
        site_a,
        name="gamma",
        type="SCROLL",
        params={"scrollValue": 50},
        hasMultipleConversions=True,
        description="another",
    )
    items = (await client.get("/goals", headers=account.headers)).json()
    await check_every_field_filters_and_sorts(client, account.headers, "/goals", items, GOAL_FIELDS)
    for hidden in ("params", "tags"):
        answer = await client.get(
            "/goals",
            params={"sort": json.dumps([{"field": hidden, "direction": "ASC"}])},
            headers=account.headers,
        )
        assert answer.status_code == 400
        assert answer.json()["message"] == f"Cannot filter or sort by given field: {hidden}"


async def test_search_takes_the_query_in_a_body(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    for name in ("Cart", "Checkout", "Newsletter"):
        await _goal(client, account, site_id, name=name)
    answer = await client.post(
        "/goals/search",
        json={
            "filter": [{"field": "name", "operator": "LIKE", "parameters": ["c%"]}],
            "sort": [{"field": "name", "direction": "DESC"}],
            "perPage": 1,
        },
        headers=account.headers,
    )
    assert answer.status_code == 200, answer.text
    assert [g["name"] for g in answer.json()] == ["Checkout"]
    assert answer.headers["x-total-count"] == "2" and 'rel="next"' in answer.headers["link"]
    bad = await client.post("/goals/search", json={"filter": [{"field": "nope"}]}, headers=account.headers)
    assert bad.status_code == 400

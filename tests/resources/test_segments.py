"""`/segments` over HTTP: the conditions tree's validation, links to custom data, tenancy, roles, deletion."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Factory
from tests.resources.every_field import check_every_field_filters_and_sorts
from versicolor.api.automation.segments import SEGMENT_FIELDS
from versicolor.core.roles import Role


async def _site(client: httpx.AsyncClient, account: factories.TestAccount, name: str = "Shop") -> int:
    answer = await client.post("/sites", json={"name": name}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    site_id: int = answer.json()["id"]
    return site_id


def _tree(*conditions: dict[str, Any]) -> dict[str, Any]:
    """One group of conditions joined by AND."""
    return {
        "firstLevel": [{"conditions": list(conditions), "orOperators": [False] * (len(conditions) - 1)}],
        "firstLevelOrOperators": [],
    }


MOBILE = {"targetingType": "DEVICE_TYPE", "include": True, "value": "MOBILE"}

EVERY_TYPE = {
    "firstLevel": [
        {
            "conditions": [
                {"targetingType": "PAGE_URL", "include": True, "matchType": "CONTAINS", "value": "/checkout"},
                {"targetingType": "DEVICE_TYPE", "include": True, "value": ["MOBILE", "TABLET"]},
                {"targetingType": "BROWSER", "include": False, "value": "INTERNET_EXPLORER"},
            ],
            "orOperators": [False, False],
        },
        {
            "conditions": [
                {"targetingType": "NEW_VISITOR", "include": True},
                {"targetingType": "COUNTRY", "include": True, "value": ["FR", "BE"]},
                {
                    "targetingType": "CUSTOM_DATUM",
                    "include": True,
                    "customDataIndex": 0,
                    "matchType": "GREATER",
                    "value": 100,
                },
            ],
            "orOperators": [True, False],
        },
    ],
    "firstLevelOrOperators": [True],
}


# EVERY_TYPE as answers show it: Kameleoon's spelling, a condition id each (given in tree order).
EVERY_TYPE_ANSWERED = {
    "firstLevel": [
        {
            "conditions": [
                {"id": 1, "targetingType": "PAGE_URL", "include": True, "matchType": "CONTAINS", "url": "/checkout"},
                {"id": 2, "targetingType": "DEVICE_TYPE", "include": True, "device": ["PHONE", "TABLET"]},
                {"id": 3, "targetingType": "BROWSER", "include": False, "browser": "INTERNET_EXPLORER"},
            ],
            "orOperators": [False, False],
        },
        {
            "conditions": [
                {"id": 4, "targetingType": "NEW_VISITORS", "include": True, "visitorType": "NEW"},
                {"id": 5, "targetingType": "GEOLOCATION", "include": True, "country": ["FR", "BE"]},
                {
                    "id": 6,
                    "targetingType": "CUSTOM_DATUM",
                    "include": True,
                    "customDataIndex": 0,
                    "matchType": "GREATER",
                    "value": 100,
                },
            ],
            "orOperators": [True, False],
        },
    ],
    "firstLevelOrOperators": [True],
}


async def _segment(
    client: httpx.AsyncClient, account: factories.TestAccount, site_id: int, **fields: Any
) -> dict[str, Any]:
    body = {"name": "Mobile visitors", "siteId": site_id, "conditionsData": _tree(MOBILE), **fields}
    answer = await client.post("/segments", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    segment: dict[str, Any] = answer.json()
    return segment


async def _custom_data(
    client: httpx.AsyncClient, account: factories.TestAccount, site_id: int, **fields: Any
) -> dict[str, Any]:
    body = {"name": "Cart value", "siteId": site_id, "format": "NUMBER", **fields}
    answer = await client.post("/custom-datas", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    datum: dict[str, Any] = answer.json()
    return datum


def _fields_at_fault(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [d["field"] for d in answer.json()["details"]]


async def test_every_targeting_type_round_trips(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    await _custom_data(client, account, site_id)
    segment = await _segment(
        client, account, site_id, name="Buyers", conditionsData=EVERY_TYPE, description="d", tags=["x"]
    )
    assert segment["conditionsData"] == EVERY_TYPE_ANSWERED
    assert segment["segmentType"] == "STANDARD" and segment["siteId"] == site_id and segment["tags"] == ["x"]
    assert segment["dateCreated"].endswith("Z")
    assert (await client.get(f"/segments/{segment['id']}", headers=account.headers)).json() == segment
    assert (await client.get("/segments", headers=account.headers)).json() == [segment]


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    """EVERY_TYPE with the value at `path` replaced (or removed, for `...`)."""
    tree = copy.deepcopy(EVERY_TYPE)
    target: Any = tree
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return tree


G0C = ["firstLevel", 0, "conditions"]
MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", ["not", "a", "tree"], "conditionsData"),
    ("no firstLevel", {"firstLevelOrOperators": []}, "conditionsData.firstLevel"),
    ("empty firstLevel", {"firstLevel": [], "firstLevelOrOperators": []}, "conditionsData.firstLevel"),
    ("unknown top key", _with(["extra"], 1), "conditionsData.extra"),
    ("group not an object", _with(["firstLevel", 0], "group"), "conditionsData.firstLevel[0]"),
    ("empty group", _with(G0C, []), "conditionsData.firstLevel[0].conditions"),
    (
        "too few orOperators",
        _with(["firstLevel", 0, "orOperators"], [False]),
        "conditionsData.firstLevel[0].orOperators",
    ),
    (
        "orOperators not booleans",
        _with(["firstLevel", 0, "orOperators"], [0, 1]),
        "conditionsData.firstLevel[0].orOperators",
    ),
    ("orOperators missing", _with(["firstLevel", 0, "orOperators"], ...), "conditionsData.firstLevel[0].orOperators"),
    (
        "firstLevelOrOperators too long",
        _with(["firstLevelOrOperators"], [True, False, True]),
        "conditionsData.firstLevelOrOperators",
    ),
    ("firstLevelOrOperators missing", _with(["firstLevelOrOperators"], ...), "conditionsData.firstLevelOrOperators"),
    ("condition not an object", _with([*G0C, 0], "PAGE_URL"), "conditionsData.firstLevel[0].conditions[0]"),
    (
        "unknown targeting type",
        _with([*G0C, 0, "targetingType"], "WEATHER"),
        "conditionsData.firstLevel[0].conditions[0].targetingType",
    ),
    (
        "no targeting type",
        _with([*G0C, 0, "targetingType"], ...),
        "conditionsData.firstLevel[0].conditions[0].targetingType",
    ),
    ("include not boolean", _with([*G0C, 0, "include"], "yes"), "conditionsData.firstLevel[0].conditions[0].include"),
    (
        "field of another type",
        _with([*G0C, 1, "matchType"], "CONTAINS"),
        "conditionsData.firstLevel[0].conditions[1].matchType",
    ),
    ("page url without value", _with([*G0C, 0, "value"], ...), "conditionsData.firstLevel[0].conditions[0].url"),
    (
        "page url under both names",
        _with([*G0C, 0, "url"], "/cart"),
        "conditionsData.firstLevel[0].conditions[0].value",
    ),
    ("page url empty", _with([*G0C, 0, "value"], ""), "conditionsData.firstLevel[0].conditions[0].value"),
    (
        "page url bad match type",
        _with([*G0C, 0, "matchType"], "STARTS_WITH"),
        "conditionsData.firstLevel[0].conditions[0].matchType",
    ),
    (
        "page url bad regex",
        _with(
            [*G0C, 0],
            {"targetingType": "PAGE_URL", "include": True, "matchType": "REGULAR_EXPRESSION", "value": "*cart"},
        ),
        "conditionsData.firstLevel[0].conditions[0].value",
    ),
    (
        "unknown device",
        _with([*G0C, 1, "value"], ["MOBILE", "WATCH"]),
        "conditionsData.firstLevel[0].conditions[1].value",
    ),
    ("empty device list", _with([*G0C, 1, "value"], []), "conditionsData.firstLevel[0].conditions[1].value"),
    ("unknown browser", _with([*G0C, 2, "value"], "NETSCAPE"), "conditionsData.firstLevel[0].conditions[2].value"),
    (
        "new visitor with a value",
        _with(["firstLevel", 1, "conditions", 0, "value"], True),
        "conditionsData.firstLevel[1].conditions[0].value",
    ),
    (
        "country code of three letters",
        _with(["firstLevel", 1, "conditions", 1, "value"], ["FRA"]),
        "conditionsData.firstLevel[1].conditions[1].value",
    ),
    (
        "country name",
        _with(["firstLevel", 1, "conditions", 1, "value"], "France"),
        "conditionsData.firstLevel[1].conditions[1].value",
    ),
    (
        "custom datum without index",
        _with(["firstLevel", 1, "conditions", 2, "customDataIndex"], ...),
        "conditionsData.firstLevel[1].conditions[2].customDataIndex",
    ),
    (
        "custom datum index not an integer",
        _with(["firstLevel", 1, "conditions", 2, "customDataIndex"], "zero"),
        "conditionsData.firstLevel[1].conditions[2].customDataIndex",
    ),
    (
        "number compared with text",
        _with(["firstLevel", 1, "conditions", 2, "value"], "100"),
        "conditionsData.firstLevel[1].conditions[2].value",
    ),
    (
        "custom datum unknown match",
        _with(["firstLevel", 1, "conditions", 2, "matchType"], "BIGGER"),
        "conditionsData.firstLevel[1].conditions[2].matchType",
    ),
]


@pytest.mark.parametrize(("case", "tree", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_conditions_are_refused_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, case: str, tree: Any, field: str
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    await _custom_data(client, account, site_id)
    answer = await client.post(
        "/segments", json={"name": "s", "siteId": site_id, "conditionsData": tree}, headers=account.headers
    )
    assert field in _fields_at_fault(answer), (case, answer.json())
    assert (await client.get("/segments", headers=account.headers)).json() == []


async def test_every_problem_of_a_tree_is_named_at_once(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    tree = _tree(
        {"targetingType": "DEVICE_TYPE", "include": True, "value": "FRIDGE"},
        {"targetingType": "COUNTRY", "include": "no", "value": "FR"},
    )
    answer = await client.post(
        "/segments", json={"name": "s", "siteId": site_id, "conditionsData": tree}, headers=account.headers
    )
    assert _fields_at_fault(answer) == [
        "conditionsData.firstLevel[0].conditions[0].value",
        "conditionsData.firstLevel[0].conditions[1].include",
    ]
    assert "DESKTOP, TABLET or PHONE" in answer.json()["message"]


async def test_targeting_types_are_listed_when_one_is_wrong(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    tree = _tree({"targetingType": "WEATHER", "include": True})
    answer = await client.post(
        "/segments", json={"name": "s", "siteId": site_id, "conditionsData": tree}, headers=account.headers
    )
    message = answer.json()["message"]
    for kind in ("PAGE_URL", "DEVICE_TYPE", "BROWSER", "NEW_VISITORS", "CUSTOM_DATUM", "GEOLOCATION", "JS_CODE"):
        assert kind in message


async def test_custom_datum_conditions_must_name_the_sites_custom_data(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    on_b = await _custom_data(client, account, site_b, name="Plan", format="STRING", index=4)
    condition = {
        "targetingType": "CUSTOM_DATUM",
        "include": True,
        "customDataIndex": 4,
        "matchType": "CONTAINS",
        "value": "gold",
    }
    elsewhere = await client.post(
        "/segments", json={"name": "s", "siteId": site_a, "conditionsData": _tree(condition)}, headers=account.headers
    )
    assert _fields_at_fault(elsewhere) == ["conditionsData.firstLevel[0].conditions[0].customDataIndex"]
    assert f"site {site_a} has no custom data at index 4" in elsewhere.json()["message"]
    numeric = {**condition, "matchType": "LESS", "value": 3}
    unsuited = await client.post(
        "/segments", json={"name": "s", "siteId": site_b, "conditionsData": _tree(numeric)}, headers=account.headers
    )
    assert _fields_at_fault(unsuited) == ["conditionsData.firstLevel[0].conditions[0].matchType"]
    assert "format STRING" in unsuited.json()["message"] and "CONTAINS" in unsuited.json()["message"]
    fine = await _segment(client, account, site_b, conditionsData=_tree(condition))
    assert fine["conditionsData"]["firstLevel"][0]["conditions"][0]["customDataIndex"] == on_b["index"]


async def test_missing_fields_and_wrong_segment_type(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/segments", json={}, headers=account.headers)
    assert sorted(_fields_at_fault(answer)) == ["conditionsData", "name", "siteId"]
    site_id = await _site(client, account)
    wrong = await client.post(
        "/segments",
        json={"name": "s", "siteId": site_id, "conditionsData": _tree(MOBILE), "segmentType": "PREDICTIVE"},
        headers=account.headers,
    )
    assert _fields_at_fault(wrong) == ["segmentType"] and "STANDARD" in wrong.json()["message"]


async def test_patch_replaces_the_tree_whole_and_put_resets(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    segment = await _segment(client, account, site_id, description="phones", tags=["a"])
    french = _tree({"targetingType": "COUNTRY", "include": True, "value": "FR"})
    patched = await client.patch(f"/segments/{segment['id']}", json={"conditionsData": french}, headers=account.headers)
    assert patched.status_code == 200, patched.text
    # Condition 1 was the segment's first condition: a new one gets the next id, never a used one again.
    assert patched.json()["conditionsData"] == _tree(
        {"id": 2, "targetingType": "GEOLOCATION", "include": True, "country": "FR"}
    )
    assert patched.json()["description"] == "phones" and patched.json()["tags"] == ["a"]
    null_tree = await client.patch(f"/segments/{segment['id']}", json={"conditionsData": None}, headers=account.headers)
    assert _fields_at_fault(null_tree) == ["conditionsData"]
    bad = await client.patch(
        f"/segments/{segment['id']}", json={"conditionsData": {"firstLevel": []}}, headers=account.headers
    )
    assert _fields_at_fault(bad) == ["conditionsData.firstLevel"]
    stored = (await client.get(f"/segments/{segment['id']}", headers=account.headers)).json()["conditionsData"]
    assert stored == patched.json()["conditionsData"]
    replaced = await client.put(
        f"/segments/{segment['id']}", json={"name": "Phones", "conditionsData": _tree(MOBILE)}, headers=account.headers
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["description"] is None and replaced.json()["tags"] == []
    incomplete = await client.put(f"/segments/{segment['id']}", json={"name": "x"}, headers=account.headers)
    assert _fields_at_fault(incomplete) == ["conditionsData"]
    moved = await client.patch(
        f"/segments/{segment['id']}", json={"siteId": await _site(client, account, "B")}, headers=account.headers
    )
    assert _fields_at_fault(moved) == ["siteId"]


async def test_deleting_a_targeted_segment_names_the_experiments(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    segment = await _segment(client, account, site_id)
    experiments = []
    for name in ("Checkout button", "Hero image"):
        created = await client.post(
            "/experiments",
            json={
                "name": name,
                "siteId": site_id,
                "baseURL": "https://shop.example",
                "targetingSegmentId": segment["id"],
            },
            headers=account.headers,
        )
        assert created.status_code == 201, created.text
        experiments.append(created.json())
    refused = await client.delete(f"/segments/{segment['id']}", headers=account.headers)
    assert refused.status_code == 409, refused.text
    message = refused.json()["message"]
    for experiment in experiments:
        assert f"{experiment['id']} {experiment['name']!r}" in message
    assert "targetingSegmentId" in message
    assert (await client.get(f"/segments/{segment['id']}", headers=account.headers)).status_code == 200
    for experiment in experiments:
        answer = await client.patch(
            f"/experiments/{experiment['id']}", json={"targetingSegmentId": None}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
    assert (await client.delete(f"/segments/{segment['id']}", headers=account.headers)).status_code == 204
    assert (await client.get(f"/segments/{segment['id']}", headers=account.headers)).status_code == 404


async def test_another_accounts_site_and_segments_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    their_site = await _site(client, theirs)
    their_segment = await _segment(client, theirs, their_site)
    answer = await client.post(
        "/segments", json={"name": "s", "siteId": their_site, "conditionsData": _tree(MOBILE)}, headers=mine.headers
    )
    assert answer.status_code == 404
    path = f"/segments/{their_segment['id']}"
    assert (await client.get(path, headers=mine.headers)).status_code == 404
    assert (await client.patch(path, json={"name": "m"}, headers=mine.headers)).status_code == 404
    put = await client.put(path, json={"name": "m", "conditionsData": _tree(MOBILE)}, headers=mine.headers)
    assert put.status_code == 404
    assert (await client.delete(path, headers=mine.headers)).status_code == 404
    assert (await client.get("/segments", headers=mine.headers)).json() == []
    assert (await client.get(path, headers=theirs.headers)).json() == their_segment


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    segment = await _segment(client, account, site_id)
    viewer = await factory.member(account, Role.VIEWER)
    path = f"/segments/{segment['id']}"
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    assert (await client.post("/segments/search", json={}, headers=viewer.headers)).status_code == 200
    for method, target, body in [
        ("POST", "/segments", {"name": "s", "siteId": site_id, "conditionsData": _tree(MOBILE)}),
        ("PATCH", path, {"name": "x"}),
        ("PUT", path, {"name": "x", "conditionsData": _tree(MOBILE)}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, target, json=body, headers=viewer.headers)
        assert answer.status_code == 403, (method, answer.text)
    assert (await client.get(path, headers=account.headers)).json() == segment


async def test_every_returned_scalar_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    await _segment(client, account, site_a, name="Mobile", description="phones")
    await _segment(client, account, site_b, name="desktop")
    await _segment(client, account, site_a, name="French", description="FR only")
    items = (await client.get("/segments", headers=account.headers)).json()
    await check_every_field_filters_and_sorts(client, account.headers, "/segments", items, SEGMENT_FIELDS)
    hidden = await client.get(
        "/segments",
        params={"filter": json.dumps([{"field": "conditionsData", "operator": "IS_NULL"}])},
        headers=account.headers,
    )
    assert hidden.status_code == 400
    assert hidden.json()["message"] == "Cannot filter or sort by given field: conditionsData"
    searched = await client.post(
        "/segments/search",
        json={"filter": {"field": "siteId", "operator": "EQUAL", "parameters": [site_a]}, "sort": [{"field": "name"}]},
        headers=account.headers,
    )
    assert [s["name"] for s in searched.json()] == ["French", "Mobile"]

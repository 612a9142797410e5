"""Segments as Kameleoon's clients write them: its condition vocabulary, condition ids, PUT of one condition."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories
from tests.factories import Factory
from versicolor.core.roles import Role
from versicolor.core.segments import conditions_of
from versicolor.db.models import Segment


async def _site(client: httpx.AsyncClient, account: factories.TestAccount) -> int:
    answer = await client.post("/sites", json={"name": "Shop"}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    site_id: int = answer.json()["id"]
    return site_id


def _js_segment(site_id: int, code: str = "return window.vip === true;") -> dict[str, Any]:
    # As Kameleoon's own deploy toolkit writes it: one operator per group, none in the group, flags it documents.
    return {
        "name": "VIP",
        "siteId": site_id,
        "audienceTracking": False,
        "audienceTrackingEditable": False,
        "isFavorite": True,
        "conditionsData": {
            "firstLevelOrOperators": [False],
            "firstLevel": [{"conditions": [{"targetingType": "JS_CODE", "jsCode": code, "applied": "IMMEDIATE"}]}],
        },
    }


async def test_a_js_code_segment_written_as_kameleoon_writes_it(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await client.post("/segments", json=_js_segment(site_id), headers=account.headers)
    assert answer.status_code == 201, answer.text
    segment = answer.json()
    assert segment["isFavorite"] is True and segment["audienceTracking"] is False
    assert segment["conditionsData"] == {
        "firstLevel": [
            {
                "conditions": [
                    {
                        "id": 1,
                        "targetingType": "JS_CODE",
                        "include": True,
                        "jsCode": "return window.vip === true;",
                        "applied": "IMMEDIATE",
                    }
                ],
                "orOperators": [],
            }
        ],
        "firstLevelOrOperators": [],
    }


async def test_one_condition_is_replaced_in_place_by_its_id(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    body = _js_segment(site_id)
    body["conditionsData"]["firstLevel"][0] = {
        "conditions": [
            {"targetingType": "DEVICE_TYPE", "include": True, "device": "PHONE", "weight": 2},
            {"targetingType": "JS_CODE", "include": True, "jsCode": "return 1;"},
        ],
        "orOperators": [False],
    }
    segment = (await client.post("/segments", json=body, headers=account.headers)).json()
    js = segment["conditionsData"]["firstLevel"][0]["conditions"][1]
    path = f"/segments/{segment['id']}/conditions/{js['id']}"
    replaced = await client.put(
        path, json={"targetingType": "JS_CODE", "id": js["id"], "jsCode": "return 2;"}, headers=account.headers
    )
    assert replaced.status_code == 200, replaced.text
    conditions = replaced.json()["conditionsData"]["firstLevel"][0]["conditions"]
    assert conditions == [
        {"id": 1, "targetingType": "DEVICE_TYPE", "include": True, "weight": 2, "device": "PHONE"},
        {"id": 2, "targetingType": "JS_CODE", "include": True, "jsCode": "return 2;"},
    ]
    assert (await client.get(f"/segments/{segment['id']}", headers=account.headers)).json() == replaced.json()

    other = await client.put(path, json={"targetingType": "JS_CODE", "id": 1, "jsCode": "x"}, headers=account.headers)
    assert other.status_code == 400 and other.json()["details"][0]["field"] == "id"
    missing = await client.put(
        f"/segments/{segment['id']}/conditions/99",
        json={"targetingType": "JS_CODE", "jsCode": "x"},
        headers=account.headers,
    )
    assert missing.status_code == 404 and "condition 99" in missing.json()["message"]
    empty = await client.put(path, json={"targetingType": "JS_CODE", "jsCode": " "}, headers=account.headers)
    assert empty.status_code == 400
    assert empty.json()["details"][0]["field"] == "conditionsData.firstLevel[0].conditions[1].jsCode"
    not_object = await client.put(path, json=["JS_CODE"], headers=account.headers)
    assert not_object.status_code == 400
    stranger = await factory.account()
    assert (
        await client.put(path, json={"targetingType": "JS_CODE", "jsCode": "x"}, headers=stranger.headers)
    ).status_code == 404
    viewer = await factory.member(account, Role.VIEWER)
    assert (
        await client.put(path, json={"targetingType": "JS_CODE", "jsCode": "x"}, headers=viewer.headers)
    ).status_code == 403
    after = (await client.get(f"/segments/{segment['id']}", headers=account.headers)).json()
    assert after == replaced.json()


async def test_a_segment_as_got_is_accepted_back_whole(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    created = (await client.post("/segments", json=_js_segment(site_id), headers=account.headers)).json()
    got = (await client.get(f"/segments/{created['id']}", headers=account.headers)).json()
    for verb in ("PUT", "PATCH"):
        again = await client.request(verb, f"/segments/{created['id']}", json=got, headers=account.headers)
        assert again.status_code == 200, again.text
        assert {k: v for k, v in again.json().items() if k != "dateModified"} == {
            k: v for k, v in got.items() if k != "dateModified"
        }
    # A condition added the way the deploy toolkit adds one: pushed with its operator, no id yet.
    got["conditionsData"]["firstLevel"][0]["conditions"].append(
        {"targetingType": "DEVICE_TYPE", "include": True, "device": "TABLET"}
    )
    got["conditionsData"]["firstLevel"][0]["orOperators"].append(False)
    grown = await client.put(f"/segments/{created['id']}", json=got, headers=account.headers)
    assert grown.status_code == 200, grown.text
    assert [c["id"] for c in grown.json()["conditionsData"]["firstLevel"][0]["conditions"]] == [1, 2]
    for field, value in (("id", created["id"] + 1), ("dateCreated", "2001-01-01T00:00:00.000Z")):
        changed = await client.put(f"/segments/{created['id']}", json={**got, field: value}, headers=account.headers)
        assert changed.status_code == 400, changed.text
        assert changed.json()["details"][0]["field"] == field
    twice = await client.put(
        f"/segments/{created['id']}",
        json={
            **got,
            "conditionsData": {
                "firstLevel": [
                    {
                        "conditions": [
                            {"id": 5, "targetingType": "NEW_VISITORS", "visitorType": "NEW"},
                            {"id": 5, "targetingType": "NEW_VISITORS", "visitorType": "RETURNING"},
                        ],
                        "orOperators": [True],
                    }
                ],
                "firstLevelOrOperators": [],
            },
        },
        headers=account.headers,
    )
    assert twice.status_code == 400 and "id 5" in twice.json()["message"]


async def test_a_kameleoon_type_versicolor_does_not_evaluate_is_refused_by_name(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    tree = {
        "firstLevel": [{"conditions": [{"targetingType": "SCREEN_DIMENSION", "include": True}], "orOperators": []}],
        "firstLevelOrOperators": [],
    }
    answer = await client.post(
        "/segments", json={"name": "Wide", "siteId": site_id, "conditionsData": tree}, headers=account.headers
    )
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "conditionsData.firstLevel[0].conditions[0].targetingType"
    assert (
        "SCREEN_DIMENSION is a Kameleoon targeting type that Versicolor does not evaluate" in answer.json()["message"]
    )
    versioned = {
        "firstLevel": [
            {
                "conditions": [
                    {"targetingType": "BROWSER", "browser": "CHROME", "version": "100", "versionMatchType": "GREATER"}
                ]
            }
        ],
        "firstLevelOrOperators": [],
    }
    refused = await client.post(
        "/segments",
        json={"name": "New Chrome", "siteId": site_id, "conditionsData": versioned},
        headers=account.headers,
    )
    assert refused.status_code == 400 and "browser versions" in refused.json()["message"]


async def test_condition_ids_are_never_given_out_twice(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    created = (await client.post("/segments", json=_js_segment(site_id), headers=account.headers)).json()
    tree = {
        "firstLevel": [{"conditions": [{"targetingType": "DEVICE_TYPE", "device": "DESKTOP"}]}],
        "firstLevelOrOperators": [],
    }
    for expected in (2, 3):
        patched = await client.patch(
            f"/segments/{created['id']}", json={"conditionsData": tree}, headers=account.headers
        )
        assert patched.json()["conditionsData"]["firstLevel"][0]["conditions"][0]["id"] == expected
    given = {"firstLevel": [{"conditions": [{"id": 40, "targetingType": "DEVICE_TYPE", "device": "DESKTOP"}]}]}
    kept = await client.patch(
        f"/segments/{created['id']}",
        json={"conditionsData": {**given, "firstLevelOrOperators": []}},
        headers=account.headers,
    )
    assert kept.json()["conditionsData"]["firstLevel"][0]["conditions"][0]["id"] == 40
    after = await client.patch(f"/segments/{created['id']}", json={"conditionsData": tree}, headers=account.headers)
    assert after.json()["conditionsData"]["firstLevel"][0]["conditions"][0]["id"] == 41


def test_a_segment_stored_before_condition_ids_reads_in_kameleoon_spelling_with_ids_by_position() -> None:
    stored = {
        "firstLevel": [
            {
                "conditions": [
                    {"targetingType": "DEVICE_TYPE", "include": True, "value": ["MOBILE"]},
                    {"targetingType": "NEW_VISITOR", "include": False},
                ],
                "orOperators": [True],
            }
        ],
        "firstLevelOrOperators": [],
    }
    segment = Segment(conditions_data=stored, last_condition_id=0)
    assert conditions_of(segment) == {
        "firstLevel": [
            {
                "conditions": [
                    {"id": 1, "targetingType": "DEVICE_TYPE", "include": True, "device": ["PHONE"]},
                    {"id": 2, "targetingType": "NEW_VISITORS", "include": False, "visitorType": "NEW"},
                ],
                "orOperators": [True],
            }
        ],
        "firstLevelOrOperators": [],
    }
    assert segment.conditions_data == stored  # reading rewrites nothing

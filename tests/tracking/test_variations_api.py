"""`GET /data/v1/sites/{siteCode}/visitors/{visitorCode}/variations`: the server's answer matches the hash."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.tracking.fixtures import ORIGIN, Shop, exposure, shop
from versicolor.core.roles import Role
from versicolor.tracking.assignment import assign


def path(made: Shop, visitor: str) -> str:
    return f"/data/v1/sites/{made.code}/visitors/{visitor}/variations"


async def variations_of(client: httpx.AsyncClient, made: Shop, visitor: str, **params: Any) -> dict[int, int]:
    answer = await client.get(path(made, visitor), params=params, headers=made.account.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["siteCode"], body["visitorCode"]) == (made.code, visitor)
    return {a["experimentId"]: a["variationId"] for a in body["variations"]}


def deviations_of(made: Shop, shares: dict[str, float]) -> dict[str, float]:
    keys = {"origin": "origin", "v1": str(made.variation_ids[0]), "v2": str(made.variation_ids[1])}
    return {keys[k]: v for k, v in shares.items()}


async def test_every_visitor_gets_the_variation_the_hash_gives(client: httpx.AsyncClient, factory: Factory) -> None:
    shares = {"origin": 0.2, "v1": 0.3, "v2": 0.3}
    made = await shop(client, factory, deviations=shares)
    seen = set()
    for n in range(30):
        visitor = f"visitor-{n}"
        expected = assign(made.experiment_id, visitor, deviations_of(made, shares))
        got = await variations_of(client, made, visitor)
        assert got == ({} if expected is None else {made.experiment_id: expected}), visitor
        seen.add(expected)
    assert seen == {None, 0, *made.variation_ids}


async def test_a_stored_first_exposure_wins_over_the_hash(client: httpx.AsyncClient, factory: Factory) -> None:
    shares = {"origin": 0.5, "v1": 0.5, "v2": 0.0}
    made = await shop(client, factory, deviations=shares)
    chosen = made.variation_ids[1]  # gets no new traffic, but this visitor was shown it
    visitor = next(
        f"v{n}" for n in range(100) if assign(made.experiment_id, f"v{n}", deviations_of(made, shares)) != chosen
    )
    sent = await client.post(
        made.events_path,
        json={"events": [exposure(made.experiment_id, chosen, visitor)]},
        headers=made.account.headers,
    )
    assert sent.status_code == 202
    assert await variations_of(client, made, visitor) == {made.experiment_id: chosen}


async def test_visitors_outside_the_deviations_are_not_in_the_experiment(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    shares = {"origin": 0.05, "v1": 0.05}
    made = await shop(client, factory, deviations=shares)
    outside = next(
        f"o{n}" for n in range(100) if assign(made.experiment_id, f"o{n}", deviations_of(made, shares)) is None
    )
    assert await variations_of(client, made, outside) == {}


async def test_targeting_segments_use_the_given_attributes(client: httpx.AsyncClient, factory: Factory) -> None:
    conditions = {
        "firstLevel": [
            {
                "conditions": [
                    {"targetingType": "DEVICE_TYPE", "include": True, "value": "MOBILE"},
                    {"targetingType": "COUNTRY", "include": True, "value": "FR"},
                ],
                "orOperators": [False],
            }
        ]
    }
    made = await shop(client, factory, segment=conditions)
    assert await variations_of(client, made, "anna", deviceType="MOBILE", country="fr") != {}
    assert await variations_of(client, made, "anna", deviceType="DESKTOP", country="FR") == {}
    assert await variations_of(client, made, "anna", deviceType="MOBILE") == {}
    assert await variations_of(client, made, "anna") == {}


async def test_kameleoon_spellings_and_the_newer_attributes_reach_the_segment(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    conditions = {
        "firstLevel": [
            {
                "conditions": [
                    {"targetingType": "DEVICE_TYPE", "include": True, "device": "PHONE"},
                    {"targetingType": "OPERATING_SYSTEM", "include": True, "os": "ANDROID"},
                    {"targetingType": "PAGE_TITLE", "include": True, "matchType": "CONTAINS", "title": "Cart"},
                    {"targetingType": "VISITED_PAGES", "include": True, "matchType": "CONTAINS", "url": "/pricing"},
                    {
                        "targetingType": "COOKIE",
                        "include": True,
                        "name": "plan",
                        "value": "gold",
                        "nameMatchType": "CORRESPONDS_EXACTLY",
                        "valueMatchType": "CORRESPONDS_EXACTLY",
                    },
                    {"targetingType": "DAY_OF_WEEK", "include": True, "day": "SATURDAY"},
                ],
                "orOperators": [False] * 5,
            }
        ],
        "firstLevelOrOperators": [],
    }
    made = await shop(client, factory, segment=conditions)
    visitor = {
        "os": "ANDROID",
        "pageTitle": "Your Cart",
        "visitedPages": ["https://shop.example/", "https://shop.example/pricing"],
        "cookies": json.dumps({"plan": "gold"}),
        "localTime": "2030-06-01T10:00:00",
    }
    # MOBILE, the earlier name of a phone, is still understood.
    assert await variations_of(client, made, "anna", deviceType="PHONE", **visitor) != {}
    assert await variations_of(client, made, "anna", deviceType="MOBILE", **visitor) != {}
    assert (
        await variations_of(client, made, "anna", deviceType="PHONE", **{**visitor, "localTime": "2030-06-03T10:00:00"})
        == {}
    )
    assert await variations_of(client, made, "anna", deviceType="TABLET", **visitor) == {}


async def test_js_code_targeting_is_reported_as_page_only_never_guessed(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    conditions = {
        "firstLevel": [
            {
                "conditions": [
                    {"targetingType": "DEVICE_TYPE", "include": True, "device": "PHONE"},
                    {"targetingType": "JS_CODE", "include": True, "jsCode": "return window.vip === true;"},
                ],
                "orOperators": [False],
            }
        ],
        "firstLevelOrOperators": [],
    }
    made = await shop(client, factory, segment=conditions)
    phone = await client.get(path(made, "anna"), params={"deviceType": "PHONE"}, headers=made.account.headers)
    assert phone.status_code == 200
    assert phone.json()["variations"] == []
    assert [p["experimentId"] for p in phone.json()["pageOnly"]] == [made.experiment_id]
    assert "JS_CODE" in phone.json()["pageOnly"][0]["reason"]
    # Not a phone: the AND is false whatever the code says, so the server can decide (not in it).
    desktop = await client.get(path(made, "anna"), params={"deviceType": "DESKTOP"}, headers=made.account.headers)
    assert desktop.json() == {"siteCode": made.code, "visitorCode": "anna", "variations": [], "pageOnly": []}


async def test_custom_data_attributes_reach_the_segment(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_probe = await shop(client, factory, account=account, activate=False, host="probe.example")
    datum = await client.post(
        "/custom-datas",
        json={"name": "Tier", "siteId": site_probe.site_id, "index": 3, "type": "UNIQUE", "format": "STRING"},
        headers=account.headers,
    )
    assert datum.status_code == 201, datum.text
    conditions = {
        "firstLevel": [
            {
                "conditions": [
                    {
                        "targetingType": "CUSTOM_DATUM",
                        "include": True,
                        "customDataIndex": datum.json()["index"],
                        "matchType": "CORRESPONDS_EXACTLY",
                        "value": "gold",
                    }
                ]
            }
        ]
    }
    segment = await client.post(
        "/segments",
        json={"name": "Gold", "siteId": site_probe.site_id, "conditionsData": conditions},
        headers=account.headers,
    )
    assert segment.status_code == 201, segment.text
    targeted = await client.patch(
        f"/experiments/{site_probe.experiment_id}",
        json={"targetingSegmentId": segment.json()["id"]},
        headers=account.headers,
        params={"action": "ACTIVATE"},
    )
    assert targeted.status_code == 200, targeted.text
    gold = await variations_of(client, site_probe, "zed", customData=json.dumps({"3": "gold"}))
    silver = await variations_of(client, site_probe, "zed", customData=json.dumps({"3": "silver"}))
    assert list(gold) == [site_probe.experiment_id] and silver == {}


async def test_paused_experiments_are_left_out(client: httpx.AsyncClient, factory: Factory) -> None:
    made = await shop(client, factory)
    paused = await client.patch(
        f"/experiments/{made.experiment_id}", params={"action": "PAUSE"}, headers=made.account.headers
    )
    assert paused.status_code == 200
    assert await variations_of(client, made, "anyone") == {}


async def test_a_viewer_may_ask(client: httpx.AsyncClient, factory: Factory) -> None:
    made = await shop(client, factory)
    viewer = await factory.member(made.account, Role.VIEWER)
    answer = await client.get(path(made, "v"), headers=viewer.headers)
    assert answer.status_code == 200


async def test_only_a_token_of_the_sites_account_may_ask(client: httpx.AsyncClient, factory: Factory) -> None:
    made = await shop(client, factory)
    stranger = await factory.account()
    assert (await client.get(path(made, "v"))).status_code == 401
    assert (await client.get(path(made, "v"), headers={"Origin": ORIGIN})).status_code == 401
    assert (await client.get(path(made, "v"), headers=stranger.headers)).status_code == 404
    unknown = await client.get("/data/v1/sites/nosuchsite/visitors/v/variations", headers=made.account.headers)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"deviceType": "WATCH"}, "deviceType"),
        ({"os": "BEOS"}, "os"),
        ({"cookies": "[1]"}, "cookies"),
        ({"cookies": json.dumps({"a": 1})}, "cookies"),
        ({"localTime": "tomorrow"}, "localTime"),
        ({"localTime": "0.5"}, "localTime"),  # not seconds since 1970: a wall clock
        ({"browser": "MOSAIC"}, "browser"),
        ({"country": "FRA"}, "country"),
        ({"newVisitor": "maybe"}, "newVisitor"),
        ({"customData": "{not json"}, "customData"),
        ({"customData": "[" * 20_000}, "customData"),
        ({"customData": json.dumps({"tier": "gold"})}, "customData.tier"),
    ],
)
async def test_bad_attributes_are_named(
    client: httpx.AsyncClient, factory: Factory, params: dict[str, str], field: str
) -> None:
    made = await shop(client, factory, activate=False)
    answer = await client.get(path(made, "v"), params=params, headers=made.account.headers)
    assert answer.status_code == 400, answer.text
    assert field in [d["field"] for d in answer.json()["details"]]


@pytest.mark.parametrize("visitor", ["%20", "nul%00code", "x" * 256])
async def test_a_visitor_code_that_is_not_one_is_refused(
    client: httpx.AsyncClient, factory: Factory, visitor: str
) -> None:
    made = await shop(client, factory, activate=False)
    answer = await client.get(path(made, visitor), headers=made.account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "visitorCode"

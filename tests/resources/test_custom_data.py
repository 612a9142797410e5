"""`/custom-datas` over HTTP: indexes per site, enums, changes that segments forbid, tenancy, roles, listing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Factory
from tests.resources.every_field import check_every_field_filters_and_sorts
from versicolor.api.automation.custom_datas import CUSTOM_DATA_FIELDS
from versicolor.core.roles import Role


async def _site(client: httpx.AsyncClient, account: factories.TestAccount, name: str = "Shop") -> int:
    answer = await client.post("/sites", json={"name": name}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    site_id: int = answer.json()["id"]
    return site_id


async def _datum(
    client: httpx.AsyncClient, account: factories.TestAccount, site_id: int, **fields: Any
) -> dict[str, Any]:
    answer = await client.post(
        "/custom-datas", json={"name": "Plan", "siteId": site_id, **fields}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    datum: dict[str, Any] = answer.json()
    return datum


async def _segment_on(
    client: httpx.AsyncClient, account: factories.TestAccount, site_id: int, index: int, match_type: str, value: Any
) -> dict[str, Any]:
    condition = {"targetingType": "CUSTOM_DATUM", "include": True, "customDataIndex": index, "matchType": match_type}
    if value is not None:
        condition["value"] = value
    tree = {"firstLevel": [{"conditions": [condition], "orOperators": []}], "firstLevelOrOperators": []}
    answer = await client.post(
        "/segments", json={"name": f"uses {index}", "siteId": site_id, "conditionsData": tree}, headers=account.headers
    )
    assert answer.status_code == 201, answer.text
    segment: dict[str, Any] = answer.json()
    return segment


def _fields_at_fault(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [d["field"] for d in answer.json()["details"]]


async def test_create_with_defaults_and_next_free_index(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    first = await _datum(client, account, site_a)
    assert {k: first[k] for k in ("name", "siteId", "index", "type", "format", "scope")} == {
        "name": "Plan",
        "siteId": site_a,
        "index": 0,
        "type": "UNIQUE",
        "format": "STRING",
        "scope": "VISIT",
    }
    assert first["dateCreated"].endswith("Z")
    chosen = await _datum(
        client, account, site_a, name="Basket", index=7, type="COUNT_LIST", format="NUMBER", scope="VISITOR"
    )
    assert chosen["index"] == 7 and chosen["type"] == "COUNT_LIST" and chosen["scope"] == "VISITOR"
    assert (await _datum(client, account, site_a, name="Next"))["index"] == 8
    assert (await _datum(client, account, site_b, name="Other site"))["index"] == 0  # indexes are per site
    assert (await client.get(f"/custom-datas/{chosen['id']}", headers=account.headers)).json() == chosen


async def test_an_index_names_one_datum_per_site(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    taken = await _datum(client, account, site_id, index=3)
    clash = await client.post(
        "/custom-datas", json={"name": "Again", "siteId": site_id, "index": 3}, headers=account.headers
    )
    assert clash.status_code == 409 and f"{taken['id']} 'Plan'" in clash.json()["message"]
    other = await _datum(client, account, site_id, name="Other", index=4)
    moved = await client.patch(f"/custom-datas/{other['id']}", json={"index": 3}, headers=account.headers)
    assert moved.status_code == 409
    kept = await client.patch(
        f"/custom-datas/{taken['id']}", json={"index": 3, "name": "Same"}, headers=account.headers
    )
    assert kept.status_code == 200 and kept.json()["index"] == 3


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("type", "SET", ["UNIQUE", "LIST", "COUNT_LIST"]),
        ("format", "DATE", ["STRING", "NUMBER", "BOOLEAN"]),
        ("scope", "SESSION", ["PAGE", "VISIT", "VISITOR"]),
    ],
)
async def test_wrong_enum_values_list_the_allowed_ones(
    client: httpx.AsyncClient, factory: Factory, field: str, value: str, allowed: list[str]
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await client.post(
        "/custom-datas", json={"name": "x", "siteId": site_id, field: value}, headers=account.headers
    )
    assert _fields_at_fault(answer) == [field]
    assert all(name in answer.json()["message"] for name in allowed)
    datum = await _datum(client, account, site_id)
    patched = await client.patch(f"/custom-datas/{datum['id']}", json={field: value}, headers=account.headers)
    assert _fields_at_fault(patched) == [field]


async def test_missing_fields_and_bad_index(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    missing = await client.post("/custom-datas", json={"index": 1}, headers=account.headers)
    assert sorted(_fields_at_fault(missing)) == ["name", "siteId"]
    site_id = await _site(client, account)
    for index in (-1, 1000):
        answer = await client.post(
            "/custom-datas", json={"name": "x", "siteId": site_id, "index": index}, headers=account.headers
        )
        assert _fields_at_fault(answer) == ["index"] and "0 to 999" in answer.json()["message"]


async def test_patch_names_and_put_resets(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    datum = await _datum(client, account, site_id, index=2, type="LIST", scope="PAGE")
    patched = await client.patch(f"/custom-datas/{datum['id']}", json={"name": "Tier"}, headers=account.headers)
    assert patched.json()["name"] == "Tier" and patched.json()["type"] == "LIST" and patched.json()["scope"] == "PAGE"
    replaced = await client.put(f"/custom-datas/{datum['id']}", json={"name": "Tier"}, headers=account.headers)
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert after["index"] == 2 and after["type"] == "UNIQUE" and after["scope"] == "VISIT"
    moved = await client.put(
        f"/custom-datas/{datum['id']}",
        json={"name": "Tier", "siteId": await _site(client, account, "B")},
        headers=account.headers,
    )
    assert _fields_at_fault(moved) == ["siteId"]


async def test_a_datum_segments_use_cannot_be_deleted_or_reindexed(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    datum = await _datum(client, account, site_id, name="Cart value", format="NUMBER")
    segment = await _segment_on(client, account, site_id, datum["index"], "GREATER", 100)
    path = f"/custom-datas/{datum['id']}"
    refused = await client.delete(path, headers=account.headers)
    assert refused.status_code == 409 and f"{segment['id']} {segment['name']!r}" in refused.json()["message"]
    reindexed = await client.patch(path, json={"index": 5}, headers=account.headers)
    assert reindexed.status_code == 409 and "index cannot change" in reindexed.json()["message"]
    reformatted = await client.patch(path, json={"format": "STRING"}, headers=account.headers)
    assert reformatted.status_code == 409 and "format cannot become STRING" in reformatted.json()["message"]
    assert (await client.get(path, headers=account.headers)).json() == datum
    renamed = await client.patch(path, json={"name": "Basket value", "scope": "VISITOR"}, headers=account.headers)
    assert renamed.status_code == 200
    assert (await client.delete(f"/segments/{segment['id']}", headers=account.headers)).status_code == 204
    assert (await client.delete(path, headers=account.headers)).status_code == 204
    assert (await client.get(path, headers=account.headers)).status_code == 404


async def test_a_format_change_the_segments_allow_goes_through(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    datum = await _datum(client, account, site_id, format="STRING")
    await _segment_on(client, account, site_id, datum["index"], "DEFINED", None)  # suits every format
    changed = await client.patch(f"/custom-datas/{datum['id']}", json={"format": "BOOLEAN"}, headers=account.headers)
    assert changed.status_code == 200 and changed.json()["format"] == "BOOLEAN"
    unused = await _datum(client, account, site_id, name="Unused")
    assert (await client.patch(f"/custom-datas/{unused['id']}", json={"index": 50}, headers=account.headers)).json()[
        "index"
    ] == 50


async def test_another_accounts_site_and_data_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    their_site = await _site(client, theirs)
    their_datum = await _datum(client, theirs, their_site)
    answer = await client.post("/custom-datas", json={"name": "x", "siteId": their_site}, headers=mine.headers)
    assert answer.status_code == 404
    path = f"/custom-datas/{their_datum['id']}"
    assert (await client.get(path, headers=mine.headers)).status_code == 404
    assert (await client.patch(path, json={"name": "m"}, headers=mine.headers)).status_code == 404
    assert (await client.put(path, json={"name": "m"}, headers=mine.headers)).status_code == 404
    assert (await client.delete(path, headers=mine.headers)).status_code == 404
    assert (await client.get("/custom-datas", headers=mine.headers)).json() == []
    assert (await client.get(path, headers=theirs.headers)).json() == their_datum


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    datum = await _datum(client, account, site_id)
    viewer = await factory.member(account, Role.VIEWER)
    path = f"/custom-datas/{datum['id']}"
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    assert (await client.post("/custom-datas/search", json={}, headers=viewer.headers)).status_code == 200
    for method, target, body in [
        ("POST", "/custom-datas", {"name": "x", "siteId": site_id}),
        ("PATCH", path, {"name": "x"}),
        ("PUT", path, {"name": "x"}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, target, json=body, headers=viewer.headers)
        assert answer.status_code == 403, (method, answer.text)


async def test_every_returned_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await _site(client, account, "A"), await _site(client, account, "B")
    await _datum(client, account, site_a, name="plan", index=4)
    await _datum(client, account, site_b, name="Cart", format="NUMBER", type="LIST", scope="PAGE")
    await _datum(client, account, site_a, name="Opt-in", format="BOOLEAN", scope="VISITOR", index=1)
    items = (await client.get("/custom-datas", headers=account.headers)).json()
    await check_every_field_filters_and_sorts(client, account.headers, "/custom-datas", items, CUSTOM_DATA_FIELDS)
    searched = await client.post(
        "/custom-datas/search",
        json={
            "filter": [{"field": "format", "operator": "IN", "parameters": ["NUMBER", "BOOLEAN"]}],
            "sort": [{"field": "index", "direction": "DESC"}],
        },
        headers=account.headers,
    )
    assert [d["name"] for d in searched.json()] == ["Opt-in", "Cart"]

"""`key` on goals, segments, experiments and variations: the stable name clients (versicolor sync) find objects by."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestAccount

SEGMENT = {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITOR", "include": True}]}]}


async def _post(client: httpx.AsyncClient, account: TestAccount, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(path, json=body, headers=account.headers)


async def _site(client: httpx.AsyncClient, account: TestAccount) -> int:
    answer = await _post(client, account, "/sites", {"name": "Shop"})
    assert answer.status_code == 201, answer.text
    site_id: int = answer.json()["id"]
    return site_id


def _body(kind: str, site_id: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, dict[str, Any]] = {
        "goals": {"name": "Bought", "type": "CUSTOM"},
        "segments": {"name": "New", "conditionsData": SEGMENT},
        "experiments": {"name": "Button", "baseURL": "https://shop.example/"},
    }
    return {**base[kind], "siteId": site_id, **fields}


@pytest.mark.parametrize("kind", ["goals", "segments", "experiments"])
async def test_a_key_is_kept_shown_filtered_and_unique_per_site(
    client: httpx.AsyncClient, factory: Factory, kind: str
) -> None:
    account = await factory.account()
    site_id, other_site = await _site(client, account), await _site(client, account)
    created = await _post(client, account, f"/{kind}", _body(kind, site_id, key="checkout-cta"))
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "checkout-cta"
    keyless = await _post(client, account, f"/{kind}", _body(kind, site_id))
    assert keyless.json()["key"] is None
    assert (await _post(client, account, f"/{kind}", _body(kind, site_id))).status_code == 201  # nulls are many

    taken = await _post(client, account, f"/{kind}", _body(kind, site_id, key="checkout-cta"))
    assert taken.status_code == 409
    assert "already has a" in taken.json()["message"] and str(created.json()["id"]) in taken.json()["message"]
    assert (await _post(client, account, f"/{kind}", _body(kind, other_site, key="checkout-cta"))).status_code == 201

    found = await client.get(
        f"/{kind}",
        params={"filter": '[{"field":"key","operator":"EQUAL","parameters":["checkout-cta"]}]'},
        headers=account.headers,
    )
    assert [o["siteId"] for o in found.json()] == [site_id, other_site]

    object_id = created.json()["id"]
    moved = await client.patch(f"/{kind}/{keyless.json()['id']}", json={"key": "checkout-cta"}, headers=account.headers)
    assert moved.status_code == 409
    renamed = await client.patch(f"/{kind}/{object_id}", json={"key": "cta"}, headers=account.headers)
    assert renamed.status_code == 200 and renamed.json()["key"] == "cta"
    # A PUT that leaves the key out keeps it; null clears it.
    whole = {k: v for k, v in renamed.json().items() if k != "key"}
    put = await client.put(
        f"/{kind}/{object_id}", json=_body(kind, site_id, name=whole["name"]), headers=account.headers
    )
    assert put.status_code == 200, put.text
    assert put.json()["key"] == "cta"
    cleared = await client.patch(f"/{kind}/{object_id}", json={"key": None}, headers=account.headers)
    assert cleared.json()["key"] is None


@pytest.mark.parametrize(
    "bad", ["", "Upper", "-leading", "has space", "a/b", "é", "x" * 101, 12, True, ["a"], "a\u0000"]
)
@pytest.mark.parametrize("kind", ["goals", "segments", "experiments"])
async def test_a_key_outside_the_rule_is_a_400_naming_it(
    client: httpx.AsyncClient, factory: Factory, kind: str, bad: object
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    answer = await _post(client, account, f"/{kind}", _body(kind, site_id, key=bad))
    assert answer.status_code == 400, answer.text
    assert "key" in [d["field"] for d in answer.json()["details"]]
    assert (await client.get(f"/{kind}", headers=account.headers)).json() == []


async def test_variation_keys_are_unique_within_an_experiment(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    first = (await _post(client, account, "/experiments", _body("experiments", site_id))).json()["id"]
    second = (await _post(client, account, "/experiments", _body("experiments", site_id, name="Two"))).json()["id"]
    blue = await _post(client, account, "/variations", {"name": "Blue", "experimentId": first, "key": "blue"})
    assert blue.status_code == 201 and blue.json()["key"] == "blue"
    again = await _post(client, account, "/variations", {"name": "Blue 2", "experimentId": first, "key": "blue"})
    assert again.status_code == 409 and f"experiment {first}" in again.json()["message"]
    elsewhere = await _post(client, account, "/variations", {"name": "Blue", "experimentId": second, "key": "blue"})
    assert elsewhere.status_code == 201
    # Moving a variation into an experiment where its key is taken is refused, and nothing moves.
    moved = await client.patch(
        f"/variations/{elsewhere.json()['id']}", json={"experimentId": first}, headers=account.headers
    )
    assert moved.status_code == 409
    assert (await client.get(f"/variations/{elsewhere.json()['id']}", headers=account.headers)).json()[
        "experimentId"
    ] == second
    # ... also when the key changes in the same request (the old experiment's holder must not matter).
    red = await _post(client, account, "/variations", {"name": "Red", "experimentId": first, "key": "red"})
    swapped = await client.patch(
        f"/variations/{red.json()['id']}", json={"experimentId": second, "key": "blue"}, headers=account.headers
    )
    assert swapped.status_code == 409
    renamed = await client.patch(f"/variations/{red.json()['id']}", json={"key": "blue"}, headers=account.headers)
    assert renamed.status_code == 409
    bad = await client.patch(f"/variations/{red.json()['id']}", json={"key": "Blue!"}, headers=account.headers)
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "key"
    put = await client.put(f"/variations/{red.json()['id']}", json={"name": "Red"}, headers=account.headers)
    assert put.json()["key"] == "red" and put.json()["experimentId"] == first


async def test_a_duplicated_experiment_has_no_key_and_its_variations_keep_theirs(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site_id = await _site(client, account)
    source = (await _post(client, account, "/experiments", _body("experiments", site_id, key="cta"))).json()
    (first,) = source["variations"]  # the first variation it came with, given a key
    keyed = await client.patch(f"/variations/{first}", json={"name": "Blue", "key": "blue"}, headers=account.headers)
    assert keyed.status_code == 200, keyed.text
    copy = await _post(client, account, f"/experiments/{source['id']}/duplicate", {})
    assert copy.status_code == 201 and copy.json()["key"] is None
    (twin,) = (
        await client.get(
            "/variations",
            params={"filter": f'[{{"field":"experimentId","operator":"EQUAL","parameters":[{copy.json()["id"]}]}}]'},
            headers=account.headers,
        )
    ).json()
    assert twin["key"] == "blue"

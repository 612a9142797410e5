"""Variations over HTTP: code kept exactly, joining and leaving experiments, and every way a request is refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make
from tests.resources.test_lifecycle import experiment_in
from versicolor.api.automation.variations import VARIATION_FIELDS
from versicolor.core.roles import Role


async def test_a_variation_created_with_an_experiment_joins_it(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    created = await make.variation(client, account, experiment["id"])
    assert created["experimentId"] == experiment["id"]
    assert created["siteId"] == site["id"], "the site is the experiment's when not given"
    assert set(created) == {
        "id",
        "name",
        "key",
        "siteId",
        "experimentId",
        "jsCode",
        "cssCode",
        "color",
        "redirection",
        "dateCreated",
        "dateModified",
    }
    joined = (await client.get(f"/experiments/{experiment['id']}", headers=account.headers)).json()
    assert joined["variations"] == [created["id"]]
    assert joined["deviations"] == {"origin": 0.5, str(created["id"]): 0.5}


async def test_a_variation_may_stand_alone(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    created = await make.post(client, account, "/variations", {"name": "Loose", "siteId": site["id"], "color": 255})
    assert created["experimentId"] is None and created["color"] == 255
    assert (await client.get(f"/variations/{created['id']}", headers=account.headers)).json() == created


async def test_code_is_stored_exactly_as_sent(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    js = "\ufeff// 日本語 👋\r\nconst s = `a\tb`;   \r\n\r\n  \u2028 end  "
    css = "/* é */ .a::after { content: '\\201C'; }\n"
    created = await make.variation(client, account, experiment["id"], jsCode=js, cssCode=css)
    assert created["jsCode"] == js and created["cssCode"] == css
    fetched = (await client.get(f"/variations/{created['id']}", headers=account.headers)).json()
    assert fetched["jsCode"] == js and fetched["cssCode"] == css


@pytest.mark.parametrize("field", ["jsCode", "cssCode"])
async def test_code_is_limited_to_256_kib(client: httpx.AsyncClient, factory: Factory, field: str) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    at_limit = "x" * (256 * 1024 - 3) + "€"  # 3 bytes in UTF-8: exactly 262144 bytes
    created = await make.post(client, account, "/variations", {"name": "Big", "siteId": site["id"], field: at_limit})
    assert created[field] == at_limit
    over = await client.post(
        "/variations", json={"name": "Too big", "siteId": site["id"], field: at_limit + "x"}, headers=account.headers
    )
    assert over.status_code == 400
    assert over.json()["details"] == [
        {"field": field, "message": "is 262145 bytes of UTF-8; the limit is 262144 bytes (256 KiB)"}
    ]
    patched = await client.patch(f"/variations/{created['id']}", json={field: at_limit * 2}, headers=account.headers)
    assert patched.status_code == 400


async def test_code_that_cannot_be_stored_as_sent_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    for raw, words in [('"a\\u0000b"', "NUL character"), ('"a\\ud800b"', "unpaired surrogate")]:
        content = f'{{"name": "V", "siteId": {site["id"]}, "jsCode": {raw}}}'
        answer = await client.post(
            "/variations", content=content, headers={**account.headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["details"][0]["field"] == "jsCode"
        assert words in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"siteId": None}, "name", "is required"),
        ({"name": "V"}, "siteId", "is required (or give experimentId"),
        ({"name": "  "}, "name", "must be 1 to 200 characters"),
        ({"name": "V", "color": 2**31}, "color", "less than or equal to 2147483647"),
        ({"name": "V", "redirection": {"type": "ELSEWHERE"}}, "redirection.type", "'GLOBAL_REDIRECTION'"),
        ({"name": "V", "redirection": {"type": "GLOBAL_REDIRECTION"}}, "redirection.url", "needs the url"),
        ({"name": "V", "redirection": {"type": "PARAMETER_REDIRECTION"}}, "redirection.parameters", "parameters"),
        ({"name": "V", "redirection": {"type": "GLOBAL_REDIRECTION", "to": "x"}}, "redirection.to", "not a known"),
        ({"name": "V", "jsCode": 5}, "jsCode", "valid string"),
    ],
)
async def test_invalid_fields_are_named(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str, words: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    sent = {"siteId": site["id"], **body} if field != "siteId" else body
    sent = {k: v for k, v in sent.items() if v is not None}
    answer = await client.post("/variations", json=sent, headers=account.headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == field
    assert words in answer.json()["message"]


async def test_redirections(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    global_ = {"type": "GLOBAL_REDIRECTION", "url": "https://shop.example/v2", "includeQueryParameters": True}
    created = await make.post(
        client, account, "/variations", {"name": "R", "siteId": site["id"], "redirection": global_}
    )
    assert created["redirection"] == {**global_, "parameters": None}
    by_parameter = {"type": "PARAMETER_REDIRECTION", "parameters": "v=2&x=1"}
    patched = await client.patch(
        f"/variations/{created['id']}", json={"redirection": by_parameter}, headers=account.headers
    )
    assert patched.json()["redirection"] == {**by_parameter, "url": None, "includeQueryParameters": None}
    cleared = await client.patch(f"/variations/{created['id']}", json={"redirection": None}, headers=account.headers)
    assert cleared.json()["redirection"] is None


async def test_site_and_experiment_must_agree(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await make.site(client, account, "A"), await make.site(client, account, "B")
    experiment_a = await make.experiment(client, account, site_a["id"])
    answer = await client.post(
        "/variations",
        json={"name": "V", "siteId": site_b["id"], "experimentId": experiment_a["id"]},
        headers=account.headers,
    )
    assert answer.status_code == 400
    assert answer.json()["details"] == [
        {
            "field": "experimentId",
            "message": f"experiment {experiment_a['id']} belongs to site {site_a['id']}, not to site {site_b['id']}",
        }
    ]
    loose_b = await make.post(client, account, "/variations", {"name": "B", "siteId": site_b["id"]})
    moved = await client.patch(
        f"/variations/{loose_b['id']}", json={"experimentId": experiment_a["id"]}, headers=account.headers
    )
    assert moved.status_code == 400
    assert moved.json()["details"][0]["field"] == "experimentId"
    assert (await client.get(f"/variations/{loose_b['id']}", headers=account.headers)).json()["experimentId"] is None
    other_site = await client.patch(
        f"/variations/{loose_b['id']}", json={"siteId": site_a["id"]}, headers=account.headers
    )
    assert other_site.status_code == 400
    assert "cannot move to another site" in other_site.json()["message"]


async def test_moving_between_draft_experiments_resplits_both(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment_a = await make.experiment(client, account, site["id"], name="A")
    experiment_b = await make.experiment(client, account, site["id"], name="B")
    kept = await make.variation(client, account, experiment_a["id"])
    mover = await make.variation(client, account, experiment_a["id"])
    moved = await client.patch(
        f"/variations/{mover['id']}", json={"experimentId": experiment_b["id"]}, headers=account.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["experimentId"] == experiment_b["id"]
    a = (await client.get(f"/experiments/{experiment_a['id']}", headers=account.headers)).json()
    b = (await client.get(f"/experiments/{experiment_b['id']}", headers=account.headers)).json()
    assert a["variations"] == [kept["id"]] and a["deviations"] == {"origin": 0.5, str(kept["id"]): 0.5}
    assert b["variations"] == [mover["id"]] and b["deviations"] == {"origin": 0.5, str(mover["id"]): 0.5}
    detached = await client.patch(f"/variations/{mover['id']}", json={"experimentId": None}, headers=account.headers)
    assert detached.json()["experimentId"] is None
    b = (await client.get(f"/experiments/{experiment_b['id']}", headers=account.headers)).json()
    assert b["variations"] == [] and b["deviations"] == {"origin": 1.0}


@pytest.mark.parametrize("status", ["SCHEDULED", "ACTIVE", "PAUSED", "STOPPED", "DEACTIVATED"])
async def test_a_variation_of_a_launched_experiment_stays(
    client: httpx.AsyncClient, factory: Factory, status: str
) -> None:
    account = await factory.account()
    experiment = await experiment_in(client, account, status)
    (variation_id,) = experiment["variations"]
    deleted = await client.delete(f"/variations/{variation_id}", headers=account.headers)
    assert deleted.status_code == 409
    assert deleted.json()["message"] == (
        f"variation {variation_id} belongs to experiment {experiment['id']}, which is {status}: "
        "variations can be removed only while the experiment is DRAFT"
    )
    moved = await client.patch(f"/variations/{variation_id}", json={"experimentId": None}, headers=account.headers)
    assert moved.status_code == 409
    assert (await client.get(f"/variations/{variation_id}", headers=account.headers)).json()["experimentId"] == (
        experiment["id"]
    )
    # Its code may still change.
    edited = await client.patch(f"/variations/{variation_id}", json={"cssCode": "a{}"}, headers=account.headers)
    assert edited.status_code == 200


async def test_deleting_a_draft_experiments_variation_resplits(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    second = await make.variation(client, account, ready.id)
    assert (await client.delete(f"/variations/{ready.variation['id']}", headers=account.headers)).status_code == 204
    assert (await client.get(f"/variations/{ready.variation['id']}", headers=account.headers)).status_code == 404
    after = (await client.get(f"/experiments/{ready.id}", headers=account.headers)).json()
    assert after["variations"] == [second["id"]]
    assert after["deviations"] == {"origin": 0.5, str(second["id"]): 0.5}


async def test_another_accounts_variations_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    their = await make.ready(client, theirs)
    my_site = await make.site(client, mine)
    path = f"/variations/{their.variation['id']}"
    for method, body in [("GET", None), ("PATCH", {"name": "x"}), ("PUT", {"name": "x"}), ("DELETE", None)]:
        answer = await client.request(method, path, json=body, headers=mine.headers)
        assert answer.status_code == 404, method
        assert answer.json()["message"] == f"variation {their.variation['id']} not found"
    for body in (
        {"name": "V", "experimentId": their.id},
        {"name": "V", "siteId": their.site["id"]},
        {"name": "V", "siteId": my_site["id"], "experimentId": their.id},
    ):
        assert (await client.post("/variations", json=body, headers=mine.headers)).status_code == 404, body
    my_variation = await make.post(client, mine, "/variations", {"name": "Mine", "siteId": my_site["id"]})
    steal = await client.patch(
        f"/variations/{my_variation['id']}", json={"experimentId": their.id}, headers=mine.headers
    )
    assert steal.status_code == 404
    assert [v["id"] for v in (await client.get("/variations", headers=mine.headers)).json()] == [my_variation["id"]]
    assert (await client.get(path, headers=theirs.headers)).json() == their.variation


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    ready = await make.ready(client, account)
    path = f"/variations/{ready.variation['id']}"
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    assert (await client.post("/variations/search", json={}, headers=viewer.headers)).status_code == 200
    for method, url, body in [
        ("POST", "/variations", {"name": "V", "experimentId": ready.id}),
        ("PATCH", path, {"name": "V"}),
        ("PUT", path, {"name": "V"}),
        ("DELETE", path, None),
    ]:
        answer = await client.request(method, url, json=body, headers=viewer.headers)
        assert answer.status_code == 403, (method, url)
    assert (await client.get(path, headers=account.headers)).json() == ready.variation


async def test_put_replaces_but_keeps_the_experiment(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    path = f"/variations/{ready.variation['id']}"
    await client.patch(path, json={"color": 7, "cssCode": "a{}"}, headers=account.headers)
    replaced = await client.put(path, json={"name": "Only a name"}, headers=account.headers)
    assert replaced.status_code == 200, replaced.text
    result = replaced.json()
    assert result["name"] == "Only a name"
    assert result["jsCode"] is None and result["cssCode"] is None and result["color"] is None
    assert result["experimentId"] == ready.id
    got = (await client.get(path, headers=account.headers)).json()
    round_trip = await client.put(path, json=got, headers=account.headers)
    assert round_trip.status_code == 200, round_trip.text
    assert {k: v for k, v in round_trip.json().items() if k != "dateModified"} == {
        k: v for k, v in got.items() if k != "dateModified"
    }
    wrong_id = await client.put(path, json={**got, "id": got["id"] + 1}, headers=account.headers)
    assert wrong_id.status_code == 400 and wrong_id.json()["details"][0]["field"] == "id"


async def test_list_filters_by_experiment_and_searches(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    loose = await make.post(client, account, "/variations", {"name": "Loose", "siteId": ready.site["id"]})
    by_experiment = [{"field": "experimentId", "operator": "EQUAL", "parameters": [ready.id]}]
    listed = await client.get("/variations", params={"filter": json.dumps(by_experiment)}, headers=account.headers)
    assert [v["id"] for v in listed.json()] == [ready.variation["id"]]
    orphans = await client.post(
        "/variations/search",
        json={"filter": [{"field": "experimentId", "operator": "IS_NULL", "parameters": []}]},
        headers=account.headers,
    )
    assert [v["id"] for v in orphans.json()] == [loose["id"]]
    by_code = await client.post(
        "/variations/search",
        json={"filter": [{"field": "jsCode", "operator": "CONTAINS", "parameters": ["GREEN"]}]},
        headers=account.headers,
    )
    assert [v["id"] for v in by_code.json()] == [ready.variation["id"]]
    refused = await client.post(
        "/variations/search", json={"sort": [{"field": "redirection", "direction": "ASC"}]}, headers=account.headers
    )
    assert refused.status_code == 400
    assert refused.json()["message"] == "Cannot filter or sort by given field: redirection"


async def test_every_scalar_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    await make.variation(client, account, ready.id, name="Blue", color=255, cssCode="b{}", jsCode=None)
    await make.post(client, account, "/variations", {"name": "alone", "siteId": ready.site["id"]})
    redirect = {"type": "GLOBAL_REDIRECTION", "url": "https://shop.example/b"}
    await client.patch(f"/variations/{ready.variation['id']}", json={"redirection": redirect}, headers=account.headers)
    assert len((await client.get("/variations", headers=account.headers)).json()) == 3
    await make.check_every_field(client, factory, account, "/variations", VARIATION_FIELDS)

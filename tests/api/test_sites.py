"""`/sites` over HTTP: what the README's quickstart relies on."""

from __future__ import annotations

import re

import httpx

from tests.factories import Factory
from versicolor.core.roles import Role


async def test_create_then_list_then_get_by_code(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    created = await client.post(
        "/sites",
        json={"name": "Shop", "url": "https://shop.example", "domainNames": ["shop.example"]},
        headers=account.headers,
    )
    assert created.status_code == 201, created.text
    site = created.json()
    assert re.fullmatch(r"[a-z0-9]{10}", site["code"])
    assert site["dateCreated"].endswith("Z")
    assert site["domainNames"] == ["shop.example"]
    listed = await client.get("/sites", headers=account.headers)
    assert [s["id"] for s in listed.json()] == [site["id"]]
    by_code = await client.get(f"/sites/byCode/{site['code']}", headers=account.headers)
    assert by_code.json() == site


async def test_another_accounts_site_is_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    site = (await client.post("/sites", json={"name": "Theirs"}, headers=theirs.headers)).json()
    for method, path in [
        ("GET", f"/sites/{site['id']}"),
        ("GET", f"/sites/byCode/{site['code']}"),
        ("DELETE", f"/sites/{site['id']}"),
    ]:
        answer = await client.request(method, path, headers=mine.headers)
        assert answer.status_code == 404, (method, path)
    patched = await client.patch(f"/sites/{site['id']}", json={"name": "Mine now"}, headers=mine.headers)
    assert patched.status_code == 404
    assert (await client.get(f"/sites/{site['id']}", headers=theirs.headers)).json()["name"] == "Theirs"
    assert (await client.get("/sites", headers=mine.headers)).json() == []


async def test_viewer_reads_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.get("/sites", headers=viewer.headers)).status_code == 200
    refused = await client.post("/sites", json={"name": "x"}, headers=viewer.headers)
    assert refused.status_code == 403
    assert "VIEWER" in refused.json()["message"]


async def test_patch_changes_only_named_fields_and_delete_removes(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = (await client.post("/sites", json={"name": "A", "url": "https://a.example"}, headers=account.headers)).json()
    patched = await client.patch(f"/sites/{site['id']}", json={"name": "B"}, headers=account.headers)
    assert patched.json()["name"] == "B" and patched.json()["url"] == "https://a.example"
    assert (await client.delete(f"/sites/{site['id']}", headers=account.headers)).status_code == 204
    assert (await client.get(f"/sites/{site['id']}", headers=account.headers)).status_code == 404


async def test_blank_name_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/sites", json={"name": ""}, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "name"


async def test_put_replaces_the_whole_site(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = (
        await client.post(
            "/sites",
            json={"name": "A", "url": "https://a.example", "domainNames": ["a.example"]},
            headers=account.headers,
        )
    ).json()
    replaced = await client.put(f"/sites/{site['id']}", json={"name": "B"}, headers=account.headers)
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["name"], body["url"], body["domainNames"]) == ("B", None, [])
    assert (body["id"], body["code"], body["dateCreated"]) == (site["id"], site["code"], site["dateCreated"])
    assert (await client.get(f"/sites/{site['id']}", headers=account.headers)).json() == body


async def test_put_refuses_what_patch_and_post_refuse(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    theirs = await factory.account()
    site = (await client.post("/sites", json={"name": "A"}, headers=account.headers)).json()
    missing_name = await client.put(f"/sites/{site['id']}", json={"url": "https://a.example"}, headers=account.headers)
    assert missing_name.status_code == 400 and missing_name.json()["details"][0]["field"] == "name"
    typo = await client.put(f"/sites/{site['id']}", json={"name": "A", "domains": []}, headers=account.headers)
    assert typo.status_code == 400 and typo.json()["details"][0]["field"] == "domains"
    assert (await client.put(f"/sites/{site['id']}", json={"name": "V"}, headers=viewer.headers)).status_code == 403
    assert (await client.put(f"/sites/{site['id']}", json={"name": "T"}, headers=theirs.headers)).status_code == 404
    assert (await client.put("/sites/999999999", json={"name": "T"}, headers=account.headers)).status_code == 404
    assert (await client.get(f"/sites/{site['id']}", headers=account.headers)).json()["name"] == "A"


async def test_viewer_may_search(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    await client.post("/sites", json={"name": "Shop"}, headers=account.headers)
    found = await client.post(
        "/sites/search",
        json={"filter": [{"field": "name", "operator": "EQUAL", "parameters": ["Shop"]}]},
        headers=viewer.headers,
    )
    assert found.status_code == 200 and [s["name"] for s in found.json()] == ["Shop"]


async def test_search_needs_a_token_and_json(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    assert (await client.post("/sites/search", json={})).status_code == 401
    form = await client.post("/sites/search", data={"page": "1"}, headers=account.headers)
    assert form.status_code == 400 and "Content-Type: application/json" in form.json()["message"]


async def test_patch_with_null_url_clears_it_and_null_name_is_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site = (await client.post("/sites", json={"name": "A", "url": "https://a.example"}, headers=account.headers)).json()
    cleared = await client.patch(f"/sites/{site['id']}", json={"url": None}, headers=account.headers)
    assert cleared.status_code == 200 and cleared.json()["url"] is None and cleared.json()["name"] == "A"
    refused = await client.patch(f"/sites/{site['id']}", json={"name": None}, headers=account.headers)
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "name"
    assert (await client.get(f"/sites/{site['id']}", headers=account.headers)).json()["name"] == "A"

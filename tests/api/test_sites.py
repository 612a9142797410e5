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

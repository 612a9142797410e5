"""`/v3/edit/urls` over HTTP: Domains as seed 003 describes them, and every way to get them wrong."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import Factory, TestAccount

URL_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "url_group_id",
    "host",
    "domain",
    "enabled",
    "installed_at",
    "first_seen_at",
    "last_seen_at",
    "unlisted",
    "archived_at",
}
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def secret(account: TestAccount) -> dict[str, str]:
    """Headers authenticating with the account secret, as the public service takes them."""
    return {"X-Account-Secret": account.account_secret}


async def create(client: httpx.AsyncClient, account: TestAccount, **body: Any) -> dict[str, Any]:
    answer = await client.post("/v3/edit/urls", json=body, headers=secret(account))
    assert answer.status_code == 201, answer.text
    url: dict[str, Any] = answer.json()["url"]
    return url


def messages(answer: httpx.Response) -> str:
    body = answer.json()
    assert set(body) == {"code", "messages"}, body
    assert body["code"] == answer.status_code
    return " ".join(body["messages"])


async def test_create_shows_every_field_of_the_schema(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    url = await create(client, account, host="https://App.Example.COM:8443/pricing")
    assert set(url) == URL_FIELDS
    assert re.fullmatch(r"[0-9a-f]{24}", url["id"])
    assert url["host"] == "app.example.com" and url["domain"] == "example.com"
    assert url["enabled"] == "on", "seed 003: enabled defaults to on"
    assert url["url_group_id"] is None and url["unlisted"] is False and url["archived_at"] is None
    assert url["installed_at"] is None and url["first_seen_at"] is None and url["last_seen_at"] is None
    assert ISO_Z.fullmatch(url["created_at"]) and url["created_at"] == url["updated_at"]
    shown = await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))
    assert shown.status_code == 200
    assert shown.json() == {"url": url}


async def test_bearer_tokens_work_beside_the_account_secret(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await client.post("/v3/edit/urls", json={"host": "example.com"}, headers=account.headers)
    assert made.status_code == 201
    listed = await client.get("/v3/edit/urls", headers=account.headers)
    assert [u["id"] for u in listed.json()["urls"]] == [made.json()["url"]["id"]]
    by_param = await client.get(f"/v3/edit/urls?account_secret={account.account_secret}")
    assert by_param.status_code == 200 and len(by_param.json()["urls"]) == 1

"""A method a path does not take is a 405 whose Allow names every method it takes; HEAD works wherever GET does."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/sites/1", "DELETE, GET, HEAD, PATCH, PUT"),  # every route of the path, not the first one's
        ("GET", "/sites/search", "POST"),  # a literal path is not a site id
        ("PATCH", "/accounts/me", "GET, HEAD"),
        ("DELETE", "/sites", "GET, HEAD, POST"),
        ("GET", "/v3/edit/urls/batch", "POST"),
        ("OPTIONS", "/goals/1", "DELETE, GET, HEAD, PATCH, PUT"),
        ("PROPFIND", "/experiments", "GET, HEAD, POST"),
        ("PUT", "/data/v1/sites/abc/config", "GET, HEAD, OPTIONS"),
        ("POST", "/healthz", "GET, HEAD"),
    ],
)
async def test_a_method_the_path_does_not_take_is_a_405_naming_those_it_takes(
    client: httpx.AsyncClient, factory: Factory, method: str, path: str, allow: str
) -> None:
    account = await factory.account()
    answer = await client.request(method, path, headers=account.headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    body = answer.json()
    message = body["messages"][0] if path.startswith("/v3/") else body["message"]
    assert message == f"{method} is not allowed on {path}"


async def test_paths_keep_their_own_routes(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    assert (await client.post("/sites/search", json={}, headers=account.headers)).status_code == 200
    made = await client.post("/sites", json={"name": "Shop"}, headers=account.headers)
    assert made.status_code == 201
    assert (await client.get(f"/sites/{made.json()['id']}", headers=account.headers)).status_code == 200
    assert (await client.get("/accounts/me", headers=account.headers)).status_code == 200


@pytest.mark.parametrize("path", ["/sites", "/accounts/me", "/v3/edit/urls", "/healthz", "/openapi.json", "/docs"])
async def test_head_answers_what_get_answers_without_the_body(
    client: httpx.AsyncClient, factory: Factory, path: str
) -> None:
    account = await factory.account()
    got = await client.get(path, headers=account.headers)
    head = await client.head(path, headers=account.headers)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_head_of_a_path_without_get_is_a_405(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.head("/sites/search", headers=account.headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"

"""Inputs that once answered 500 in OAuth, applications and list filters: each is a clear 4xx now."""

from __future__ import annotations

import json

import httpx

from tests.factories import Factory


async def test_application_id_past_int64_is_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for method in ("GET", "DELETE"):
        answer = await client.request(method, "/applications/1637057631047671084637749248", headers=account.headers)
        assert answer.status_code == 404, answer.text


async def test_nul_in_a_client_id_is_invalid_client(client: httpx.AsyncClient) -> None:
    token = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "x"}
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    page = await client.get(
        "/oauth/authorize",
        params={"client_id": "\x00", "response_type": "code", "redirect_uri": "https://a.example/", "state": "x"},
    )
    assert 400 <= page.status_code < 500 and "location" not in page.headers


async def test_filter_date_outside_the_years_1_to_9999_in_utc_is_a_400(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        query = [{"field": "dateCreated", "operator": "LESS", "parameters": [moment]}]
        answer = await client.get("/sites", params={"filter": json.dumps(query)}, headers=account.headers)
        assert answer.status_code == 400, answer.text
        assert "dateCreated" in answer.text

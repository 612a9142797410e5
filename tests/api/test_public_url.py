"""Absolute URLs never come from the Host header: Link headers and redirects use VERSICOLOR_PUBLIC_URL or are
relative. The attack this pins: `Host: evil.example` used to put evil.example into `Link` and `Location`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from tests.factories import Factory
from versicolor.app import create_app
from versicolor.runtime import Runtime

EVIL = {"Host": "evil.example"}


@asynccontextmanager
async def caller(runtime: Runtime, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    own = replace(runtime, settings=runtime.settings.model_copy(update=settings))
    transport = httpx.ASGITransport(app=create_app(runtime=own), client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


async def test_link_headers_are_relative_without_a_public_url(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for n in range(3):
        made = await client.post("/sites", headers=account.headers, json={"name": f"S{n}", "url": "https://s.example"})
        assert made.status_code == 201
    answer = await client.get("/sites?perPage=1&page=2", headers={**account.headers, **EVIL})
    assert answer.status_code == 200
    links = answer.headers["link"]
    assert "evil.example" not in links
    assert '</sites?page=3&perPage=1>; rel="next"' in links, links
    searched = await client.post("/sites/search", headers={**account.headers, **EVIL}, json={"perPage": 1})
    assert "evil.example" not in searched.headers["link"] and "</sites?" in searched.headers["link"]


async def test_link_headers_use_the_public_url(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    async with caller(runtime, public_url="https://versicolor.example.com/") as http:
        await http.post("/sites", headers=account.headers, json={"name": "S", "url": "https://s.example"})
        answer = await http.get("/sites?perPage=1", headers={**account.headers, **EVIL})
    assert "evil.example" not in answer.headers["link"]
    assert "<https://versicolor.example.com/sites?page=1&perPage=1>" in answer.headers["link"]


async def test_trailing_slash_redirects_do_not_follow_the_host_header(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for path in ("/sites/", "/v3/edit/urls/", "/oauth/authorize/"):
        answer = await client.get(path, headers=EVIL)
        assert answer.status_code in (307, 308), answer.text
        assert answer.headers["location"] == path.rstrip("/"), answer.headers["location"]
    async with caller(runtime, public_url="https://versicolor.example.com") as http:
        answer = await http.get("/sites/?page=2", headers=EVIL)
    assert answer.headers["location"].startswith("https://versicolor.example.com/sites")


async def test_a_sites_snippet_uses_the_public_url(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    async with caller(runtime, public_url="https://versicolor.example.com") as http:
        made = await http.post(
            "/sites", headers={**account.headers, **EVIL}, json={"name": "S", "url": "https://s.example"}
        )
    assert made.status_code == 201, made.text
    assert "https://versicolor.example.com/data/v1/sites/" in made.json()["snippet"]
    assert "evil.example" not in made.json()["snippet"]

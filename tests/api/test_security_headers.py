"""Headers as the references set them: nosniff and a CSP everywhere, HSTS over TLS, no-store on secrets."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.auth.browser import authorize_url, register_app
from tests.factories import Factory
from versicolor.app import create_app
from versicolor.runtime import Runtime


@asynccontextmanager
async def caller(runtime: Runtime, address: str, scheme: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    own = replace(runtime, settings=runtime.settings.model_copy(update=settings))
    transport = httpx.ASGITransport(app=create_app(runtime=own), client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://api.example") as http:
        yield http


def _hardened(answer: httpx.Response) -> None:
    assert answer.headers["x-content-type-options"] == "nosniff", (answer.request.url, answer.headers)
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, policy


async def test_api_answers_and_errors_carry_nosniff_a_policy_and_no_store(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    answers = [
        await client.get("/accounts/me", headers=account.headers),
        await client.get("/sites"),  # 401
        await client.get("/sites/999999999", headers=account.headers),  # 404
        await client.get("/v3/edit/urls", headers=account.headers),
        await client.get("/nowhere"),
        await client.get("/openapi.json"),
    ]
    for answer in answers:
        _hardened(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url


async def test_every_answer_carrying_a_secret_is_no_store(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        },
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    invited = await client.post("/accounts", headers=headers, json={"email": f"new-{account.account_id}@example.com"})
    key = await client.get("/results/callbackKey", headers=headers)
    secret = await client.post("/accounts/me/account-secret", headers=headers)
    credentials = await client.post("/accounts/me/credentials", headers=headers)
    for answer in (token, invited, key, secret, credentials):
        assert answer.status_code in (200, 201), answer.text
        assert "no-store" in answer.headers["cache-control"], (answer.request.url, answer.headers)
        _hardened(answer)


async def test_html_pages_have_their_own_policy(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    page = await client.get(authorize_url(app))
    _hardened(page)
    assert "style-src 'unsafe-inline'" in page.headers["content-security-policy"]


async def test_the_api_explorer_allows_exactly_its_own_scripts(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    _hardened(page)
    policy = page.headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src")).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    for inline in re.findall(rb"<script>(.*?)</script>", page.content, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    for source in re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.text):
        assert source.startswith("/"), f"{source} is not served by Versicolor itself"


async def test_hsts_over_https_only(runtime: Runtime) -> None:
    async with caller(runtime, "198.51.100.9", "https") as secure:
        answer = await secure.get("/sites")
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
    async with caller(runtime, "127.0.0.1", "http") as plain:
        assert "strict-transport-security" not in (await plain.get("/sites")).headers
    async with caller(runtime, "198.51.100.9", "http") as refused:
        answer = await refused.get("/sites")
        assert answer.status_code == 403 and "strict-transport-security" not in answer.headers
        _hardened(answer)


@pytest.mark.parametrize(("proto", "expected"), [("https", True), ("http", False)])
async def test_hsts_behind_a_trusted_proxy_follows_what_the_proxy_saw(
    runtime: Runtime, proto: str, expected: bool
) -> None:
    async with caller(runtime, "10.1.2.3", "http", trusted_proxies="10.0.0.0/8") as proxy:
        answer = await proxy.get("/sites", headers={"X-Forwarded-Proto": proto, "X-Forwarded-For": "198.51.100.4"})
    assert ("strict-transport-security" in answer.headers) is expected


async def test_hsts_can_be_switched_off(runtime: Runtime) -> None:
    async with caller(runtime, "198.51.100.9", "https", hsts_max_age=0) as secure:
        assert "strict-transport-security" not in (await secure.get("/sites")).headers

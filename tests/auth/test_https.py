"""The HTTPS rule: plain HTTP is refused with 403 unless from loopback or a trusted proxy that saw HTTPS."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.certificates import self_signed
from tests.factories import Factory
from tests.server import invoke_cli, serve
from versicolor.app import create_app
from versicolor.runtime import Runtime


@asynccontextmanager
async def caller(
    runtime: Runtime, address: str, scheme: str = "http", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client at `address` of an app with these settings."""
    own = replace(runtime, settings=runtime.settings.model_copy(update=settings))
    transport = httpx.ASGITransport(app=create_app(runtime=own), client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://api.example") as http:
        yield http


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/sites", "automation"),
        ("/accounts/me", "automation"),
        ("/v3/edit/urls", "v3"),
        ("/oauth/token", "oauth"),
        ("/oauth/authorize?client_id=x", "oauth"),
        ("/docs", "automation"),
    ],
)
async def test_plain_http_from_a_remote_address_is_refused_in_the_callers_dialect(
    runtime: Runtime, path: str, shape: str
) -> None:
    async with caller(runtime, "203.0.113.7") as http:
        answer = await http.request("POST" if path == "/oauth/token" else "GET", path)
    assert answer.status_code == 403, answer.text
    body = answer.json()
    if shape == "automation":
        assert body["status"] == 403 and "HTTPS is required" in body["message"]
    elif shape == "v3":
        assert body["code"] == 403 and "HTTPS is required" in body["messages"][0]
    else:
        assert body["error"] == "invalid_request" and "HTTPS is required" in body["error_description"]
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_plain_http_from_loopback_is_served(runtime: Runtime, address: str) -> None:
    async with caller(runtime, address) as http:
        assert (await http.get("/sites")).status_code == 401  # past the rule: now it wants a token


async def test_https_from_anywhere_and_health_probes_are_served(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    async with caller(runtime, "203.0.113.8", scheme="https") as http:
        assert (await http.get("/accounts/me", headers=account.headers)).status_code == 200
    async with caller(runtime, "203.0.113.8") as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    ("peer", "headers", "served"),
    [
        ("10.1.2.3", {"X-Forwarded-Proto": "https"}, True),
        ("10.1.2.3", {"X-Forwarded-Proto": "HTTPS"}, True),
        ("10.1.2.3", {"X-Forwarded-Proto": "http"}, False),
        ("10.1.2.3", {}, False),
        # Only the value the proxy itself appended counts: the client's own claim comes first.
        ("10.1.2.3", {"X-Forwarded-Proto": "https, http"}, False),
        ("10.1.2.3", {"X-Forwarded-Proto": "http, https"}, True),
        ("192.168.0.9", {"X-Forwarded-Proto": "https"}, True),
        # Not a trusted proxy: its headers prove nothing.
        ("203.0.113.9", {"X-Forwarded-Proto": "https"}, False),
        ("203.0.113.9", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}, False),
        ("10.1.2.3", {"X-Forwarded-For": "127.0.0.1"}, False),
    ],
)
async def test_trusted_proxies_and_what_they_forward(
    runtime: Runtime, peer: str, headers: dict[str, str], served: bool
) -> None:
    async with caller(runtime, peer, trusted_proxies="10.0.0.0/8, 192.168.0.9") as http:
        answer = await http.get("/sites", headers=headers)
    assert answer.status_code == (401 if served else 403), answer.text


async def test_a_trusted_proxy_on_this_machine_must_say_https(runtime: Runtime) -> None:
    async with caller(runtime, "127.0.0.1", trusted_proxies="127.0.0.1") as http:
        assert (await http.get("/sites")).status_code == 403
        assert (await http.get("/sites", headers={"X-Forwarded-Proto": "http"})).status_code == 403
        assert (await http.get("/sites", headers={"X-Forwarded-Proto": "https"})).status_code == 401


async def test_the_forwarded_client_address_is_the_one_throttled(runtime: Runtime, factory: Factory) -> None:
    account = await factory.account()
    bad = {"grant_type": "client_credentials", "client_id": "guess", "client_secret": "x"}
    settings = {"trusted_proxies": "10.0.0.0/8", "auth_failures_per_address": "2/minute"}
    async with caller(runtime, "10.9.9.9", **settings) as proxy:
        first = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.77, 10.0.0.5"}
        for _ in range(2):
            assert (await proxy.post("/oauth/token", data=bad, headers=first)).status_code == 401
        good = {
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        }
        assert (await proxy.post("/oauth/token", data=good, headers=first)).status_code == 429
        second = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.78"}
        assert (await proxy.post("/oauth/token", data=good, headers=second)).status_code == 200


async def test_the_rule_can_be_switched_off(runtime: Runtime) -> None:
    async with caller(runtime, "203.0.113.7", require_https=False) as http:
        assert (await http.get("/sites")).status_code == 401


@pytest.mark.server
def test_serve_terminates_tls_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tls.db"
    created = invoke_cli(
        ["accounts", "create", "--name", "TLS", "--email", "tls@example.com", "--json", "--database-url", url]
    )
    assert created.returncode == 0, created.stderr
    credentials = json.loads(created.stdout)
    cert, key = self_signed(tmp_path)
    trusting = ssl.create_default_context(cafile=str(cert))
    with serve(
        ["--database-url", url, "--tls-cert", str(cert), "--tls-key", str(key)], log_dir=tmp_path, scheme="https"
    ) as server:
        assert server.base_url.startswith("https://")
        with httpx.Client(base_url=server.base_url, verify=trusting) as http:
            token = http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": credentials["clientId"],
                    "client_secret": credentials["clientSecret"],
                },
            )
            assert token.status_code == 200, token.text
            me = http.get("/accounts/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            assert me.status_code == 200 and me.json()["email"] == "tls@example.com"
            # Over TLS every answer tells the browser to keep to HTTPS (a token answer, an error too).
            for answer in (token, me, http.get("/sites")):
                assert answer.headers["strict-transport-security"] == "max-age=31536000", answer.headers
                assert answer.headers["x-content-type-options"] == "nosniff"
        # The certificate is checked: a client that does not trust it refuses to talk.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.base_url}/healthz", verify=ssl.create_default_context())
        # And the port speaks only TLS.
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.base_url.replace("https://", "http://") + "/healthz", timeout=5)

"""Callback delivery: signatures a receiver can check, retries with backoff, and no way into our network."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

import httpx
import pytest

from versicolor.core.errors import Invalid
from versicolor.results.callbacks import (
    DATA_CODE_HEADER,
    SIGNATURE_HEADER,
    CallbackSender,
    account_callback_key,
    safe_addresses,
    signature,
)

PUBLIC = "93.184.216.34"
URL = "https://hooks.example.com:8443/results?token=abc"


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver answering from `table`, counting its lookups; a host not in it does not resolve."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


class Waits:
    """Stands in for asyncio.sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def receiver(statuses: list[int]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A receiver answering `statuses` in turn (then 200), keeping what it received."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        status = statuses[len(received) - 1] if len(received) <= len(statuses) else 200
        return httpx.Response(status)

    return httpx.MockTransport(handle), received


def sender(transport: httpx.AsyncBaseTransport, table: dict[str, list[str]] | None = None, **kwargs) -> CallbackSender:  # type: ignore[no-untyped-def]
    return CallbackSender(
        resolve=resolver({"hooks.example.com": [PUBLIC]} if table is None else table),
        transport=transport,
        sleep=Waits(),
        clock=lambda: 1_700_000_000.0,
        **kwargs,
    )


async def test_delivery_is_signed_with_the_account_key_and_pinned_to_the_checked_address() -> None:
    transport, received = receiver([])
    body = json.dumps({"dataCode": "abc", "status": "READY"}).encode()
    key = account_callback_key(server_key="server-secret", account_id=7)
    delivery = await sender(transport).deliver(url=URL, body=body, key=key, data_code="abc")
    assert delivery.delivered and delivery.attempts == 1
    [request] = received
    # Sent to the address that was checked, for the host that was named.
    assert request.url.host == PUBLIC and request.url.port == 8443 and request.url.path == "/results"
    assert request.url.query == b"token=abc"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers[DATA_CODE_HEADER] == "abc"
    assert request.content == body
    # What a receiver does to check it: recompute the HMAC over "<t>." + body with its key.
    fields = dict(part.split("=", 1) for part in request.headers[SIGNATURE_HEADER].split(","))
    assert fields["t"] == "1700000000"
    expected = hmac.new(key.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)


def test_account_keys_differ_between_accounts_and_server_keys() -> None:
    keys = {
        account_callback_key(server_key="a", account_id=1),
        account_callback_key(server_key="a", account_id=2),
        account_callback_key(server_key="b", account_id=1),
    }
    assert len(keys) == 3
    assert account_callback_key(server_key="a", account_id=1) == account_callback_key(server_key="a", account_id=1)
    assert signature(key="k", timestamp=1, body=b"x") != signature(key="k", timestamp=2, body=b"x")


async def test_server_errors_and_timeouts_are_retried_with_growing_delays() -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response([503, 429, 200][calls - 2])

    callbacks = sender(httpx.MockTransport(handle), delays=(1.0, 4.0, 16.0, 64.0))
    delivery = await callbacks.deliver(url=URL, body=b"{}", key="k", data_code="c")
    assert delivery.delivered and delivery.attempts == 4
    assert callbacks.sleep.delays == [1.0, 4.0, 16.0]  # type: ignore[attr-defined]


async def test_delivery_gives_up_after_the_last_retry() -> None:
    transport, received = receiver([500] * 10)
    callbacks = sender(transport, delays=(1.0, 4.0))
    delivery = await callbacks.deliver(url=URL, body=b"{}", key="k", data_code="c")
    assert not delivery.delivered and delivery.attempts == 3 and len(received) == 3
    assert delivery.problem == "the receiver answered 500"


async def test_a_refusing_receiver_is_not_asked_again() -> None:
    for status in (400, 401, 404, 301):
        transport, received = receiver([status])
        delivery = await sender(transport).deliver(url=URL, body=b"{}", key="k", data_code="c")
        assert not delivery.delivered and len(received) == 1, status


async def test_a_host_that_now_resolves_inside_is_never_contacted() -> None:
    # DNS rebinding: public when the report was requested, loopback at delivery time.
    transport, received = receiver([])
    callbacks = sender(transport, {"hooks.example.com": ["127.0.0.1"]})
    delivery = await callbacks.deliver(url=URL, body=b"{}", key="k", data_code="c")
    assert not delivery.delivered and delivery.attempts == 1 and received == []
    assert "loopback" in (delivery.problem or "")


async def test_a_host_that_stops_resolving_is_retried() -> None:
    transport, received = receiver([])
    callbacks = sender(transport, {}, delays=(1.0,))
    delivery = await callbacks.deliver(url=URL, body=b"{}", key="k", data_code="c")
    assert not delivery.delivered and delivery.attempts == 2 and received == []


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("http://hooks.example.com/x", [PUBLIC], "https"),
        ("https://127.0.0.1/x", [], "loopback"),
        ("https://[::1]/x", [], "loopback"),
        ("https://10.1.2.3/x", [], "private"),
        ("https://192.168.0.10/x", [], "private"),
        ("https://169.254.169.254/latest/meta-data", [], "link-local"),
        ("https://[fe80::1]/x", [], "link-local"),
        ("https://[::ffff:127.0.0.1]/x", [], "loopback"),
        ("https://0.0.0.0/x", [], "address"),
        ("https://100.64.0.1/x", [], "not a public address"),
        ("https://hooks.example.com/x", ["127.0.0.53"], "loopback"),
        # One bad address among good ones is enough to refuse: the connection could go to any of them.
        ("https://hooks.example.com/x", [PUBLIC, "10.0.0.8"], "private"),
        ("https://hooks.example.com/x", ["fd00::5"], "private"),
    ],
)
async def test_unsafe_targets_are_refused_naming_the_field(url: str, addresses: list[str], reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        await safe_addresses(url, resolve=resolver({"hooks.example.com": addresses}))
    assert caught.value.details[0].field == "callbackUrl"
    assert reason in caught.value.message


async def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(Invalid, match="does not resolve"):
        await safe_addresses("https://nowhere.invalid/x", resolve=resolver({}))


async def test_public_addresses_pass() -> None:
    resolve = resolver({"hooks.example.com": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]})
    assert await safe_addresses("https://hooks.example.com/x", resolve=resolve) == [
        PUBLIC,
        "2606:2800:220:1:248:1893:25c8:1946",
    ]
    assert await safe_addresses(f"https://{PUBLIC}/x", resolve=resolver({})) == [PUBLIC]

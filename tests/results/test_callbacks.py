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
    assert delivery.problem == "the host is no longer a public HTTPS endpoint"


async def test_a_host_that_stops_resolving_is_retried() -> None:
    transport, received = receiver([])
    callbacks = sender(transport, {}, delays=(1.0,))
    delivery = await callbacks.deliver(url=URL, body=b"{}", key="k", data_code="c")
    assert not delivery.delivered and delivery.attempts == 2 and received == []


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://hooks.example.com/x", [PUBLIC]),
        ("https://127.0.0.1/x", []),
        ("https://[::1]/x", []),
        ("https://10.1.2.3/x", []),
        ("https://192.168.0.10/x", []),
        ("https://169.254.169.254/latest/meta-data", []),
        ("https://[fe80::1]/x", []),
        ("https://[fe80::1%25eth0]/x", []),
        ("https://[::ffff:127.0.0.1]/x", []),
        ("https://0.0.0.0/x", []),
        ("https://[::]/x", []),
        ("https://100.64.0.1/x", []),
        ("https://hooks.example.com/x", ["127.0.0.53"]),
        # One bad address among good ones is enough to refuse: the connection could go to any of them.
        ("https://hooks.example.com/x", [PUBLIC, "10.0.0.8"]),
        ("https://hooks.example.com/x", ["fd00::5"]),
        # 6to4 and NAT64 forms of 127.0.0.1 and of the cloud metadata address.
        ("https://[2002:7f00:1::]/x", []),
        ("https://[2002:a9fe:a9fe::1]/x", []),
        ("https://hooks.example.com/x", ["2002:7f00:1::"]),
        ("https://[64:ff9b::7f00:1]/x", []),
        ("https://[64:ff9b::a9fe:a9fe]/x", []),
        ("https://[64:ff9b:1::a00:1]/x", []),
        ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", []),  # Teredo
        ("https://[::7f00:1]/x", []),  # IPv4-compatible
        # Address forms a resolver reads as 127.0.0.1 or 169.254.169.254.
        ("https://0177.0.0.1/x", []),
        ("https://0x7f.1/x", []),
        ("https://2130706433/x", []),
        ("https://127.1/x", []),
        ("https://0251.0376.0251.0376/x", []),
        ("https://１２７.０.０.１/x", []),  # noqa: RUF001 -- full-width digits
        ("https://①②⑦.0.0.1/x", []),
        ("https://localhost/x", []),
        ("https://localhost./x", []),
        ("https://metadata/x", []),
        # Ports other than the allowed ones.
        ("https://hooks.example.com:22/x", [PUBLIC]),
        ("https://hooks.example.com:80/x", [PUBLIC]),
        ("https://hooks.example.com:6379/x", [PUBLIC]),
        ("https://hooks.example.com:0/x", [PUBLIC]),
        ("https://hooks.example.com:99999/x", [PUBLIC]),
        # Not hosts at all.
        ("https://hooks example.com/x", [PUBLIC]),
        ("https:///x", []),
        ("https://[not-an-address]/x", []),
    ],
)
async def test_unsafe_targets_are_refused_with_one_text_that_reveals_nothing(url: str, addresses: list[str]) -> None:
    with pytest.raises(Invalid) as caught:
        await safe_addresses(url, resolve=resolver({"hooks.example.com": addresses}))
    assert caught.value.details[0].field == "callbackUrl"
    assert caught.value.message == _REFUSED
    for address in ("127.0.0", "169.254", "10.0.0", "fd00", "2002", "resolves"):
        assert address not in caught.value.message


_REFUSED = (
    "callbackUrl: cannot receive reports: it must be an https:// URL whose host is a public DNS name or public IP "
    "address (written in the usual form) and whose port is one of 443 or 8443"
)


async def test_an_unresolvable_host_is_refused_with_the_same_text() -> None:
    with pytest.raises(Invalid) as caught:
        await safe_addresses("https://nowhere.invalid/x", resolve=resolver({}))
    assert caught.value.message == _REFUSED


async def test_a_full_width_name_of_a_public_host_is_its_ascii_name() -> None:
    resolve = resolver({"hooks.example.com": [PUBLIC]})
    full_width = "https://ｈｏｏｋｓ.example.com/x"  # noqa: RUF001 -- the attack's own characters
    assert await safe_addresses(full_width, resolve=resolve) == [PUBLIC]


async def test_nat64_and_6to4_forms_of_public_addresses_pass() -> None:
    for literal in ("64:ff9b::5db8:d822", "2002:5db8:d822::1"):
        assert await safe_addresses(f"https://[{literal}]/x", resolve=resolver({})) == [literal]


async def test_the_allowed_ports_are_configurable() -> None:
    resolve = resolver({"hooks.example.com": [PUBLIC]})
    assert await safe_addresses("https://hooks.example.com:9443/x", resolve=resolve, ports=frozenset({9443}))
    with pytest.raises(Invalid, match="one of 9443"):
        await safe_addresses("https://hooks.example.com/x", resolve=resolve, ports=frozenset({9443}))


async def test_public_addresses_pass() -> None:
    resolve = resolver({"hooks.example.com": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]})
    assert await safe_addresses("https://hooks.example.com/x", resolve=resolve) == [
        PUBLIC,
        "2606:2800:220:1:248:1893:25c8:1946",
    ]
    assert await safe_addresses(f"https://{PUBLIC}/x", resolve=resolver({})) == [PUBLIC]

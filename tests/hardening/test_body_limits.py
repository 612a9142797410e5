"""Bodies are bounded while they are read (413 past each API's maximum), are UTF-8, and a caller without
credentials is refused before any of its body is read.

A 50 MB body used to be read and parsed; a UTF-16 body was accepted; an unauthenticated body was read whole
before its 401. (tests/hardening/test_body_limits_server.py shows the same against a real server process.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.tracking.fixtures import ORIGIN, shop, visit
from versicolor.api.body_limits import MAX_API_BODY_BYTES, MAX_FORM_BODY_BYTES, limit_for
from versicolor.tracking.events import MAX_BODY_BYTES as MAX_EVENTS_BODY_BYTES

JSON = {"Content-Type": "application/json"}
CHUNK = 64 * 1024


class Endless:
    """A request body of spaces that never ends, counting how much of it was read."""

    def __init__(self) -> None:
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.read += CHUNK
            yield b" " * CHUNK


def test_each_api_has_its_documented_maximum() -> None:
    assert limit_for("/sites") == limit_for("/v3/edit/urls") == MAX_API_BODY_BYTES == 2 * 1024 * 1024
    assert limit_for("/data/v1/sites/abc/events") == MAX_EVENTS_BODY_BYTES == 10 * 1024 * 1024
    assert limit_for("/oauth/token") == limit_for("/oauth/authorize") == MAX_FORM_BODY_BYTES == 16 * 1024


def _padded(body: bytes, size: int) -> bytes:
    """`body` with JSON whitespace after it, `size` bytes in all."""
    return body + b" " * (size - len(body))


async def test_a_body_at_the_maximum_is_taken_and_one_byte_more_is_a_413(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    headers = {**account.headers, **JSON}
    at_limit = await client.post("/sites", content=_padded(b'{"name": "Edge"}', MAX_API_BODY_BYTES), headers=headers)
    assert at_limit.status_code == 201, at_limit.text
    over = await client.post("/sites", content=_padded(b'{"name": "Over"}', MAX_API_BODY_BYTES + 1), headers=headers)
    assert over.status_code == 413, over.text
    assert over.json()["message"] == (
        "the body is 2097153 bytes, over the 2 MiB (2097152 bytes) this API takes in one request"
    )
    names = [site["name"] for site in (await client.get("/sites", headers=account.headers)).json()]
    assert names == ["Edge"]


async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_maximum(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # No Content-Length: the body is counted as it arrives, and the rest of it is never asked for.
    account = await factory.account()
    body = Endless()
    answer = await client.post("/sites", content=body, headers={**account.headers, **JSON})
    assert answer.status_code == 413, answer.text
    assert answer.json()["message"] == "the body is over the 2 MiB (2097152 bytes) this API takes in one request"
    assert MAX_API_BODY_BYTES < body.read <= MAX_API_BODY_BYTES + CHUNK


async def test_a_v3_body_past_the_maximum_is_a_413_in_the_v3_shape(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        "/v3/edit/urls",
        content=Endless(),
        headers={"X-Account-Secret": account.account_secret, **JSON},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json() == {
        "code": 413,
        "messages": ["the body is over the 2 MiB (2097152 bytes) this API takes in one request"],
    }


async def test_an_events_body_past_a_batchs_maximum_is_a_413_that_a_page_can_read(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory)
    body = Endless()
    answer = await client.post(made.events_path, content=body, headers={"Origin": ORIGIN, **JSON})
    assert answer.status_code == 413, answer.text
    assert "10 MiB (10485760 bytes)" in answer.json()["message"]
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page's script sees why
    assert body.read <= MAX_EVENTS_BODY_BYTES + CHUNK


async def test_an_oauth_form_past_its_maximum_is_a_413_in_the_oauth_shape(client: httpx.AsyncClient) -> None:
    body = Endless()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = await client.post("/oauth/token", content=body, headers=headers)
    assert answer.status_code == 413, answer.text
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "the body is over the 16 KiB (16384 bytes) this API takes in one request",
    }
    assert body.read <= MAX_FORM_BODY_BYTES + CHUNK
    page = await client.post("/oauth/authorize", content=b"a=" + b"x" * MAX_FORM_BODY_BYTES, headers=headers)
    assert page.status_code == 413
    assert "16 KiB" in page.text


@pytest.mark.parametrize(
    ("path", "credentials"),
    [
        ("/sites", {}),
        ("/sites", {"Authorization": "Bearer not-a-token"}),
        ("/v3/edit/urls", {}),
        ("/v3/edit/urls", {"X-Account-Secret": "not-a-secret"}),
        ("/v3/edit/urls?account_secret=not-a-secret", {}),
        ("/data/v1/sites/abcdefghij/events", {"Authorization": "Bearer not-a-token"}),
        ("/data/v1/sites/abcdefghij/visitors/forget", {}),
        ("/data/v1/sites/abcdefghij/visitors/forget", {"Authorization": "Bearer not-a-token"}),
    ],
)
async def test_a_caller_without_valid_credentials_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient, path: str, credentials: dict[str, str]
) -> None:
    body = Endless()
    answer = await client.post(path, content=body, headers={**credentials, **JSON})
    assert answer.status_code in (401, 403), answer.text
    assert body.read == 0


async def test_a_wrong_content_type_is_refused_without_reading_the_body(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    body = Endless()
    answer = await client.post("/sites", content=body, headers={**account.headers, "Content-Type": "text/plain"})
    assert answer.status_code == 400, answer.text
    assert body.read == 0


# Bodies that are not UTF-8; JSON's decoder used to read the first three (it guesses UTF-16 and UTF-32 from the
# first bytes, and decodes encoded surrogates).
NOT_UTF8 = [
    pytest.param('{"name": "Shop"}'.encode("utf-16"), 0, id="utf-16 with BOM"),
    pytest.param('{"name": "Shop"}'.encode("utf-16-le"), 1, id="utf-16-le"),
    pytest.param('{"name": "Shop"}'.encode("utf-32-be"), 0, id="utf-32-be"),
    pytest.param(b'{"name": "\xed\xa0\x80"}', 10, id="encoded surrogate"),
    pytest.param(b'{"name": "caf\xe9"}', 13, id="latin-1"),
]


def _says_not_utf8(message: str, byte: int) -> None:
    assert "not UTF-8" in message or "not valid UTF-8" in message, message
    assert f"byte {byte}" in message, message


@pytest.mark.parametrize(("body", "byte"), NOT_UTF8)
async def test_a_body_that_is_not_utf8_is_a_400_in_every_api(
    client: httpx.AsyncClient, factory: Factory, body: bytes, byte: int
) -> None:
    account = await factory.account()
    automation = await client.post("/sites", content=body, headers={**account.headers, **JSON})
    assert automation.status_code == 400, automation.text
    _says_not_utf8(automation.json()["message"], byte)
    v3 = await client.post("/v3/edit/urls", content=body, headers={"X-Account-Secret": account.account_secret, **JSON})
    assert v3.status_code == 400, v3.text
    _says_not_utf8(v3.json()["messages"][0], byte)
    assert (await client.get("/sites", headers=account.headers)).json() == []


@pytest.mark.parametrize(("body", "byte"), NOT_UTF8[:2])
async def test_an_events_body_that_is_not_utf8_is_a_400(
    client: httpx.AsyncClient, factory: Factory, body: bytes, byte: int
) -> None:
    made = await shop(client, factory)
    answer = await client.post(made.events_path, content=body, headers={"Origin": ORIGIN, **JSON})
    assert answer.status_code == 400, answer.text
    _says_not_utf8(answer.json()["message"], byte)


async def test_utf8_with_its_byte_order_mark_and_any_script_is_taken(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account: TestAccount = await factory.account()
    body = '\ufeff{"name": "Boutique été 夏 🌞"}'.encode()
    answer = await client.post("/sites", content=body, headers={**account.headers, **JSON})
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "Boutique été 夏 🌞"


async def test_events_in_utf8_are_still_taken(client: httpx.AsyncClient, factory: Factory) -> None:
    made = await shop(client, factory)
    answer = await client.post(made.events_path, json={"events": [visit()]}, headers={"Origin": ORIGIN})
    assert answer.status_code == 202, answer.text

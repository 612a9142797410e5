"""A report with a callbackUrl is POSTed there once READY, signed with the account's callback key.

The network is stood in for by the sender's resolver and transport (the receiver is an httpx MockTransport):
a real local receiver could only listen on a loopback address, which the callback rule refuses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import Factory
from tests.tracking.fixtures import shop
from versicolor.api.automation.results import callback_sender
from versicolor.core.roles import Role
from versicolor.db.models import ResultReport
from versicolor.results.callbacks import CallbackSender
from versicolor.runtime import Runtime

PUBLIC = "93.184.216.34"


class Receiver:
    """A callback receiver: answers `statuses` in turn (then 200) and keeps what it received."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self.statuses = list(statuses)
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver(app: FastAPI) -> AsyncIterator[Receiver]:
    """Callbacks of the app under test go to this receiver, as if hooks.example.com were a public host."""
    stand_in = Receiver([503])

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host != "hooks.example.com":
            raise OSError(f"unknown host {host}")
        return [PUBLIC]

    async def no_wait(seconds: float) -> None:
        return None

    sender = CallbackSender(resolve=resolve, transport=httpx.MockTransport(stand_in), sleep=no_wait)
    app.dependency_overrides[callback_sender] = lambda: sender
    yield stand_in
    app.dependency_overrides.pop(callback_sender)


async def test_a_ready_report_is_posted_to_its_callback_signed(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, receiver: Receiver
) -> None:
    made = await shop(client, factory)
    asked = await client.post(
        f"/experiments/{made.experiment_id}/results",
        json={"callbackUrl": "https://hooks.example.com/versicolor?secret=abc"},
        headers=made.account.headers,
    )
    assert asked.status_code == 200, asked.text
    code = asked.json()["dataCode"]
    # The first attempt met a 503; the retry got through.
    assert len(receiver.received) == 2
    delivered = receiver.received[-1]
    assert delivered.url.host == PUBLIC and delivered.headers["host"] == "hooks.example.com"
    assert delivered.url.path == "/versicolor" and delivered.url.query == b"secret=abc"
    fetched = await client.get("/results", params={"dataCode": code}, headers=made.account.headers)
    assert json.loads(delivered.content) == fetched.json()
    assert fetched.json()["status"] == "READY"

    key = (await client.get("/results/callbackKey", headers=made.account.headers)).json()
    assert key["header"] == "X-Versicolor-Signature"
    fields = dict(part.split("=", 1) for part in delivered.headers[key["header"]].split(","))
    expected = hmac.new(key["key"].encode(), f"{fields['t']}.".encode() + delivered.content, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())

    async with runtime.sessions() as session:
        row = await session.scalar(select(ResultReport).where(ResultReport.data_code == code))
    assert row is not None and row.callback_status == "DELIVERED" and row.callback_attempts == 2


async def test_each_account_has_its_own_callback_key(client: httpx.AsyncClient, factory: Factory) -> None:
    one, two = await factory.account(), await factory.account()
    key_one = (await client.get("/results/callbackKey", headers=one.headers)).json()["key"]
    key_two = (await client.get("/results/callbackKey", headers=two.headers)).json()["key"]
    assert key_one != key_two and len(key_one) == 64


async def test_an_unresolvable_callback_host_is_refused(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    made = await shop(client, factory)
    answer = await client.post(
        f"/experiments/{made.experiment_id}/results",
        json={"callbackUrl": "https://nowhere.example.org/x"},
        headers=made.account.headers,
    )
    assert answer.status_code == 400 and answer.json()["details"][0]["field"] == "callbackUrl"
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "https://0177.0.0.1/x",
        "https://１２７.０.０.１/x",  # noqa: RUF001 -- full-width digits, once a 500
        "https://[2002:a9fe:a9fe::]/latest/meta-data",
        "https://[64:ff9b::7f00:1]/x",
        "https://hooks.example.com:22/x",
        "https://nowhere.example.org/x",
        "https://[fe80::1%25eth0]/x",
        "https://hooks.example.com:99999/x",
    ],
)
async def test_a_callback_url_into_our_network_is_a_400_that_reveals_nothing(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, url: str
) -> None:
    made = await shop(client, factory)
    answer = await client.post(
        f"/experiments/{made.experiment_id}/results", json={"callbackUrl": url}, headers=made.account.headers
    )
    assert answer.status_code == 400, answer.text
    [detail] = answer.json()["details"]
    assert detail["field"] == "callbackUrl"
    texts = {detail["message"]}
    other = await client.post(
        f"/experiments/{made.experiment_id}/results",
        json={"callbackUrl": "https://127.0.0.1/x"},
        headers=made.account.headers,
    )
    texts.add(other.json()["details"][0]["message"])
    if "99999" not in url:  # a port out of range is a malformed URL, refused when its form is read
        assert len(texts) == 1, texts
    assert "resolve" not in answer.text and "127.0.0" not in answer.text and "169.254" not in answer.text
    assert receiver.received == []


def _signatures(header: str) -> tuple[str, list[str]]:
    parts = [part.split("=", 1) for part in header.split(",")]
    return next(v for k, v in parts if k == "t"), [v for k, v in parts if k == "v1"]


def _signed_by(key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


async def test_a_rotated_callback_key_signs_beside_the_old_one_during_the_overlap(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    made = await shop(client, factory)
    old = (await client.get("/results/callbackKey", headers=made.account.headers)).json()
    assert old["previousKeys"] == []
    rotated = await client.post(
        "/results/callbackKey/rotate", headers=made.account.headers, json={"overlapSeconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    assert "no-store" in rotated.headers["cache-control"]
    new = rotated.json()
    assert new["key"] != old["key"] and [k["key"] for k in new["previousKeys"]] == [old["key"]]
    assert (await client.get("/results/callbackKey", headers=made.account.headers)).json() == new

    receiver.statuses.clear()
    asked = await client.post(
        f"/experiments/{made.experiment_id}/results",
        json={"callbackUrl": "https://hooks.example.com/x"},
        headers=made.account.headers,
    )
    assert asked.status_code == 200, asked.text
    delivered = receiver.received[-1]
    timestamp, signatures = _signatures(delivered.headers["X-Versicolor-Signature"])
    # Newest first; a receiver still checking with the old key finds its signature too.
    assert signatures == [_signed_by(k, timestamp, delivered.content) for k in (new["key"], old["key"])]

    # With no overlap, the key before is dropped at once.
    again = await client.post("/results/callbackKey/rotate", headers=made.account.headers, json={"overlapSeconds": 0})
    assert again.json()["previousKeys"] == []


async def test_callback_keys_are_rotated_with_the_accounts_own_credentials_only(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    assert (await client.post("/results/callbackKey/rotate", headers=editor.headers)).status_code == 403
    bad = await client.post("/results/callbackKey/rotate", headers=account.headers, json={"overlapSeconds": 10**9})
    assert bad.status_code == 400 and "overlapSeconds" in bad.text


@pytest.mark.parametrize("overlap", [-1, 30 * 86_400 + 1, 270845425578052226339037507485696])
async def test_a_callback_key_overlap_beyond_thirty_days_or_below_zero_is_a_400_naming_it(
    client: httpx.AsyncClient, factory: Factory, overlap: int
) -> None:
    account = await factory.account()
    before = (await client.get("/results/callbackKey", headers=account.headers)).json()
    answer = await client.post("/results/callbackKey/rotate", headers=account.headers, json={"overlapSeconds": overlap})
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == "overlapSeconds"
    assert (await client.get("/results/callbackKey", headers=account.headers)).json() == before

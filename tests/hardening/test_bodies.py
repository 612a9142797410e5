"""Bodies the JSON decoder cannot read say why, in both dialects, instead of "error parsing the body"."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"name": "\xff"}', "not valid UTF-8 (byte 10)"),
        (b"[" * 100_000 + b"]" * 100_000, "nests arrays or objects too deeply"),
        (b'{"name": "S", "url": ' + b"9" * 5000 + b"}", "a number of more than 4300 digits"),
        (b'{"name": "S",}', "(Expecting property name enclosed in double quotes at character 13)"),
    ],
    ids=["latin-1", "deep", "long number", "syntax"],
)
async def test_unreadable_body_says_why(
    client: httpx.AsyncClient, factory: Factory, content: bytes, words: str
) -> None:
    account = await factory.account()
    headers = {"Content-Type": "application/json"}
    automation = await client.post("/sites", content=content, headers={**account.headers, **headers})
    assert automation.status_code == 400, automation.text
    assert words in automation.json()["message"]
    v3 = await client.post(
        "/v3/edit/urls", content=content, headers={"X-Account-Secret": account.account_secret, **headers}
    )
    assert v3.status_code == 400, v3.text
    assert words in v3.json()["messages"][0]

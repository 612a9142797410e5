"""How the v3 tests talk to the Edit API: account-secret headers, creating Urls, reading v3 errors."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests import factories

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UNKNOWN_ID = "5c4950c34733cc0004d5bfd7"


def secret(account: factories.TestAccount) -> dict[str, str]:
    """Headers authenticating with the account secret, as the public service takes them."""
    return {"X-Account-Secret": account.account_secret}


async def create(client: httpx.AsyncClient, account: factories.TestAccount, **body: Any) -> dict[str, Any]:
    """A new Url made over HTTP."""
    answer = await client.post("/v3/edit/urls", json=body, headers=secret(account))
    assert answer.status_code == 201, answer.text
    url: dict[str, Any] = answer.json()["url"]
    return url


async def create_group(client: httpx.AsyncClient, account: factories.TestAccount, **body: Any) -> dict[str, Any]:
    """A new Environment made over HTTP."""
    answer = await client.post("/v3/edit/url_groups", json=body, headers=secret(account))
    assert answer.status_code == 201, answer.text
    group: dict[str, Any] = answer.json()["url_group"]
    return group


def messages(answer: httpx.Response) -> str:
    """The error's messages, after checking the v3 error shape."""
    body = answer.json()
    assert set(body) == {"code", "messages"}, body
    assert body["code"] == answer.status_code
    return " ".join(body["messages"])

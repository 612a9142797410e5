"""Every URL Versicolor stores for people and pages to follow is http or https with a host (core/web_urls.py).

A site's `url` took `javascript:alert(1)` and the empty string: a script injection the moment a page links it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.resources import experiment_fixtures as make

NOT_WEB_URLS = [
    "",
    "   ",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://shop.example/",
    "//shop.example/",
    "shop.example",
    "/checkout",
    "https://",
    "https:///path",
    "http://:80/",
    "https://user:pass@shop.example/",
    "https://shop.example:99999/",
    "https://shop .example/",
    "https://shop.example/\nLocation: https://evil.example/",
    "https://" + "a" * 2048 + ".example/",
    "https://exa_mple..com/",
]
NOT_WEB_URLS_NOT_BLANK = [url for url in NOT_WEB_URLS if url.strip()]
GOOD = [
    "https://shop.example/",
    "http://127.0.0.1:8000/cart?x=1#top",
    "https://bücher.example/ä",
    "HTTPS://Shop.Example",
]


def _ids(values: list[str]) -> list[str]:
    return [repr(v[:30]) for v in values]


async def _refused(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    assert [d["field"] for d in answer.json()["details"]] == [field], answer.text


@pytest.mark.parametrize("url", NOT_WEB_URLS, ids=_ids(NOT_WEB_URLS))
async def test_a_site_url_that_is_not_a_web_url_is_a_400_on_create_patch_and_put(
    client: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    account = await factory.account()
    await _refused(await client.post("/sites", json={"name": "S", "url": url}, headers=account.headers), "url")
    site = await make.site(client, account)
    await _refused(await client.patch(f"/sites/{site['id']}", json={"url": url}, headers=account.headers), "url")
    put = await client.put(f"/sites/{site['id']}", json={"name": "S", "url": url}, headers=account.headers)
    await _refused(put, "url")
    stored = (await client.get(f"/sites/{site['id']}", headers=account.headers)).json()
    assert stored["url"] == "https://shop.example"


@pytest.mark.parametrize("url", NOT_WEB_URLS, ids=_ids(NOT_WEB_URLS))
async def test_an_experiment_base_url_that_is_not_a_web_url_is_a_400(
    client: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    body = {"name": "E", "siteId": site["id"], "baseURL": url}
    answer = await client.post("/experiments", json=body, headers=account.headers)
    assert answer.status_code == 400, answer.text
    assert "baseURL" in [d["field"] for d in answer.json()["details"]]


async def _variation(client: httpx.AsyncClient, account: TestAccount, redirection: dict[str, Any]) -> httpx.Response:
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    body = {"name": "V", "siteId": site["id"], "experimentId": experiment["id"], "redirection": redirection}
    return await client.post("/variations", json=body, headers=account.headers)


@pytest.mark.parametrize(
    "url", [u for u in NOT_WEB_URLS if u.strip()], ids=_ids([u for u in NOT_WEB_URLS if u.strip()])
)
async def test_a_redirection_url_that_is_not_a_web_url_is_a_400(
    client: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    account = await factory.account()
    answer = await _variation(client, account, {"type": "GLOBAL_REDIRECTION", "url": url})
    await _refused(answer, "redirection.url")
    # A parameter redirection carries no URL of its own, but one given must be a URL too.
    answer = await _variation(client, account, {"type": "PARAMETER_REDIRECTION", "parameters": "a=1", "url": url})
    await _refused(answer, "redirection.url")


async def test_an_empty_redirection_url_is_a_400(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await _variation(client, account, {"type": "GLOBAL_REDIRECTION", "url": ""})
    await _refused(answer, "redirection.url")


@pytest.mark.parametrize("url", GOOD)
async def test_web_urls_are_stored(client: httpx.AsyncClient, factory: Factory, url: str) -> None:
    account = await factory.account()
    created = await client.post("/sites", json={"name": "S", "url": url}, headers=account.headers)
    assert created.status_code == 201, created.text
    assert created.json()["url"] == url
    redirected = await _variation(client, account, {"type": "GLOBAL_REDIRECTION", "url": url})
    assert redirected.status_code == 201, redirected.text
    assert redirected.json()["redirection"]["url"] == url


async def test_a_site_url_can_still_be_cleared(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    cleared = await client.patch(f"/sites/{site['id']}", json={"url": None}, headers=account.headers)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["url"] is None


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "http://reports.example/cb", "https://"])
async def test_a_callback_url_that_is_not_an_https_url_is_a_400(
    client: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    answer = await client.post(
        f"/experiments/{experiment['id']}/results", json={"callbackUrl": url}, headers=account.headers
    )
    assert answer.status_code == 400, answer.text
    assert "callbackUrl" in [d["field"] for d in answer.json()["details"]]

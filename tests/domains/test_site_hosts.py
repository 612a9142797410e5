"""A site's own host: declaring it in the site's `url` authorises it, so its first page view is not refused."""

from __future__ import annotations

import httpx

from tests.factories import Factory, TestAccount
from versicolor.core.roles import Role


async def hosts_of(client: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    """Every host in the account's Domains, with its `enabled`."""
    answer = await client.get("/v3/edit/urls", params={"limit": 500}, headers=account.headers)
    assert answer.status_code == 200, answer.text
    return {url["host"]: url["enabled"] for url in answer.json()["urls"]}


async def new_site(client: httpx.AsyncClient, account: TestAccount, **fields: object) -> dict[str, object]:
    answer = await client.post("/sites", json={"name": "Shop", **fields}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    site: dict[str, object] = answer.json()
    return site


async def page_config(client: httpx.AsyncClient, site: dict[str, object], origin: str) -> httpx.Response:
    return await client.get(f"/data/v1/sites/{site['code']}/config", headers={"Origin": origin})


async def test_a_sites_url_authorises_its_host_for_the_first_page_view(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site = await new_site(client, account, url="https://Shop.Example/cart?x=1")
    assert await hosts_of(client, account) == {"shop.example": "on"}
    answer = await page_config(client, site, "https://shop.example")
    assert answer.status_code == 200, answer.text


async def test_a_host_nobody_declared_keeps_the_cautious_default(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await new_site(client, account, url="https://shop.example")
    refused = await page_config(client, site, "https://elsewhere.example")
    assert refused.status_code == 403
    assert (await hosts_of(client, account))["elsewhere.example"] == "off"


async def test_a_host_someone_already_decided_on_keeps_that_decision(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    made = await client.post("/v3/edit/urls", json={"host": "shop.example", "enabled": "off"}, headers=account.headers)
    assert made.status_code == 201, made.text
    site = await new_site(client, account, url="https://shop.example")
    assert await hosts_of(client, account) == {"shop.example": "off"}
    assert (await page_config(client, site, "https://shop.example")).status_code == 403


async def test_changing_a_sites_url_authorises_the_new_host(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await new_site(client, account)
    assert await hosts_of(client, account) == {}
    patched = await client.patch(f"/sites/{site['id']}", json={"url": "https://new.example"}, headers=account.headers)
    assert patched.status_code == 200, patched.text
    replaced = await client.put(
        f"/sites/{site['id']}", json={"name": "Shop", "url": "https://www.new.example"}, headers=account.headers
    )
    assert replaced.status_code == 200, replaced.text
    assert await hosts_of(client, account) == {"new.example": "on", "www.new.example": "on"}
    cleared = await client.patch(f"/sites/{site['id']}", json={"url": None}, headers=account.headers)
    assert cleared.status_code == 200, cleared.text
    assert await hosts_of(client, account) == {"new.example": "on", "www.new.example": "on"}, (
        "Urls outlive the site's url"
    )


async def test_each_account_declares_its_own_hosts(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    await new_site(client, theirs, url="https://shop.example")
    site = await new_site(client, mine, url="https://shop.example")
    assert await hosts_of(client, mine) == {"shop.example": "on"}
    assert await hosts_of(client, theirs) == {"shop.example": "on"}
    assert (await page_config(client, site, "https://shop.example")).status_code == 200


async def test_a_viewer_cannot_declare_hosts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    refused = await client.post("/sites", json={"name": "x", "url": "https://shop.example"}, headers=viewer.headers)
    assert refused.status_code == 403
    assert await hosts_of(client, account) == {}

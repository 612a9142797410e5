"""A site's page: the snippet to install, its goals and segments, and the account's Domains and Environments,
which only an ADMIN may change."""

from __future__ import annotations

import re

import httpx
from tests.factories import Factory
from tests.tracking.fixtures import shop
from tests.web.conftest import Browsers, text_of

from versicolor.core.domains.authorization import HostAuthorizer
from versicolor.core.roles import Role
from versicolor.runtime import Runtime


async def _url(client: httpx.AsyncClient, url_id: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    answer = await client.get(f"/v3/edit/urls/{url_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    url: dict = answer.json()["url"]  # type: ignore[type-arg]
    return url


async def test_the_site_page_shows_the_snippet_goals_segments_and_when_hosts_were_last_seen(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    conditions = {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITOR", "include": True}]}]}
    made = await shop(client, factory, segment=conditions)
    authorizer = HostAuthorizer()
    async with runtime.sessions() as session, session.begin():
        await authorizer.authorize(session=session, account_id=made.account.account_id, host="shop.example")
    async with runtime.sessions() as session, session.begin():
        await authorizer.flush_sightings(session=session)
    seen = (await _url(client, made.url_id, made.account.headers))["last_seen_at"]
    browser = browsers()
    await browser.sign_in(made.account.admin)
    html = await browser.page(f"/app/sites/{made.site_id}")
    text = text_of(html)
    # The snippet is shown to copy, as text: the page runs none of it.
    assert f"&lt;script async src=&#34;http://dashboard.example/data/v1/sites/{made.code}/engine.js&#34;" in html
    assert "Purchase custom active" in text and "Signup custom active" in text
    assert "Targeted" in text
    assert f"shop.example Default On {seen[:10]} {seen[11:16]} UTC" in text
    assert "1 active" in text


async def test_an_admin_disables_enables_and_archives_a_domain(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    page = await browser.page(f"/app/sites/{made.site_id}")
    assert f'action="/app/domains/{made.url_id}"' in page
    here = f"/app/sites/{made.site_id}"
    off = await browser.post(f"/app/domains/{made.url_id}", {"enabled": "off", "next": here})
    assert off.status_code == 303 and off.headers["location"] == here
    assert (await _url(client, made.url_id, made.account.headers))["enabled"] == "off"
    await browser.page(here)
    await browser.post(f"/app/domains/{made.url_id}", {"enabled": "subdomain", "next": here})
    assert (await _url(client, made.url_id, made.account.headers))["enabled"] == "subdomain"
    await browser.post(f"/app/domains/{made.url_id}", {"archive": "yes", "next": here})
    assert (await _url(client, made.url_id, made.account.headers))["archived_at"] is not None
    assert "Unarchive" in text_of(await browser.page(here))
    await browser.post(f"/app/domains/{made.url_id}", {"archive": "no", "next": "https://evil.example/"})
    assert (await _url(client, made.url_id, made.account.headers))["archived_at"] is None
    bad = await browser.post(f"/app/domains/{made.url_id}", {"enabled": "maybe"})
    assert bad.status_code == 400 and "enabled" in text_of(bad.text)


async def test_an_admin_archives_an_environment_with_its_domains_but_never_the_default(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    group = await client.post("/v3/edit/url_groups", json={"name": "Staging"}, headers=made.account.headers)
    assert group.status_code == 201, group.text
    group_id = group.json()["url_group"]["id"]
    moved = await client.patch(
        f"/v3/edit/urls/{made.url_id}", json={"url_group_id": group_id}, headers=made.account.headers
    )
    assert moved.status_code == 200, moved.text
    browser = browsers()
    await browser.sign_in(made.account.admin)
    page = await browser.page(f"/app/sites/{made.site_id}")
    default_id = re.findall(r'action="/app/environments/(\w+)"', page)
    assert default_id == [group_id]  # the Default Environment has no archive control
    archived = await browser.post(f"/app/environments/{group_id}", {"archive": "yes", "urls": "archive"})
    assert archived.status_code == 303
    assert (await _url(client, made.url_id, made.account.headers))["archived_at"] is not None
    groups = (await client.get("/v3/edit/url_groups", headers=made.account.headers)).json()["url_groups"]
    default = next(g for g in groups if g["id"] != group_id)
    await browser.page(f"/app/sites/{made.site_id}")
    refused = await browser.post(f"/app/environments/{default['id']}", {"archive": "yes"})
    assert refused.status_code == 409 and "Default Environment cannot be archived" in text_of(refused.text)


async def test_an_editor_sees_the_domains_but_no_control_and_cannot_post_one(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    editor = await factory.member(made.account, Role.EDITOR)
    browser = browsers()
    await browser.sign_in(editor)
    page = await browser.page(f"/app/sites/{made.site_id}")
    assert "shop.example" in page and "/app/domains/" not in page and "/app/environments/" not in page
    refused = await browser.post(f"/app/domains/{made.url_id}", {"enabled": "off"})
    assert refused.status_code == 403 and "an ADMIN can" in text_of(refused.text)
    assert (await _url(client, made.url_id, made.account.headers))["enabled"] == "on"


async def test_another_accounts_domain_is_not_found(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    mine = await shop(client, factory)
    theirs = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(mine.account.admin)
    await browser.page(f"/app/sites/{mine.site_id}")
    answer = await browser.post(f"/app/domains/{theirs.url_id}", {"enabled": "off"})
    assert answer.status_code == 404
    assert (await _url(client, theirs.url_id, theirs.account.headers))["enabled"] == "on"
    assert (await browser.get(f"/app/sites/{mine.site_id}", domains="0")).status_code == 400


async def test_the_sites_list_counts_experiments(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page("/app/sites"))
    assert f"Shop {made.code} https://shop.example 1" in text

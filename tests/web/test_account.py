"""The account page: your API credentials (a new secret shown once), and an ADMIN's users and roles."""

from __future__ import annotations

import re

import httpx
from tests.factories import Factory
from tests.web.conftest import Browsers, text_of

from versicolor.core.roles import Role


async def _token(client: httpx.AsyncClient, client_id: str, secret: str) -> int:
    answer = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return answer.status_code


async def test_rotating_credentials_shows_the_new_secret_once_and_the_old_one_stops(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    browser = browsers()
    await browser.sign_in(viewer)
    page = await browser.page("/app/account")
    assert viewer.client_id in page and viewer.client_secret not in page
    assert "Users" not in text_of(page)  # not an ADMIN: no users, no account secret
    rotated = await browser.post("/app/account/credentials")
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    secret = re.search(r'Client secret</dt><dd><code class="break">([^<]+)</code>', rotated.text)
    assert secret is not None
    assert await _token(client, viewer.client_id, viewer.client_secret) == 401
    assert await _token(client, viewer.client_id, secret[1]) == 200
    assert secret[1] not in await browser.page("/app/account")  # shown once


async def test_an_admin_changes_roles_adds_and_removes_users(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    browser = browsers()
    await browser.sign_in(account.admin)
    page = await browser.page("/app/account")
    assert editor.email in page and 'action="/app/account/secret"' in page
    assert (await browser.post(f"/app/account/users/{editor.user_id}", {"role": "ADMIN"})).status_code == 303
    me = (await client.get("/accounts/me", headers=editor.headers)).json()
    assert me["role"] == "ADMIN"
    await browser.page("/app/account")
    added = await browser.post("/app/account/users", {"email": "New.Person@Example.com", "role": "VIEWER"})
    assert added.status_code == 201
    text = text_of(added.text)
    assert "new.person@example.com was added as VIEWER" in text
    client_id = re.search(r"Client id</dt><dd><code>([^<]+)</code>", added.text)
    secret = re.search(r'Client secret</dt><dd><code class="break">([^<]+)</code>', added.text)
    assert client_id and secret and await _token(client, client_id[1], secret[1]) == 200
    again = await browser.post("/app/account/users", {"email": "new.person@example.com", "role": "VIEWER"})
    assert again.status_code == 409 and "already exists" in text_of(again.text)
    await browser.page("/app/account")
    unconfirmed = await browser.post(f"/app/account/users/{editor.user_id}/remove", {})
    assert unconfirmed.status_code == 400
    removed = await browser.post(f"/app/account/users/{editor.user_id}/remove", {"confirm": "yes"})
    assert removed.status_code == 303
    assert editor.email not in await browser.page("/app/account")


async def test_the_last_admin_keeps_the_role_and_cannot_remove_themselves(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    await browser.page("/app/account")
    demoted = await browser.post(f"/app/account/users/{account.admin.user_id}", {"role": "VIEWER"})
    assert demoted.status_code == 409 and "last ADMIN" in text_of(demoted.text)
    removed = await browser.post(f"/app/account/users/{account.admin.user_id}/remove", {"confirm": "yes"})
    assert removed.status_code == 409
    bad_role = await browser.post(f"/app/account/users/{account.admin.user_id}", {"role": "OWNER"})
    assert bad_role.status_code == 400 and "role" in text_of(bad_role.text)


async def test_another_accounts_user_is_not_found(browsers: Browsers, factory: Factory) -> None:
    mine = await factory.account()
    theirs = await factory.account()
    browser = browsers()
    await browser.sign_in(mine.admin)
    await browser.page("/app/account")
    answer = await browser.post(f"/app/account/users/{theirs.admin.user_id}", {"role": "VIEWER"})
    assert answer.status_code == 404
    assert theirs.admin.email not in answer.text


async def test_rotating_the_account_secret_shows_it_once(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    await browser.page("/app/account")
    rotated = await browser.post("/app/account/secret")
    secret = re.search(r'The new account secret</h2>.*?<code class="break">([^<]+)</code>', rotated.text, re.S)
    assert secret is not None
    old = await client.get("/v3/edit/urls", headers={"X-Account-Secret": account.account_secret})
    new = await client.get("/v3/edit/urls", headers={"X-Account-Secret": secret[1]})
    assert old.status_code == 403 and new.status_code == 200

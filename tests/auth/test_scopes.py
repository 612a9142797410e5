"""Partner applications' tokens carry the scopes the user approved, and never administer the account.

The attack this pins: a partner application's token used to mint lasting credentials (new API credentials,
a new account secret, a new ADMIN user) that kept working after the token was revoked and the application
deleted. Those calls now need the account's own credentials.
"""

from __future__ import annotations

import httpx
import pytest

from tests.auth.browser import App, authorize_url, code_for, form_of, query_of, register_app, sign_in
from tests.factories import Factory, TestAccount
from versicolor.core.roles import Role

_WORD = "a partner application's token cannot make this call"


async def _partner_token(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory, scope: str | None
) -> tuple[TestAccount, App, dict[str, str]]:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    extra = {} if scope is None else {"scope": scope}
    browser.cookies.clear()  # a browser of its own each time: nobody signed in yet
    location = await _approve(browser, app, account, **extra)
    code = query_of(location)["code"]
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=app.basic,
    )
    assert answer.status_code == 200, answer.text
    return account, app, answer.json()


async def _approve(browser: httpx.AsyncClient, app: App, account: TestAccount, **extra: str) -> str:
    consent = await sign_in(browser, authorize_url(app, **extra), account.admin)
    decided = await browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "approve"})
    assert decided.status_code == 302, decided.text
    location: str = decided.headers["location"]
    return location


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_partner_token_cannot_mint_credentials_users_or_secrets(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app, tokens = await _partner_token(client, browser, factory, "read write")
    partner = _bearer(tokens["access_token"])
    attempts = [
        await client.post("/accounts/me/credentials", headers=partner),
        await client.post("/accounts/me/account-secret", headers=partner),
        await client.post("/accounts", headers=partner, json={"email": "mallory@example.com", "role": "ADMIN"}),
        await client.patch(f"/accounts/{account.admin.user_id}", headers=partner, json={"role": "ADMIN"}),
        await client.get("/results/callbackKey", headers=partner),
        await client.get("/applications", headers=partner),
        await client.delete(f"/applications/{app.id}", headers=partner),
    ]
    for answer in attempts:
        assert answer.status_code == 403, (answer.request.url, answer.text)
        assert _WORD in answer.json()["message"] or "does not allow" in answer.json()["message"], answer.text
        assert "clientSecret" not in answer.text and "accountSecret" not in answer.text
    assert _WORD in attempts[0].json()["message"]
    # Nothing was created: the account still has its one user, whose own credentials still work.
    users = await client.get("/accounts", headers=account.headers)
    assert [user["email"] for user in users.json()] == [account.admin.email]
    assert (await client.post("/accounts/me/credentials", headers=account.headers)).status_code == 200


async def test_scopes_default_to_read_and_write_needs_asking(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    _, _, reading = await _partner_token(client, browser, factory, None)
    assert reading["scope"] == "read"
    headers = _bearer(reading["access_token"])
    assert (await client.get("/sites", headers=headers)).status_code == 200
    refused = await client.post("/sites", headers=headers, json={"name": "S", "url": "https://s.example"})
    assert refused.status_code == 403 and "scope=write" in refused.json()["message"], refused.text

    _, _, writing = await _partner_token(client, browser, factory, "write read")
    assert writing["scope"] == "read write"
    made = await client.post(
        "/sites", headers=_bearer(writing["access_token"]), json={"name": "S", "url": "https://s.example"}
    )
    assert made.status_code == 201, made.text


async def test_a_scope_never_lends_more_than_the_users_role(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    app = await register_app(factory.runtime, account.account_id)
    consent = await sign_in(browser, authorize_url(app, scope="read write"), viewer)
    assert "your role does not allow this" in consent.text
    decided = await browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "approve"})
    code = query_of(decided.headers["location"])["code"]
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=app.basic,
    )
    headers = _bearer(answer.json()["access_token"])
    refused = await client.post("/sites", headers=headers, json={"name": "S", "url": "https://s.example"})
    assert refused.status_code == 403 and "role VIEWER" in refused.json()["message"]


async def test_the_consent_page_shows_what_is_asked(browser: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    consent = await sign_in(browser, authorize_url(app, scope="read write"), account.admin)
    assert "<strong>read</strong>" in consent.text and "<strong>write</strong>" in consent.text
    assert "never be able to manage users, API credentials" in consent.text
    assert form_of(consent.text).fields["scope"] == "read write"


@pytest.mark.parametrize("scope", ["admin", "read everything", "x" * 300])
async def test_an_unknown_scope_goes_back_to_the_application_as_invalid_scope(
    browser: httpx.AsyncClient, factory: Factory, scope: str
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    answer = await browser.get(authorize_url(app, scope=scope))
    assert answer.status_code == 302, answer.text
    error = query_of(answer.headers["location"])
    assert error["error"] == "invalid_scope" and error["state"] == "xyz"


async def test_a_refresh_may_narrow_the_scopes_never_widen_them(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    _, app, reading = await _partner_token(client, browser, factory, "read")
    wider = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": reading["refresh_token"], "scope": "read write"},
        auth=app.basic,
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope", wider.text

    _, app, both = await _partner_token(client, browser, factory, "read write")
    narrower = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": both["refresh_token"], "scope": "read"},
        auth=app.basic,
    )
    assert narrower.status_code == 200 and narrower.json()["scope"] == "read", narrower.text
    headers = _bearer(narrower.json()["access_token"])
    assert (
        await client.post("/sites", headers=headers, json={"name": "S", "url": "https://s.example"})
    ).status_code == 403
    # The refresh token itself keeps what the user approved.
    again = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": narrower.json()["refresh_token"]},
        auth=app.basic,
    )
    assert again.json()["scope"] == "read write"


async def test_code_for_helper_still_gets_read_only_tokens(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    code = await code_for(browser, app, account.admin)
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=app.basic,
    )
    assert answer.json()["scope"] == "read"

"""Public clients (native and browser apps, which cannot keep a secret): no secret, and PKCE required."""

from __future__ import annotations

import httpx

from tests.auth.browser import REDIRECT_URI, App, approve, authorize_url, pkce_pair, query_of
from tests.factories import Factory
from versicolor.auth import apps


async def _public_app(factory: Factory) -> tuple[App, int]:
    account = await factory.account()
    async with factory.runtime.sessions() as session, session.begin():
        created = await apps.create(
            session=session, account_id=account.account_id, name="Phone app", redirect_uris=[REDIRECT_URI], public=True
        )
    assert created.client_secret is None
    return App(created.app.id, created.app.client_id, "", [REDIRECT_URI]), account.account_id


async def test_a_public_client_without_pkce_is_sent_back_with_invalid_request(
    browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, _ = await _public_app(factory)
    answer = await browser.get(authorize_url(app))
    assert answer.status_code == 302
    error = query_of(answer.headers["location"])
    assert error["error"] == "invalid_request" and "PKCE is required" in error["error_description"]


async def test_a_public_client_redeems_its_code_with_the_verifier_and_no_secret(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, _ = await _public_app(factory)
    member = (await factory.account()).admin
    verifier, challenge = pkce_pair()
    location = await approve(browser, authorize_url(app, challenge=challenge), member)
    code = query_of(location)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": app.client_id}
    without = await client.post("/oauth/token", data=form)
    assert without.status_code == 400 and without.json()["error"] == "invalid_grant"
    answer = await client.post("/oauth/token", data={**form, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer.json()["refresh_token"],
            "client_id": app.client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_a_confidential_client_still_needs_its_secret(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    async with factory.runtime.sessions() as session, session.begin():
        created = await apps.create(
            session=session, account_id=account.account_id, name="Server app", redirect_uris=[REDIRECT_URI]
        )
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": created.app.client_id},
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    # Nor may a user's API credentials act as a public client.
    credentials = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": account.admin.client_id}
    )
    assert credentials.status_code == 401

"""`POST /oauth/revoke` (RFC 7009): access and refresh tokens; 200 for unknown tokens too."""

from __future__ import annotations

import httpx

from tests.auth.browser import App, code_for, register_app
from tests.auth.conftest import ClientAt
from tests.factories import Factory, Member


def _own(member: Member) -> httpx.BasicAuth:
    return httpx.BasicAuth(member.client_id, member.client_secret)


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def _app_tokens(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> tuple[App, dict[str, str]]:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    code = await code_for(browser, app, account.admin)
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=app.basic,
    )
    return app, answer.json()


async def test_revoking_an_access_token_refuses_it_with_403(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    other_token = await factory.token(account.admin)
    answer = await client.post("/oauth/revoke", data={"token": account.admin.token}, auth=_own(account.admin))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    refused = await client.get("/accounts/me", headers=account.headers)
    assert refused.status_code == 403 and "revoked" in refused.json()["message"]
    assert await _status(client, other_token) == 200  # only that token
    again = await client.post("/oauth/revoke", data={"token": account.admin.token}, auth=_own(account.admin))
    assert again.status_code == 200


async def test_unknown_or_garbage_tokens_are_answered_200(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for token in ("unknown", "eyJhbGciOiJIUzUxMiJ9.e30.x", "a" * 4000):
        for hint in (None, "access_token", "refresh_token", "something_else"):
            data = {"token": token} | ({"token_type_hint": hint} if hint else {})
            answer = await client.post("/oauth/revoke", data=data, auth=_own(account.admin))
            assert answer.status_code == 200, answer.text


async def test_another_clients_token_is_left_alone(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    answer = await client.post("/oauth/revoke", data={"token": theirs.admin.token}, auth=_own(mine.admin))
    assert answer.status_code == 200
    assert await _status(client, theirs.admin.token) == 200


async def test_revoking_a_refresh_token_revokes_its_access_tokens(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, tokens = await _app_tokens(client, browser, factory)
    # The hint is only a hint: a refresh token sent as "access_token" is still found.
    answer = await client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "access_token"},
        auth=app.basic,
    )
    assert answer.status_code == 200
    assert await _status(client, tokens["access_token"]) == 403
    refreshed = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app.basic
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_an_application_revokes_its_access_token_and_keeps_its_refresh_token(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, tokens = await _app_tokens(client, browser, factory)
    answer = await client.post(
        "/oauth/revoke", data={"token": tokens["access_token"], "token_type_hint": "access_token"}, auth=app.basic
    )
    assert answer.status_code == 200
    assert await _status(client, tokens["access_token"]) == 403
    refreshed = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app.basic
    )
    assert refreshed.status_code == 200 and await _status(client, refreshed.json()["access_token"]) == 200


async def test_bad_revocation_requests(client: httpx.AsyncClient, client_at: ClientAt, factory: Factory) -> None:
    account = await factory.account()
    async with client_at() as http:
        missing = await http.post("/oauth/revoke", data={}, auth=_own(account.admin))
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
        as_json = await http.post("/oauth/revoke", json={"token": account.admin.token}, auth=_own(account.admin))
        assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
        unauthenticated = await http.post("/oauth/revoke", data={"token": account.admin.token})
        assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
        wrong = await http.post(
            "/oauth/revoke",
            data={"token": account.admin.token},
            auth=httpx.BasicAuth(account.admin.client_id, "wrong"),
        )
        assert wrong.status_code == 401
    assert await _status(client, account.admin.token) == 200

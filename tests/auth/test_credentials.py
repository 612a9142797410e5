"""`/accounts/me` and its credentials: the caller, a new client secret, a new account secret."""

from __future__ import annotations

import httpx

from tests.factories import Factory
from versicolor.core.roles import Role


async def test_me_shows_the_caller_and_its_client_id_never_a_secret(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    answer = await client.get("/accounts/me", headers=editor.headers)
    assert answer.status_code == 200
    me = answer.json()
    assert me["id"] == editor.user_id and me["accountId"] == account.account_id
    assert me["email"] == editor.email and me["role"] == "EDITOR" and me["clientId"] == editor.client_id
    assert me["dateCreated"].endswith("Z")
    assert editor.client_secret not in answer.text and "secret" not in answer.text.lower()


async def test_new_credentials_are_shown_once_and_the_old_secret_and_its_tokens_stop_working(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)  # every role may replace its own secret
    answer = await client.post("/accounts/me/credentials", headers=viewer.headers)
    assert answer.status_code == 200, answer.text
    fresh = answer.json()
    assert fresh["clientId"] == viewer.client_id and fresh["clientSecret"] != viewer.client_secret

    old_token = await client.get("/accounts/me", headers=viewer.headers)
    assert old_token.status_code == 403 and "rotated" in old_token.json()["message"]
    old_secret = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": viewer.client_id, "client_secret": viewer.client_secret},
    )
    assert old_secret.status_code == 401 and old_secret.json()["error"] == "invalid_client"
    new_token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": fresh["clientId"],
            "client_secret": fresh["clientSecret"],
        },
    )
    assert new_token.status_code == 200
    me = await client.get("/accounts/me", headers={"Authorization": f"Bearer {new_token.json()['access_token']}"})
    assert me.status_code == 200 and fresh["clientSecret"] not in me.text
    # Other users' tokens are untouched.
    assert (await client.get("/accounts/me", headers=account.headers)).status_code == 200


async def test_account_secret_rotation_is_for_admins(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for role in (Role.EDITOR, Role.VIEWER):
        member = await factory.member(account, role)
        refused = await client.post("/accounts/me/account-secret", headers=member.headers)
        assert refused.status_code == 403 and role.value in refused.json()["message"]
    answer = await client.post("/accounts/me/account-secret", headers=account.headers)
    assert answer.status_code == 200
    new_secret = answer.json()["accountSecret"]
    assert new_secret != account.account_secret

    old = await client.get("/v3/edit/urls", headers={"X-Account-Secret": account.account_secret})
    assert old.status_code == 403
    assert old.json()["code"] == 403 and old.json()["messages"]  # the v3 error shape
    new = await client.get("/v3/edit/urls", headers={"X-Account-Secret": new_secret})
    assert new.status_code == 200, new.text


async def test_a_bad_or_oversized_account_secret_is_a_v3_403(client: httpx.AsyncClient) -> None:
    for secret in ("wrong", "x" * 5000):
        answer = await client.get("/v3/edit/urls", headers={"X-Account-Secret": secret})
        assert answer.status_code == 403 and answer.json()["code"] == 403


async def test_a_blank_account_secret_beside_a_valid_token_is_a_403_not_ignored(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    for where in ({"headers": {"X-Account-Secret": " "}}, {"params": {"account_secret": ""}}):
        headers = {**account.headers, **where.get("headers", {})}
        answer = await client.get("/v3/edit/urls", headers=headers, params=where.get("params"))
        assert answer.status_code == 403 and answer.json()["code"] == 403, where


async def test_credential_routes_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/accounts/me/credentials", "/accounts/me/account-secret"):
        answer = await client.post(path)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_v3_request_with_an_account_secret_is_judged_by_that_secret_whatever_its_authorization(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # What the fuzz stage once reported as ST401 on GET /v3/edit/url_groups: it reuses values from earlier answers,
    # so it sent the account secret POST /accounts/me/account-secret had just issued, beside an Authorization
    # header it had made up. The secret was the account's current one, so the 200 was right; once rotated, the
    # same request is a 403, whatever the Authorization header says.
    account = await factory.account()
    stranger = await factory.account()
    issued = (await client.post("/accounts/me/account-secret", headers=account.headers)).json()["accountSecret"]
    made = await client.post("/v3/edit/urls", json={"host": "shop.example"}, params={"account_secret": issued})
    assert made.status_code == 201, made.text
    for authorization in ("*p=drjw+*qt(mE", "Bearer not-a-token", stranger.headers["Authorization"]):
        answer = await client.get(
            "/v3/edit/urls", params={"account_secret": issued}, headers={"Authorization": authorization}
        )
        assert answer.status_code == 200, authorization
        # The secret's account, not the token's.
        assert [url["host"] for url in answer.json()["urls"]] == ["shop.example"], authorization

    assert (await client.post("/accounts/me/account-secret", headers=account.headers)).status_code == 200
    for authorization in ("*p=drjw+*qt(mE", account.headers["Authorization"]):
        stale = await client.get(
            "/v3/edit/urls", params={"account_secret": issued}, headers={"Authorization": authorization}
        )
        assert stale.status_code == 403 and stale.json()["code"] == 403, authorization

"""The authorization code grant: redeem once, bound to client, redirect URI and PKCE challenge."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from tests import factories
from tests.auth.browser import App, code_for, pkce_pair, register_app
from tests.factories import Factory
from versicolor.core import secrets
from versicolor.core.roles import Role
from versicolor.db.models import AuthorizationCode
from versicolor.db.types import utcnow


async def _redeem(
    client: httpx.AsyncClient, app: App, code: str, *, verifier: str | None = None, **overrides: str
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]}
    if verifier is not None:
        data["code_verifier"] = verifier
    return await client.post("/oauth/token", data=data | overrides, auth=app.basic)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused(answer: httpx.Response, error: str = "invalid_grant", status: int = 400) -> str:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error, answer.text
    assert "access_token" not in answer.json()
    description: str = answer.json()["error_description"]
    return description


async def _setup(factory: Factory) -> tuple[factories.TestAccount, App]:
    account = await factory.account()
    return account, await register_app(factory.runtime, account.account_id)


async def test_code_with_pkce_gives_tokens_acting_as_the_user_with_its_role(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    viewer = await factory.member(account, Role.VIEWER)
    verifier, challenge = pkce_pair()
    code = await code_for(browser, app, viewer, challenge)
    answer = await _redeem(client, app, code, verifier=verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 7200 and tokens["refresh_token"]
    assert answer.headers["cache-control"] == "no-store"
    me = await client.get("/accounts/me", headers=_bearer(tokens["access_token"]))
    assert me.json()["email"] == viewer.email and me.json()["role"] == "VIEWER"
    assert (await client.get("/sites", headers=_bearer(tokens["access_token"]))).status_code == 200
    assert (await client.post("/sites", json={"name": "x"}, headers=_bearer(tokens["access_token"]))).status_code == 403


async def test_client_may_authenticate_with_form_fields_and_skip_pkce(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    code = await code_for(browser, app, account.admin)
    answer = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uris[0],
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text


async def test_pkce_mistakes_issue_nothing(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    verifier, challenge = pkce_pair()
    code = await code_for(browser, app, account.admin, challenge)
    assert "code_verifier is required" in _refused(await _redeem(client, app, code))
    assert "does not match" in _refused(await _redeem(client, app, code, verifier=pkce_pair()[0]))
    assert "43 to 128" in _refused(await _redeem(client, app, code, verifier="short"), "invalid_request")
    assert (await _redeem(client, app, code, verifier=verifier)).status_code == 200

    plain_code = await code_for(browser, app, account.admin)
    assert "no code_challenge" in _refused(await _redeem(client, app, plain_code, verifier=verifier))


async def test_redirect_uri_must_be_the_one_of_the_authorization_request(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    app = await register_app(
        factory.runtime, account.account_id, ["https://partner.example/callback", "https://partner.example/other"]
    )
    code = await code_for(browser, app, account.admin)
    for other in ("https://partner.example/other", "https://partner.example/callback/", "https://evil.example/"):
        assert "redirect_uri does not match" in _refused(await _redeem(client, app, code, redirect_uri=other))
    missing = await client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code}, auth=app.basic)
    assert "redirect_uri is required" in _refused(missing, "invalid_request")
    assert (await _redeem(client, app, code)).status_code == 200


async def test_unknown_foreign_missing_and_expired_codes(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    other_app = await register_app(factory.runtime, account.account_id, name="Other")
    code = await code_for(browser, app, account.admin)
    assert "unknown" in _refused(await _redeem(client, app, "not-a-code"))
    assert "another client" in _refused(await _redeem(client, other_app, code))
    no_code = await client.post(
        "/oauth/token", data={"grant_type": "authorization_code", "redirect_uri": app.redirect_uris[0]}, auth=app.basic
    )
    assert "code is required" in _refused(no_code, "invalid_request")
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.code_hash == secrets.digest(code))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert "expired" in _refused(await _redeem(client, app, code))


async def test_codes_live_ten_minutes(browser: httpx.AsyncClient, factory: Factory) -> None:
    account, app = await _setup(factory)
    code = await code_for(browser, app, account.admin)
    async with factory.runtime.sessions() as session:
        stored = await session.scalar(
            select(AuthorizationCode).where(AuthorizationCode.code_hash == secrets.digest(code))
        )
    assert stored is not None
    assert timedelta(minutes=9, seconds=50) < stored.expires_at - stored.date_created <= timedelta(minutes=10)


async def test_wrong_client_secret_is_invalid_client(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    code = await code_for(browser, app, account.admin)
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=httpx.BasicAuth(app.client_id, "wrong"),
    )
    _refused(answer, "invalid_client", 401)
    assert (await _redeem(client, app, code)).status_code == 200


async def test_second_redemption_revokes_what_the_first_issued(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    code = await code_for(browser, app, account.admin)
    first = (await _redeem(client, app, code)).json()
    assert (await client.get("/accounts/me", headers=_bearer(first["access_token"]))).status_code == 200
    assert "already used" in _refused(await _redeem(client, app, code))
    revoked = await client.get("/accounts/me", headers=_bearer(first["access_token"]))
    assert revoked.status_code == 403 and "revoked" in revoked.json()["message"]
    refresh = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, auth=app.basic
    )
    assert "revoked" in _refused(refresh)


async def test_concurrent_redemptions_issue_once_and_then_revoke_it(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, app = await _setup(factory)
    code = await code_for(browser, app, account.admin)
    answers = await asyncio.gather(*(_redeem(client, app, code) for _ in range(6)))
    winners = [answer for answer in answers if answer.status_code == 200]
    assert len(winners) == 1, [answer.text for answer in answers]
    for loser in answers:
        if loser is not winners[0]:
            _refused(loser)
    token = winners[0].json()["access_token"]
    assert (await client.get("/accounts/me", headers=_bearer(token))).status_code == 403

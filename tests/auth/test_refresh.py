"""The refresh token grant: rotation, and reuse of a rotated-out token revoking the whole chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from tests.auth.browser import App, code_for, register_app
from tests.factories import Factory
from versicolor.core import secrets
from versicolor.db.models import RefreshToken
from versicolor.db.types import utcnow


async def _tokens(client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory) -> tuple[App, Any]:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    code = await code_for(browser, app, account.admin)
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
        auth=app.basic,
    )
    assert answer.status_code == 200, answer.text
    return app, answer.json()


async def _refresh(client: httpx.AsyncClient, app: App, token: str, auth: httpx.Auth | None = None) -> httpx.Response:
    return await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token}, auth=auth or app.basic
    )


async def _works(client: httpx.AsyncClient, access_token: str) -> bool:
    answer = await client.get("/accounts/me", headers={"Authorization": f"Bearer {access_token}"})
    assert answer.status_code in (200, 403), answer.text
    return answer.status_code == 200


async def test_refresh_rotates_and_the_new_pair_works(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, first = await _tokens(client, browser, factory)
    answer = await _refresh(client, app, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert second["expires_in"] == 7200 and answer.headers["cache-control"] == "no-store"
    assert await _works(client, second["access_token"])
    third = await _refresh(client, app, second["refresh_token"])
    assert third.status_code == 200


async def test_replaying_a_rotated_out_refresh_token_revokes_the_whole_chain(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, first = await _tokens(client, browser, factory)
    second = (await _refresh(client, app, first["refresh_token"])).json()
    replay = await _refresh(client, app, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    assert not await _works(client, first["access_token"])
    assert not await _works(client, second["access_token"])
    after = await _refresh(client, app, second["refresh_token"])
    assert after.status_code == 400 and "revoked" in after.json()["error_description"]


async def test_refresh_token_of_another_client_or_unknown_is_invalid_grant(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, tokens = await _tokens(client, browser, factory)
    account = await factory.account()
    other = await register_app(factory.runtime, account.account_id, name="Other")
    for answer in (
        await _refresh(client, other, tokens["refresh_token"]),
        await _refresh(client, app, "unknown-token"),
    ):
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    missing = await client.post("/oauth/token", data={"grant_type": "refresh_token"}, auth=app.basic)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    # Nothing was used up by those attempts.
    assert (await _refresh(client, app, tokens["refresh_token"])).status_code == 200


async def test_expired_refresh_token_is_invalid_grant(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, tokens = await _tokens(client, browser, factory)
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == secrets.digest(tokens["refresh_token"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    answer = await _refresh(client, app, tokens["refresh_token"])
    assert answer.status_code == 400 and "expired" in answer.json()["error_description"]


async def test_concurrent_refreshes_of_one_token_issue_at_most_once_and_revoke_the_chain(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    app, tokens = await _tokens(client, browser, factory)
    answers = await asyncio.gather(*(_refresh(client, app, tokens["refresh_token"]) for _ in range(5)))
    winners = [answer.json() for answer in answers if answer.status_code == 200]
    assert len(winners) == 1, [answer.text for answer in answers]
    assert all(answer.json()["error"] == "invalid_grant" for answer in answers if answer.status_code != 200)
    # The others were replays: the chain is revoked, the winner's tokens included.
    assert not await _works(client, winners[0]["access_token"])
    assert (await _refresh(client, app, winners[0]["refresh_token"])).status_code == 400

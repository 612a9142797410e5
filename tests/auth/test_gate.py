"""The token gate: revoked tokens, deleted users, changed roles; every worker learns, and the hot path is free."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, event, update

from tests.factories import Factory
from versicolor.api import deps
from versicolor.app import create_app
from versicolor.auth import revocation, signing_key, tokens
from versicolor.core import accounts
from versicolor.core.roles import Principal, Role
from versicolor.db.models import Account, User
from versicolor.runtime import Runtime


@asynccontextmanager
async def worker(runtime: Runtime, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another application over the same database, with its own token gate (as another worker has)."""
    own = replace(runtime, settings=runtime.settings.model_copy(update=settings))
    app = create_app(runtime=own)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 3))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield http
    finally:
        await deps.close_token_gate(app)


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"})


async def test_deleted_users_tokens_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    assert (await _me(client, editor.token)).status_code == 200
    admin = Principal(account_id=account.account_id, user_id=account.admin.user_id, role=Role.ADMIN)
    async with factory.runtime.sessions() as session, session.begin():
        await accounts.delete_user(session=session, principal=admin, user_id=editor.user_id)
    refused = await _me(client, editor.token)
    assert refused.status_code == 403 and "no longer exists" in refused.json()["message"]
    assert (await _me(client, account.admin.token)).status_code == 200


async def test_users_deleted_by_a_bulk_statement_or_with_their_account_are_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    first, second = await factory.account(), await factory.account()
    assert (await _me(client, first.admin.token)).status_code == 200
    assert (await _me(client, second.admin.token)).status_code == 200
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(delete(User).where(User.id == first.admin.user_id))
    assert (await _me(client, first.admin.token)).status_code == 403
    async with factory.runtime.sessions() as session, session.begin():
        account = await session.get(Account, second.account_id)
        await session.delete(account)
    assert (await _me(client, second.admin.token)).status_code == 403


async def test_a_deleted_users_token_stays_refused_when_its_id_is_reused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    leaving = await factory.member(account, Role.EDITOR)  # the newest user: SQLite gives its id out again
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(delete(User).where(User.id == leaving.user_id))
    newcomer = await factory.member(account, Role.EDITOR)
    assert (await _me(client, leaving.token)).status_code == 403
    assert (await _me(client, newcomer.token)).json()["email"] == newcomer.email


async def test_a_role_change_applies_to_the_next_request(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    member = await factory.member(account, Role.VIEWER)
    assert (await client.post("/sites", json={"name": "x"}, headers=member.headers)).status_code == 403
    async with factory.runtime.sessions() as session, session.begin():
        user = await session.get(User, member.user_id)
        assert user is not None
        user.role = Role.EDITOR.value
    assert (await client.post("/sites", json={"name": "x"}, headers=member.headers)).status_code == 201
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == member.user_id).values(role=Role.VIEWER.value))
    assert (await client.post("/sites", json={"name": "y"}, headers=member.headers)).status_code == 403


async def test_another_worker_refuses_a_token_revoked_on_this_one(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    async with worker(factory.runtime, auth_sync_interval=3600) as other:
        assert (await _me(other, account.admin.token)).status_code == 200
        own = httpx.BasicAuth(account.admin.client_id, account.admin.client_secret)
        assert (await client.post("/oauth/revoke", data={"token": account.admin.token}, auth=own)).status_code == 200
        assert (await _me(other, account.admin.token)).status_code == 403


async def test_a_cached_token_check_makes_no_database_round_trip(factory: Factory) -> None:
    account = await factory.account()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = factory.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with worker(factory.runtime, auth_sync_interval=3600) as other:
            assert (await _me(other, account.admin.token)).status_code == 200
            first_sight = len(statements)  # the journal and the user, read once
            for _ in range(20):
                assert (await _me(other, account.admin.token)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert first_sight > 0 and len(statements) == first_sight, statements[first_sight:]


async def test_with_redis_the_journal_head_is_published_for_other_workers(
    factory: Factory, redis_url: str, redis_keys: str
) -> None:
    account = await factory.account()
    redis = Redis.from_url(redis_url)
    try:
        shared = replace(factory.runtime, redis=redis)
        options = {"auth_sync_interval": 3600, "redis_prefix": redis_keys}
        async with worker(shared, **options) as first, worker(shared, **options) as second:
            assert (await _me(second, account.admin.token)).status_code == 200
            own = httpx.BasicAuth(account.admin.client_id, account.admin.client_secret)
            revoked = await first.post("/oauth/revoke", data={"token": account.admin.token}, auth=own)
            assert revoked.status_code == 200
            prefix = signing_key.redis_prefix(redis_keys, factory.runtime.signing_key)
            assert int(await redis.get(f"{prefix}auth-journal-head") or 0) > 0
            assert (await _me(second, account.admin.token)).status_code == 403
    finally:
        await redis.aclose()


async def test_an_unreachable_redis_does_not_stop_token_checks(
    factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    account = await factory.account()
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        async with worker(replace(factory.runtime, redis=redis), auth_sync_interval=0.5) as other:
            assert (await _me(other, account.admin.token)).status_code == 200
            own = httpx.BasicAuth(account.admin.client_id, account.admin.client_secret)
            assert (await other.post("/oauth/revoke", data={"token": account.admin.token}, auth=own)).status_code == 200
            assert (await _me(other, account.admin.token)).status_code == 403
    finally:
        await redis.aclose()
    assert "Redis is unreachable" in caplog.text


async def test_a_revocation_that_rolls_back_revokes_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    claims = tokens.verify(keyring=factory.runtime.keyring, token=account.admin.token)
    with pytest.raises(RuntimeError):
        async with factory.runtime.sessions() as session, session.begin():
            expires = datetime.fromtimestamp(claims.expires_at, UTC)
            await revocation.revoke_access_token(session=session, jti=claims.jti, expires_at=expires)
            raise RuntimeError("the request failed after deciding to revoke")
    assert (await _me(client, account.admin.token)).status_code == 200
    async with factory.runtime.sessions() as session, session.begin():
        expires = datetime.fromtimestamp(claims.expires_at, UTC)
        await revocation.revoke_access_token(session=session, jti=claims.jti, expires_at=expires)
    assert (await _me(client, account.admin.token)).status_code == 403

"""A revocation holds on every worker process of `versicolor serve --workers 2`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.server import invoke_cli, serve

REQUESTS = 40
# Many requests with one token: the per-token rate limit is not what these tests are about.
UNLIMITED = {"VERSICOLOR_RATE_LIMITS": "1000000/1s"}


def _statuses(base_url: str, token: str) -> set[int]:
    # A new connection per request, so that the requests spread over the workers.
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    return {httpx.get(f"{base_url}/accounts/me", headers=headers).status_code for _ in range(REQUESTS)}


def _account(database_url: str) -> dict[str, str]:
    done = invoke_cli(
        [
            "accounts",
            "create",
            "--name",
            "Workers",
            "--email",
            f"w-{uuid.uuid4().hex[:8]}@example.com",
            "--json",
            "--database-url",
            database_url,
        ]
    )
    assert done.returncode == 0, done.stderr
    created: dict[str, str] = json.loads(done.stdout)
    return created


def _token(base_url: str, account: dict[str, str]) -> str:
    answer = httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(account["clientId"], account["clientSecret"]),
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.mark.server
def test_with_redis_every_worker_refuses_a_revoked_token_at_once(
    database_url: str, redis_url: str, redis_keys: str, tmp_path: Path
) -> None:
    account = _account(database_url)
    # Without the Redis signal the other worker would not look again for an hour.
    env = {"VERSICOLOR_AUTH_SYNC_INTERVAL": "3600", "VERSICOLOR_REDIS_PREFIX": redis_keys, **UNLIMITED}
    with serve(
        ["--database-url", database_url, "--redis-url", redis_url, "--workers", "2"],
        log_dir=tmp_path,
        env=env,
        ready_timeout=180,  # two workers on a loaded machine
    ) as server:
        token = _token(server.base_url, account)
        assert _statuses(server.base_url, token) == {200}  # both workers know the user now
        revoked = httpx.post(
            f"{server.base_url}/oauth/revoke",
            data={"token": token},
            auth=(account["clientId"], account["clientSecret"]),
        )
        assert revoked.status_code == 200
        assert _statuses(server.base_url, token) == {403}


def _gates(redis: Redis, redis_keys: str) -> list[str]:
    """The ids of the gates that hold a lease (workers listening on Redis) under this test's prefix."""
    return [
        gate.decode() for key in redis.scan_iter(match=f"{redis_keys}*auth-gates") for gate in redis.zrange(key, 0, -1)
    ]


def _until(condition: str, holds: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {condition}")
        time.sleep(0.05)


@pytest.mark.server
def test_with_redis_workers_that_listen_refuse_a_revoked_token_at_once_and_after_losing_redis(
    database_url: str, redis_url: str, redis_keys: str, tmp_path: Path
) -> None:
    account = _account(database_url)
    redis = Redis.from_url(redis_url)
    env = {"VERSICOLOR_AUTH_SYNC_INTERVAL": "3600", "VERSICOLOR_REDIS_PREFIX": redis_keys, **UNLIMITED}
    try:
        with serve(
            ["--database-url", database_url, "--redis-url", redis_url, "--workers", "2"],
            log_dir=tmp_path,
            env=env,
            ready_timeout=180,  # two workers on a loaded machine
        ) as server:
            tokens = [_token(server.base_url, account) for _ in range(2)]
            assert _statuses(server.base_url, tokens[0]) == {200}
            # Both workers hold a lease: their checks ask Redis nothing, so only the writer's wait for their
            # acknowledgement can make the revocation hold on both when it is answered.
            _until("both workers listen", lambda: len(_gates(redis, redis_keys)) == 2)
            revoked = httpx.post(
                f"{server.base_url}/oauth/revoke",
                data={"token": tokens[0]},
                auth=(account["clientId"], account["clientSecret"]),
            )
            assert revoked.status_code == 200
            assert _statuses(server.base_url, tokens[0]) == {403}

            # Cut every worker's subscription: until they listen again they ask Redis on every check.
            names = {f"versicolor-gate-{gate}" for gate in _gates(redis, redis_keys)}
            for client in redis.client_list():
                if client.get("name") in names:
                    redis.client_kill_filter(_id=client["id"])
            revoked = httpx.post(
                f"{server.base_url}/oauth/revoke",
                data={"token": tokens[1]},
                auth=(account["clientId"], account["clientSecret"]),
            )
            assert revoked.status_code == 200
            assert _statuses(server.base_url, tokens[1]) == {403}
            _until("both workers listen again", lambda: len(_gates(redis, redis_keys)) == 2)
    finally:
        redis.close()


@pytest.mark.server
def test_without_redis_other_workers_learn_within_the_sync_interval(database_url: str, tmp_path: Path) -> None:
    account = _account(database_url)
    env = {"VERSICOLOR_AUTH_SYNC_INTERVAL": "0.2", **UNLIMITED}
    with serve(
        ["--database-url", database_url, "--workers", "2"], log_dir=tmp_path, env=env, ready_timeout=180
    ) as server:
        token = _token(server.base_url, account)
        assert _statuses(server.base_url, token) == {200}
        rotated = httpx.post(f"{server.base_url}/accounts/me/credentials", headers={"Authorization": f"Bearer {token}"})
        assert rotated.status_code == 200
        # Every worker looks again every 0.2 s: a loaded machine may take longer than that, but without the
        # sync the other worker would go on accepting the token for as long as the server runs.
        _until(
            "every worker refuses the rotated credentials' token", lambda: _statuses(server.base_url, token) == {403}
        )

"""Gates listening on Redis: checks without a round trip, writers that wait for every listener, and fallbacks.

The guarantee across processes (a revocation answered is refused by every worker) is tested with real workers
in test_workers.py; here, the parts of the protocol a process can see of itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from tests.auth.test_gate import worker
from tests.factories import Factory
from versicolor.auth import revocation, signing_key, tokens
from versicolor.auth.fanout import JournalFanout
from versicolor.auth.gate import TokenGate
from versicolor.core.errors import Forbidden
from versicolor.core.roles import Role


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def gate(factory: Factory, redis: Redis, redis_keys: str) -> AsyncIterator[TokenGate]:
    runtime = factory.runtime
    made = TokenGate(
        sessions=runtime.sessions, keyring=runtime.keyring, redis=redis, redis_prefix=redis_keys, sync_interval=3600
    )
    yield made
    await made.close()


def _fanout(gate: TokenGate) -> JournalFanout:
    assert gate.fanout is not None
    return gate.fanout


async def _until(condition: str, holds: Callable[[], bool]) -> None:
    for _ in range(400):
        if holds():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {condition}")


async def _redis_now_ms(redis: Redis) -> int:
    seconds, microseconds = await redis.time()
    return int(seconds) * 1000 + int(microseconds) // 1000


async def _revoke(gate: TokenGate, keyring: tokens.Keyring, token: str) -> None:
    claims = tokens.verify(keyring=keyring, token=token)
    async with gate.changing() as session:
        await revocation.revoke_access_token(
            session=session, jti=claims.jti, expires_at=datetime.fromtimestamp(claims.expires_at, UTC)
        )


async def _get_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


async def test_a_listening_gate_checks_tokens_without_asking_redis(
    factory: Factory, gate: TokenGate, redis: Redis
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)  # not listening yet: a GET of the head, and listening begins
    await _until("the gate listens", lambda: _fanout(gate).listening)
    before = await _get_calls(redis)
    for _ in range(50):
        await gate.check(account.admin.token)
    # Other clients of this Redis may GET meanwhile; one GET per check would be 50.
    assert await _get_calls(redis) - before < 10


async def test_a_revocation_is_answered_only_once_every_listening_gate_has_read_it(
    factory: Factory, gate: TokenGate, redis: Redis, redis_keys: str
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)
    await _until("the gate listens", lambda: _fanout(gate).listening)
    # Another worker's gate, holding a lease for a minute, that has not read the journal yet.
    await redis.zadd(f"{redis_keys}auth-gates", {"other": await _redis_now_ms(redis) + 60_000})

    revoking = asyncio.create_task(_revoke(gate, factory.runtime.keyring, account.admin.token))
    await asyncio.sleep(0.3)
    assert not revoking.done()  # waiting for "other"

    await redis.hset(f"{redis_keys}auth-acks", "other", 10**12)  # "other" has read everything
    await asyncio.wait_for(revoking, 2)
    with pytest.raises(Forbidden):
        await gate.check(account.admin.token)


async def test_a_writer_waits_for_a_silent_gate_only_until_its_lease_lapses(
    factory: Factory, gate: TokenGate, redis: Redis, redis_keys: str
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)
    await _until("the gate listens", lambda: _fanout(gate).listening)
    # A worker that died: its lease ends in half a second and it never acknowledges.
    await redis.zadd(f"{redis_keys}auth-gates", {"dead": await _redis_now_ms(redis) + 500})

    revoking = asyncio.create_task(_revoke(gate, factory.runtime.keyring, account.admin.token))
    await asyncio.sleep(0.2)
    assert not revoking.done()
    await asyncio.wait_for(revoking, 3)  # well before the writer's own deadline (two leases)
    assert await redis.zscore(f"{redis_keys}auth-gates", "dead") is None
    assert await redis.zscore(f"{redis_keys}auth-gates", _fanout(gate).gate_id) is not None


async def test_a_gate_whose_subscription_is_cut_asks_redis_until_it_listens_again(
    factory: Factory, gate: TokenGate, redis: Redis
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)
    fanout = _fanout(gate)
    await _until("the gate listens", lambda: fanout.listening)
    clients = [c for c in await redis.client_list() if c.get("name") == fanout.client_name]
    assert len(clients) == 1
    await redis.client_kill_filter(_id=clients[0]["id"])
    await _until("the gate stops trusting its memory", lambda: not fanout.listening)

    before = await _get_calls(redis)
    await gate.check(account.admin.token)
    assert await _get_calls(redis) > before  # not listening: the check asked Redis for the head

    await _until("the gate listens again", lambda: fanout.listening)
    again = [c for c in await redis.client_list() if c.get("name") == fanout.client_name]
    assert len(again) == 1 and again[0]["id"] != clients[0]["id"]


async def test_a_closed_gate_leaves_so_that_writers_stop_waiting_for_it(
    factory: Factory, gate: TokenGate, redis: Redis, redis_keys: str
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)
    fanout = _fanout(gate)
    await _until("the gate listens", lambda: fanout.listening)
    assert await redis.zscore(f"{redis_keys}auth-gates", fanout.gate_id) is not None
    await gate.close()
    assert await redis.zscore(f"{redis_keys}auth-gates", fanout.gate_id) is None
    assert not [c for c in await redis.client_list() if c.get("name") == fanout.client_name]


async def test_a_user_changed_through_the_api_is_answered_once_every_listening_gate_has_read_it(
    factory: Factory, redis: Redis, redis_keys: str
) -> None:
    account = await factory.account()
    member = await factory.member(account, Role.EDITOR)
    async with worker(replace(factory.runtime, redis=redis), auth_sync_interval=3600, redis_prefix=redis_keys) as api:
        assert (await api.get("/accounts/me", headers=account.admin.headers)).status_code == 200
        gates = f"{signing_key.redis_prefix(redis_keys, factory.runtime.signing_key)}auth-gates"
        await _until_async("the worker listens", lambda: redis.zcard(gates), 1)
        await redis.zadd(gates, {"other": await _redis_now_ms(redis) + 60_000})

        demoting = asyncio.create_task(
            api.patch(f"/accounts/{member.user_id}", json={"role": "VIEWER"}, headers=account.admin.headers)
        )
        await asyncio.sleep(0.3)
        assert not demoting.done()  # committed, but "other" has not read it yet
        await redis.hset(gates.replace("auth-gates", "auth-acks"), "other", 10**12)
        answer = await asyncio.wait_for(demoting, 2)
        assert answer.status_code == 200, answer.text
        assert (await api.post("/sites", json={"name": "x"}, headers=member.headers)).status_code == 403


async def _until_async(condition: str, value: Callable[[], Awaitable[int]], expected: int) -> None:
    for _ in range(400):
        if await value() == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {condition}")


async def test_a_gate_a_writer_gave_up_on_joins_again_before_trusting_its_memory(
    factory: Factory, gate: TokenGate, redis: Redis, redis_keys: str
) -> None:
    account = await factory.account()
    await gate.check(account.admin.token)
    fanout = _fanout(gate)
    await _until("the gate listens", lambda: fanout.listening)
    await _revoke(gate, factory.runtime.keyring, (await factory.member(account, Role.EDITOR)).token)
    head = int(await redis.get(f"{redis_keys}auth-journal-head") or 0)
    assert head > 0

    async def acknowledged() -> int:
        return int(await redis.hget(f"{redis_keys}auth-acks", fanout.gate_id) or -1)

    # The gate hears of the revocation first: on a loaded machine the writer may have stopped waiting before
    # it did, and an acknowledgement still on its way would land after the lease is gone.
    for _ in range(500):
        if await acknowledged() >= head:
            break
        await asyncio.sleep(0.01)
    # What a writer does with a lease that lapsed (the gate's loop stalled): it stops waiting and forgets it,
    # in one step, so that no renewal comes between the two.
    async with redis.pipeline(transaction=True) as forget:
        await (
            forget.zrem(f"{redis_keys}auth-gates", fanout.gate_id)
            .hdel(f"{redis_keys}auth-acks", fanout.gate_id)
            .execute()
        )

    # Its next renewal finds the lease gone: it joins again, reading the journal up to the head first.
    for _ in range(500):
        if await acknowledged() >= head:
            break
        await asyncio.sleep(0.01)
    assert await acknowledged() >= head
    assert await redis.zscore(f"{redis_keys}auth-gates", fanout.gate_id) is not None


async def test_a_gate_whose_listener_loses_its_cancellation_still_closes_and_leaves(
    factory: Factory, gate: TokenGate, redis: Redis, redis_keys: str
) -> None:
    # CPython 3.11's asyncio.wait_for, through which redis-py writes every command, loses a cancellation that
    # arrives as the write completes: the write returns as if nothing had happened, and the listener runs on.
    fanout = _fanout(gate)
    made = redis.connection_pool.make_connection
    armed, in_the_window, lost = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def make_connection() -> object:
        connection = made()
        send = connection.send_packed_command

        async def send_losing_one_cancellation(*args: object, **kwargs: object) -> None:
            await send(*args, **kwargs)
            if armed.is_set() and not lost.is_set():
                in_the_window.set()
                try:
                    await asyncio.Event().wait()  # the write's completion and the cancellation, at once
                except asyncio.CancelledError:
                    lost.set()

        connection.send_packed_command = send_losing_one_cancellation
        return connection

    redis.connection_pool.make_connection = make_connection  # type: ignore[method-assign]
    account = await factory.account()
    await gate.check(account.admin.token)
    await _until("the gate listens", lambda: fanout.listening)
    armed.set()
    await asyncio.wait_for(in_the_window.wait(), 3)  # the listener's next PING

    # Not asyncio.wait_for: cancelling close() on its time-out would cancel the listener a second time.
    closing = asyncio.create_task(gate.close())
    done, _ = await asyncio.wait({closing}, timeout=10)
    if not done:
        closing.cancel()
    assert done, "told once only, the listener listens (and renews its lease) forever"
    assert lost.is_set()
    assert not fanout.listening
    await asyncio.sleep(1.5)  # past a renewal: a listener still running would have joined again
    assert await redis.zscore(f"{redis_keys}auth-gates", fanout.gate_id) is None
    assert not [c for c in await redis.client_list() if c.get("name") == fanout.client_name]

"""How the token gates of several workers learn of auth journal entries through Redis, at once.

A writer (a revocation, a credential rotation) commits its journal entries, raises the journal head kept in
Redis, publishes it, and answers its caller only once every listening gate has acknowledged that head, that
is, has read the journal that far. A gate that listens therefore answers token checks from memory, without
a round trip: when a revocation has been answered, every listening gate has applied it.

Listening is a subscription to the journal channel plus a lease in Redis: a sorted set of gate ids, scored by
the time (Redis' clock) until which writers must wait for that gate. A gate renews its lease every second,
after a PING through its subscription came back (so a subscription that died silently stops renewing), and
trusts its memory only until its own, earlier, reckoning of the lease's end. A gate whose lease has lapsed,
that has lost its subscription, or that has not yet subscribed, does what every check did before: it waits
for a GET of the head sent after the check began (`GetHead`). A writer waits at most as long as a lease
lasts for a gate that neither acknowledges nor renews (a worker that died); gates that close cleanly leave.

A gate's sequence when it starts listening is what makes joining safe: subscribe (confirmed), take the lease,
then GET the head and read the journal that far, and only then trust memory. A writer that published before
the lease was taken did so before that GET, so the gate reads its entries; one that published after waits for
the gate's acknowledgement, which comes after the message was read.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from versicolor import background

log = logging.getLogger("versicolor.auth")

LEASE = 3.0  # seconds a writer waits, at most, for a gate that does not acknowledge
RENEW_EVERY = 1.0
_MARGIN = 0.25  # a gate stops trusting its lease this much before Redis lets writers stop waiting for it
# A subscription that answers no PING for this long is dropped and made again. Waiting long costs nothing:
# the lease is not renewed meanwhile, so it lapses (checks ask Redis, writers stop waiting) on its own.
_PONG_WAIT = 5.0
_RETRY_AFTER = 1.0  # between attempts to listen again
_WRITER_POLL_MAX = 0.05

# KEYS: head, acks, gates; ARGV: head, writer's gate id. Raise the head (publishers may finish out of order),
# publish it, and count the writer's own gate as having read it (it has: it read the journal before this).
_ANNOUNCE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local head = tonumber(ARGV[1])
if head > current then redis.call('SET', KEYS[1], ARGV[1]) else head = current end
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then
  local ack = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '-1')
  if tonumber(ARGV[1]) > ack then redis.call('HSET', KEYS[2], ARGV[2], ARGV[1]) end
end
redis.call('PUBLISH', KEYS[4], head)
return head
"""
# KEYS: gates, acks; ARGV: head. Forget lapsed leases; how many live gates have not acknowledged `head`?
_BEHIND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, gate in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('HDEL', KEYS[2], gate)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local behind = 0
for _, gate in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if tonumber(redis.call('HGET', KEYS[2], gate) or '-1') < tonumber(ARGV[1]) then behind = behind + 1 end
end
return behind
"""
# KEYS: gates; ARGV: gate id, lease in ms, "join" or "renew". The lease runs from Redis' clock, at the latest
# possible moment. A renewal fails (0) if a writer has given up on the gate meanwhile (its lease had lapsed and
# was removed): the gate may have missed what that writer published, so it must join again.
_LEASE = """
if ARGV[3] == 'renew' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
# KEYS: acks; ARGV: gate id, head. Acknowledgements only go up.
_ACKNOWLEDGE = """
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1') then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""


class GetHead:
    """The head as Redis holds it, by a GET sent after the asking check began.

    One GET is in flight at a time, on a connection kept for this alone (Redis' client and its pool cost
    several times the GET's CPU); the checks that start meanwhile share the next one, so under load one GET
    serves many checks. Each check has a waiter of its own: a cancelled request cancels only its own.
    """

    def __init__(self, redis: Redis, key: str, failed: Callable[[Exception], None]) -> None:
        self._redis = redis
        self._key = key
        self._failed = failed
        self._waiting: list[asyncio.Future[int | None]] = []
        self._getting: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None
        self._command: list[bytes] = []

    async def __call__(self) -> int | None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[int | None] = loop.create_future()
        self._waiting.append(waiter)
        if self._getting is None:
            self._getting = loop.create_task(self._get_heads())  # runs after the checks already scheduled
        return await waiter

    async def _get_heads(self) -> None:
        waiting: list[asyncio.Future[int | None]] = []
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                head = await self._get()  # sent after every check in `waiting` started
                for waiter in waiting:
                    if not waiter.done():
                        waiter.set_result(head)
                waiting = []
        except BaseException as exc:
            for waiter in [*waiting, *self._waiting]:
                if not waiter.done():
                    waiter.cancel() if isinstance(exc, asyncio.CancelledError) else waiter.set_exception(exc)
            self._waiting = []
            raise
        finally:
            self._getting = None

    async def _get(self) -> int | None:
        # The connection stays the pool's, which closes it with the others.
        try:
            if self._connection is None:
                self._connection = await self._redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
                self._command = self._connection.pack_command("GET", self._key)
            await self._connection.send_packed_command(self._command, check_health=False)
            value = await self._connection.read_response()
        except (RedisError, OSError) as exc:
            if self._connection is not None:
                await self._connection.disconnect(nowait=True)  # a reply may be pending: start afresh
            self._failed(exc)
            return None
        return None if value is None else int(value)


class JournalFanout:
    """One gate's side of the journal head in Redis: listening, acknowledging, and announcing."""

    def __init__(
        self,
        *,
        redis: Redis,
        prefix: str,
        catch_up: Callable[[int], Awaitable[int]],
        failed: Callable[[Exception], None],
        recovered: Callable[[], None],
    ) -> None:
        """`catch_up(head)` reads the journal at least up to `head` and returns how far the gate has read."""
        self._redis = redis
        self._catch_up = catch_up
        self._failed = failed
        self._recovered = recovered
        self._head_key = f"{prefix}auth-journal-head"
        self._channel = f"{prefix}auth-journal"
        self._gates_key = f"{prefix}auth-gates"
        self._acks_key = f"{prefix}auth-acks"
        self.gate_id = uuid.uuid4().hex
        self._get_head = GetHead(redis, self._head_key, failed)
        self._lease_until = -math.inf  # monotonic; memory is trusted before this
        self._listener: asyncio.Task[None] | None = None
        self._closed = False
        self._listen_failing = False

    @property
    def client_name(self) -> str:
        """The name of this gate's subscription in Redis' CLIENT LIST."""
        return f"versicolor-gate-{self.gate_id}"

    @property
    def listening(self) -> bool:
        """Whether this gate holds a lease now (checks then need no round trip)."""
        return time.monotonic() < self._lease_until

    async def head(self) -> int | None:
        """The head as Redis holds it now (a GET sent after this call began), for a check of a gate that is not
        `listening`; None if Redis cannot say. A listening gate's checks need not ask: writers wait for it."""
        self.listen()
        head = await self._get_head()
        if head is not None:
            self._recovered()
        return head

    def listen(self) -> None:
        """Start listening (in a task of the running loop) unless already started or closed."""
        if self._listener is None and not self._closed:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def announce(self, head: int, *, wait: bool) -> None:
        """Raise the head in Redis to `head` and publish it; with `wait`, until every listening gate has read it.

        The caller's gate must have read the journal up to `head` already.
        """
        keys = (self._head_key, self._acks_key, self._gates_key, self._channel)
        try:
            published = int(await self._redis.eval(_ANNOUNCE, 4, *keys, head, self.gate_id))
            if not wait:
                return
            deadline = time.monotonic() + LEASE * 2
            pause = 0.0005
            while await self._redis.eval(_BEHIND, 2, self._gates_key, self._acks_key, published):
                if time.monotonic() > deadline:
                    log.error("gates still behind journal head %d after %.0fs; answering anyway", published, LEASE * 2)
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, _WRITER_POLL_MAX)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def close(self) -> None:
        """Stop listening, and leave: writers no longer wait for this gate."""
        self._closed = True
        self._lease_until = -math.inf
        if self._listener is not None:
            await background.stop(self._listener)
            self._listener = None
        await self._leave()

    async def _listen(self) -> None:
        while not self._closed:
            connection = self._redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await self._listen_on(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it was, checks ask Redis until this listens again
                self._lease_until = -math.inf
                if not self._listen_failing:
                    self._listen_failing = True
                    expected = isinstance(exc, (RedisError, OSError, SQLAlchemyError, ValueError))
                    log.warning(
                        "cannot listen for auth journal entries on Redis (%s); token checks ask Redis",
                        exc,
                        exc_info=not expected,
                    )
                await self._leave()
            finally:
                self._lease_until = -math.inf
                await connection.disconnect(nowait=True)
            await asyncio.sleep(_RETRY_AFTER)

    async def _listen_on(self, connection: AbstractConnection) -> None:
        await connection.connect()  # type: ignore[no-untyped-call]
        await connection.send_command("CLIENT", "SETNAME", self.client_name)  # to find it in CLIENT LIST
        await connection.read_response()
        await connection.send_command("SUBSCRIBE", self._channel)
        confirmation = await connection.read_response(timeout=_PONG_WAIT, push_request=True)
        if not (isinstance(confirmation, list) and confirmation[:1] == [b"subscribe"]):
            raise ValueError(f"unexpected answer to SUBSCRIBE: {confirmation!r}")
        renewed = await self._join()
        self._listen_failing = False
        self._recovered()
        next_renewal = renewed + RENEW_EVERY
        pinged: float | None = None
        while not self._closed:  # closed, and its cancellation lost: it must not renew its lease or join again
            now = time.monotonic()
            if pinged is None and now >= next_renewal:
                await connection.send_command("PING")
                pinged = now
            until = pinged + _PONG_WAIT if pinged is not None else next_renewal
            # RESP3 (redis-py's default) delivers messages as pushes, and PING's answer as a plain PONG.
            reply = await connection.read_response(timeout=max(until - now, 0.001), push_request=True)
            if reply is None and pinged is not None and time.monotonic() >= pinged + _PONG_WAIT:
                # A busy loop may have woken this read late: take what has arrived before giving up.
                reply = await connection.read_response(timeout=0.01, push_request=True)
                if reply is None:
                    raise TimeoutError("the journal subscription did not answer PING")
            if reply is None:
                continue
            kind = reply[0] if isinstance(reply, list) and reply else reply
            if kind in (b"pong", b"PONG"):
                # The subscription answered after everything published before the PING reached it.
                extended = await self._lease("renew")
                if extended is None:
                    renewed = await self._join()
                else:
                    renewed = extended
                    self._lease_until = renewed + LEASE - _MARGIN
                next_renewal = renewed + RENEW_EVERY
                pinged = None
            elif kind == b"message":
                await self._heard_of(int(reply[2]))

    async def _join(self) -> float:
        # Lease first, then the head: a writer that published before the lease was taken raised the head
        # before this GET; one that publishes after it waits for this gate's acknowledgement.
        joined = await self._lease("join")
        assert joined is not None
        head = await self._redis.get(self._head_key)
        await self._heard_of(0 if head is None else int(head))
        self._lease_until = joined + LEASE - _MARGIN
        return joined

    async def _lease(self, how: str) -> float | None:
        """Take or renew the lease; when it was sent (it ends LEASE after, or later), or None if it was lost."""
        sent = time.monotonic()
        taken = await self._redis.eval(_LEASE, 1, self._gates_key, self.gate_id, int(LEASE * 1000), how)
        return sent if taken else None

    async def _heard_of(self, head: int) -> None:
        # Checks meanwhile may still admit what `head` revokes: its writer has not answered yet.
        await self._acknowledge(await self._catch_up(head))

    async def _acknowledge(self, cursor: int) -> None:
        await self._redis.eval(_ACKNOWLEDGE, 1, self._acks_key, self.gate_id, cursor)

    async def _leave(self) -> None:
        try:
            async with asyncio.timeout(1.0):
                await self._redis.zrem(self._gates_key, self.gate_id)
                await self._redis.hdel(self._acks_key, self.gate_id)
        except (RedisError, OSError, TimeoutError):
            pass  # the lease lapses by itself

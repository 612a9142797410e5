"""The gate every verified access token passes: is it revoked, and who is its user right now?

Answering from the database on every request would cost a round trip each time, so each worker keeps what it
needs in memory: the revoked token ids (with their expiry) and a snapshot of the users it has seen. The
database's auth journal (db/models/oauth.py) says what changed; a worker reads the entries after the last one
it has seen when it has reason to believe there are new ones:

- a transaction of this process has committed journal entries (a counter in memory, free to check);
- with Redis configured, the journal head there is ahead of ours (auth/fanout.py): a gate listening on
  Redis hears of new entries as they are published, and writers do not answer until every listening gate
  has read them, so a revocation holds on every worker and host at once while checks make no round trip;
  a gate not listening (yet, or any more) asks Redis for the head on every check instead;
- otherwise, the last read is older than `auth_sync_interval` (default 1 s; 0 reads the journal on every
  request). Without Redis this interval is how fast other workers learn.

If Redis cannot be reached the gate falls back to the interval, and says so in the log.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor.auth import signing_key
from versicolor.auth.fanout import JournalFanout
from versicolor.auth.tokens import AccessClaims, Keyring, SigningKey, Verifier
from versicolor.core.errors import Forbidden
from versicolor.core.roles import Principal, Role
from versicolor.core.sealing import Sealer
from versicolor.db.models import ApiCredential, AuthChange, AuthJournalHead, SigningKeyRow, User
from versicolor.db.models import oauth as journal
from versicolor.db.types import utcnow
from versicolor.runtime import Runtime

log = logging.getLogger("versicolor.auth")

# Entries about users are kept a day (journal.USER_CHANGE_RETENTION); a worker that has not read the journal
# for half of that may have missed some, so it starts over.
_RELOAD_AFTER = journal.USER_CHANGE_RETENTION.total_seconds() / 2
_PRUNE_EVERY = 60.0
_MAX_USERS = 10_000


@dataclass(frozen=True)
class UserSnapshot:
    """A user as the gate last read it, with its API credentials' client id and generation."""

    id: int
    account_id: int
    role: str
    email: str
    first_name: str | None
    last_name: str | None
    date_created: datetime
    client_id: str | None
    generation: int | None

    @functools.cached_property
    def principal(self) -> Principal:
        """The caller a token of this user acts as (made once per snapshot, not once per request)."""
        return Principal(account_id=self.account_id, user_id=self.id, role=Role(self.role))


class _Unknown:
    pass


_UNKNOWN: Final = _Unknown()


class TokenGate:
    """Admits or refuses verified access tokens; one per process and application."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keyring: Keyring,
        redis: Redis | None,
        redis_prefix: str,
        sync_interval: float,
        sealer: Sealer | None = None,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._sealer = sealer or Sealer(None)
        self._verifier = Verifier(keyring)
        self._interval = sync_interval
        self._revoked: dict[str, int] = {}
        self._users: dict[int, UserSnapshot | None] = {}
        self._cursor = -1  # nothing read yet
        self._read_at = float("-inf")  # monotonic time at which the last read began
        self._local_seen = -1
        self._published = 0  # the highest head we know Redis holds
        self._pruned_at = float("-inf")
        self._redis_failing_since: float | None = None
        self._lock = asyncio.Lock()
        self._fanout = (
            None
            if redis is None
            else JournalFanout(
                redis=redis,
                prefix=redis_prefix,
                catch_up=self._caught_up,
                failed=self._redis_failed,
                recovered=self._redis_recovered,
            )
        )

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> TokenGate:
        """The gate of a running service."""
        return cls(
            sessions=runtime.sessions,
            keyring=runtime.keyring,
            sealer=runtime.sealer,
            redis=runtime.redis,
            redis_prefix=signing_key.redis_prefix(runtime.settings.redis_prefix, runtime.signing_key),
            sync_interval=runtime.settings.auth_sync_interval,
        )

    async def check(self, token: str) -> tuple[AccessClaims, UserSnapshot]:
        """A bearer token's claims and its user: Unauthenticated if forged or expired, Forbidden if revoked."""
        claims = self.verify(token)
        return claims, await self.admit(claims)

    def verify(self, token: str) -> AccessClaims:
        """A token's claims if its signature and expiry hold (revocation is `admit`'s); Unauthenticated if not."""
        return self._verifier.verify(token)

    async def admit(self, claims: AccessClaims) -> UserSnapshot:
        """The current state of the token's user; raises Forbidden if the token was revoked."""
        await self._catch_up()
        if claims.jti in self._revoked:
            raise Forbidden("the access token has been revoked; request a new one at /oauth/token")
        user = self._users.get(claims.user_id, _UNKNOWN)
        if isinstance(user, _Unknown):
            user = await self._load_user(claims.user_id)
        # A token older than its user was issued to a deleted user whose id was given again (SQLite reuses ids).
        if (
            user is None
            or user.account_id != claims.account_id
            or claims.issued_at < int(user.date_created.timestamp())
        ):
            raise Forbidden("the access token's user no longer exists; the token has been revoked")
        if claims.generation is not None and (
            claims.generation != user.generation or claims.client_id != user.client_id
        ):
            raise Forbidden("the access token was revoked when its API credentials were rotated")
        return user

    @asynccontextmanager
    async def changing(self) -> AsyncIterator[AsyncSession]:
        """A transaction whose journal entries every worker honours before this context exits."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
                await self._prune(session)
            if session.info.pop(journal.COMMITTED, False):
                await self.publish()

    async def publish(self) -> None:
        """Read the journal now, and tell the other workers (through Redis) how far it goes; with Redis,
        return once every worker listening there has read it too."""
        await self._read(noticed_at=time.monotonic(), at_least=None)
        if self._fanout is not None:
            await self._fanout.announce(self._cursor, wait=True)
            self._published = max(self._published, self._cursor)

    @property
    def fanout(self) -> JournalFanout | None:
        """How this gate hears of other workers' journal entries through Redis (None without Redis)."""
        return self._fanout

    async def close(self) -> None:
        """Stop listening on Redis (writers stop waiting for this gate)."""
        if self._fanout is not None:
            await self._fanout.close()

    async def _catch_up(self) -> None:
        now = time.monotonic()
        if self._local_seen != journal.local_commits() or now - self._read_at >= self._interval:
            if self._fanout is not None:
                self._fanout.listen()
            await self._read(noticed_at=now, at_least=None)
        elif self._fanout is not None and not self._fanout.listening:
            remote = await self._fanout.head()
            if remote is not None:
                self._published = max(self._published, remote)
                if remote > self._cursor:
                    await self._read(noticed_at=time.monotonic(), at_least=remote)
        if self._fanout is not None and self._cursor > self._published:
            # This worker learnt of entries first (made by its own transactions): tell the others.
            await self._fanout.announce(self._cursor, wait=False)
            self._published = max(self._published, self._cursor)

    async def _caught_up(self, head: int) -> int:
        # The fanout heard of `head`: read the journal that far, and say how far that is.
        await self._read(noticed_at=time.monotonic(), at_least=head)
        return self._cursor

    async def _read(self, *, noticed_at: float, at_least: int | None) -> None:
        async with self._lock:
            # Another task may have read everything we need while we waited for the lock.
            if self._read_at >= noticed_at or (at_least is not None and self._cursor >= at_least):
                return
            started = time.monotonic()
            local = journal.local_commits()
            full = self._cursor < 0 or started - self._read_at > _RELOAD_AFTER
            keys_changed = full
            async with self._sessions() as session, session.begin():
                head = int(await session.scalar(select(AuthJournalHead.seq).where(AuthJournalHead.id == 1)) or 0)
                if full:
                    rows = await session.execute(
                        select(AuthChange.jti, AuthChange.expires_at).where(
                            AuthChange.jti.is_not(None), AuthChange.seq <= head, AuthChange.expires_at > utcnow()
                        )
                    )
                    self._revoked = {jti: int(expires.timestamp()) for jti, expires in rows if jti}
                    self._users.clear()
                else:
                    changes = await session.execute(
                        select(AuthChange.jti, AuthChange.user_id, AuthChange.account_id, AuthChange.expires_at)
                        .where(AuthChange.seq > self._cursor, AuthChange.seq <= head)
                        .order_by(AuthChange.seq)
                    )
                    for jti, user_id, account_id, expires in changes:
                        self._apply(jti, user_id, account_id, expires)
                        # "Everything changed" entries also say the signing keys may have (a rotation).
                        keys_changed = keys_changed or (jti is None and user_id is None and account_id is None)
                if keys_changed:
                    key_rows = await session.scalars(select(SigningKeyRow))
                    self._keyring.replace(
                        [
                            SigningKey(
                                kid=row.kid,
                                secret=self._sealer.open(row.secret),
                                not_before=row.not_before.timestamp(),
                                expires_at=None if row.expires_at is None else row.expires_at.timestamp(),
                            )
                            for row in key_rows
                        ]
                        or self._keyring.keys
                    )
            self._forget_expired()
            self._cursor = head
            self._read_at = started
            self._local_seen = local

    def _apply(self, jti: str | None, user_id: int | None, account_id: int | None, expires: datetime) -> None:
        if jti is not None:
            self._revoked[jti] = int(expires.timestamp())
        elif user_id is not None:
            self._users.pop(user_id, None)
        elif account_id is not None:
            for known in [uid for uid, user in self._users.items() if user is None or user.account_id == account_id]:
                del self._users[known]
        else:
            self._users.clear()

    def _forget_expired(self) -> None:
        now = time.time()
        expired = [jti for jti, expires in self._revoked.items() if expires <= now]
        for jti in expired:
            del self._revoked[jti]  # the token fails its expiry check anyway

    async def _load_user(self, user_id: int) -> UserSnapshot | None:
        cursor = self._cursor
        async with self._sessions() as session, session.begin():
            row = (
                await session.execute(
                    select(
                        User.id,
                        User.account_id,
                        User.role,
                        User.email,
                        User.first_name,
                        User.last_name,
                        User.date_created,
                        ApiCredential.client_id,
                        ApiCredential.generation,
                    )
                    .outerjoin(ApiCredential, ApiCredential.user_id == User.id)
                    .where(User.id == user_id)
                )
            ).first()
        user = None if row is None else UserSnapshot(*row)
        # Keep it only if no journal entry was read meanwhile: the row may predate a change just applied.
        if self._cursor == cursor:
            if len(self._users) >= _MAX_USERS:
                del self._users[next(iter(self._users))]
            self._users[user_id] = user
        return user

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._redis_failing_since is None:
            self._redis_failing_since = now
            log.warning(
                "Redis is unreachable (%s); revocations reach other workers within %.1fs instead of at once",
                exc,
                self._interval,
            )

    def _redis_recovered(self) -> None:
        if self._redis_failing_since is not None:
            self._redis_failing_since = None
            log.warning("Redis is reachable again; revocations reach every worker at once")

    async def _prune(self, session: AsyncSession) -> None:
        now = time.monotonic()
        if now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        # A grace period keeps an entry until every worker's token check has stopped needing it.
        cutoff = utcnow() - timedelta(seconds=max(self._interval, 1.0) * 2)
        await session.execute(delete(AuthChange).where(AuthChange.expires_at < cutoff))

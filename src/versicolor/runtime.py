"""What one running service holds: its settings, database engine, session factory and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from versicolor.auth import signing_key
from versicolor.auth.tokens import Keyring, SigningKey
from versicolor.core.sealing import Sealer
from versicolor.db import migrate
from versicolor.db.engine import create_engine, session_factory
from versicolor.results.slots import ReportSlots
from versicolor.settings import Settings


@dataclass
class Runtime:
    """The long-lived objects a service process shares between requests."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # The server secret (auth/signing_key.py): what preview links, the sign-in page's cookies and the Redis
    # namespace derive from. Access tokens are signed with the rotating keys of `keyring`.
    signing_key: str
    redis: Redis | None = None
    keyring: Keyring = field(default_factory=lambda: Keyring([SigningKey("unset", "")]))
    sealer: Sealer = field(default_factory=lambda: Sealer(None))
    # Reports this process computes at once (results/slots.py), sized from its database pool.
    reports: ReportSlots = field(default_factory=lambda: ReportSlots(pool=1))

    @classmethod
    async def start(cls, settings: Settings, *, migrate_first: bool = True) -> Runtime:
        """Connect, bring the schema up to date, and load the server secret and the signing keys.

        Raises core.sealing.SealingError when the stored keys are sealed and VERSICOLOR_SECRET_KEY cannot open
        them."""
        sealer = Sealer(settings.secret_key)
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        try:
            if migrate_first:
                await migrate.upgrade(engine)
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                key = await signing_key.load_or_create(session=session, sealer=sealer)
                keyring = await signing_key.load_keyring(session=session, sealer=sealer, server_secret=key)
        except BaseException:
            await engine.dispose()
            raise
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            signing_key=key,
            redis=redis,
            keyring=keyring,
            sealer=sealer,
            reports=ReportSlots(pool=settings.database_pool_size + settings.database_max_overflow),
        )

    async def close(self) -> None:
        """Release connections."""
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

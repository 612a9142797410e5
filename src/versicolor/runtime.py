"""What one running service holds: its settings, database engine, session factory and secrets."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from versicolor.auth import signing_key
from versicolor.db import migrate
from versicolor.db.engine import create_engine, session_factory
from versicolor.settings import Settings


@dataclass
class Runtime:
    """The long-lived objects a service process shares between requests."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    signing_key: str
    redis: Redis | None = None

    @classmethod
    async def start(cls, settings: Settings, *, migrate_first: bool = True) -> Runtime:
        """Connect, bring the schema up to date, and load the signing key."""
        engine = create_engine(settings.database_url)
        try:
            if migrate_first:
                await migrate.upgrade(engine)
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                key = await signing_key.load_or_create(session=session)
        except BaseException:
            await engine.dispose()
            raise
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        return cls(settings=settings, engine=engine, sessions=sessions, signing_key=key, redis=redis)

    async def close(self) -> None:
        """Release connections."""
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

"""Engines and session factories for the configured database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from versicolor.db.urls import async_url, is_sqlite


def create_engine(database_url: str, *, pool_size: int = 10, max_overflow: int = 20, **kwargs: Any) -> AsyncEngine:
    """An async engine for `database_url`, with the per-connection settings each backend needs; on PostgreSQL
    at most `pool_size` + `max_overflow` connections (SQLite's pool is SQLAlchemy's default)."""
    url = async_url(database_url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once across worker processes; foreign keys are off by
    # default in SQLite and we rely on them.
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: an acknowledged write (an event batch answered 202) survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after the request's commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked" when
    # another process wrote in between; taking the write lock up front makes it wait (busy_timeout).
    connection.exec_driver_sql("BEGIN IMMEDIATE")

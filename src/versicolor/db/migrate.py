"""Apply the migration chain, once, even when several workers start together."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# An arbitrary constant: the PostgreSQL advisory lock that serialises concurrent upgrades.
_ADVISORY_LOCK_KEY = 99_418_560


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of the code."""


def alembic_config() -> Config:
    """An Alembic configuration pointing at our migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def _check_not_newer(connection: Connection) -> None:
    current = current_revision(connection)
    if current is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        scripts.get_revision(current)
    except Exception as exc:
        raise SchemaError(
            f"the database is at schema revision {current}, which this version of Versicolor does not know "
            "(it was migrated by a newer release); upgrade Versicolor or point it at another database"
        ) from exc


def _upgrade(connection: Connection, revision: str) -> None:
    # SQLite rebuilds a table to alter it, and dropping the old copy would be a DELETE that cascades into every
    # table referring to it: its foreign keys are off while the chain runs (a setting SQLite only changes
    # outside a transaction), and every reference is checked before the upgrade commits.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, enabled=False)
    try:
        _check_not_newer(connection)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise SchemaError(f"the upgrade would leave rows referring to rows that do not exist: {broken[:5]}")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, enabled=True)


def _sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # On the driver's connection: through SQLAlchemy the statement would open a transaction first.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default); refuse a database migrated by newer code."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Session-level lock: held across Alembic's own transaction, released below.
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            await connection.commit()
        try:
            await connection.run_sync(_upgrade, revision)
            await connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                await connection.commit()


async def is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest revision this code knows."""
    async with engine.connect() as connection:
        current = await connection.run_sync(current_revision)
    return current == head_revision()

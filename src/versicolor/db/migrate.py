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


def _upgrade(connection: Connection) -> None:
    _check_not_newer(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision; refuse a database migrated by newer code."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Session-level lock: held across Alembic's own transaction, released below.
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            await connection.commit()
        try:
            await connection.run_sync(_upgrade)
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

"""The migration chain: one head, applies on an empty database, refuses a newer schema, survives a race."""

from __future__ import annotations

import asyncio

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from versicolor.db import migrate
from versicolor.db.engine import create_engine
from versicolor.runtime import Runtime


def test_chain_has_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations diverge: heads {heads}; point one at the other"


async def test_database_under_test_is_at_head(runtime: Runtime) -> None:
    assert await migrate.is_current(runtime.engine)


async def test_tables_match_the_models(runtime: Runtime) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from versicolor.db.models import Base

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], f"models and migrations disagree; run scripts/new_migration.py: {differences}"


async def test_database_from_newer_code_is_refused(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/newer.db"  # type: ignore[operator]
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        with pytest.raises(migrate.SchemaError, match="newer release"):
            await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.mark.backend("postgresql", reason="the advisory lock is PostgreSQL's; SQLite runs one writer")
async def test_concurrent_upgrades_on_a_fresh_postgresql_database_do_not_race(database_url: str) -> None:
    import uuid

    from sqlalchemy.engine import make_url

    name = f"versicolor_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    fresh_url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engines = [create_engine(fresh_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        assert all([await migrate.is_current(engine) for engine in engines])
    finally:
        for engine in engines:
            await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()

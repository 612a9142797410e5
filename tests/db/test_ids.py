"""Ids are never handed out twice: in every table, on both backends, in databases upgraded from before the rule."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Table, delete, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND
from tests.db.rows import RowMaker, generated_id, generated_id_tables, reflect, snapshot
from tests.factories import Factory
from versicolor.db import migrate
from versicolor.db.engine import create_engine
from versicolor.db.models import Base
from versicolor.runtime import Runtime

# The revision before ids were made unique for life on SQLite.
BEFORE_THE_RULE = "0017_kameleoon_fields"

# Tables whose rows are named by something other than an id the database generates.
NATURAL_KEYS = {
    "server_secrets": "the secret's name, chosen by the server",
    "signing_keys": "the key id written into tokens, random",
    "auth_changes": "its number in the auth journal, counted by auth_journal_head, which only counts up",
    "auth_journal_head": "one row, id 1",
    "experiment_goals": "the experiment and the goal it links",
    "personalization_goals": "the personalization and the goal it links",
    "tracking_visits": "the site and the event id the page made",
    "tracking_conversions": "the site and the event id the page made",
    "tracking_exposures": "the experiment and the visitor",
    "tracking_visitor_goals": "the experiment, the visitor and the goal",
}
# Tables whose ids the server makes (core/object_ids.py; tests/domains/test_object_ids.py).
OBJECT_ID_TABLES = {"url_groups", "urls"}


def test_every_table_says_how_its_rows_are_named_for_life() -> None:
    for table in Base.metadata.sorted_tables:
        if table.autoincrement_column is not None:
            assert table.dialect_options["sqlite"]["autoincrement"], (
                f"{table.name}: its ids would be reused on SQLite; declare `__table_args__ = IDS_NEVER_REUSED`"
            )
        elif table.name in OBJECT_ID_TABLES:
            assert [column.name for column in table.primary_key.columns] == ["id"]
            assert table.c.id.type.length == 24  # type: ignore[attr-defined]
        else:
            assert table.name in NATURAL_KEYS, (
                f"{table.name}: a primary key the database does not generate; say here what names its rows"
            )


def _newest(connection: Connection, table: Table) -> int:
    column = generated_id(table)
    assert column is not None
    return int(connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one())


def _check_no_id_comes_back(connection: Connection) -> dict[str, tuple[int, int]]:
    # In every table: the newest row deleted, the next row gets an id of its own. The ids seen, by table.
    metadata = reflect(connection)
    rows = RowMaker(connection, metadata)
    seen = {}
    for table in generated_id_tables(metadata):
        column = generated_id(table)
        assert column is not None
        newest = _newest(connection, table)
        deleted = rows.insert(table)[column.name]
        assert deleted > newest, table.name
        connection.execute(delete(table).where(column == deleted))
        made = rows.insert(table)[column.name]
        assert made > deleted, f"{table.name} handed out id {made} again"
        seen[table.name] = (deleted, made)
    return seen


async def test_no_table_hands_out_the_id_of_a_deleted_row_again(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        seen = await connection.run_sync(_check_no_id_comes_back)
        await connection.rollback()  # the rows are the test's own; the other tests never see them
    assert len(seen) == len(generated_id_tables(Base.metadata))


async def test_a_deleted_goal_s_id_names_no_new_goal(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await client.post("/sites", json={"name": "Shop"}, headers=account.headers)
    assert site.status_code == 201, site.text
    body = {"name": "Checkout", "siteId": site.json()["id"], "type": "CUSTOM"}
    first = (await client.post("/goals", json=body, headers=account.headers)).json()["id"]
    assert (await client.delete(f"/goals/{first}", headers=account.headers)).status_code == 204
    again = await client.post("/goals", json=body, headers=account.headers)
    assert again.status_code == 201, again.text
    assert again.json()["id"] > first
    assert (await client.get(f"/goals/{first}", headers=account.headers)).status_code == 404


@pytest.fixture
async def empty_database_url(database_url: str, tmp_path: Any) -> AsyncIterator[str]:
    """A database of its own for one test, empty, on the backend under test."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    name = f"versicolor_ids_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


def _fill(connection: Connection) -> None:
    metadata = reflect(connection)
    rows = RowMaker(connection, metadata)
    for table in metadata.sorted_tables:
        for _ in range(3):
            rows.insert(table)
    connection.commit()


def _everything(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return snapshot(connection, reflect(connection))


def _keys(connection: Connection) -> dict[str, set[tuple[Any, ...]]]:
    return {
        table.name: {tuple(row) for row in connection.execute(select(*table.primary_key.columns))}
        for table in reflect(connection).sorted_tables
    }


@pytest.mark.parametrize("revision", ["0001_foundation", BEFORE_THE_RULE])
async def test_an_upgraded_database_keeps_every_row_and_never_reuses_an_id(
    empty_database_url: str, revision: str
) -> None:
    # From the first revision, rows travel through every migration (a table rebuilt on SQLite must not take the
    # rows referring to it along when its old copy is dropped); from the revision before the rule, nothing but
    # the ids' rule changes.
    engine = create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine, revision)
        async with engine.connect() as connection:
            await connection.run_sync(_fill)
            keys = await connection.run_sync(_keys)
            everything = await connection.run_sync(_everything)
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            kept = await connection.run_sync(_keys)
            assert {table: keys[table] - kept[table] for table in keys} == {table: set() for table in keys}
            if revision == BEFORE_THE_RULE:
                after = await connection.run_sync(_everything)
                # Tables later migrations add start empty; every table there was keeps exactly its rows.
                assert {table: rows for table, rows in after.items() if table in everything} == everything
                assert all(not rows for table, rows in after.items() if table not in everything)
            await connection.run_sync(_check_no_id_comes_back)
            await connection.commit()
    finally:
        await engine.dispose()

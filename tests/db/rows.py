"""Rows for any table of a database, made up from its columns' types, each reference to a new parent row.

For tests that must hold for every table, including tables added later: they read the schema from the database
(not from the models, which may be newer than the revision under test) and need no knowledge of any table.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Connection, MetaData, Table, insert, select

from versicolor.db.models import Base

_GENERATED = {table.name for table in Base.metadata.sorted_tables if table.autoincrement_column is not None}


def reflect(connection: Connection) -> MetaData:
    """The database's tables as they are (Alembic's own bookkeeping left out)."""
    metadata = MetaData()
    metadata.reflect(connection)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def generated_id_tables(metadata: MetaData) -> list[Table]:
    """The tables whose primary key is one integer the database generates (as the models say: PostgreSQL gives
    a sequence to integer keys the server numbers itself too)."""
    return [table for table in metadata.sorted_tables if table.name in _GENERATED]


def generated_id(table: Table) -> Column[Any] | None:
    """The column of `table` whose values the database generates, if any."""
    return table.autoincrement_column if table.name in _GENERATED else None


def snapshot(connection: Connection, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    return {
        table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
        for table in metadata.sorted_tables
    }


class RowMaker:
    """Inserts rows with a fresh value in every column (ids left to the database) and parents made on the way."""

    def __init__(self, connection: Connection, metadata: MetaData) -> None:
        self._connection = connection
        self._metadata = metadata
        # Where this maker's values start: two makers on one database must not make the same unique values.
        self._made = secrets.randbelow(2_000_000_000)

    def insert(self, table: Table) -> dict[str, Any]:
        """Insert one row into `table` (and one into each table it refers to); its primary key's values."""
        values = {column.name: self._value(column) for column in table.columns if column is not generated_id(table)}
        statement = insert(table).values(values).returning(*table.primary_key.columns)
        row = self._connection.execute(statement).one()
        return dict(row._mapping)

    def _value(self, column: Column[Any]) -> Any:
        for reference in column.foreign_keys:
            parent = self.insert(reference.column.table)
            return parent[reference.column.name]
        self._made += 1
        made = self._made
        if isinstance(column.type, JSON):
            return {"made": made}
        python_type = column.type.python_type
        if python_type is bool:
            return made % 2 == 0
        if python_type is int:
            return made
        if python_type is float:
            return made / 4
        if python_type is datetime:
            return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=made)
        if python_type is str:
            length = getattr(column.type, "length", None) or 64
            return f"{column.name}-{made}"[-length:]
        raise AssertionError(f"no made-up value for {column.table.name}.{column.name} of type {column.type}")

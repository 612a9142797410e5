"""The declarative base every table derives from."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The `__table_args__` (alone, or last in its tuple) of every table whose id the database generates: an id is
# never handed out twice, even after the newest row is deleted, so an id a client kept can never come to name
# another object. PostgreSQL's sequences already behave so; SQLite needs AUTOINCREMENT for it (without it, a new
# row takes the largest id in the table plus one). tests/db/test_ids.py holds every table to it.
IDS_NEVER_REUSED: dict[str, object] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    """Base of all Versicolor tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

"""Translate the database URLs users type into the async drivers Versicolor runs on."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class DatabaseUrlError(ValueError):
    """The configured database URL cannot be used."""


_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def async_url(raw: str) -> URL:
    """Return the async-driver form of `raw` (`sqlite:///x.db` or `postgresql://...`)."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"cannot parse database URL {raw!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
        ) from exc
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"unsupported database {url.drivername!r} in {raw!r}: use sqlite:///PATH or postgresql://..."
        )
    if driver.startswith("sqlite") and not url.database:
        raise DatabaseUrlError(f"{raw!r} names no file: use sqlite:///PATH (in-memory databases are not kept)")
    return url.set(drivername=driver)


def is_sqlite(url: URL) -> bool:
    """True when `url` points at SQLite."""
    return url.get_backend_name() == "sqlite"

"""Settings from flags and environment, and one committed transaction on a migrated database, per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from versicolor.cli.console import fail

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from versicolor.settings import Settings

T = TypeVar("T")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", metavar="URL", help="sqlite:///PATH or postgresql://... (VERSICOLOR_DATABASE_URL)"),
]


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the CLI flags that were given taking precedence."""
    from versicolor.settings import Settings

    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        fail(f"invalid configuration: {exc}")


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn what can go wrong with the database into one line on stderr."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from versicolor.core.errors import DomainError
    from versicolor.core.sealing import SealingError
    from versicolor.db import migrate
    from versicolor.db.urls import DatabaseUrlError

    try:
        yield
    except DatabaseUrlError as exc:
        fail(str(exc))
    except migrate.SchemaError as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.message)
    except SealingError as exc:
        fail(str(exc))
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot use the database: {reason}")


def run_in_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on a migrated database."""
    from versicolor.runtime import Runtime

    async def main() -> T:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session, session.begin():
                return await work(session)
        finally:
            await runtime.close()

    with clear_errors():
        return asyncio.run(main())

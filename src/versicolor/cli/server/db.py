"""`versicolor db`: the database schema."""

from __future__ import annotations

import asyncio

import typer

from versicolor.cli.console import err
from versicolor.cli.server.database import DatabaseUrl, clear_errors, settings_with

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Database schema.")


@app.command("upgrade")
def upgrade(database_url: DatabaseUrl = None) -> None:
    """Apply every pending migration."""
    from versicolor.db import migrate
    from versicolor.runtime import Runtime

    settings = settings_with(database_url=database_url)

    async def main() -> None:
        runtime = await Runtime.start(settings)
        await runtime.close()

    with clear_errors():
        asyncio.run(main())
    err.print(f"database is at revision {migrate.head_revision()}")

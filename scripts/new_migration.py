"""Write a new migration for the difference between the tables in code and the newest migration.

Usage: .venv/bin/python scripts/new_migration.py "what changed"
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import Connection

from versicolor.db import migrate
from versicolor.db.engine import create_engine


def _revise(connection: Connection, message: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    script = command.revision(config, message=message, autogenerate=True)
    paths = [s.path for s in (script if isinstance(script, list) else [script]) if s is not None]
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", *paths], check=False)
    subprocess.run([str(ruff), "check", "--fix", "--quiet", *paths], check=False)


async def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            await connection.run_sync(_revise, message)
        await engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1]))

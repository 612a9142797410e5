"""The backup and restore lines of docs/operations.md, run as written against the suite's live database; a
server started on the restored copy serves what was there, to the tokens issued before."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND
from tests.factories import Factory
from tests.server import serve

DOC = Path(__file__).parents[2] / "docs" / "operations.md"
SQLITE_BACKUP = """sqlite3 "$DB" ".backup '$BACKUP'\""""
SQLITE_RESTORE = """cp "$BACKUP" "$DB" && rm -f "$DB-wal" "$DB-shm\""""
PG_BACKUP = """pg_dump --format=custom --no-owner --file="$BACKUP" "$DATABASE_URL\""""
PG_RESTORE = (
    """createdb --maintenance-db="$DATABASE_URL" "$NEW_DATABASE" && """
    """pg_restore --no-owner --exit-on-error --dbname="$NEW_DATABASE_URL" "$BACKUP\""""
)


def run(line: str, **variables: str) -> None:
    """Run one line of the page as a shell would, with its variables set."""
    assert line in DOC.read_text(), f"docs/operations.md no longer says: {line}"
    done = subprocess.run(["sh", "-c", line], env={**os.environ, **variables}, capture_output=True, text=True)
    assert done.returncode == 0, f"{line}\n{done.stderr}"


async def drop(database_url: str, name: str) -> None:
    connection = await asyncpg.connect(make_url(database_url).set(database="postgres").render_as_string(False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.mark.server
async def test_a_backup_restored_as_the_page_says_serves_what_was_there(
    client: httpx.AsyncClient, factory: Factory, database_url: str, tmp_path: Path
) -> None:
    account = await factory.account()
    made = await client.post("/sites", json={"name": "Backed up", "url": "https://b.example"}, headers=account.headers)
    assert made.status_code == 201
    backup = tmp_path / "versicolor.backup"
    new_name = ""
    if BACKEND == "sqlite":
        live = make_url(database_url).database or ""
        run(SQLITE_BACKUP, DB=live, BACKUP=str(backup))
        restored = tmp_path / "restored.db"
        run(SQLITE_RESTORE, DB=str(restored), BACKUP=str(backup))
        restored_url = f"sqlite:///{restored}"
    else:
        run(PG_BACKUP, DATABASE_URL=database_url, BACKUP=str(backup))
        new_name = f"versicolor_restored_{uuid.uuid4().hex[:8]}"
        restored_url = make_url(database_url).set(database=new_name).render_as_string(hide_password=False)
        run(
            PG_RESTORE,
            DATABASE_URL=database_url,
            NEW_DATABASE=new_name,
            NEW_DATABASE_URL=restored_url,
            BACKUP=str(backup),
        )
    # A site made after the backup is not in it.
    later = await client.post("/sites", json={"name": "Too late", "url": "https://l.example"}, headers=account.headers)
    try:
        with serve(["--database-url", restored_url], log_dir=tmp_path, ready_timeout=180) as server:
            async with httpx.AsyncClient(base_url=server.base_url, headers=account.headers) as http:
                shown = await http.get(f"/sites/{made.json()['id']}")
                assert shown.status_code == 200, shown.text
                assert shown.json()["name"] == "Backed up"
                assert (await http.get(f"/sites/{later.json()['id']}")).status_code == 404
                assert (await http.get("/readyz")).status_code == 200
    finally:
        if new_name:
            await drop(database_url, new_name)

"""Where the suite finds PostgreSQL: a fresh server works as it is, and a wrong address says what to change."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import make_url

from tests import services


def probe_with(pg_url: str) -> subprocess.CompletedProcess[str]:
    """`python -m tests.services postgresql` with VERSICOLOR_TEST_PG_URL set to `pg_url`."""
    return subprocess.run(
        [sys.executable, "-m", "tests.services", "postgresql"],
        capture_output=True,
        text=True,
        env={"VERSICOLOR_TEST_PG_URL": pg_url, "PATH": ""},
        timeout=30,
    )


def test_the_default_address_is_the_maintenance_database_every_server_has() -> None:
    printed = subprocess.run(
        [sys.executable, "-c", "from tests import services; print(services.PG_URL)"],
        capture_output=True,
        text=True,
        env={"PATH": ""},
        timeout=30,
        check=True,
    ).stdout.strip()
    assert make_url(printed).database == "postgres"


def test_the_maintenance_database_answers_and_allows_creating_databases() -> None:
    url = make_url(services.PG_URL).set(database="postgres").render_as_string(hide_password=False)
    result = probe_with(url)
    assert result.returncode == 0, result.stderr


def test_a_database_that_does_not_exist_is_named_with_what_to_do() -> None:
    url = make_url(services.PG_URL).set(database="no_such_database_here").render_as_string(hide_password=False)
    result = probe_with(url)
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert "VERSICOLOR_TEST_PG_URL" in result.stderr

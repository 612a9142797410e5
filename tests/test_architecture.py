"""The import rules of docs/architecture.md, checked so that they stay true."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "versicolor"
WEB = ("fastapi", "starlette", "uvicorn")


def imported_modules(folder: str) -> dict[str, set[str]]:
    """Every module imported by each file under `folder`."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE))] = names
    return found


@pytest.mark.parametrize("folder", ["core", "tracking", "engine", "results", "stats", "db", "auth"])
def test_the_domain_knows_no_web_framework(folder: str) -> None:
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] in WEB) for path, names in imported_modules(folder).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("folder", ["core", "tracking", "engine", "results", "stats", "db", "auth"])
def test_nothing_below_the_api_imports_it(folder: str) -> None:
    offenders = {
        path: sorted(n for n in names if n.startswith(("versicolor.api", "versicolor.app", "versicolor.cli")))
        for path, names in imported_modules(folder).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_statistics_import_nothing_of_ours_but_themselves() -> None:
    offenders = {
        path: sorted(n for n in names if n.startswith("versicolor") and not n.startswith("versicolor.stats"))
        for path, names in imported_modules("stats").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def modules_loaded_by(module: str) -> list[str]:
    """Every module a new Python process has loaded once it has imported `module`."""
    return subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_the_command_line_starts_without_loading_the_server() -> None:
    # Commands over HTTP must start fast and work where only the client is of use; the commands that run
    # beside the server import its modules inside their bodies.
    loaded = modules_loaded_by("versicolor.cli")
    server_side = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "alembic", "redis", "asyncpg", "aiosqlite")
    ours = ("versicolor.api", "versicolor.app", "versicolor.db", "versicolor.runtime", "versicolor.auth")
    assert [name for name in loaded if name.split(".")[0] in server_side or name.startswith(ours)] == []


def test_a_server_starts_without_loading_the_statistics_engine() -> None:
    # numpy and scipy cost every server process (each worker, and each server the suite starts) about half a second
    # of CPU: the results service, which needs them, is imported where a report is asked for or read.
    loaded = modules_loaded_by("versicolor.app")
    assert "versicolor.web.reports" in loaded and "versicolor.api.automation.results" in loaded
    statistics = ("numpy", "scipy")
    assert [name for name in loaded if name.split(".")[0] in statistics or name.startswith("versicolor.stats")] == []


@pytest.mark.parametrize(
    ("folder", "allowed"), [("client", ("versicolor.client",)), ("sync", ("versicolor.client", "versicolor.sync"))]
)
def test_the_client_and_sync_import_nothing_of_the_server(folder: str, allowed: tuple[str, ...]) -> None:
    # They talk to the server over HTTP only, so that they could become a distribution of their own.
    outside = (*WEB, "sqlalchemy", "alembic", "redis", "asyncpg", "aiosqlite", "limits", "argon2", "jwt")
    offenders = {
        path: sorted(
            n
            for n in names
            if n.split(".")[0] in outside or (n.startswith("versicolor.") and not n.startswith(allowed))
        )
        for path, names in imported_modules(folder).items()
    }
    assert imported_modules(folder), f"src/versicolor/{folder} holds no module"
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_dashboard_calls_the_domain_never_the_api() -> None:
    # The one exception is the request id the service's outermost middleware sets, quoted on the 500 page.
    offenders = {
        path: sorted(
            n for n in names if n.startswith(("versicolor.api", "versicolor.cli")) and n != "versicolor.api.request_ids"
        )
        for path, names in imported_modules("web").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize(
    "folder", ["core", "tracking", "engine", "results", "stats", "db", "auth", "api", "client", "sync"]
)
def test_nothing_but_the_wiring_imports_the_dashboard(folder: str) -> None:
    offenders = {
        path: sorted(n for n in names if n.startswith("versicolor.web"))
        for path, names in imported_modules(folder).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}

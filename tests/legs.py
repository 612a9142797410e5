"""Which tests a leg of scripts/test runs, and why it leaves the others out (printed in its summary).

scripts/test runs the suite once on SQLite, then again on PostgreSQL with `--database-tests-only`. The second leg
runs only the tests whose answer can depend on the backend: those that use the database under test (the
`database_url` fixture, which the app, the runtime, the factory and every server of the suite stand on, or
`own_database_url`, an empty one of the test's own on the same backend) and
those of modules that read `BACKEND` to choose what to do. A test of neither (statistics, patterns, the page
engine's vectors, the docs) runs the same code whichever backend is set, and gave its answer on the first leg.

A test that exists for one backend only says so with `@pytest.mark.backend("postgresql", reason=...)`; on the
other backend it is not collected, and the summary says which and why (never a silent skip).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

BACKEND = os.environ.get("VERSICOLOR_TEST_BACKEND", "sqlite")

_LEFT_OUT = pytest.StashKey[list[tuple[str, str]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the database under test (scripts/test's second leg: the others ran "
        "on the first, and would run the same code again)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", 'backend(name, reason): runs on that backend only, e.g. backend("postgresql", reason="...")'
    )


def uses_the_database(item: pytest.Item) -> bool:
    """Whether the test's answer can depend on the backend under test."""
    fixtures = getattr(item, "fixturenames", ())
    module = getattr(item, "module", None)
    databases = {"database_url", "own_database_url"}  # the shared database under test, or one of the test's own
    return not databases.isdisjoint(fixtures) or getattr(module, "BACKEND", None) is not None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    reasons: list[tuple[str, str]] = []
    database_only = config.getoption("--database-tests-only")
    for item in items:
        marker = item.get_closest_marker("backend")
        if marker is not None and ("reason" not in marker.kwargs or marker.args[0] not in ("sqlite", "postgresql")):
            raise pytest.UsageError(f'{item.nodeid}: write @pytest.mark.backend("sqlite" or "postgresql", reason=...)')
        if marker is not None and marker.args[0] != BACKEND:
            left_out.append(item)
            reasons.append((item.nodeid, f"{marker.args[0]} only ({marker.kwargs['reason']})"))
        elif database_only and not uses_the_database(item):
            left_out.append(item)
            reasons.append((item.nodeid, ""))
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    config.stash[_LEFT_OUT] = reasons


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    reasons = config.stash.get(_LEFT_OUT, [])
    if not reasons:
        return
    terminalreporter.section(f"left out on {BACKEND}")
    for nodeid, why in reasons:
        if why:
            terminalreporter.line(f"{nodeid}: {why}")
    unused = Counter(nodeid.split("::")[0] for nodeid, why in reasons if not why)
    if unused:
        terminalreporter.line(
            f"{sum(unused.values())} tests that use no database (they ran on the first leg; --database-tests-only):"
        )
        per_folder: Counter[str] = Counter()
        for path, count in unused.items():
            per_folder[path.rsplit("/", 1)[0] + "/"] += count
        terminalreporter.line("  " + ", ".join(f"{folder} {count}" for folder, count in sorted(per_folder.items())))

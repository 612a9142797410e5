"""Real headless Chromium for tests: Debian's /usr/bin/chromium driven by Playwright for Python (async API).

tests/conftest.py registers this module as a plugin, so every test can ask for these fixtures:

- `chromium`: the one Browser of the test session (launched on first use, closed when the session ends).
- `browser_context`: a fresh BrowserContext for one test (its own cookies, storage and cache), closed after
  the test. Its default timeout is `TIMEOUT_MS`, so a wait that cannot succeed fails the test quickly.
- `page`: a Page in that context.

and these names:

- `screenshot(page, name) -> Path`: saves a PNG of the page as `SCREENSHOTS / f"{name}.png"`. When a test that
  used `browser_context` fails, a screenshot of each of its open pages is saved there too
  (`<test name>-<n>.png`), to see what the browser showed.
- `SCREENSHOTS`: `build/screenshots/` in the repository (git ignores it), or `VERSICOLOR_TEST_SCREENSHOTS`.
- `CHROMIUM`: the browser executable, `/usr/bin/chromium` or `VERSICOLOR_TEST_CHROMIUM`.

Host names: every host name this browser looks up resolves to 127.0.0.1 (`--host-resolver-rules`), so a test
serves pages on a local port and opens them under a real-looking name, `http://shop.example:{port}/`. Use names
under `.example` or `.test` (no HSTS preload list entry, so plain HTTP stays HTTP). Nothing the browser asks
for leaves the machine: its background networking, component updates, sync and QUIC are off. Every launch uses
a fresh, temporary user data dir (Playwright's default), removed when the browser closes.

A missing browser or Playwright fails the test, naming the fix (`scripts/bootstrap` installs both); it is
never a skip. Write browser tests as `async def` tests: they run on the suite's one event loop.

    from playwright.async_api import Page
    from tests.browsing import screenshot

    async def test_sign_in_page(page: Page, live_server: Server) -> None:
        await page.goto(live_server.base_url.replace("127.0.0.1", "versicolor.test") + "/app")
        assert await page.title() == "Sign in"
        await screenshot(page, "sign-in")
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright
except ImportError as exc:  # pragma: no cover - only on a machine set up without the dev dependencies
    _IMPORT_PROBLEM: str | None = f"Playwright for Python is not installed ({exc}); run scripts/bootstrap"
else:
    _IMPORT_PROBLEM = None

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("VERSICOLOR_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("VERSICOLOR_TEST_SCREENSHOTS", ROOT / "build" / "screenshots"))
TIMEOUT_MS = 10_000

# The flags this machine needs: no sandbox (we run as root in a container), no GPU, and no traffic of the
# browser's own (QUIC probes, component and safe-browsing updates, sync) that could leave 127.0.0.1.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
    "--host-resolver-rules=MAP * 127.0.0.1, EXCLUDE localhost",
]


def browser_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if _IMPORT_PROBLEM:
        return _IMPORT_PROBLEM
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"no Chromium at {CHROMIUM}: run scripts/bootstrap (as root it installs Debian's chromium; "
            "otherwise `sudo apt-get install chromium`), or point VERSICOLOR_TEST_CHROMIUM at a Chromium"
        )
    return None


async def screenshot(page: Page, name: str) -> Path:
    """Save a PNG of what the page shows as SCREENSHOTS/<name>.png and return its path."""
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    await page.screenshot(path=str(path), full_page=True)  # Playwright makes the missing folders
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember whether a test's call failed, so its browser context can keep screenshots of it."""
    report: Any = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """The session's one headless Chromium, shared by every browser test."""
    problem = browser_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser_context(chromium: Browser, request: pytest.FixtureRequest) -> AsyncIterator[BrowserContext]:
    """A fresh context (cookies, storage, cache of its own) for one test; screenshots of its pages if it fails."""
    context = await chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        if request.node.stash.get(_FAILED, False):
            for number, open_page in enumerate(context.pages, start=1):
                try:
                    await screenshot(open_page, f"{request.node.name}-{number}")
                except Exception as exc:
                    print(f"could not take a screenshot of {open_page.url}: {exc}")
        await context.close()


@pytest.fixture
async def page(browser_context: BrowserContext) -> Page:
    """A page in the test's own context."""
    return await browser_context.new_page()

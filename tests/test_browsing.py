"""The browser harness itself: a real Chromium opens a page under a real host name served on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.async_api import BrowserContext, Page

from tests.browsing import SCREENSHOTS, browser_problem, screenshot


class _EchoHost(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<title>echo</title><h1>{self.headers['Host'].split(':')[0]}</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_browser_is_installed() -> None:
    assert browser_problem() is None


async def test_a_real_host_name_reaches_a_local_server(page: Page, echo_port: int) -> None:
    await page.goto(f"http://shop.example:{echo_port}/")
    assert await page.inner_text("h1") == "shop.example"
    assert page.url == f"http://shop.example:{echo_port}/"


async def test_screenshot_lands_in_the_known_folder(page: Page, echo_port: int) -> None:
    await page.goto(f"http://docs.versicolor.test:{echo_port}/")
    path = await screenshot(page, "harness check")
    assert path == SCREENSHOTS / "harness_check.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_contexts_do_not_share_cookies(browser_context: BrowserContext, page: Page, echo_port: int) -> None:
    await page.goto(f"http://shop.example:{echo_port}/")
    await page.evaluate("document.cookie = 'seen=1; path=/'")
    other = await browser_context.browser.new_context()  # type: ignore[union-attr]
    try:
        fresh = await other.new_page()
        await fresh.goto(f"http://shop.example:{echo_port}/")
        assert await fresh.evaluate("document.cookie") == ""
    finally:
        await other.close()

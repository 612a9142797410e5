"""Pages of a customer's website for the engine's browser tests, served on 127.0.0.1 under any host name."""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_BODY = '<h1 id="title">Original</h1><button id="buy">Buy</button><div id="later"></div>'


@dataclass
class PageServer:
    """Serves the HTML published under each path, whatever host name the browser used."""

    port: int = 0
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def folder(self) -> str:
        """A path prefix no other test uses."""
        return f"/t{next(self._numbers)}"

    def publish(self, path: str, html: str, headers: dict[str, str] | None = None) -> None:
        """Serve `html` at `path` (any query string), with extra response headers."""
        self.pages[path] = (html, headers or {})

    def url(self, host: str, path: str) -> str:
        """The address of `path` on `host`."""
        return f"http://{host}:{self.port}{path}"


def shop_page(snippet: str, body: str = DEFAULT_BODY, head: str = "") -> str:
    """A page of the shop with the site's snippet in its head."""
    return f"<!doctype html><html><head><title>Shop</title>{head}{snippet}</head><body>{body}</body></html>"


@contextmanager
def serving() -> Iterator[PageServer]:
    """A page server on a free port, stopped afterwards."""
    pages = PageServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = pages.pages.get(self.path.split("?")[0].split("#")[0])
            if found is None:
                self.send_error(404)
                return
            html, headers = found
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    pages.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()

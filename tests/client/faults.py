"""A small HTTP proxy in front of a real server that injects the faults a network and a restart cause."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Faults:
    """What the next requests meet: a status answered without reaching the server, or a cut connection.

    `plan` is consumed one entry per request whose path starts with `only` (others pass): an int is a status
    answered by the proxy, "cut-before" closes the connection without forwarding, "cut-after" forwards the
    request and closes the connection instead of answering, None forwards.
    """

    plan: list[int | str | None] = field(default_factory=list)
    only: str = "/"
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_for(self, method: str, path: str) -> int | str | None:
        with self.lock:
            self.seen.append(f"{method} {path}")
            if path.startswith(self.only) and self.plan:
                return self.plan.pop(0)
            return None


@contextmanager
def proxy(target: str, faults: Faults) -> Iterator[str]:
    """Serve a proxy to `target` on a free loopback port; yields its base URL."""
    upstream = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            fault = faults.next_for(self.command, self.path)
            if fault == "cut-before":
                self.close_connection = True
                self.connection.close()
                return
            if isinstance(fault, int):
                payload = b'{"status": %d, "error": "injected", "message": "injected fault", "details": []}' % fault
                self.send_response(fault)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            connection = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            if fault == "cut-after":
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

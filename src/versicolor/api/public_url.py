"""Absolute URLs the service writes never come from the request's `Host` header.

A client chooses its `Host` header. URLs built from it (a list's `Link` header, a redirect to the path with
its trailing slash removed) would send whoever follows them, or a cache that stored them, wherever the client
said. So:

- with `VERSICOLOR_PUBLIC_URL` set (e.g. `https://versicolor.example.com`), absolute URLs start with it;
- without it, they are relative references (`/sites?page=2`), which clients resolve against the URL they
  requested (RFC 3986 §5; RFC 8288 allows them in `Link`).

`RedirectsWithoutHost` rewrites the `Location` of any redirect that names the request's own `Host` (the
framework builds its trailing-slash redirects from it) in the same way.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def base_of(configured: str | None) -> str:
    """The configured public URL without a trailing slash, or "" for relative references."""
    return (configured or "").rstrip("/")


def absolute(base: str, path: str, query: str = "") -> str:
    """The URL of `path` (and `query`) as the service should write it: under `base`, or relative."""
    return f"{base}{path}" + (f"?{query}" if query else "")


def base(request: Request) -> str:
    """The request's application's public URL, or "" (relative references)."""
    runtime = getattr(request.app.state, "runtime", None)
    configured = getattr(getattr(runtime, "settings", None), "public_url", None)
    return base_of(configured if isinstance(configured, str) else None)


class RedirectsWithoutHost:
    """Pure ASGI middleware: a redirect to the request's own `Host` points under the public URL instead."""

    def __init__(self, app: ASGIApp, *, public_url: str | None) -> None:
        self.app = app
        self.base = base_of(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), None)

        async def send_rewritten(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (name, self._rewritten(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_rewritten)

    def _rewritten(self, location: bytes, host: bytes | None) -> bytes:
        try:
            parts = urlsplit(location.decode("latin-1"))
        except ValueError:
            return location
        if not parts.netloc or host is None or parts.netloc.encode("latin-1").lower() != host.lower():
            return location  # relative already, or another site's (an OAuth redirect URI): left alone
        return absolute(self.base, parts.path or "/", parts.query).encode("latin-1")

"""Headers every answer carries: no MIME sniffing, a Content-Security-Policy, and no caching of private data.

- `X-Content-Type-Options: nosniff` on everything, so that a JSON answer or an uploaded string is never run
  as a script or a page.
- A Content-Security-Policy on every answer that has none of its own: `default-src 'none'; frame-ancestors
  'none'` lets a document load nothing and be framed nowhere; JSON answers need nothing more. The HTML
  pages (the authorization page, `/docs`) set their own, tailored one.
- `Cache-Control: no-store` on every answer that sets no caching of its own, but the public assets of the
  Data API (`/data/`, the page engine and page configurations cache by their own rules) and of `/docs`:
  API answers are private to a caller and some carry secrets (tokens, new credentials, signing keys), which
  no browser cache or shared proxy may keep.

HSTS is sent by the HTTPS rule (api/https.py), the one place that knows whether a request came over TLS.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
# Paths whose answers decide their own caching (public, or validated with ETags).
_CACHEABLE_PREFIXES = ("/data/", "/docs-assets/")


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to each answer that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(_CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in present:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_POLICY))
                if not cacheable and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

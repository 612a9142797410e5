"""Every request body is bounded while it is read: past its API's maximum it is a 413, and the rest is never read.

The maximum depends on the API a path belongs to (`limit_for`). The count is kept as the body arrives, so a body
is refused at the first byte past its maximum (or at once, before any byte, when its `Content-Length` says it is
too long), never after it was read whole. Nothing is read here: a request whose endpoint refuses it before
reading its body (a caller without credentials gets its 401 first, api/routes.py) costs no more than its headers.

Starlette (1.x) has a body limit of its own, but it answers a declared `Content-Length` over the limit with a
plain-text 413 in place of whatever the application answered, a 401 included; this one leaves the order of checks
to the application and lets the 413 be shaped by the caller's dialect (api/errors.py).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.tracking.events import MAX_BODY_BYTES as MAX_EVENTS_BODY_BYTES

KIB = 1024
MIB = 1024 * KIB

# The Automation and v3 APIs: eight times the largest single field (a variation's or experiment's code, 256 KiB of
# UTF-8), room for JSON's escapes (a client that escapes every non-ASCII character doubles CJK text) and the rest.
MAX_API_BODY_BYTES = 2 * MIB
# Forms: /oauth/token, /oauth/revoke and the sign-in and consent pages carry a few short fields.
MAX_FORM_BODY_BYTES = 16 * KIB


def limit_for(path: str) -> int:
    """The largest body, in bytes, a request to `path` may send."""
    if path.startswith("/data/"):
        return MAX_EVENTS_BODY_BYTES  # the Data API: a batch of up to 5,000 events
    if path == "/oauth" or path.startswith("/oauth/"):
        return MAX_FORM_BODY_BYTES
    return MAX_API_BODY_BYTES


def shown(size: int) -> str:
    """A byte count as a person reads it: `2 MiB (2097152 bytes)`."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name} ({size} bytes)"
    return f"{size} bytes"


class BodyTooLarge(HTTPException):
    """A request body past its API's maximum (413).

    An HTTPException so that FastAPI passes it on from its body reading as it is (any other exception there
    becomes "There was an error parsing the body", 400) and the app's handler shapes it in the caller's dialect.
    """

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"the body is {declared} bytes, over" if declared is not None else "the body is over"
        super().__init__(status_code=413, detail=f"{size} the {shown(limit)} this API takes in one request")
        self.limit = limit


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimits:
    """ASGI middleware: hands the application a `receive` that refuses a body past its path's maximum."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _declared_length(scope)
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit, declared)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, bounded_receive, send)

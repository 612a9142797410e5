"""Which methods a path answers: any other method is a 405 whose `Allow` names them all; `HEAD` is `GET` unsent.

Starlette alone got both wrong. FastAPI makes one route per method, and a method no route of a path takes was
answered with the `Allow` of the first route of that path only (`POST /sites/1`: `Allow: GET`, though PATCH, PUT
and DELETE work too). And a literal path is also matched by a parameter of another: `/sites/search` takes POST,
`/sites/{site_id}` takes GET, so `GET /sites/search` was a 400 saying "search" is not a site id.

`install` adds, once every route is in, one route per path that answers every method the path's routes do not
take with a 405 naming those they take:

- for a path without parameters, in front of every route: it matches that very path only, so it takes no
  request from any other route, and it answers before a parameter of another path can;
- for a path with parameters, after every route: it answers only what no route took.

`HeadAsGet` serves `HEAD` as the same request's `GET`, with the headers and without the body (RFC 9110 §9.3.2),
wherever `GET` works; FastAPI's routes take GET only.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class OtherMethods(BaseRoute):
    """Answers the methods a path's routes do not take with a 405 naming those they do."""

    def __init__(self, path: str, allowed: frozenset[str]) -> None:
        self.path = path
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.allowed = allowed | ({"HEAD"} if "GET" in allowed else set())
        self.allow = ", ".join(sorted(self.allowed))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for a method this path does not take (with a root path, Starlette decides as before)."""
        if (
            scope["type"] == "http"
            and scope["method"] not in self.allowed
            and not scope.get("root_path")
            and self.path_regex.match(scope["path"])
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The 405, in the request's dialect (api/errors.py)."""
        raise HTTPException(405, headers={"Allow": self.allow})

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """It has no name to be found by."""
        raise NoMatchFound(name, path_params)


def install(app: FastAPI) -> None:
    """Add an `OtherMethods` route for every path of `app` (call it once every route is added)."""
    methods: dict[str, set[str]] = {}
    for context in iter_route_contexts(app.routes):
        path, taken = context.path_format, context.methods
        if isinstance(path, str) and taken:
            methods.setdefault(path, set()).update(taken)
    guards = [OtherMethods(path, frozenset(taken)) for path, taken in methods.items()]
    literal = [guard for guard in guards if not guard.param_convertors]
    parametric = [guard for guard in guards if guard.param_convertors]
    app.router.routes[:0] = literal
    app.router.routes.extend(parametric)


class HeadAsGet:
    """Pure ASGI middleware: a `HEAD` request is served as `GET`, and what would be the body is not sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server keeps its own scope, and must still know the request was a HEAD (no body follows).
        await self.app({**scope, "method": "GET"}, receive, headers_only)

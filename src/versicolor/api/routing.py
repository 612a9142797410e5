"""Finding a request's route by the first segment of its path, instead of trying every route in turn.

FastAPI (0.16x) keeps each included router as one entry of the app's route list; for every request it tries the
entries in order, inside an included router every route with some bookkeeping each, and then matches the chosen
router a second time to handle the request. A request for `/accounts/me` went past the health, OAuth, Data API
and sites routes first (about 20 µs, a sixth of the whole request); one for `/variations/1` past ~60 routes.

`RouteIndex` keeps, per first path segment, the entries that can match a path starting with it (an entry whose
paths all start with a literal segment can match no other), in their order, plus the entries it cannot place
(a parameter first, a host route, anything unknown), which every segment gets. It tries those entries exactly
as FastAPI's router would; when none matches fully (405s, redirects for a trailing slash, 404s) or the request
is unusual (a root path, telemetry), it hands the request to FastAPI's router, which then decides as always.
Since an entry left out cannot match, the route chosen is always the one FastAPI would choose.

`include` adds a router's routes to the app as routes of its own (what `include_router` did before FastAPI
0.16x), so that matching one costs a regular expression, not the included router's bookkeeping twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

_ANY = "{"  # stands for "any first segment": a literal segment never contains a brace


def _first_segment(path: str) -> str:
    segment = path[1:].partition("/")[0] if path.startswith("/") else _ANY
    return _ANY if "{" in segment else segment


def _segments(route: BaseRoute, prefix: str = "") -> set[str]:
    """The first segments of the paths `route` can match (`_ANY` when it cannot tell)."""
    # An included router (FastAPI keeps its routes, and the prefix it was included with, apart).
    included = getattr(route, "original_router", None)
    included_with = getattr(getattr(route, "include_context", None), "prefix", None)
    if isinstance(included, APIRouter) and isinstance(included_with, str):
        prefix += included_with
        if prefix:
            return {_first_segment(prefix)}
        found: set[str] = set()
        for child in included.routes:
            found |= _segments(child)
        return found or {_ANY}
    path = getattr(route, "path", None)
    if not isinstance(path, str) or (not path and not prefix):
        return {_ANY}
    return {_first_segment(prefix + path)}


class RouteIndex:
    """The app's routes by first path segment; an ASGI app that routes as the FastAPI router it indexes."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._by_segment: dict[str, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []
        self._indexed = -1  # how many routes the router had when indexed

    def _index(self) -> None:
        routes = list(self.router.routes)
        placed = [_segments(route) for route in routes]
        names = {segment for segments in placed for segment in segments if segment != _ANY}
        self._by_segment = {
            name: [route for route, found in zip(routes, placed, strict=True) if name in found or _ANY in found]
            for name in names
        }
        self._anywhere = [route for route, segments in zip(routes, placed, strict=True) if _ANY in segments]
        self._indexed = len(routes)

    def candidates(self, path: str) -> Iterable[BaseRoute]:
        """The routes that may match `path`, in the router's order."""
        if self._indexed != len(self.router.routes):
            self._index()  # routes added after the app was made (tests): index again
        return self._by_segment.get(path[1:].partition("/")[0], self._anywhere)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path") or "fastapi.telemetry" in scope or self.router.form_limits:
            await self.router.app(scope, receive, send)
            return
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                if any(key.startswith("fastapi") for key in child_scope):
                    break  # FastAPI's own scope bookkeeping: let its router merge it
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.router.app(scope, receive, send)


# Everything a route is made with, read back from the route (its attributes carry the same names).
ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in {"self", "path", "endpoint", "route_class_override"}
)


_DEFAULT_LIFESPAN = type(APIRouter().lifespan_context)


def include(app: FastAPI, router: APIRouter) -> None:
    """`app.include_router(router)`, with the router's routes added to the app's own list.

    The routes are made again by the app's router, so they are the app's in every respect (OpenAPI, dependency
    overrides). A router with anything else than plain API routes, or with lifespan handlers, is included as usual.
    """
    plain = all(isinstance(route, APIRoute) for route in router.routes)
    if not plain or router.on_startup or router.on_shutdown or type(router.lifespan_context) is not _DEFAULT_LIFESPAN:
        app.include_router(router)
        return
    for route in router.routes:
        assert isinstance(route, APIRoute)
        options = {name: getattr(route, name) for name in ROUTE_OPTIONS}  # every one: api/framework.py checks
        app.router.add_api_route(route.path, route.endpoint, route_class_override=type(route), **options)


def install(app: FastAPI) -> RouteIndex:
    """Route `app`'s requests through a `RouteIndex` of its router."""
    index = RouteIndex(app.router)
    app.router.middleware_stack = index
    return index

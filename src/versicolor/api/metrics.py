"""`GET /metrics` for Prometheus, and the timing of every request by its route (docs/operations.md, "Metrics").

Who may read it: nobody, until VERSICOLOR_METRICS_TOKEN is set; then whoever sends that token as a bearer
(Prometheus: `authorization: {credentials_file: ...}`). The counts tell about traffic and tenants' activity,
and a public bind must not hand them out, so there is no open default. Without the token the route does not
exist (404) and no request is timed: the service pays nothing for metrics it does not serve.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor import metrics
from versicolor.api.dialects import Dialect, error_response
from versicolor.settings import Settings

# The route label of a request no route took (an unknown path): one value, whatever the path.
UNMATCHED = "(unmatched)"
# The method label: any other method a client makes up counts as "other", so that it cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """Times each request until its last byte is sent, and counts it under its route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # prometheus_client's labels() checks and converts its arguments on every call: a request looks its
        # series up here instead. Bounded: methods are the known ones, routes the app's, statuses the server's.
        self._series: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering (errors.py answers it)

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in METHODS else "other"
            key = (method, route_of(scope), status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = metrics.REQUEST_SECONDS.labels(method, key[1], str(status))
            series.observe(elapsed)


def route_of(scope: Scope) -> str:
    """The template of the route that took the request (`/experiments/{experiment_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    # A mounted app's routes (the dashboard under /app) are templates below the mount's fixed prefix.
    return f"{scope.get('root_path', '')}{path}" or "/"


def install(app: FastAPI, settings: Settings) -> None:
    """With a metrics token set: time every request, and serve `/metrics` to that token.

    Installed inside the HTTPS rule, which hands a copy of the scope on behind a proxy: the route the router
    writes into the scope must be found in the one this middleware holds."""
    token = settings.metrics_token
    if not token:
        return
    expected = f"Bearer {token}".encode()

    async def read_metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return error_response(
                Dialect.AUTOMATION,
                401,
                "/metrics needs the metrics token (VERSICOLOR_METRICS_TOKEN) as a bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, media_type = metrics.exposition(request.headers.get("accept", ""))
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})

    app.add_route("/metrics", read_metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics)

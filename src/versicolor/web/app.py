"""The dashboard's ASGI application, mounted at /app: its routes, its static assets, and its error pages.

It is a Starlette application of its own inside the service (FastAPI's app mounts it), so that its 404s and
500s are pages rather than the API's JSON, and nothing of it appears in the API's OpenAPI document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.api.request_ids import current_request_id
from versicolor.auth.throttle import FailureThrottle
from versicolor.runtime import Runtime
from versicolor.web import pages
from versicolor.web.views import account, domains, experiment, experiments, home, sign_in, sites

log = logging.getLogger("versicolor.web")

# Versioned asset URLs (rendering.asset) change with the file: a browser may keep a copy for a year.
_ASSET_CACHE = b"public, max-age=31536000, immutable"


class _Assets(StaticFiles):
    """The package's static files, cached for good (their URLs carry a digest of their content)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                message["headers"] = [*message.get("headers", []), (b"cache-control", _ASSET_CACHE)]
            await send(message)

        await super().__call__(scope, receive, cached)


class _Unexpected:
    """Answers an unexpected failure with the dashboard's 500 page (the log has the traceback and request id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            request_id = current_request_id.get()
            log.exception("unhandled error in %s %s (request %s)", scope.get("method"), scope.get("path"), request_id)
            if started:
                raise
            message = f"The dashboard failed to answer. If it happens again, quote request id {request_id}."
            await pages.error_page(500, message, me=None)(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        message = f"There is no page at {request.url.path[:200]}."
    else:
        message = str(exc.detail)[:200]
    return pages.error_page(exc.status_code if exc.status_code != 405 else 404, message, me=None, back="/app/")


def routes() -> list[Route | Mount]:
    """Every page and form target of the dashboard, relative to /app."""
    return [
        Route("/", home.index),
        Route("/sign-in", sign_in.sign_in_page, methods=["GET"]),
        Route("/sign-in", sign_in.sign_in, methods=["POST"]),
        Route("/sign-out", sign_in.sign_out, methods=["POST"]),
        Route("/experiments", experiments.experiments_list, methods=["GET"]),
        Route("/experiments/{experiment_id:int}", experiment.experiment_page, methods=["GET"]),
        Route("/experiments/{experiment_id:int}/results", experiment.refresh_results, methods=["POST"]),
        Route("/experiments/{experiment_id:int}/status/{action}", experiment.confirm_action, methods=["GET"]),
        Route("/experiments/{experiment_id:int}/status", experiment.change_status, methods=["POST"]),
        Route("/sites", sites.sites_list, methods=["GET"]),
        Route("/sites/{site_id:int}", sites.site_page, methods=["GET"]),
        Route("/domains/{url_id}", domains.change_domain, methods=["POST"]),
        Route("/environments/{url_group_id}", domains.change_environment, methods=["POST"]),
        Route("/account", account.account_page, methods=["GET"]),
        Route("/account/credentials", account.rotate_credentials, methods=["POST"]),
        Route("/account/secret", account.rotate_account_secret, methods=["POST"]),
        Route("/account/users", account.invite_user, methods=["POST"]),
        Route("/account/users/{user_id:int}", account.change_role, methods=["POST"]),
        Route("/account/users/{user_id:int}/remove", account.remove_user, methods=["POST"]),
        Mount("/static", _Assets(packages=[("versicolor.web", "static")]), name="static"),
    ]


def create(*, runtime_of: Callable[[], Runtime], throttle_of: Callable[[], FailureThrottle]) -> Starlette:
    """The dashboard, reaching the service's Runtime and sign-in throttle through the functions given."""
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(_Unexpected)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.runtime_of = runtime_of
    app.state.throttle_of = throttle_of
    return app

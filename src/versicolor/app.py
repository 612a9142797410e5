"""create_app(): wiring only. Every behaviour lives in the module named for it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from versicolor import __version__, metrics, web
from versicolor.api import deps, docs, errors, framework, health, methods, oauth, openapi, routing
from versicolor.api import metrics as api_metrics
from versicolor.api.automation import accounts as automation_accounts
from versicolor.api.automation import apps as automation_apps
from versicolor.api.automation import custom_datas as automation_custom_datas
from versicolor.api.automation import experiments as automation_experiments
from versicolor.api.automation import goals as automation_goals
from versicolor.api.automation import personalizations as automation_personalizations
from versicolor.api.automation import results as automation_results
from versicolor.api.automation import segments as automation_segments
from versicolor.api.automation import simulations as automation_simulations
from versicolor.api.automation import sites as automation_sites
from versicolor.api.automation import users as automation_users
from versicolor.api.automation import variations as automation_variations
from versicolor.api.body_limits import BodyLimits
from versicolor.api.conventions import ratelimit
from versicolor.api.data import access as data_access
from versicolor.api.data import router as data_router
from versicolor.api.headers import SecurityHeaders
from versicolor.api.https import HttpsRule, parse_networks
from versicolor.api.public_url import RedirectsWithoutHost
from versicolor.api.request_ids import RequestIdMiddleware
from versicolor.api.v3 import front_door as v3_front_door
from versicolor.api.v3 import url_groups as v3_url_groups
from versicolor.api.v3 import urls as v3_urls
from versicolor.core.experiments import scheduler as experiment_scheduler
from versicolor.runtime import Runtime
from versicolor.settings import Settings


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The ASGI application. With `runtime` given (tests, benchmarks) it is used and not closed."""
    framework.check()  # refuse a FastAPI or Starlette whose internals api/routing.py and routes.py rely on changed
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            try:
                yield
            finally:
                await deps.close_token_gate(app)
            return
        started = await Runtime.start(settings)
        app.state.runtime = started
        if settings.metrics_token:
            metrics.process_started()
            metrics.watch_pool(started.engine)
        try:
            # SCHEDULED experiments start and stop; hosts' sightings (last_seen_at) are written in batches.
            async with (
                experiment_scheduler.running(started.sessions),
                data_access.sightings_written(app, started.sessions),
            ):
                yield
        finally:
            await deps.close_token_gate(app)
            await started.close()
            metrics.process_exiting()

    app = FastAPI(
        title="Versicolor",
        version=__version__,
        description="Experimentation and web-experience platform: Automation API and Edit API v3.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    if runtime is not None:
        app.state.runtime = runtime
        if settings.metrics_token:
            metrics.watch_pool(runtime.engine)

    errors.install(app)
    openapi.install(app)  # the API document, completed from what each route declares
    docs.install(app)
    app.include_router(health.router)
    app.include_router(oauth.router)
    data_access.install(app, settings)  # the process's cache of host decisions, revenue caps
    app.include_router(data_router)  # JSON and NDJSON bodies: it checks media types itself

    # Automation and v3 routes check their input and their caller first, as CheckedRoutes (api/routes.py).
    for router in (
        automation_sites.router,
        automation_accounts.router,  # before users: its `/accounts/me` must match before `/accounts/{id}`
        automation_apps.router,
        automation_users.router,
        automation_goals.router,
        automation_segments.router,
        automation_custom_datas.router,
        automation_simulations.router,  # before experiments: `/experiments/simulate/{id}`
        automation_experiments.router,
        automation_variations.router,
        automation_personalizations.router,
        v3_urls.router,
        v3_url_groups.router,
        automation_results.router,
    ):
        routing.include(app, router)
    # `/`: the front page, or with an account secret the Edit API v3's check of it (api/v3/front_door.py).
    app.add_api_route("/", v3_front_door.front_door, methods=["GET"], include_in_schema=False)
    # The dashboard: server-rendered pages over the same core, sharing the sign-in throttle with /oauth/authorize.
    app.mount("/app", web.create(runtime_of=lambda: app.state.runtime, throttle_of=lambda: oauth.app_throttle(app)))
    methods.install(app)  # every other method of a path: a 405 naming those it takes
    routing.install(app)  # the route of a request found by its path's first segment

    # Added last = outermost: the request id is set before anything else runs.
    app.add_middleware(BodyLimits)  # every body bounded while it is read, whoever reads it
    ratelimit.install(app, settings)  # before anything costly: a refused request touches nothing else
    api_metrics.install(app, settings)  # outside the limiter: its 429s are counted too
    # Outside the limiter: a refused plain-HTTP request is not counted, and the limiter sees the client's address
    # as a trusted proxy gives it.
    app.add_middleware(
        HttpsRule,
        required=settings.require_https,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        hsts_max_age=settings.hsts_max_age,
    )
    app.add_middleware(errors.UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RedirectsWithoutHost, public_url=settings.public_url)
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets them, a 500 or a 429 too
    app.add_middleware(methods.HeadAsGet)  # HEAD wherever GET works, before anything else sees the request
    logging.getLogger("versicolor").setLevel(settings.log_level.upper())
    return app

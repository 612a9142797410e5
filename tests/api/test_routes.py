"""Every Automation and v3 route checks its input, then its caller, before FastAPI solves anything."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, request_response

from tests.factories import Factory
from versicolor.api import errors, routing, security
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, CallerUser
from versicolor.core.roles import Role
from versicolor.runtime import Runtime

_CALLER_CALLS = {security._bearer_caller, security._caller_user}


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return [
        route
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.endpoint.__module__.startswith(("versicolor.api.automation.", "versicolor.api.v3."))
    ]


# `/` answers a browser with the front page and checks an account secret only when one is given: its caller is
# optional, so it reads the credential itself (api/v3/front_door.py), and it has no body to read before that.
_OPTIONAL_CALLER = {"/"}


def test_every_automation_and_v3_route_is_a_checked_route(app: FastAPI) -> None:
    routes = _api_routes(app)
    assert len(routes) > 50
    unchecked = {route.path for route in routes if not isinstance(route, CheckedRoute)}
    assert unchecked == _OPTIONAL_CALLER


def test_no_route_leaves_its_caller_to_fastapi(app: FastAPI) -> None:
    left = [
        route.path
        for route in _api_routes(app)
        if any(sub.call in _CALLER_CALLS for sub in route.dependant.dependencies)
    ]
    assert left == []


async def test_an_unauthenticated_write_is_refused_before_its_body_is_read(client: httpx.AsyncClient) -> None:
    answer = await client.post("/sites", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_role_is_refused_before_the_body_is_read(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    headers = {**viewer.headers, "Content-Type": "application/json"}
    answer = await client.post("/sites", content=b"{not json", headers=headers)
    assert answer.status_code == 403


def _probe_app(runtime: Runtime) -> FastAPI:
    """An app of its own with routes that take their caller in every way an endpoint can."""
    router = APIRouter(route_class=CheckedRoute)

    @router.get("/probe/both")
    async def both(caller: Caller, user: CallerUser) -> dict[str, object]:
        return {"account": caller.account_id, "role": caller.role, "email": user.email}

    @router.get("/probe/with-request/{number}")
    async def with_request(number: int, request: Request, user: CallerUser) -> dict[str, object]:
        return {"number": number, "path": request.url.path, "user": user.id}

    @router.get("/probe/nobody")
    async def nobody() -> dict[str, str]:
        return {"status": "open"}

    app = FastAPI()
    app.state.runtime = runtime
    errors.install(app)
    routing.include(app, router)  # as create_app adds the API's routers
    return app


async def test_an_endpoint_gets_its_caller_and_user_and_its_other_parameters(
    runtime: Runtime, factory: Factory
) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    transport = httpx.ASGITransport(app=_probe_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as probe:
        both = await probe.get("/probe/both", headers=editor.headers)
        assert both.status_code == 200, both.text
        assert both.json() == {"account": account.account_id, "role": "EDITOR", "email": editor.email}

        with_request = await probe.get("/probe/with-request/7", headers=editor.headers)
        assert with_request.json() == {"number": 7, "path": "/probe/with-request/7", "user": editor.user_id}
        assert (await probe.get("/probe/with-request/x", headers=editor.headers)).status_code == 400

        assert (await probe.get("/probe/both")).status_code == 401
        assert (await probe.get("/probe/with-request/7")).status_code == 401
        assert (await probe.get("/probe/nobody")).json() == {"status": "open"}


async def test_a_route_whose_handler_is_built_again_still_checks_its_caller(runtime: Runtime, factory: Factory) -> None:
    app = _probe_app(runtime)
    route = next(r for r in app.routes if isinstance(r, CheckedRoute) and r.path == "/probe/both")
    route.app = request_response(route.get_route_handler())  # as FastAPI does for each inclusion of a route
    account = await factory.account()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as probe:
        assert (await probe.get("/probe/both")).status_code == 401
        assert (await probe.get("/probe/both", headers=account.headers)).status_code == 200


def test_a_plain_def_endpoint_cannot_take_its_caller() -> None:
    router = APIRouter(route_class=CheckedRoute)

    def blocking(caller: Caller) -> dict[str, int]:
        return {"account": caller.account_id}

    with pytest.raises(TypeError, match="must be `async def`"):
        router.add_api_route("/blocking", blocking, methods=["GET"])

"""The framework internals the code leans on are checked, and a change to any of them is named, not suffered.

Each simulated change below is one a FastAPI or Starlette release could plausibly make; the check must name it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys
from typing import Any

import pytest
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from versicolor.api import framework
from versicolor.app import create_app


def failures() -> dict[str, str]:
    """What each failing probe says, by reliance name."""
    return {reliance.name: problem for reliance, problem in framework.probe_problems()}


def test_the_installed_frameworks_have_everything_the_code_leans_on() -> None:
    assert framework.version_problems() == []
    assert failures() == {}


def test_a_router_that_stops_using_its_middleware_stack_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    async def call_the_routes_directly(self: Router, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    monkeypatch.setattr(Router, "__call__", call_the_routes_directly)
    assert "middleware_stack" in failures()["the router's middleware stack"]


def test_fastapi_solving_a_dependant_rebuilt_from_the_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastapi.routing

    original = fastapi.routing.get_request_handler

    def from_the_endpoint(*args: Any, dependant: Any, **kwargs: Any) -> Any:
        # As if FastAPI derived what to solve from the endpoint again when it builds the handler.
        return original(*args, dependant=get_dependant(path="/probe", call=inspect.unwrap(dependant.call)), **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_request_handler", from_the_endpoint)
    assert "route.dependant" in failures()["dependencies taken out of a route"]


def test_a_route_option_no_longer_kept_as_an_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    original = APIRoute.__init__

    def renaming(self: APIRoute, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.response_descriptions = self.responses  # type: ignore[attr-defined]
        del self.responses

    monkeypatch.setattr(APIRoute, "__init__", renaming)
    assert "responses" in failures()["route options read back"]


def test_fastapi_wrapping_errors_raised_while_reading_a_body_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.requests import Request

    original = Request.body

    async def wrapping(self: Request) -> bytes:
        # As if FastAPI caught whatever reading the body raised, and answered its own 400.
        try:
            return await original(self)
        except Exception as exc:
            raise ValueError("There was an error parsing the body") from exc

    monkeypatch.setattr(Request, "body", wrapping)
    assert "reads a body" in failures()["body errors passed on"]


def test_included_routers_kept_differently_only_cost_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    original = APIRouter.include_router

    def renaming(self: APIRouter, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        entry = self.routes[-1]
        entry.source_router = entry.original_router  # type: ignore[attr-defined]
        del entry.original_router  # type: ignore[attr-defined]

    monkeypatch.setattr(APIRouter, "include_router", renaming)
    assert "slower, still right" in failures()["included routers' entries"]
    [reliance] = [r for r in framework.RELIANCES if r.name == "included routers' entries"]
    assert not reliance.fatal


def test_a_framework_outside_the_declared_range_is_refused_with_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.999.0" if name == "fastapi" else real(name))
    [problem] = framework.version_problems()
    assert problem.startswith("fastapi 0.999.0 is installed, but this Versicolor is tested with fastapi")
    assert "<0.166" in problem


def test_the_app_refuses_to_be_made_when_a_fatal_reliance_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    async def call_the_routes_directly(self: Router, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    monkeypatch.setattr(Router, "__call__", call_the_routes_directly)
    monkeypatch.setattr(framework, "check", framework.check.__wrapped__)  # not the process's cached answer
    with pytest.raises(framework.UnsupportedFramework, match=r"api/routing\.py install"):
        create_app()


def test_serve_refuses_to_start_on_an_untested_framework_with_one_clear_line() -> None:
    pretend = (
        "import importlib.metadata as m; real = m.version; "
        "m.version = lambda name: '0.999.0' if name == 'fastapi' else real(name); "
        "from versicolor.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", pretend, "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "fastapi 0.999.0 is installed, but this Versicolor is tested with fastapi" in result.stderr
    assert "Traceback" not in result.stderr

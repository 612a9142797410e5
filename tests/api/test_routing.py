"""The route index chooses the route FastAPI's own router would, for every path the API has and some it has not."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match

from tests.factories import Factory
from versicolor.api import routing
from versicolor.api.routing import RouteIndex
from versicolor.app import create_app
from versicolor.runtime import Runtime


def _first_full_match(routes: object, scope: dict[str, object]) -> BaseRoute | None:
    for route in routes:  # type: ignore[attr-defined]
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route  # type: ignore[no-any-return]
    return None


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _paths(app: FastAPI) -> list[tuple[str, str]]:
    concrete = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            filled = re.sub(r"\{[^}]+\}", "1", path)
            concrete += [(method.upper(), filled), (method.upper(), filled + "/"), (method.upper(), filled + "/x")]
    return concrete


def test_the_index_chooses_what_the_router_would_for_every_documented_path(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)
    index = RouteIndex(app.router)
    tried = [*_paths(app), ("GET", "/"), ("GET", "/nothing"), ("GET", "//accounts"), ("PUT", "/accounts/me")]
    assert len(tried) > 100
    for method, path in tried:
        scope = _scope(method, path)
        expected = _first_full_match(app.router.routes, scope)
        assert _first_full_match(index.candidates(path), scope) is expected, (method, path)


async def test_overlapping_paths_methods_and_slashes_answer_as_before(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    me = await client.get("/accounts/me", headers=account.headers)
    assert me.status_code == 200 and me.json()["id"] == account.admin.user_id  # not /accounts/{user_id}
    user = await client.get(f"/accounts/{account.admin.user_id}", headers=account.headers)
    assert user.status_code == 200
    assert (await client.put("/accounts/me", headers=account.headers)).status_code == 405
    assert (await client.get("/nothing/here", headers=account.headers)).status_code == 404
    slash = await client.get("/accounts/me/", headers=account.headers)
    assert slash.status_code == 307 and slash.headers["location"].endswith("/accounts/me")


@pytest.mark.parametrize("path", ["/late", "/sites/late/route"])
async def test_a_route_added_after_the_app_was_made_is_found(runtime: Runtime, path: str) -> None:
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 1)), base_url="http://localhost"
    ) as http:
        assert (await http.get("/healthz")).status_code == 200  # the index is made
        late = APIRouter()

        @late.get(path)
        async def answer() -> dict[str, str]:
            return {"late": "yes"}

        app.include_router(late)
        assert (await http.get(path)).json() == {"late": "yes"}


def test_routers_added_flat_are_documented_as_included_ones(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    flat = create_app(runtime=runtime).openapi()

    def include_router(app: FastAPI, router: APIRouter, *, dependencies: object = ()) -> None:
        app.include_router(router, dependencies=dependencies)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "include", include_router)
    assert flat == create_app(runtime=runtime).openapi()
    assert len(flat["paths"]) > 40

"""The API document tells the truth: security, every error status with its dialect's body, real parameter types,
headers; derived from what each route declares (api/openapi.py), so a new route gets it too."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query
from pydantic import BaseModel

from versicolor.api import routing
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller
from versicolor.app import create_app
from versicolor.runtime import Runtime


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


async def test_no_operation_documents_a_422_which_is_never_sent(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    assert [(path, method) for path, method, op in _operations(document) if "422" in op["responses"]] == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_operations_that_check_a_caller_declare_how_and_answer_401_and_403(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    schemes = document["components"]["securitySchemes"]
    assert set(schemes["OAuth2"]["flows"]) == {"clientCredentials", "authorizationCode"}
    assert schemes["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert schemes["AccountSecret"] == {
        **schemes["AccountSecret"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Account-Secret",
    }
    me = document["paths"]["/accounts/me"]["get"]
    assert me["security"] == [{"OAuth2": []}, {"BearerToken": []}]
    urls = document["paths"]["/v3/edit/urls"]["get"]
    assert {"AccountSecret": []} in urls["security"] and {"OAuth2": []} in urls["security"]
    secured = [(path, method, op) for path, method, op in _operations(document) if op.get("security")]
    assert len(secured) > 60
    for path, method, operation in secured:
        bearer = any("OAuth2" in requirement for requirement in operation["security"])
        if bearer:
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
    # A page's request carries no credential, only its Origin: the events endpoint takes either.
    events = document["paths"]["/data/v1/sites/{site_code}/events"]["post"]
    assert events["security"] == [{"OAuth2": []}, {"BearerToken": []}, {}]
    assert {"Origin", "Referer"} <= {p["name"] for p in events["parameters"] if p["in"] == "header"}
    assert "application/json" in events["requestBody"]["content"]
    assert document["paths"]["/healthz"]["get"].get("security") is None


async def test_errors_carry_the_body_of_their_dialect(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or path.startswith(("/oauth/", "/readyz")):
                continue
            schema = response["content"]["application/json"]["schema"]["$ref"]
            expected = "V3ErrorBody" if path.startswith("/v3/") else "AutomationErrorBody"
            assert schema.endswith(expected), (method, path, status)
    assert document["paths"]["/v3/edit/urls/{url_id}"]["patch"]["responses"]["429"]["headers"]["X-Ratelimit-Wait"]
    token = document["paths"]["/oauth/token"]["post"]["responses"]
    assert token["401"]["content"]["application/json"]["schema"]["required"] == ["error", "error_description"]


async def test_paging_parameters_are_integers_with_their_bounds(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/goals"]["get"]["parameters"]}
    assert parameters["page"] == {**parameters["page"], "type": "integer", "minimum": 1}
    assert parameters["perPage"]["type"] == "integer"
    assert {"const": -1} in parameters["perPage"]["oneOf"]
    limit = {p["name"]: p["schema"] for p in document["paths"]["/v3/edit/url_groups"]["get"]["parameters"]}["limit"]
    assert limit == {**limit, "type": "integer", "minimum": 1, "maximum": 500}


async def test_lists_document_their_count_and_links_and_every_answer_its_request_id(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    for path in ("/sites", "/experiments"):
        headers = document["paths"][path]["get"]["responses"]["200"]["headers"]
        assert {"X-Total-Count", "Link", "X-Request-Id", "X-RateLimit-Remaining"} <= set(headers)
    search = document["paths"]["/goals/search"]["post"]["responses"]["200"]["headers"]
    assert {"X-Total-Count", "Link"} <= set(search)
    assert "X-Total-Count" not in document["paths"]["/goals/{goal_id}"]["get"]["responses"]["200"]["headers"]
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            assert "X-Request-Id" in response.get("headers", {}), (method, path, status)
    assert document["components"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


class WidgetIn(BaseModel):
    name: str


def test_a_new_route_is_documented_from_what_it_declares(runtime: Runtime) -> None:
    router = APIRouter(prefix="/widgets", tags=["widgets"], route_class=CheckedRoute)

    @router.get("/{widget_id}")
    async def get_widget(widget_id: int, caller: Caller) -> dict[str, int]:
        return {"id": widget_id}

    @router.post("")
    async def make_widget(body: WidgetIn, caller: Caller, page: Annotated[int, Query()] = 1) -> dict[str, int]:
        return {"id": 1}

    app = create_app(runtime=runtime)
    routing.include(app, router)
    paths = app.openapi()["paths"]
    read = paths["/widgets/{widget_id}"]["get"]
    assert read["security"] == [{"OAuth2": []}, {"BearerToken": []}]
    assert set(read["responses"]) == {"200", "400", "401", "403", "404", "429"}
    write = paths["/widgets"]["post"]
    assert set(write["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "429"}

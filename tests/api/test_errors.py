"""Bad input answers a 400 in the caller's dialect naming the field; faults answer a 500 with a request id."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from tests.factories import Factory
from versicolor.app import create_app
from versicolor.runtime import Runtime


async def test_malformed_json_is_a_400_naming_the_body(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        "/sites", content=b'{"name": ', headers={**account.headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == 400 and body["error"] == "Bad Request"
    assert "not valid JSON" in body["message"]


async def test_body_without_json_content_type_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/sites", content=b'{"name": "x"}', headers=account.headers)
    assert answer.status_code == 400
    assert "Content-Type: application/json" in answer.json()["message"]
    form = await client.post("/sites", data={"name": "x"}, headers=account.headers)
    assert form.status_code == 400
    assert "application/x-www-form-urlencoded" in form.json()["message"]


async def test_missing_field_is_named(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/sites", json={"url": "https://a.example"}, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"] == [{"field": "name", "message": "is required"}]
    assert answer.json()["message"] == "name: is required"


async def test_wrong_type_is_named(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/sites", json={"name": ["a"]}, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "name"


async def test_unknown_field_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/sites", json={"name": "a", "nmae": "b"}, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"] == [{"field": "nmae", "message": "is not a known field"}]


async def test_path_parameter_of_wrong_type_is_a_400(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/sites/abc", headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "site_id"


async def test_v3_paths_answer_errors_in_the_v3_shape(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v3/edit/no-such-thing")
    assert answer.status_code == 404
    assert set(answer.json()) == {"code", "messages"}
    assert answer.json()["code"] == 404


async def test_unexpected_exception_is_a_500_with_request_id_and_no_traceback(runtime: Runtime) -> None:
    app: FastAPI = create_app(runtime=runtime)
    boom = APIRouter()

    @boom.get("/boom")
    async def explode() -> None:
        raise RuntimeError("secret internals")

    @boom.get("/v3/boom")
    async def explode_v3() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        answer = await http.get("/boom")
        v3 = await http.get("/v3/boom")
    assert answer.status_code == 500
    request_id = answer.headers["x-request-id"]
    assert answer.json()["requestId"] == request_id
    assert request_id in answer.json()["message"]
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    assert v3.status_code == 500 and v3.json()["code"] == 500

"""Probes and the bundled docs."""

from __future__ import annotations

import httpx


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readyz_reports_database_at_current_migration(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["database"] == "ok"


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/no-such-endpoint")
    assert len(first.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_plain_request_id_from_the_caller_is_kept(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz", headers={"X-Request-Id": "trace-123"})
    assert answer.headers["x-request-id"] == "trace-123"


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    assert "/sites" in answer.json()["paths"]

"""`/metrics`: for the metrics token only, in Prometheus text format, by route template, summed across workers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import Factory
from tests.server import serve
from tests.tracking.fixtures import ORIGIN, conversion, exposure, shop, visit
from versicolor.app import create_app
from versicolor.runtime import Runtime
from versicolor.settings import Settings

TOKEN = "metrics-token-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition by (name, sorted labels); parsing it also proves the format."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value, 0 when absent."""
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def metered(runtime: Runtime, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with the metrics token set (the test run's database, limits as in the suite)."""
    app = create_app(settings.model_copy(update={"metrics_token": TOKEN}), runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


async def scrape(http: httpx.AsyncClient) -> str:
    answer = await http.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


async def test_without_a_token_set_there_is_no_metrics_route(client: httpx.AsyncClient, app: FastAPI) -> None:
    answer = await client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 404
    assert not any(getattr(route, "path", None) == "/metrics" for route in app.routes)


async def test_metrics_are_for_the_token_only(metered: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for headers in (
        {},
        {"Authorization": "Bearer metrics-token-012345678"},  # one character short
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        account.headers,  # an API token is not the metrics token, not even an admin's
    ):
        refused = await metered.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "versicolor_" not in refused.text
    assert (await metered.post("/metrics", headers=SCRAPE)).status_code == 405


async def test_requests_are_counted_by_route_template_and_status_never_by_raw_path(
    metered: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    site = await metered.post("/sites", json={"name": "Metered", "url": "https://m.example"}, headers=account.headers)
    assert site.status_code == 201
    site_id = site.json()["id"]
    route = "/sites/{site_id}"
    before = await scrape(metered)
    for _ in range(3):
        assert (await metered.get(f"/sites/{site_id}", headers=account.headers)).status_code == 200
    assert (await metered.get("/sites/999999999", headers=account.headers)).status_code == 404
    assert (await metered.get(f"/no/such/{site_id}")).status_code == 404
    assert (await metered.get(f"/app/experiments/{site_id}")).status_code in (302, 303)
    for made_up in ("BREW", "PROPFIND"):  # methods a client makes up are one series: they cannot add more
        assert (await metered.request(made_up, "/sites")).status_code == 405
    after = await scrape(metered)

    count = "versicolor_http_request_duration_seconds_count"
    grew = {
        key: after_value - samples(before).get(key, 0.0)
        for key, after_value in samples(after).items()
        if key[0] == count and after_value != samples(before).get(key, 0.0)
    }
    labels = {dict(key[1])["route"] for key in grew}
    assert grew[(count, (("method", "GET"), ("route", route), ("status", "200")))] == 3
    assert grew[(count, (("method", "GET"), ("route", route), ("status", "404")))] == 1
    assert "(unmatched)" in labels
    made_up = [n for key, n in grew.items() if dict(key[1])["method"] == "other" and dict(key[1])["status"] == "405"]
    assert made_up == [2]
    assert "/app/experiments/{experiment_id:int}" in labels, labels  # the template as the dashboard declares it
    every_route = {dict(labels)["route"] for _, labels in samples(after) if dict(labels).get("route")}
    assert [r for r in every_route if re.search(r"/\d+(/|$)", r)] == []  # no raw path with an id, ever
    assert (
        value(
            after, "versicolor_http_request_duration_seconds_bucket", method="GET", route=route, status="200", le="+Inf"
        )
        >= 3
    )


async def test_events_refusals_reports_and_the_pool_are_counted(
    metered: httpx.AsyncClient, client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    before = await scrape(metered)
    events = [visit(), exposure(made.experiment_id, made.variation_ids[0]), conversion(made.goal_id)]
    stored = await metered.post(made.events_path, json={"events": events}, headers={"Origin": ORIGIN})
    assert stored.status_code == 202, stored.text
    invalid = await metered.post(made.events_path, json={"events": [{"type": "VISIT"}]}, headers={"Origin": ORIGIN})
    assert invalid.status_code == 400
    asked = await metered.post(f"/experiments/{made.experiment_id}/results", json={}, headers=made.account.headers)
    assert asked.status_code == 200, asked.text
    for _ in range(200):
        got = await metered.get("/results", params={"dataCode": asked.json()["dataCode"]}, headers=made.account.headers)
        if got.json()["status"] != "WAITING":
            break
        await asyncio.sleep(0.05)
    assert got.json()["status"] == "READY", got.text
    after = await scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("versicolor_event_batches_stored_total") == 1  # the refused batch is not counted
    for kind in ("visit", "exposure", "conversion"):
        assert grew("versicolor_events_ingested_total", type=kind) == 1
    assert grew("versicolor_report_computations_total", outcome="ready") == 1
    assert grew("versicolor_report_computation_duration_seconds_count") == 1
    assert value(after, "versicolor_db_pool_capacity") > 0
    assert value(after, "versicolor_db_pool_connections_in_use") >= 0


async def test_rate_limit_refusals_are_counted_by_limit(runtime: Runtime, settings: Settings, factory: Factory) -> None:
    account = await factory.account()
    limited = settings.model_copy(update={"metrics_token": TOKEN, "rate_limits": "2/10s"})
    transport = httpx.ASGITransport(app=create_app(limited, runtime=runtime), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        before = await scrape(http)
        statuses = [(await http.get("/accounts/me", headers=account.headers)).status_code for _ in range(4)]
        after = await scrape(http)
    assert statuses == [200, 200, 429, 429]
    refused = "versicolor_rate_limit_refusals_total"
    assert value(after, refused, limit="api") - value(before, refused, limit="api") == 2
    route = {"method": "GET", "route": "(unmatched)", "status": "429"}  # refused before any route is chosen
    count = "versicolor_http_request_duration_seconds_count"
    assert value(after, count, **route) - value(before, count, **route) == 2


@pytest.mark.server
def test_two_workers_metrics_add_up_whichever_worker_answers_the_scrape(database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_424242.db").write_bytes(b"an earlier run's")  # emptied at start, never read
    env = {"VERSICOLOR_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    requests = 60
    with serve(
        ["--database-url", database_url, "--workers", "2"], log_dir=tmp_path, env=env, ready_timeout=180
    ) as server:
        # A new connection per request, so that the requests spread over the workers.
        with httpx.Client(base_url=server.base_url, headers={"Connection": "close"}) as http:
            before = http.get("/metrics", headers=SCRAPE).text  # the readiness polls so far
            for _ in range(requests):
                assert http.get("/healthz").status_code == 200
            scrapes = [http.get("/metrics", headers=SCRAPE).text for _ in range(6)]
        answered_by = {path.name.split("_")[-1] for path in directory.glob("histogram_*.db")}
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    count = "versicolor_http_request_duration_seconds_count"
    for text in scrapes:  # whichever worker answered it, the count is everyone's
        assert value(text, count, **healthz) - value(before, count, **healthz) == requests
    assert len(answered_by) == 2, f"the requests did not reach both workers: {answered_by}"
    assert not (directory / "counter_424242.db").exists()
    assert value(scrapes[-1], "versicolor_db_pool_capacity") > 0


@pytest.mark.server
def test_json_logs_are_one_masked_object_a_line_with_the_request_id(database_url: str, tmp_path: Path) -> None:
    env = {"VERSICOLOR_LOG_FORMAT": "json", "VERSICOLOR_METRICS_TOKEN": TOKEN}
    secret = "s3cr3t-account-secret-value"
    with serve(["--database-url", database_url], log_dir=tmp_path, env=env, ready_timeout=180) as server:
        answer = httpx.get(
            f"{server.base_url}/v3/edit/urls", params={"account_secret": secret}, headers={"X-Request-Id": "trace-42"}
        )
        assert answer.status_code == 403
    output = server.output()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert secret not in output and TOKEN not in output
    [access] = [line for line in lines if line.get("requestId") == "trace-42"]
    assert access["logger"] == "uvicorn.access" and access["status"] == 403 and access["method"] == "GET"
    assert access["path"] == "/v3/edit/urls?account_secret=[REDACTED]"
    assert {"time", "level", "message"} <= set(access)
    assert any(line["logger"].startswith("uvicorn") and "startup" in line["message"] for line in lines)

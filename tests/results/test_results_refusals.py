"""What a report request refuses (each a 400 naming the field), who may ask, and how long a report lives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import Factory
from tests.results.dataset import history, send
from tests.tracking.fixtures import Shop, created, shop
from versicolor.core.roles import Principal, Role
from versicolor.db.models import ResultReport
from versicolor.db.types import utcnow
from versicolor.results import report, store
from versicolor.results.request import ReportRequest
from versicolor.runtime import Runtime


@pytest.fixture
async def quiet(client: httpx.AsyncClient, factory: Factory) -> Shop:
    """A shop with no traffic."""
    return await shop(client, factory)


async def ask(client: httpx.AsyncClient, shop: Shop, body: Any) -> httpx.Response:
    """Ask for a report of the shop's experiment as its admin."""
    return await client.post(f"/experiments/{shop.experiment_id}/results", json=body, headers=shop.account.headers)


def refused_field(answer: httpx.Response) -> str:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["status"] == 400 and body["message"]
    field: str = body["details"][0]["field"]
    return field


async def test_goals_of_another_site_are_refused(client: httpx.AsyncClient, quiet: Shop) -> None:
    other_site = await created(client, quiet.account, "/sites", {"name": "Elsewhere"})
    foreign = await created(
        client, quiet.account, "/goals", {"name": "Other", "siteId": other_site["id"], "type": "CUSTOM"}
    )
    answer = await ask(client, quiet, {"goalsIds": [quiet.goal_id, foreign["id"]]})
    assert refused_field(answer) == "goalsIds"
    assert str(foreign["id"]) in answer.json()["message"]
    assert refused_field(await ask(client, quiet, {"goalsIds": [987654321]})) == "goalsIds"
    cuped = await ask(client, quiet, {"goalIdsCuped": [foreign["id"]]})
    assert refused_field(cuped) == "goalIdsCuped"


async def test_goals_of_another_account_are_refused(client: httpx.AsyncClient, factory: Factory, quiet: Shop) -> None:
    theirs = await shop(client, factory)
    assert refused_field(await ask(client, quiet, {"goalsIds": [theirs.goal_id]})) == "goalsIds"


async def test_a_reference_outside_the_experiment_is_refused(
    client: httpx.AsyncClient, factory: Factory, quiet: Shop
) -> None:
    other = await shop(client, factory, account=quiet.account, host="other.example")
    for reference in (other.variation_ids[0], "123456789", "-1"):
        answer = await ask(client, quiet, {"referenceVariationId": reference})
        assert refused_field(answer) == "referenceVariationId", reference
    assert refused_field(await ask(client, quiet, {"referenceVariationId": "green"})) == "referenceVariationId"
    accepted = await ask(client, quiet, {"referenceVariationId": str(quiet.variation_ids[1])})
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    ("intervals", "field"),
    [
        ([{"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"}], "dateIntervals.0"),
        ([{"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"}], "dateIntervals.0"),
        (
            [
                {"start": "2024-05-01T00:00:00Z", "end": "2024-05-03T00:00:00Z"},
                {"start": "2024-05-02T00:00:00Z", "end": "2024-05-04T00:00:00Z"},
            ],
            "dateIntervals.1",
        ),
        ([{"start": "yesterday", "end": "2024-05-04T00:00:00Z"}], "dateIntervals.0.start"),
        ([{"start": "2024-05-01T00:00:00Z"}], "dateIntervals.0.end"),
    ],
)
async def test_bad_date_intervals_are_refused(
    client: httpx.AsyncClient, quiet: Shop, intervals: list[dict[str, str]], field: str
) -> None:
    assert refused_field(await ask(client, quiet, {"dateIntervals": intervals})) == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"breakdown": {"type": "OPERATING_SYSTEM"}}, "breakdown.type"),
        ({"breakdown": {"type": "CUSTOM_DATUM", "index": 1}}, "breakdown.index"),  # the site has no datum 1
        ({"breakdown": {"type": "INTERVAL"}}, "breakdown.interval"),
        ({"breakdown": {"type": "INTERVAL", "interval": "DECADE"}}, "breakdown.interval"),
        ({"breakdown": {"type": "COUNTRY", "interval": "DAY"}}, "breakdown.interval"),
        ({"filters": [{"type": "CITY", "values": ["Paris"]}]}, "filters.0.type"),
        ({"filters": [{"type": "DEVICE_TYPE", "values": []}]}, "filters.0.values"),
        ({"filters": [{"type": "DEVICE_TYPE", "values": ["WATCH"]}]}, "filters.0.values"),
        ({"filters": [{"type": "COUNTRY", "values": ["France"]}]}, "filters.0.values"),
        ({"conversionType": "SOME_CONVERSIONS"}, "conversionType"),
        ({"visitorData": "maybe"}, "visitorData"),
        ({"allVariationsData": "yes"}, "allVariationsData"),
        ({"goalsIds": "all"}, "goalsIds"),
        ({"colour": "blue"}, "colour"),
        ({"goalIdsCuped": [1], "visitorData": False}, "goalIdsCuped"),
        ({"goalIdsCuped": [1]}, "goalIdsCuped"),  # visitorData left out is false: visits
        ({"cumulative": True}, "cumulative"),
        ({"cumulative": True, "breakdown": {"type": "COUNTRY"}}, "cumulative"),
        ({"cumulative": "yes"}, "cumulative"),
    ],
)
async def test_bad_options_are_refused(
    client: httpx.AsyncClient, quiet: Shop, body: dict[str, Any], field: str
) -> None:
    answer = await ask(client, quiet, body)
    assert refused_field(answer) == field


async def test_cuped_without_visitor_data_says_to_send_it(client: httpx.AsyncClient, quiet: Shop) -> None:
    answer = await ask(client, quiet, {"goalIdsCuped": [quiet.goal_id]})
    assert refused_field(answer) == "goalIdsCuped"
    assert "visitorData true" in answer.json()["message"]
    assert (await ask(client, quiet, {"goalIdsCuped": [quiet.goal_id], "visitorData": True})).status_code == 200


async def test_an_unknown_breakdown_lists_the_allowed_ones(client: httpx.AsyncClient, quiet: Shop) -> None:
    answer = await ask(client, quiet, {"breakdown": {"type": "OPERATING_SYSTEM"}})
    assert "DEVICE_TYPE" in answer.json()["message"] and "INTERVAL" in answer.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/results",
        "https://127.0.0.1/results",
        "https://localhost/results",
        "https://[::1]:8443/results",
        "https://10.0.0.7/results",
        "https://172.16.5.4/results",
        "https://192.168.1.1/results",
        "https://169.254.169.254/latest/meta-data/",
        "not a url",
    ],
)
async def test_callbacks_into_our_own_network_are_refused_saying_nothing_of_it(
    client: httpx.AsyncClient, quiet: Shop, url: str
) -> None:
    answer = await ask(client, quiet, {"callbackUrl": url})
    assert refused_field(answer) == "callbackUrl"
    message = answer.json()["message"]
    assert "https://" in message  # what to send instead; never why this one was refused (docs/results.md)
    for reason in ("loopback", "private", "link-local", "resolve", "127.0.0", "169.254"):
        assert reason not in message


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient, quiet: Shop) -> None:
    answer = await client.post(
        f"/experiments/{quiet.experiment_id}/results",
        content="goalsIds=1",
        headers={**quiet.account.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400
    assert refused_field(await ask(client, quiet, [1, 2])) == "body"


async def test_another_accounts_experiment_and_report_are_not_found(
    client: httpx.AsyncClient, factory: Factory, quiet: Shop
) -> None:
    theirs = await shop(client, factory)
    answer = await client.post(f"/experiments/{theirs.experiment_id}/results", json={}, headers=quiet.account.headers)
    assert answer.status_code == 404
    assert (
        await client.post("/experiments/987654321/results", json={}, headers=quiet.account.headers)
    ).status_code == 404
    code = (await ask(client, theirs, {})).json()["dataCode"]
    assert (await client.get("/results", params={"dataCode": code}, headers=theirs.account.headers)).status_code == 200
    stolen = await client.get("/results", params={"dataCode": code}, headers=quiet.account.headers)
    assert stolen.status_code == 404 and "dataCode" in stolen.json()["message"]


async def test_unknown_or_missing_data_code(client: httpx.AsyncClient, quiet: Shop) -> None:
    unknown = await client.get("/results", params={"dataCode": "no-such-report"}, headers=quiet.account.headers)
    assert unknown.status_code == 404
    missing = await client.get("/results", headers=quiet.account.headers)
    assert refused_field(missing) == "dataCode"


async def test_viewers_may_ask_for_reports_and_need_a_token(
    client: httpx.AsyncClient, factory: Factory, quiet: Shop
) -> None:
    viewer = await factory.member(quiet.account, Role.VIEWER)
    asked = await client.post(f"/experiments/{quiet.experiment_id}/results", json={}, headers=viewer.headers)
    assert asked.status_code == 200, asked.text
    fetched = await client.get("/results", params={"dataCode": asked.json()["dataCode"]}, headers=viewer.headers)
    assert fetched.status_code == 200 and fetched.json()["status"] == "READY"
    assert (await client.post(f"/experiments/{quiet.experiment_id}/results", json={})).status_code == 401
    assert (await client.get("/results", params={"dataCode": asked.json()["dataCode"]})).status_code == 401
    # The callback key lets its holder sign callbacks: administrators only.
    assert (await client.get("/results/callbackKey", headers=viewer.headers)).status_code == 403
    assert (await client.get("/results/callbackKey", headers=quiet.account.headers)).status_code == 200


async def _stored_report(runtime: Runtime, shop: Shop, *, age: timedelta) -> str:
    """A report requested `age` ago whose computation never ran (as when the process stopped)."""
    principal = Principal(account_id=shop.account.account_id, user_id=None, role=Role.ADMIN)
    async with runtime.sessions() as session, session.begin():
        made = await store.create(
            session=session,
            principal=principal,
            experiment_id=shop.experiment_id,
            request=ReportRequest(),
            now=utcnow() - age,
        )
        return made.data_code


async def test_a_report_is_waiting_until_computed_and_an_abandoned_one_shows_an_error(
    client: httpx.AsyncClient, runtime: Runtime, quiet: Shop
) -> None:
    waiting = await _stored_report(runtime, quiet, age=timedelta(seconds=1))
    answer = (await client.get("/results", params={"dataCode": waiting}, headers=quiet.account.headers)).json()
    assert answer["status"] == "WAITING" and answer["data"] is None
    abandoned = await _stored_report(runtime, quiet, age=store.STALE_AFTER + timedelta(minutes=1))
    answer = (await client.get("/results", params={"dataCode": abandoned}, headers=quiet.account.headers)).json()
    assert answer["status"] == "ERROR" and "request the results again" in answer["error"]


async def test_an_expired_report_is_not_found_and_is_purged(
    client: httpx.AsyncClient, runtime: Runtime, quiet: Shop
) -> None:
    expired = await _stored_report(runtime, quiet, age=store.LIFETIME + timedelta(minutes=1))
    answer = await client.get("/results", params={"dataCode": expired}, headers=quiet.account.headers)
    assert answer.status_code == 404 and "expired" in answer.json()["message"]
    # The next request purges it for good.
    assert (await ask(client, quiet, {})).status_code == 200
    async with runtime.sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(ResultReport).where(ResultReport.data_code == expired)
        )
    assert left == 0


async def test_a_breakdown_with_too_many_keys_ends_in_an_error_that_says_why(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, factory: Factory
) -> None:
    stocked = await shop(client, factory)
    await send(client, stocked, history(stocked))
    monkeypatch.setattr(report, "MAX_BREAKDOWN_KEYS", 3)
    asked = await ask(client, stocked, {"breakdown": {"type": "INTERVAL", "interval": "DAY"}})
    answer = await client.get(
        "/results", params={"dataCode": asked.json()["dataCode"]}, headers=stocked.account.headers
    )
    body = answer.json()
    assert body["status"] == "ERROR" and body["data"] is None
    assert "5 keys" in body["error"] and "dateIntervals" in body["error"]

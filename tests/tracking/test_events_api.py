"""`POST /data/v1/sites/{siteCode}/events`: stored whole and acknowledged, or refused whole and explained."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.factories import Factory
from tests.tracking.fixtures import (
    ORIGIN,
    Shop,
    conversion,
    exposure,
    ndjson,
    now_ms,
    shop,
    stored,
    visit,
)
from versicolor.core.roles import Role
from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit
from versicolor.runtime import Runtime
from versicolor.tracking.events import MAX_EVENTS

PAGE_ORIGIN = {"Origin": ORIGIN}


@pytest.fixture
async def live(client: httpx.AsyncClient, factory: Factory) -> Shop:
    return await shop(client, factory)


def details(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 400, answer.text
    return {d["field"]: d["message"] for d in answer.json()["details"]}


async def send(client: httpx.AsyncClient, live: Shop, events: list[dict[str, Any]]) -> httpx.Response:
    return await client.post(live.events_path, json={"events": events}, headers=live.account.headers)


async def test_a_batch_is_stored_and_acknowledged(client: httpx.AsyncClient, live: Shop, runtime: Runtime) -> None:
    answer = await send(
        client,
        live,
        [
            visit(deviceType="MOBILE", browser="SAFARI", country="fr", newVisitor=True, customData={"2": "gold"}),
            exposure(live.experiment_id, live.variation_ids[0]),
            conversion(live.goal_id, revenue=19.9),
        ],
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"received": 3}
    assert await stored(runtime, live.site_id) == {"visits": 1, "exposures": 1, "conversions": 1}
    async with runtime.sessions() as session:
        row = (await session.execute(select(TrackingVisit).where(TrackingVisit.site_id == live.site_id))).scalar_one()
        assert (row.device_type, row.browser, row.country, row.new_visitor, row.custom_data) == (
            "PHONE",
            "SAFARI",
            "FR",
            True,
            {"2": "gold"},
        )
        revenue = await session.scalar(
            select(TrackingConversion.revenue).where(TrackingConversion.site_id == live.site_id)
        )
        assert revenue == 19.9


async def test_ndjson_batches_are_stored_too(client: httpx.AsyncClient, live: Shop, runtime: Runtime) -> None:
    events = [visit(f"v{n}") for n in range(5)] + [exposure(live.experiment_id, 0, "v1")]
    answer = await client.post(
        live.events_path,
        content=ndjson(events),
        headers={**live.account.headers, "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 202, answer.text
    assert await stored(runtime, live.site_id) == {"visits": 5, "exposures": 1, "conversions": 0}


async def test_a_replayed_batch_counts_once(client: httpx.AsyncClient, live: Shop, runtime: Runtime) -> None:
    events = [visit(), exposure(live.experiment_id, live.variation_ids[1]), conversion(live.goal_id, revenue=5)]
    for _ in range(3):
        assert (await send(client, live, events)).status_code == 202
    duplicate_inside = [*events, events[0], events[2]]
    assert (await send(client, live, duplicate_inside)).status_code == 202
    assert await stored(runtime, live.site_id) == {"visits": 1, "exposures": 1, "conversions": 1}


async def test_event_ids_are_per_site(client: httpx.AsyncClient, factory: Factory, runtime: Runtime) -> None:
    first = await shop(client, factory)
    second = await shop(client, factory, account=first.account, host="other.example")
    event = visit()
    assert (await send(client, first, [event])).status_code == 202
    assert (await send(client, second, [event])).status_code == 202
    assert (await stored(runtime, first.site_id))["visits"] == 1
    assert (await stored(runtime, second.site_id))["visits"] == 1


async def test_the_first_exposure_fixes_the_variation(client: httpx.AsyncClient, live: Shop, runtime: Runtime) -> None:
    first, other = live.variation_ids
    start = now_ms() - 60_000
    assert (await send(client, live, [exposure(live.experiment_id, first, timestamp=start)])).status_code == 202
    later = [exposure(live.experiment_id, other, timestamp=start - 1_000), exposure(live.experiment_id, 0)]
    assert (await send(client, live, later)).status_code == 202
    async with runtime.sessions() as session:
        row = (
            await session.execute(select(TrackingExposure).where(TrackingExposure.experiment_id == live.experiment_id))
        ).scalar_one()
    assert row.variation_id == first
    assert row.timestamp == datetime.fromtimestamp(start / 1000, UTC)


async def test_an_earlier_exposure_to_the_same_variation_moves_the_start_back(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    variation = live.variation_ids[0]
    start = now_ms() - 60_000
    assert (await send(client, live, [exposure(live.experiment_id, variation, timestamp=start)])).status_code == 202
    early = exposure(live.experiment_id, variation, timestamp=start - 30_000, visitId="earlier-visit")
    assert (await send(client, live, [early])).status_code == 202
    async with runtime.sessions() as session:
        row = (
            await session.execute(select(TrackingExposure).where(TrackingExposure.experiment_id == live.experiment_id))
        ).scalar_one()
    assert (row.variation_id, row.visit_id, row.event_id) == (variation, "earlier-visit", early["id"])
    assert row.timestamp == datetime.fromtimestamp((start - 30_000) / 1000, UTC)


async def test_within_one_batch_the_earliest_exposure_is_first(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    first, other = live.variation_ids
    at = now_ms()
    events = [exposure(live.experiment_id, other, timestamp=at), exposure(live.experiment_id, first, timestamp=at - 5)]
    assert (await send(client, live, events)).status_code == 202
    async with runtime.sessions() as session:
        fixed = await session.scalar(
            select(TrackingExposure.variation_id).where(TrackingExposure.experiment_id == live.experiment_id)
        )
    assert fixed == first


async def test_every_bad_event_is_listed_and_nothing_is_stored(
    client: httpx.AsyncClient, factory: Factory, live: Shop, runtime: Runtime
) -> None:
    elsewhere = await shop(client, factory)
    events = [
        visit(),
        exposure(live.experiment_id, 0),
        exposure(elsewhere.experiment_id, 0),
        exposure(live.experiment_id, elsewhere.variation_ids[0]),
        conversion(elsewhere.goal_id),
        conversion(999_999_999),
        visit(type="BOUNCE"),
        visit(visitorCode=""),
        visit(timestamp=now_ms() + 10 * 60_000),
    ]
    problems = details(await send(client, live, events))
    assert set(problems) == {
        "events[2].experimentId",
        "events[3].variationId",
        "events[4].goalId",
        "events[5].goalId",
        "events[6].type",
        "events[7].visitorCode",
        "events[8].timestamp",
    }
    assert f"site {live.code}" in problems["events[2].experimentId"]
    assert "0 (the original)" in problems["events[3].variationId"]
    assert str(live.variation_ids[0]) in problems["events[3].variationId"]
    assert "future" in problems["events[8].timestamp"]
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_malformed_ndjson_lines_are_named_by_number(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    body = ndjson([visit()]) + b"{oops\n" + ndjson([visit()]) + b'{"id": \n'
    answer = await client.post(
        live.events_path, content=body, headers={**live.account.headers, "Content-Type": "application/x-ndjson"}
    )
    assert list(details(answer)) == ["line 2", "line 4"]
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_ndjson_event_problems_give_the_line(client: httpx.AsyncClient, live: Shop) -> None:
    body = ndjson([visit()]) + b"\n" + ndjson([visit(type="CLICK")])
    answer = await client.post(
        live.events_path, content=body, headers={**live.account.headers, "Content-Type": "application/x-ndjson"}
    )
    assert details(answer) == {"events[1].type": 'line 3: must be one of VISIT, EXPOSURE, CONVERSION (got "CLICK")'}


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (b"{", "application/json", "body"),
        (b'{"events": "all"}', "application/json", "events"),
        (b'{"events": []}', "application/json", "events"),
        (b'{"events": [{"type": "VISIT"}], "more": 1}', "application/json", "more"),
    ],
)
async def test_malformed_bodies_are_refused(
    client: httpx.AsyncClient, live: Shop, content: bytes, content_type: str, field: str
) -> None:
    answer = await client.post(
        live.events_path, content=content, headers={**live.account.headers, "Content-Type": content_type}
    )
    assert field in details(answer)


async def test_a_body_that_is_neither_json_nor_ndjson_is_refused(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.post(
        live.events_path,
        content=json.dumps({"events": [visit()]}),
        headers={**live.account.headers, "Content-Type": "text/html"},
    )
    assert answer.status_code == 400
    assert "application/x-ndjson" in answer.json()["message"]


async def test_a_batch_over_the_limit_is_refused_whole(client: httpx.AsyncClient, live: Shop, runtime: Runtime) -> None:
    answer = await send(client, live, [visit(f"v{n}") for n in range(MAX_EVENTS + 1)])
    assert str(MAX_EVENTS) in details(answer)["events"]
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_a_body_over_the_byte_limit_is_refused(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.post(
        live.events_path,
        content=b" " * (10 * 1024 * 1024 + 1),
        headers={**live.account.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    assert "10 MiB (10485760 bytes)" in answer.json()["message"]


async def test_an_unknown_site_is_not_found(client: httpx.AsyncClient, live: Shop) -> None:
    path = "/data/v1/sites/zzzzzzzzzz/events"
    by_token = await client.post(path, json={"events": [visit()]}, headers=live.account.headers)
    by_page = await client.post(path, json={"events": [visit()]}, headers={"Origin": ORIGIN})
    assert (by_token.status_code, by_page.status_code) == (404, 404)
    assert "zzzzzzzzzz" in by_token.json()["message"]
    for made_up in ("nul%00code", "x" * 500, "caf%C3%A9", "%ED%A0%80"):
        answer = await client.post(f"/data/v1/sites/{made_up}/events", json={"events": [visit()]}, headers=PAGE_ORIGIN)
        assert answer.status_code == 404, (made_up, answer.text)


async def test_another_accounts_token_finds_no_site(
    client: httpx.AsyncClient, factory: Factory, live: Shop, runtime: Runtime
) -> None:
    stranger = await factory.account()
    answer = await client.post(live.events_path, json={"events": [visit()]}, headers=stranger.headers)
    assert answer.status_code == 404
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_a_viewer_may_not_send_events(client: httpx.AsyncClient, factory: Factory, live: Shop) -> None:
    viewer = await factory.member(live.account, Role.VIEWER)
    answer = await client.post(live.events_path, json={"events": [visit()]}, headers=viewer.headers)
    assert answer.status_code == 403
    assert "VIEWER" in answer.json()["message"]


async def test_without_token_or_page_the_caller_is_unknown(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.post(live.events_path, json={"events": [visit()]})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    bad = await client.post(live.events_path, json={"events": [visit()]}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


async def test_a_page_on_an_enabled_host_may_send_with_cors(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    answer = await client.post(live.events_path, json={"events": [visit()]}, headers={"Origin": ORIGIN})
    assert answer.status_code == 202, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in answer.headers["Vary"]
    by_referer = await client.post(
        live.events_path, json={"events": [visit("v2")]}, headers={"Referer": f"{ORIGIN}/cart?step=2"}
    )
    assert by_referer.status_code == 202
    assert (await stored(runtime, live.site_id))["visits"] == 2


async def test_a_pages_bad_batch_shows_the_page_why(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.post(live.events_path, json={"events": [visit(type="NOPE")]}, headers={"Origin": ORIGIN})
    assert answer.status_code == 400
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "events[0].type" in details(answer)


@pytest.mark.parametrize("state", ["off", "archived"])
async def test_a_page_on_a_disabled_or_archived_host_is_refused(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime, state: str
) -> None:
    made = await shop(client, factory, enabled="off" if state == "off" else "on")
    if state == "archived":
        answer = await client.patch(
            f"/v3/edit/urls/{made.url_id}",
            json={"archived_at": datetime.now(UTC).isoformat()},
            headers=made.account.headers,
        )
        assert answer.status_code == 200, answer.text
    refused = await client.post(made.events_path, json={"events": [visit()]}, headers={"Origin": ORIGIN})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "shop.example" in refused.json()["message"]
    assert await stored(runtime, made.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_an_unknown_host_is_refused_and_its_url_made_off(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    answer = await client.post(
        live.events_path, json={"events": [visit()]}, headers={"Origin": "https://new.unknown-shop.example"}
    )
    assert answer.status_code == 403
    urls = await client.get("/v3/edit/urls", headers=live.account.headers)
    made = {u["host"]: u["enabled"] for u in urls.json()["urls"]}
    assert made["new.unknown-shop.example"] == "off"
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}


async def test_a_subdomain_of_a_subdomain_url_is_allowed_on_first_contact(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, enabled="subdomain")
    answer = await client.post(
        made.events_path, json={"events": [visit()]}, headers={"Origin": "https://checkout.shop.example"}
    )
    assert answer.status_code == 202, answer.text


async def test_a_page_without_a_host_is_refused(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.post(live.events_path, json={"events": [visit()]}, headers={"Origin": "null"})
    assert answer.status_code == 401


async def test_preflight_is_answered_for_enabled_hosts_only(client: httpx.AsyncClient, live: Shop) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = await client.options(live.events_path, headers={"Origin": ORIGIN, **asked})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    refused = await client.options(live.events_path, headers={"Origin": "https://evil.example", **asked})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_conversions_are_stored_before_and_after_exposure(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    exposed_at = now_ms() - 60_000
    events = [
        conversion(live.goal_id, timestamp=exposed_at - 1_000, revenue=1),
        exposure(live.experiment_id, live.variation_ids[0], timestamp=exposed_at),
        conversion(live.goal_id, timestamp=exposed_at, revenue=2),
        conversion(live.goal_id, timestamp=exposed_at + 1_000, revenue=3),
    ]
    assert (await send(client, live, events)).status_code == 202
    assert (await stored(runtime, live.site_id))["conversions"] == 3


async def test_timestamps_in_iso_format_with_zones_are_normalised(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    paris = moment.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    assert (await send(client, live, [visit(timestamp=paris)])).status_code == 202
    async with runtime.sessions() as session:
        at = await session.scalar(select(TrackingVisit.timestamp).where(TrackingVisit.site_id == live.site_id))
    assert at == moment


async def test_a_retry_racing_its_original_is_stored_once(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    events = [visit(f"racer-{n}") for n in range(300)] + [conversion(live.goal_id, f"racer-{n}") for n in range(300)]
    events += [exposure(live.experiment_id, live.variation_ids[n % 2], f"racer-{n}") for n in range(300)]
    answers = await asyncio.gather(
        send(client, live, events), send(client, live, list(reversed(events))), send(client, live, events[::2])
    )
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert await stored(runtime, live.site_id) == {"visits": 300, "exposures": 300, "conversions": 300}


async def test_text_that_cannot_be_stored_is_refused_not_failed(
    client: httpx.AsyncClient, live: Shop, runtime: Runtime
) -> None:
    events = [
        visit("\ud800"),
        visit(customData={"1": 2**70}),
        conversion(live.goal_id, customData={"2": ["\udfff"]}),
        visit(visitId="nul\u0000inside"),
    ]
    body = json.dumps({"events": events})  # ASCII, with \u escapes: how a lone surrogate travels in JSON
    answer = await client.post(
        live.events_path, content=body, headers={**live.account.headers, "Content-Type": "application/json"}
    )
    assert set(details(answer)) == {
        "events[0].visitorCode",
        "events[0].visitId",
        "events[1].customData.1",
        "events[2].customData.2",
        "events[3].visitId",
    }
    assert await stored(runtime, live.site_id) == {"visits": 0, "exposures": 0, "conversions": 0}

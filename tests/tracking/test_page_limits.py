"""Anonymous Data API writes are bounded: events per address and per site, revenue per event and per visitor,
and the Urls pages can make by naming new hosts. In-process here; across worker processes in
test_page_limits_server.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.tracking.fixtures import ORIGIN, Shop, conversion, exposure, shop, stored, visit
from versicolor.app import create_app
from versicolor.runtime import Runtime

AppFactory = Callable[..., FastAPI]
PAGE = {"Origin": ORIGIN}


@pytest.fixture
async def limited(runtime: Runtime) -> AsyncIterator[AppFactory]:
    """Makes apps over the test database with the given settings changed; closes their limiters afterwards."""
    made: list[FastAPI] = []

    def make(**changes: object) -> FastAPI:
        app = create_app(settings=runtime.settings.model_copy(update=changes), runtime=runtime)
        made.append(app)
        return app

    yield make
    for app in made:
        await app.state.rate_limiter.aclose()


@asynccontextmanager
async def page_client(app: FastAPI, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


def visits(count: int, visitor: str = "visitor-1") -> dict[str, object]:
    return {"events": [visit(visitor) for _ in range(count)]}


@pytest.fixture
async def live(client: httpx.AsyncClient, factory: Factory) -> Shop:
    return await shop(client, factory)


async def test_pages_events_are_counted_per_address_in_events(
    limited: AppFactory, live: Shop, runtime: Runtime
) -> None:
    app = limited(page_events_per_address="10/1m", page_events_per_site="", require_https=False)
    async with page_client(app) as http:
        first = await http.post(live.events_path, json=visits(6), headers=PAGE)
        over = await http.post(live.events_path, json=visits(5), headers=PAGE)
        fits = await http.post(live.events_path, json=visits(4), headers=PAGE)
        too_big = await http.post(live.events_path, json=visits(11), headers=PAGE)
        by_token = await http.post(live.events_path, json=visits(20), headers=live.account.headers)
    assert first.status_code == 202, first.text
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("10", "4")
    assert over.status_code == 429
    assert over.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page may read why
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert over.json()["message"].startswith(
        "rate limit exceeded: at most 10 events in 1 minute per address sending without a token; retry in"
    )
    assert fits.status_code == 202 and fits.headers["x-ratelimit-remaining"] == "0"
    assert too_big.status_code == 400
    assert too_big.json()["details"] == [
        {
            "field": "events",
            "message": "the batch has 11 events; a page may send at most 10 in one batch "
            "(at most 10 events in 1 minute per address)",
        }
    ]
    assert by_token.status_code == 202  # a token's batches count in the token's windows
    assert (await stored(runtime, live.site_id))["visits"] == 30


async def test_pages_events_are_counted_per_site_across_addresses(
    limited: AppFactory, live: Shop, client: httpx.AsyncClient, factory: Factory
) -> None:
    other = await shop(client, factory, host="other.example")
    app = limited(page_events_per_address="", page_events_per_site="8/1m", require_https=False)
    async with page_client(app, "198.51.100.1") as one, page_client(app, "198.51.100.2") as two:
        first = await one.post(live.events_path, json=visits(5), headers=PAGE)
        second = await two.post(live.events_path, json=visits(4), headers=PAGE)
        elsewhere = await two.post(other.events_path, json=visits(4), headers={"Origin": "https://other.example"})
    assert first.status_code == 202 and second.status_code == 429
    assert "per site from pages" in second.json()["message"]
    assert elsewhere.status_code == 202


async def test_page_limits_hold_in_redis_too(
    limited: AppFactory, live: Shop, redis_url: str, redis_prefix: str
) -> None:
    settings = {"page_events_per_address": "6/1m", "redis_url": redis_url, "redis_prefix": f"{redis_prefix}pl:"}
    one, two = limited(**settings), limited(**settings)
    async with page_client(one) as first, page_client(two) as second:
        answers = [
            await first.post(live.events_path, json=visits(3), headers=PAGE),
            await second.post(live.events_path, json=visits(3), headers=PAGE),
            await first.post(live.events_path, json=visits(1), headers=PAGE),
        ]
    assert [a.status_code for a in answers] == [202, 202, 429]


async def test_revenue_over_the_per_event_cap_refuses_the_batch(client: httpx.AsyncClient, live: Shop) -> None:
    events = [visit(), exposure(live.experiment_id, live.variation_ids[0]), conversion(live.goal_id, revenue=1e15)]
    answer = await client.post(live.events_path, json={"events": events}, headers=PAGE)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "events[2].revenue"
    events[2]["revenue"] = 2_000_000
    answer = await client.post(live.events_path, json={"events": events}, headers=PAGE)
    assert answer.status_code == 400
    assert answer.json()["details"] == [
        {
            "field": "events[2].revenue",
            "message": "2e+06 is over 1e+06, the most one conversion may carry on this service",
        }
    ]


async def test_a_visitors_revenue_adds_up_to_at_most_the_per_visitor_cap(
    limited: AppFactory, live: Shop, runtime: Runtime
) -> None:
    app = limited(max_revenue_per_event=100, max_revenue_per_visitor=150)
    first = {"events": [exposure(live.experiment_id, 0, "anna"), conversion(live.goal_id, "anna", revenue=100)]}
    async with page_client(app) as http:
        stored_first = await http.post(live.events_path, json=first, headers=PAGE)
        replayed = await http.post(live.events_path, json=first, headers=PAGE)  # counted once, as stored once
        second = await http.post(
            live.events_path, json={"events": [conversion(live.goal_id, "anna", revenue=60)]}, headers=PAGE
        )
        fits = await http.post(
            live.events_path, json={"events": [conversion(live.goal_id, "anna", revenue=50)]}, headers=PAGE
        )
        other = await http.post(
            live.events_path, json={"events": [conversion(live.goal_id, "bob", revenue=100)]}, headers=PAGE
        )
        with_token = await http.post(
            live.events_path,
            json={"events": [conversion(live.goal_id, "bob", revenue=51)]},
            headers=live.account.headers,
        )
    assert [stored_first.status_code, replayed.status_code] == [202, 202]
    assert second.status_code == 400
    assert second.json()["details"] == [
        {
            "field": "events[0].revenue",
            "message": "would bring visitor 'anna' to 160 on this site, over 150, "
            "the most one visitor's conversions may add up to on this service",
        }
    ]
    assert fits.status_code == 202 and other.status_code == 202
    assert with_token.status_code == 400  # the caps hold for every sender
    assert (await stored(runtime, live.site_id))["conversions"] == 3


# --- new hosts: Urls made on first contact ---------------------------------------------------------------


async def _hosts(client: httpx.AsyncClient, made: Shop) -> dict[str, str]:
    urls = (await client.get("/v3/edit/urls", params={"limit": 500}, headers=made.account.headers)).json()["urls"]
    return {u["host"]: u["enabled"] for u in urls}


async def test_forged_origins_make_at_most_the_budget_of_new_urls(
    limited: AppFactory, client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, enabled="subdomain")
    before = await _hosts(client, made)
    app = limited(new_hosts_per_site="3/1h")
    async with page_client(app) as http:
        # The Domains rule for real hosts still holds: a subdomain of a `subdomain` Url is `on` at once.
        real = await http.get(made.config_path, headers={"Origin": "https://eu.shop.example"})
        forged = [await http.get(made.config_path, headers={"Origin": f"https://fake{i}.example"}) for i in range(6)]
        events = await http.post(made.events_path, json=visits(1), headers={"Origin": "https://fake9.example"})
        known = await http.get(made.config_path, headers={"Origin": "https://shop.example"})
        known_new = await http.get(made.config_path, headers={"Origin": "https://eu.shop.example"})
    assert real.status_code == 200, real.text
    assert [a.status_code for a in forged] == [403] * 6
    assert "is not enabled" in forged[0].json()["message"]
    assert "too many new hosts lately" in forged[5].json()["message"]
    assert events.status_code == 403 and "too many new hosts" in events.json()["message"]
    assert known.status_code == 200 and known_new.status_code == 200  # hosts with a Url never wait
    after = await _hosts(client, made)
    assert set(after) - set(before) == {"eu.shop.example", "fake0.example", "fake1.example"}
    assert after["eu.shop.example"] == "on" and after["fake0.example"] == "off"


async def test_the_new_host_budget_is_per_site(
    limited: AppFactory, client: httpx.AsyncClient, factory: Factory
) -> None:
    first = await shop(client, factory)
    second = await shop(client, factory, account=first.account, host="second.example")
    app = limited(new_hosts_per_site="1/1h")
    async with page_client(app) as http:
        spent = [await http.get(first.config_path, headers={"Origin": f"https://a{i}.example"}) for i in range(2)]
        other = await http.get(second.config_path, headers={"Origin": "https://b0.example"})
    assert "is not enabled" in spent[0].json()["message"]
    assert "too many new hosts" in spent[1].json()["message"]
    assert "is not enabled" in other.json()["message"]  # its own budget: the Url was made

"""`window.versicolor`: the pre-load queue, getVariation, on("assign"), debug, and redirections."""

from __future__ import annotations

import itertools

import httpx
from playwright.async_api import BrowserContext, Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import eventually, goal, live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from versicolor.runtime import Runtime
from versicolor.tracking.assignment import assign

GOLD_MEMBERS = {
    "firstLevel": [
        {
            "conditions": [
                {
                    "targetingType": "CUSTOM_DATUM",
                    "include": True,
                    "customDataIndex": 0,
                    "matchType": "CONTAINS",
                    "value": "gold",
                }
            ]
        }
    ]
}


async def test_calls_queued_before_the_script_are_replayed_in_order(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(
        client, factory, versicolor, pages, deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0}, activate=False
    )
    made = shop.made
    custom_data = await client.post(
        "/custom-datas",
        json={
            "name": "Plan",
            "siteId": made.site_id,
            "index": 0,
            "type": "UNIQUE",
            "format": "STRING",
            "scope": "VISITOR",
        },
        headers=made.account.headers,
    )
    assert custom_data.status_code == 201, custom_data.text
    segment = await client.post(
        "/segments",
        json={"name": "Gold", "siteId": made.site_id, "conditionsData": GOLD_MEMBERS},
        headers=made.account.headers,
    )
    assert segment.status_code == 201, segment.text
    for change in (
        client.patch(
            f"/experiments/{made.experiment_id}",
            json={"targetingSegmentId": segment.json()["id"]},
            headers=made.account.headers,
        ),
        client.patch(f"/experiments/{made.experiment_id}", params={"action": "ACTIVATE"}, headers=made.account.headers),
    ):
        answer = await change
        assert answer.status_code == 200, answer.text
    bought = await goal(client, shop, "CUSTOM", {})
    queued = (
        "<script>window.versicolor = window.versicolor || [];"
        "versicolor.push(['customData', 0, 'plan-gold']);"
        f"versicolor.push(['track', {bought}, {{revenue: 30}}]);"
        "versicolor.push(function (api) { api.on('assign', function (a) { window.assigned = a; }); });"
        "</script>"
    )
    await page.goto(shop.publish("cart", shop_page(shop.snippet, head=queued)))
    await page.wait_for_function("window.assigned !== undefined")
    assert await page.evaluate("window.assigned") == {
        "experimentId": shop.made.experiment_id,
        "variationId": shop.made.variation_ids[0],
    }
    late = await page.evaluate("new Promise(done => versicolor.on('assign', done))")  # called at once, too
    assert late["variationId"] == shop.made.variation_ids[0]
    assert await page.evaluate("versicolor.getVariation(424242)") is None

    async def converted() -> bool:
        stored = await stored_events(runtime, shop.made.site_id)
        return [(c.goal_id, float(c.revenue)) for c in stored["conversions"]] == [(bought, 30.0)]

    await eventually(converted)
    exposure = (await stored_events(runtime, shop.made.site_id))["exposures"][0]
    assert exposure.custom_data == {"0": "plan-gold"}


async def test_the_original_is_variation_0_and_debug_logs_each_decision(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations={"origin": 0.5, "v1": 0.5, "v2": 0.0})
    # A visitor code the shared hash puts in the original.
    code = next(
        c
        for n in itertools.count()
        if assign(shop.made.experiment_id, c := f"{n:016d}", {"origin": 0.5, "1": 0.5}) == 0
    )
    await browser_context.add_cookies([{"name": "vcVisitor", "value": code, "domain": shop.host, "path": "/"}])
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    debug_first = "<script>window.versicolor = [['debug', true]];</script>"
    await page.goto(shop.publish("cart", shop_page(shop.snippet, head=debug_first)))
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    assert await page.evaluate("versicolor.visitorCode") == code
    assert await page.evaluate(f"versicolor.getVariation({shop.made.experiment_id})") == 0
    assert await page.inner_text("#title") == "Original"
    await page.wait_for_timeout(500)
    assert any(f"experiment {shop.made.experiment_id} variation 0" in line for line in logged), logged
    assert any("EXPOSURE" in line for line in logged), logged


async def test_a_redirection_variation_sends_the_visitor_on_once(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0})
    landing_b = shop.publish("landing-b")
    redirected = await client.patch(
        f"/variations/{shop.made.variation_ids[0]}",
        json={"redirection": {"type": "GLOBAL_REDIRECTION", "url": landing_b, "includeQueryParameters": True}},
        headers=shop.made.account.headers,
    )
    assert redirected.status_code == 200, redirected.text
    await page.goto(shop.publish("landing") + "?utm_source=mail")
    await page.wait_for_url(landing_b + "?utm_source=mail")
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    assert page.url == landing_b + "?utm_source=mail"  # and not redirected again from there

    async def exposed() -> bool:
        stored = await stored_events(runtime, shop.made.site_id)
        return [e.variation_id for e in stored["exposures"]] == [shop.made.variation_ids[0]]

    await eventually(exposed)

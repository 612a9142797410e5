"""Installing the engine: the script a site's snippet loads, and its first page view in a real browser."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.engine.pages import PageServer
from tests.engine.shop import live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from versicolor.runtime import Runtime


async def test_the_variation_is_applied_and_agrees_with_the_server(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(client, factory, versicolor, pages)
    await page.goto(shop.publish("cart"))
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    code = await page.evaluate("versicolor.visitorCode")
    shown = await page.evaluate(f"versicolor.getVariation({shop.made.experiment_id})")
    answer = await client.get(
        f"/data/v1/sites/{shop.made.code}/visitors/{code}/variations", headers=shop.made.account.headers
    )
    assert answer.json()["variations"] == [{"experimentId": shop.made.experiment_id, "variationId": shown}]
    expected = {0: "Original", shop.made.variation_ids[0]: "Green", shop.made.variation_ids[1]: "Blue"}[shown]
    assert await page.inner_text("#title") == expected
    await page.wait_for_timeout(1500)
    events = await stored_events(runtime, shop.made.site_id)
    assert [e.visitor_code for e in events["exposures"]] == [code]

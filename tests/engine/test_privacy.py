"""Privacy in a real browser: unauthorised hosts get nothing, and consent decides what is stored and sent."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext, Page

from tests.engine.pages import PageServer
from tests.engine.shop import LiveShop, eventually, goal, live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from versicolor.runtime import Runtime

ALL_IN = {"origin": 0.0, "v1": 1.0, "v2": 0.0}


async def left_nothing(shop: LiveShop, page: Page, context: BrowserContext, runtime: Runtime) -> None:
    """The page shows the original and is visible; nothing was stored in the browser or sent to Versicolor."""
    await page.wait_for_timeout(1500)
    assert await page.inner_text("#title") == "Original"
    assert await page.evaluate("getComputedStyle(document.documentElement).visibility") == "visible"
    assert await context.cookies() == []
    assert await page.evaluate("localStorage.length") == 0
    assert await page.evaluate("window.versicolor.visitorCode ?? null") is None
    stored = await stored_events(runtime, shop.made.site_id)
    assert stored == {"visits": [], "exposures": [], "conversions": []}


async def test_a_host_never_authorised_gets_nothing_applied_and_nothing_stored(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
    runtime: Runtime,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=ALL_IN)
    shop.host = "copycat.example"
    await page.goto(shop.publish("cart"))
    await left_nothing(shop, page, browser_context, runtime)


async def test_an_archived_url_gets_nothing_applied_and_nothing_stored(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
    runtime: Runtime,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=ALL_IN)
    archived = await client.patch(
        f"/v3/edit/urls/{shop.made.url_id}", json={"unlisted": True}, headers=shop.made.account.headers
    )
    assert archived.status_code == 200, archived.text
    await page.goto(shop.publish("cart"))
    await left_nothing(shop, page, browser_context, runtime)


async def test_consent_decides_what_is_stored_and_sent_and_withdrawing_it_forgets_the_visitor(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
    runtime: Runtime,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=ALL_IN, site_fields={"consentRequired": True})
    custom = await goal(client, shop, "CUSTOM", {}, hasMultipleConversions=True)
    url = shop.publish("cart")
    await page.goto(url)
    await page.evaluate(f"versicolor.track({custom})")  # waits for consent
    await left_nothing(shop, page, browser_context, runtime)

    await page.evaluate("versicolor.consent(true)")
    await page.wait_for_function("document.getElementById('title').textContent === 'Green'")
    code = await page.evaluate("versicolor.visitorCode")
    assert [c["value"] for c in await browser_context.cookies()] == [code]

    async def exposed() -> bool:
        return len((await stored_events(runtime, shop.made.site_id))["exposures"]) == 1

    await eventually(exposed)
    await page.reload()  # consent is remembered: applied at once, the same visitor
    await page.wait_for_function("document.getElementById('title').textContent === 'Green'")
    assert await page.evaluate("versicolor.visitorCode") == code

    await page.evaluate("versicolor.consent(false)")
    assert await browser_context.cookies() == []
    assert await page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('vc'))") == []
    assert await page.evaluate("versicolor.visitorCode") is None
    await page.evaluate(f"versicolor.track({custom})")
    await page.wait_for_timeout(1500)
    assert [c.goal_id for c in (await stored_events(runtime, shop.made.site_id))["conversions"]] == []
    await page.reload()  # forgotten: back to waiting for consent
    await page.wait_for_timeout(500)
    assert await page.inner_text("#title") == "Original"
    assert await browser_context.cookies() == []

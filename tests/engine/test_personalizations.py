"""Personalizations in a real Chromium: everyone in the segment sees the code, no one else, no control group."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import LiveShop, live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from versicolor.runtime import Runtime

# Visitors whose page says they are on the gold plan (a JavaScript condition, decided in the page).
GOLD = {
    "firstLevel": [
        {"conditions": [{"targetingType": "JS_CODE", "include": True, "jsCode": "return window.plan === 'gold';"}]}
    ],
    "firstLevelOrOperators": [],
}
# The shop's experiment runs too, but its variations leave the page as it is: what changes it is the personalization.
QUIET = ("window.variant = 1;", "window.variant = 2;")


async def _personalization(client: httpx.AsyncClient, shop: LiveShop, **fields: Any) -> dict[str, Any]:
    made = shop.made
    segment = await client.post(
        "/segments", json={"name": "Gold", "siteId": made.site_id, "conditionsData": GOLD}, headers=made.account.headers
    )
    assert segment.status_code == 201, segment.text
    body = {"name": "Gold banner", "siteId": made.site_id, "targetingSegmentId": segment.json()["id"], **fields}
    created = await client.post("/personalizations", json=body, headers=made.account.headers)
    assert created.status_code == 201, created.text
    activated = await client.patch(
        f"/personalizations/{created.json()['id']}", params={"action": "ACTIVATE"}, headers=made.account.headers
    )
    assert activated.status_code == 200, activated.text
    return activated.json()


def _page(shop: LiveShop, plan: str) -> str:
    return shop_page(shop.snippet, head=f"<script>window.plan = '{plan}';</script>")


async def test_everyone_in_the_segment_sees_it_and_no_one_else(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
    runtime: Runtime,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, variation_code=QUIET)
    await _personalization(
        client,
        shop,
        javaScriptCode="document.getElementById('title').textContent = 'Welcome, gold member';",
        cssCode="#title { color: rgb(255, 0, 0); }",
    )

    async def title(url: str) -> tuple[str, str]:
        await page.goto(url)
        await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
        await page.wait_for_function("!document.getElementById('versicolor-hide')")
        text: str = await page.text_content("#title") or ""
        color: str = await page.evaluate("getComputedStyle(document.getElementById('title')).color")
        return text, color

    assert await title(shop.publish("silver", _page(shop, "silver"))) == ("Original", "rgb(0, 0, 0)")
    for visitor in range(3):  # no control group: every visitor in the segment, every time
        await browser_context.clear_cookies()
        await page.goto("about:blank")
        assert await title(shop.publish(f"gold-{visitor}", _page(shop, "gold"))) == (
            "Welcome, gold member",
            "rgb(255, 0, 0)",
        )
    exposures = (await stored_events(runtime, shop.made.site_id))["exposures"]
    assert all(e.experiment_id == shop.made.experiment_id for e in exposures), "a personalization is not an experiment"


async def test_in_a_single_page_application_its_styles_follow_the_segment(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, variation_code=QUIET)
    await _personalization(
        client,
        shop,
        javaScriptCode="window.runs = (window.runs || 0) + 1;",
        cssCode="#title { color: rgb(0, 0, 255); }",
    )
    await page.goto(shop.publish("spa", _page(shop, "gold")))
    await page.wait_for_function("window.runs === 1")
    color = "getComputedStyle(document.getElementById('title')).color"
    assert await page.evaluate(color) == "rgb(0, 0, 255)"
    await page.evaluate("window.plan = 'silver'; history.pushState({}, '', '?step=2')")
    assert await page.evaluate(color) == "rgb(0, 0, 0)", "out of the segment: its styles go"
    await page.evaluate("window.plan = 'gold'; history.pushState({}, '', '?step=3')")
    assert await page.evaluate(color) == "rgb(0, 0, 255)", "back in: they come back"
    assert await page.evaluate("window.runs") == 1, "its code ran once in this document"

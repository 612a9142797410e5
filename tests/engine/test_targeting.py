"""Segments decided in the page: conditions only a page knows (JS_CODE, the title, cookies, the landing page)."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext, Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import live_shop
from tests.factories import Factory
from tests.server import Server

GOLD_CHECKOUT = {
    "firstLevel": [
        {
            "conditions": [
                {"targetingType": "JS_CODE", "include": True, "jsCode": "return window.plan === 'gold';"},
                {"targetingType": "PAGE_TITLE", "include": True, "matchType": "CONTAINS", "title": "Checkout"},
                {"targetingType": "COOKIE", "include": False, "name": "optout", "nameMatchType": "CORRESPONDS_EXACTLY"},
                {"targetingType": "LANDING_PAGE", "include": True, "matchType": "REGULAR_EXPRESSION", "url": "/t\\d+/"},
            ],
            "orOperators": [False, False, False],
        }
    ],
    "firstLevelOrOperators": [],
}


async def test_page_only_conditions_decide_in_the_page(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
) -> None:
    shop = await live_shop(
        client, factory, versicolor, pages, deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0}, segment=GOLD_CHECKOUT
    )
    experiment = shop.made.experiment_id

    def checkout(plan: str, title: str = "Checkout") -> str:
        head = f"<script>window.plan = '{plan}';</script>"
        return shop_page(shop.snippet, head=head).replace("<title>Shop</title>", f"<title>{title}</title>")

    async def shown(url: str) -> int | None:
        await page.goto(url)
        await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
        found: int | None = await page.evaluate(f"versicolor.getVariation({experiment})")
        return found

    assert await shown(shop.publish("silver", checkout("silver"))) is None
    assert await shown(shop.publish("home", checkout("gold", title="Home"))) is None
    assert await shown(shop.publish("gold", checkout("gold"))) == shop.made.variation_ids[0]
    await browser_context.add_cookies([{"name": "optout", "value": "1", "domain": shop.host, "path": "/"}])
    assert await shown(shop.publish("gold-again", checkout("gold"))) is None

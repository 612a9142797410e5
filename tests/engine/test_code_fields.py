"""The site's trackingScript runs on every page; an experiment's globalScript only where the experiment runs."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import live_shop
from tests.factories import Factory
from tests.server import Server

TRACKING = "window.tracked = (window.tracked || 0) + 1;"
GLOBAL = "window.globalRan = (window.globalRan || 0) + 1;"


async def test_tracking_script_runs_everywhere_and_global_script_where_the_experiment_runs(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, site_fields={"trackingScript": TRACKING})
    made = shop.made
    cart = shop.publish("cart")
    other = shop.publish("other")
    changed = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"globalScript": GLOBAL, "targetingConfiguration": "PAGE", "baseURL": cart},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text

    async def ran(url: str) -> tuple[object, object]:
        await page.goto(url)
        await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
        found: tuple[object, object] = tuple(await page.evaluate("[window.tracked, window.globalRan]"))
        return found

    assert await ran(cart) == (1, 1)
    assert await ran(other) == (1, None)


async def test_code_fields_run_with_the_pages_nonce_under_a_strict_policy(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, site_fields={"trackingScript": TRACKING})
    made = shop.made
    changed = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"globalScript": GLOBAL, "targetingConfiguration": "SITE"},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text
    policy = {"Content-Security-Policy": "script-src 'nonce-r4nd0m'; style-src 'nonce-r4nd0m'"}
    with_nonce = shop.snippet.replace("<script", '<script nonce="r4nd0m"')
    await page.goto(shop.publish("strict", shop_page(with_nonce), policy))
    # Polled from here: Playwright's own in-page polling would need 'unsafe-eval', which this page forbids.
    for _ in range(100):
        if await page.evaluate("[window.tracked, window.globalRan]") == [1, 1]:
            break
        await page.wait_for_timeout(100)
    assert await page.evaluate("[window.tracked, window.globalRan]") == [1, 1]

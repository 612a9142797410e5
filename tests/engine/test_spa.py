"""Single-page applications: history navigation re-evaluates targeting and goals without a reload."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.engine.pages import PageServer
from tests.engine.shop import eventually, goal, live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from versicolor.runtime import Runtime

ON_PRODUCT_PAGES = {
    "firstLevel": [
        {"conditions": [{"targetingType": "PAGE_URL", "include": True, "matchType": "CONTAINS", "value": "/product"}]}
    ]
}
COLOR = "getComputedStyle(document.getElementById('title')).color"


async def test_navigation_applies_and_withdraws_by_url_and_runs_the_code_once(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(
        client,
        factory,
        versicolor,
        pages,
        deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0},
        segment=ON_PRODUCT_PAGES,
        variation_code=("window.ran = (window.ran || 0) + 1;", ""),
    )
    styled = await client.patch(
        f"/variations/{shop.made.variation_ids[0]}",
        json={"cssCode": "#title { color: rgb(255, 0, 0); }"},
        headers=shop.made.account.headers,
    )
    assert styled.status_code == 200, styled.text
    thanks = await goal(client, shop, "URL", {"matchType": "CONTAINS", "matchString": "/thanks"})
    experiment = shop.made.experiment_id
    await page.goto(shop.publish("home"))
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    assert await page.evaluate(f"versicolor.getVariation({experiment})") is None
    assert await page.evaluate(COLOR) == "rgb(0, 0, 0)"

    await page.evaluate(f"history.pushState({{}}, '', '{shop.folder}/product/42')")
    assert await page.evaluate(f"versicolor.getVariation({experiment})") == shop.made.variation_ids[0]
    await page.wait_for_function("window.ran === 1")
    assert await page.evaluate(COLOR) == "rgb(255, 0, 0)"

    await page.evaluate(f"history.pushState({{}}, '', '{shop.folder}/home')")
    assert await page.evaluate(COLOR) == "rgb(0, 0, 0)"
    await page.go_back()  # popstate: back on the product page
    await page.wait_for_function(f"{COLOR} === 'rgb(255, 0, 0)'")
    await page.evaluate("location.hash = '#reviews'")  # hashchange: still a product page
    await page.wait_for_timeout(100)
    assert await page.evaluate(COLOR) == "rgb(255, 0, 0)"
    assert await page.evaluate("window.ran") == 1

    await page.evaluate(f"history.replaceState({{}}, '', '{shop.folder}/thanks')")

    async def converted() -> bool:
        return [c.goal_id for c in (await stored_events(runtime, shop.made.site_id))["conversions"]] == [thanks]

    await eventually(converted)
    exposures = (await stored_events(runtime, shop.made.site_id))["exposures"]
    assert [(e.experiment_id, e.variation_id) for e in exposures] == [(experiment, shop.made.variation_ids[0])]

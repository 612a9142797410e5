"""Goals the engine tracks in the page, up to a results report."""

from __future__ import annotations

from collections import Counter

import httpx
from playwright.async_api import Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import eventually, goal, live_shop, stored_events
from tests.factories import Factory
from tests.results.test_results_api import report
from tests.server import Server
from versicolor.runtime import Runtime

LATER_BUTTON = """<h1 id="title">Original</h1><div id="later"></div>
<script>setTimeout(() => {
  document.getElementById('later').innerHTML = '<a class="cta"><span>Go</span></a>';
}, 300)</script>"""


async def test_a_click_on_an_element_added_later_reaches_the_results_report(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0})
    clicked = await goal(client, shop, "CLICK", {"cssSelector": "#later .cta"})
    await page.goto(shop.publish("cart", shop_page(shop.snippet, LATER_BUTTON)))
    await page.click("#later .cta span")
    await page.click("#later .cta span")  # counted once: the goal has no multiple conversions
    await page.click("#title")  # not the goal's element

    async def converted() -> bool:
        return len((await stored_events(runtime, shop.made.site_id))["conversions"]) >= 1

    await eventually(converted)
    await page.wait_for_timeout(1500)  # a second conversion, had there been one, would have arrived by now
    data = await report(client, shop.made, {"goalsIds": [clicked]})
    variations = data["variationData"]
    chosen = str(shop.made.variation_ids[0])
    general = variations[chosen]["breakdownData"]["_reference"]["generalData"]
    assert general["visitorCount"] == 1
    assert general["goalsData"][str(clicked)]["conversionCount"] == 1
    assert variations["0"]["breakdownData"]["_reference"]["generalData"]["visitorCount"] == 0


async def test_url_page_views_scroll_time_and_custom_goals_convert_in_the_page(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(client, factory, versicolor, pages)
    url_goal = await goal(client, shop, "URL", {"matchType": "REGULAR_EXPRESSION", "matchString": "/thanks(\\?|$)"})
    views = await goal(client, shop, "PAGE_VIEWS", {"pageViews": 2})
    scroll = await goal(client, shop, "SCROLL", {"scrollValue": 50})
    spent = await goal(client, shop, "TIME_SPENT", {"timeSeconds": 1})
    many = await goal(client, shop, "CUSTOM", {}, hasMultipleConversions=True)
    tall = shop_page(shop.snippet, '<h1 id="title">Original</h1><div style="height:5000px"></div>')
    await page.goto(shop.publish("landing", tall))
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.evaluate(f"versicolor.track({many}, {{revenue: 12.5}}); versicolor.track({many}, {{revenue: 7.5}})")
    await page.wait_for_timeout(1200)  # the visit's first second passes: TIME_SPENT
    await page.goto(shop.publish("thanks"))  # the second page view, and a URL that matches
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")

    async def all_in() -> bool:
        stored = (await stored_events(runtime, shop.made.site_id))["conversions"]
        return {url_goal, views, scroll, spent, many} <= {c.goal_id for c in stored} and len(stored) >= 6

    await eventually(all_in)
    stored = (await stored_events(runtime, shop.made.site_id))["conversions"]
    assert Counter(c.goal_id for c in stored) == {url_goal: 1, views: 1, scroll: 1, spent: 1, many: 2}
    assert sorted(float(c.revenue) for c in stored if c.goal_id == many) == [7.5, 12.5]

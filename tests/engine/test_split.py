"""200 fresh browsers: the split is within binomial bounds, and each page agrees with the server."""

from __future__ import annotations

import math

import httpx
from playwright.async_api import Browser

from tests.engine.pages import PageServer
from tests.engine.shop import live_shop
from tests.factories import Factory
from tests.server import Server
from versicolor.core.roles import Role

VISITORS = 200
SHARES = {"origin": 0.5, "v1": 0.3, "v2": 0.2}


async def test_fresh_visitors_split_as_the_deviations_say_and_agree_with_the_visitors_endpoint(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, chromium: Browser
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=SHARES)
    url = shop.publish("home")
    seen: dict[str, int] = {}
    # One context, emptied of cookies and storage between visitors: each arrives with nothing, as a new
    # browser does (a context costs half a second to make on a busy machine; 200 of them would be minutes).
    context = await chromium.new_context()
    try:
        tab = await context.new_page()
        for _ in range(VISITORS):
            await tab.goto(url)
            await tab.wait_for_function("window.versicolor && window.versicolor.visitorCode", timeout=10_000)
            code, shown = await tab.evaluate(
                f"[versicolor.visitorCode, versicolor.getVariation({shop.made.experiment_id})]"
            )
            seen[code] = shown
            await tab.evaluate("localStorage.clear(); sessionStorage.clear()")
            await context.clear_cookies()
    finally:
        await context.close()
    assert len(seen) == VISITORS  # every browser got a code of its own
    ids = {"origin": 0, "v1": shop.made.variation_ids[0], "v2": shop.made.variation_ids[1]}
    for key, share in SHARES.items():
        count = sum(1 for shown in seen.values() if shown == ids[key])
        spread = 4 * math.sqrt(VISITORS * share * (1 - share))  # 4 standard deviations: a false alarm in 16,000
        assert abs(count - VISITORS * share) <= spread, (key, count)
    # Several readers, so that 200 questions stay within each token's rate limit.
    readers = [await factory.member(shop.made.account, Role.VIEWER) for _ in range(5)]
    for number, (code, shown) in enumerate(seen.items()):
        answer = await client.get(
            f"/data/v1/sites/{shop.made.code}/visitors/{code}/variations", headers=readers[number % 5].headers
        )
        assert answer.json()["variations"] == [{"experimentId": shop.made.experiment_id, "variationId": shown}], code

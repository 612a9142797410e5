"""Installing the engine: the script a site's snippet loads, and its first page view in a real browser."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from tests.tracking.fixtures import ORIGIN, shop
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


async def test_the_script_is_cacheable_and_refused_to_unauthorised_hosts(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory)
    path = f"/data/v1/sites/{made.code}/engine.js"
    origin = {"Origin": ORIGIN}
    served = await client.get(path, headers=origin)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("text/javascript")
    assert served.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert served.headers["Cache-Control"] == "private, max-age=300"
    assert f'"site":"{made.code}"' in served.text and '"timeout":1000' in served.text
    again = await client.get(path, headers={**origin, "If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    referred = await client.get(path, headers={"Referer": f"{ORIGIN}/cart"})
    assert referred.status_code == 200
    assert (await client.get(path)).status_code == 200  # no page named: the script alone does nothing
    refused = await client.get(path, headers={"Origin": "https://copycat.example"})
    assert refused.status_code == 403 and "copycat.example" in refused.json()["message"]
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert (await client.get("/data/v1/sites/nosuchsite/engine.js", headers=origin)).status_code == 404
    changed = await client.patch(
        f"/sites/{made.site_id}", json={"antiFlickerTimeout": 400}, headers=made.account.headers
    )
    assert changed.status_code == 200
    newer = await client.get(path, headers={**origin, "If-None-Match": served.headers["ETag"]})
    assert newer.status_code == 200 and '"timeout":400' in newer.text


async def test_the_site_carries_its_snippet_and_refuses_bad_engine_settings(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory)
    site = (await client.get(f"/sites/{made.site_id}", headers=made.account.headers)).json()
    assert site["antiFlickerTimeout"] == 1000 and site["consentRequired"] is False
    assert f'src="http://localhost/data/v1/sites/{made.code}/engine.js"' in site["snippet"]
    assert "(document,1000)" in site["snippet"]
    for body, field in [
        ({"antiFlickerTimeout": -1}, "antiFlickerTimeout"),
        ({"antiFlickerTimeout": 10_001}, "antiFlickerTimeout"),
        ({"antiFlickerTimeout": None}, "antiFlickerTimeout"),
        ({"antiFlickerTimeout": "fast"}, "antiFlickerTimeout"),
        ({"consentRequired": None}, "consentRequired"),
        ({"consentRequired": "maybe"}, "consentRequired"),
    ]:
        answer = await client.patch(f"/sites/{made.site_id}", json=body, headers=made.account.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.text
    created = await client.post(
        "/sites",
        json={"name": "Quiet", "antiFlickerTimeout": 0, "consentRequired": True},
        headers=made.account.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["consentRequired"] is True and "(document,0)" in created.json()["snippet"]


async def test_a_page_with_a_content_security_policy_runs_the_engine_with_its_nonce(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page
) -> None:
    shop_ = await live_shop(client, factory, versicolor, pages, deviations={"origin": 0.0, "v1": 1.0, "v2": 0.0})
    styled = await client.patch(
        f"/variations/{shop_.made.variation_ids[0]}",
        json={"cssCode": "#title { color: rgb(0, 128, 0); }"},
        headers=shop_.made.account.headers,
    )
    assert styled.status_code == 200
    policy = {"Content-Security-Policy": "script-src 'nonce-r4nd0m'; style-src 'nonce-r4nd0m'"}
    with_nonce = shop_.snippet.replace("<script", '<script nonce="r4nd0m"')
    await page.goto(shop_.publish("cart", shop_page(with_nonce), policy))
    # Polled from here: Playwright's own in-page polling would need 'unsafe-eval', which this page forbids.
    for _ in range(100):
        if await page.inner_text("#title") == "Green":
            break
        await page.wait_for_timeout(100)
    assert await page.inner_text("#title") == "Green"
    assert await page.evaluate("getComputedStyle(document.getElementById('title')).color") == "rgb(0, 128, 0)"
    # Without the nonce on the tags the policy blocks the engine: the page stays as it was, and shows.
    await page.goto(shop_.publish("bare", shop_page(shop_.snippet), policy))
    await page.wait_for_timeout(1200)
    assert await page.inner_text("#title") == "Original"
    assert await page.evaluate("getComputedStyle(document.documentElement).visibility") == "visible"

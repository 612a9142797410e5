"""What the engine survives: Versicolor stopped or slow, code that throws, odd cookies, blocked storage, the
script loaded twice, failed batches and experiments deleted between the configuration and the events."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Page, Route

from tests.engine.pages import PageServer, shop_page
from tests.engine.shop import eventually, live_shop, stored_events
from tests.factories import Factory
from tests.server import Server, serve
from versicolor.runtime import Runtime

ALL_IN = {"origin": 0.0, "v1": 1.0, "v2": 0.0}
HIDDEN = "document.getElementById('versicolor-hide') !== null"


def page_errors(page: Page) -> list[str]:
    """Errors thrown into the page from now on."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


async def test_with_versicolor_stopped_the_original_page_shows_after_the_sites_timeout(
    client: httpx.AsyncClient,
    factory: Factory,
    pages: PageServer,
    page: Page,
    database_url: str,
    tmp_path: Path,
) -> None:
    with serve(["--database-url", database_url], log_dir=tmp_path) as stopped_soon:
        shop = await live_shop(
            client, factory, stopped_soon, pages, deviations=ALL_IN, site_fields={"antiFlickerTimeout": 700}
        )
    assert "(document,700)" in shop.snippet
    errors = page_errors(page)
    await page.goto(shop.publish("cart"), wait_until="commit")
    await page.wait_for_selector("#title", state="attached")
    assert await page.evaluate(HIDDEN)  # hidden while the engine could still come
    await page.wait_for_function(f"!({HIDDEN})", timeout=700 + 2000)
    shown_after = await page.evaluate("performance.now()")
    assert shown_after >= 700
    assert await page.inner_text("#title") == "Original"
    assert await page.evaluate("getComputedStyle(document.documentElement).visibility") == "visible"
    assert errors == []


async def test_a_configuration_arriving_after_the_timeout_leaves_the_original_on_that_page_view(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(
        client, factory, versicolor, pages, deviations=ALL_IN, site_fields={"antiFlickerTimeout": 300}
    )

    async def slowly(route: Route) -> None:
        await asyncio.sleep(1.0)
        await route.continue_()

    await page.route(re.compile(r".*/config$"), slowly)
    await page.goto(shop.publish("cart"))
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode", timeout=5000)
    assert await page.inner_text("#title") == "Original"
    assert await page.evaluate(f"versicolor.getVariation({shop.made.experiment_id})") is None
    await page.unroute(re.compile(r".*/config$"))
    await page.reload()  # the next page view decides normally
    await page.wait_for_function("document.getElementById('title').textContent === 'Green'")

    async def one_exposure() -> bool:
        return len((await stored_events(runtime, shop.made.site_id))["exposures"]) == 1

    await eventually(one_exposure)


async def test_code_that_throws_is_reported_and_stops_neither_the_page_nor_the_rest(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(
        client,
        factory,
        versicolor,
        pages,
        deviations=ALL_IN,
        variation_code=("throw new Error('boom');", "throw new Error('boom');"),
    )
    made = shop.made
    changed = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"commonJavaScriptCode": "this is not ( javascript", "commonCssCode": "#title { color: rgb(0, 0, 255); }"},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text
    own_handler = (
        "<script>window.seen = []; window.onerror = (m) => { window.seen.push(m); };"
        "addEventListener('error', (e) => window.seen.push(e.message));</script>"
    )
    queue_first = (
        "<script>versicolor.push(a => a.on('error', e => (window.reported = (window.reported || 0) + 1)));</script>"
    )
    body = '<h1 id="title">Original</h1><button id="buy" onclick="this.textContent = \'Bought\'">Buy</button>'
    await page.goto(
        shop.publish(
            "cart", shop_page(shop.snippet.replace("<script async", queue_first + "<script async"), body, own_handler)
        )
    )
    await page.wait_for_function("window.reported === 2")
    assert await page.evaluate("getComputedStyle(document.getElementById('title')).color") == "rgb(0, 0, 255)"
    await page.click("#buy")
    assert await page.inner_text("#buy") == "Bought"
    # The page's own handlers hear of them as of any script's error; the page goes on.
    assert len(await page.evaluate("window.seen")) == 4

    async def exposed() -> bool:
        return len((await stored_events(runtime, made.site_id))["exposures"]) == 1

    await eventually(exposed)


async def test_a_malformed_or_foreign_visitor_cookie_gets_a_new_code(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages)
    url = shop.publish("cart")
    for odd in ["..%2F..%2Fetc", "KAMELEOON0123456", "abc", "x" * 300]:
        await browser_context.clear_cookies()
        await browser_context.add_cookies([{"name": "vcVisitor", "value": odd, "domain": shop.host, "path": "/"}])
        await page.goto(url)
        await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
        code = await page.evaluate("versicolor.visitorCode")
        assert re.fullmatch(r"[a-z0-9]{16}", code)
        assert [c["value"] for c in await browser_context.cookies()] == [code]
        await page.evaluate("localStorage.clear()")


async def test_with_cookies_and_storage_blocked_the_page_view_still_runs_and_is_tracked(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    runtime: Runtime,
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=ALL_IN)
    await page.add_init_script(
        """
        const blocked = () => { throw new DOMException('blocked', 'SecurityError'); };
        Object.defineProperty(window, 'localStorage', {get: blocked});
        Object.defineProperty(window, 'sessionStorage', {get: blocked});
        Object.defineProperty(Document.prototype, 'cookie', {get: blocked, set: blocked});
        """
    )
    errors = page_errors(page)
    await page.goto(shop.publish("cart"))
    await page.wait_for_function("document.getElementById('title').textContent === 'Green'")
    code = await page.evaluate("versicolor.visitorCode")

    async def exposed() -> bool:
        return [e.visitor_code for e in (await stored_events(runtime, shop.made.site_id))["exposures"]] == [code]

    await eventually(exposed)
    assert errors == []


async def test_a_page_that_loads_the_script_twice_runs_one_engine(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(
        client,
        factory,
        versicolor,
        pages,
        deviations=ALL_IN,
        variation_code=("window.ran = (window.ran || 0) + 1;", ""),
    )
    tag = re.search(r"<script async [^>]*></script>", shop.snippet)
    assert tag is not None
    twice = shop_page(shop.snippet + tag.group(0).replace(" async", ""))
    await page.goto(shop.publish("cart", twice))
    await page.wait_for_function("window.ran === 1")
    await page.wait_for_timeout(1500)
    assert await page.evaluate("window.ran") == 1
    stored = await stored_events(runtime, shop.made.site_id)
    assert (len(stored["visits"]), len(stored["exposures"])) == (1, 1)


async def test_a_failed_batch_is_kept_and_sent_by_a_later_page_without_what_was_deleted_meanwhile(
    client: httpx.AsyncClient, factory: Factory, versicolor: Server, pages: PageServer, page: Page, runtime: Runtime
) -> None:
    shop = await live_shop(client, factory, versicolor, pages, deviations=ALL_IN)
    made = shop.made
    unreachable = re.compile(r".*/events$")
    await page.route(unreachable, lambda route: route.abort("connectionrefused"))
    await page.goto(shop.publish("cart"))
    await page.wait_for_function("document.getElementById('title').textContent === 'Green'")
    await page.wait_for_function("(JSON.parse(localStorage.getItem('vc.queue')) || []).length === 2")
    kept = await page.evaluate("JSON.parse(localStorage.getItem('vc.queue')).map(e => e.type)")
    assert sorted(kept) == ["EXPOSURE", "VISIT"]
    # Between the configuration and the events, the experiment is stopped and deleted.
    for step in (
        client.patch(f"/experiments/{made.experiment_id}", params={"action": "STOP"}, headers=made.account.headers),
        client.delete(f"/experiments/{made.experiment_id}", headers=made.account.headers),
    ):
        assert (await step).status_code in (200, 204)
    await page.unroute(unreachable)
    await page.goto(shop.publish("next"))
    await page.wait_for_function("(JSON.parse(localStorage.getItem('vc.queue')) || []).length === 0", timeout=8000)

    async def visit_stored() -> bool:
        return len((await stored_events(runtime, made.site_id))["visits"]) == 1

    await eventually(visit_stored)
    assert (await stored_events(runtime, made.site_id))["exposures"] == []

"""Page engine: script size, time to variations applied, page load with and without it, tracking traffic.

A real `versicolor serve` (SQLite) serves a site with one ACTIVE experiment (two variations with JavaScript and
CSS, a CLICK and a CUSTOM goal) on an enabled host; a local page server serves the shop's page under that host
name, once with the site's snippet and once without; Debian's Chromium, headless through Playwright, loads them.

- Size: the script as served (minified by rjsmin, the site's settings included; no site code is in it) raw and
  gzip -9, beside the readable sources it is made from.
- Time, warm configuration (the browser holds a fresh copy, as on every page view after the first of a visit):
  Performance marks `versicolor:start` -> `versicolor:config` -> `versicolor:applied`, median and 90th percentile
  of 50 loads; the page's load time (`loadEventEnd`) with the engine and without it in the same run, interleaved.
- Tracking: requests to the events endpoint per page view over a visit of 20 page views, and bytes per event.
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright
from tests.browsing import CHROMIUM, FLAGS
from tests.engine.pages import PageServer, serving, shop_page
from tests.server import serve

from benchmarks._shop import HOST, setup
from versicolor.engine import script

LOADS = 50
VISIT_PAGES = 20


def _median_p90(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {statistics.median(ordered):6.2f} ms, p90 {ordered[int(0.9 * (len(ordered) - 1))]:6.2f} ms"


async def _marks(page: Page) -> dict[str, float]:
    await page.wait_for_function("performance.getEntriesByName('versicolor:applied').length > 0", timeout=10_000)
    found: dict[str, float] = await page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
    return found


async def _load_end(page: Page) -> float:
    await page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    end: float = await page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    return end


async def _measure(base_url: str, pages: PageServer, snippet: str) -> None:
    text = "A paragraph of the shop's page. " * 200
    body = f'<h1 id="title">Original</h1><p>{text}</p><button id=buy>Buy</button>'
    pages.publish("/with", shop_page(snippet, body))
    pages.publish("/without", shop_page("", body))
    for n in range(VISIT_PAGES):
        pages.publish(f"/visit/{n}", shop_page(snippet, body))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(pages.url(HOST, "/with"))  # warms the script and the configuration
            await _marks(page)
            to_config, config_to_applied, start_to_applied, with_engine, without = [], [], [], [], []
            for _ in range(LOADS):
                await page.goto(pages.url(HOST, "/with"))
                marks = await _marks(page)
                with_engine.append(await _load_end(page))
                to_config.append(marks["versicolor:config"] - marks["versicolor:start"])
                config_to_applied.append(marks["versicolor:applied"] - marks["versicolor:config"])
                start_to_applied.append(marks["versicolor:applied"] - marks["versicolor:start"])
                await page.goto(pages.url(HOST, "/without"))
                without.append(await _load_end(page))
            await context.close()
            print(f"warm configuration, {LOADS} loads in one browser:")
            print(f"  script start -> configuration   {_median_p90(to_config)}")
            print(f"  configuration -> applied        {_median_p90(config_to_applied)}   (target <= 15 ms)")
            print(f"  script start -> applied         {_median_p90(start_to_applied)}")
            print(f"  page load (loadEventEnd) with the engine     {_median_p90(with_engine)}")
            print(f"  baseline: the same page without the engine   {_median_p90(without)}")

            context = await browser.new_context()
            page = await context.new_page()
            batches: list[str] = []
            page.on("request", lambda r: batches.append(r.post_data or "") if r.url.endswith("/events") else None)
            for n in range(VISIT_PAGES):
                await page.goto(pages.url(HOST, f"/visit/{n}"))
                await _marks(page)
                if n % 4 == 0:
                    await page.click("#buy")
                await page.wait_for_timeout(300)
            await page.goto("about:blank")  # the last page is left: pagehide
            await asyncio.sleep(1.5)
            await context.close()
            events = sum(text.count('"id":') for text in batches)
            sent = sum(len(text.encode()) for text in batches)
            print(f"a visit of {VISIT_PAGES} page views (a click every fourth):")
            print(f"  tracking requests per page view {len(batches) / VISIT_PAGES:.2f} ({len(batches)} requests)")
            print(f"  events {events}, bytes per event {sent / max(events, 1):.0f} (batch bodies, JSON)")
        finally:
            await browser.close()


def main() -> None:
    source = script.source().encode()
    served = script.for_site(script.SiteSettings(code="k3v9x0a2bq")).body
    print("script size:")
    print(f"  served (minified)   {len(served):6d} B, gzip -9 {len(gzip.compress(served, 9)):6d} B   (target <= 10 KB)")
    print(f"  baseline: readable sources {len(source):6d} B, gzip -9 {len(gzip.compress(source, 9)):6d} B")
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        with serve(["--database-url", database_url], log_dir=Path(folder)) as server, serving() as pages:
            site = setup(server.base_url, database_url)
            with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {site.token}"}) as http:
                for number, variation_id in enumerate(site.variation_ids):
                    http.patch(
                        f"/variations/{variation_id}",
                        json={
                            "jsCode": f"document.getElementById('title').textContent = 'Variation {number}';",
                            "cssCode": "#title { color: rgb(0, 128, 0); }",
                        },
                    ).raise_for_status()
                click = http.post(
                    "/goals",
                    json={
                        "name": "Buy",
                        "siteId": site.site_id,
                        "type": "CLICK",
                        "params": {"cssSelector": "#buy"},
                        "hasMultipleConversions": True,
                    },
                )
                click.raise_for_status()
                http.patch(
                    f"/experiments/{site.experiment_id}", json={"goals": [site.goal_id, click.json()["id"]]}
                ).raise_for_status()
                snippet = http.get(f"/sites/{site.site_id}").json()["snippet"]
            asyncio.run(_measure(server.base_url, pages, snippet))

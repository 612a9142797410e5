"""Dashboard: the experiment page's server time at 100,000 and 1,000,000 visitors beside the results API's, its
first-load transfer size and requests.

On PostgreSQL, with the data set of benchmarks/results.py (its seeding is reused: 3 arms, 5 goals, four weeks).
In-process over HTTP (ASGI). Runs alternate between the API and the page, so that a change in the machine's
load touches both alike; each figure is the median of RUNS after a warm-up:

- computing: the results API's POST /experiments/{id}/results to the GET that answers READY, for the report the
  page shows (every goal, broken down by day and cumulated: the tables and the chart come from it), beside the
  experiment page's GET when it has no stored report (a first visit, or after Refresh): it asks the same
  results service for the same report, waits for it, and renders it. The API's default report for scale.
- showing a stored report: the API's GET /results?dataCode= of a READY report, beside the page's GET that finds
  its stored report (a second visit within ten minutes).
- "the page adds": the median of the differences page - API of each pair. Target: <= 50 ms.

Then the page's first load as a browser makes it with an empty cache: the HTML and every asset it references,
their bytes as sent (no compression) and the number of requests. Target: <= 150 KB.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import delete

from benchmarks.results import SIZES, load, make_shop, scratch_postgresql, time_report
from versicolor.app import create_app
from versicolor.core import accounts
from versicolor.core.roles import Role
from versicolor.db.models.results import ResultReport
from versicolor.runtime import Runtime
from versicolor.settings import Settings

# More runs than the results benchmark: the page's extra time is a small difference of two large figures.
RUNS = 9
TARGET_ADDED_MS = 50.0
TARGET_KB = 150.0
PASSWORD = "dashboard benchmark passphrase"
PAGE_REPORT = {"breakdown": {"type": "INTERVAL", "interval": "DAY"}, "cumulative": True}


async def paired(api: Callable[[], Awaitable[float]], page: Callable[[], Awaitable[float]]) -> Pair:
    """RUNS alternating measurements of the API and the page, after one warm-up of each."""
    await api()
    await page()
    apis, pages = [], []
    for _ in range(RUNS):
        apis.append(await api())
        pages.append(await page())
    return Pair(apis, pages)


@dataclass
class Pair:
    """Alternating runs of the API and of the page, in seconds."""

    api: list[float]
    page: list[float]

    @property
    def added_ms(self) -> float:
        """The median of the page's extra time over the API, run by run, in milliseconds."""
        return 1000 * statistics.median(p - a for a, p in zip(self.api, self.page, strict=True))

    def line(self, label: str) -> str:
        """The pair's medians side by side, and how much the API's own runs varied (the machine's noise)."""
        api, page = statistics.median(self.api) * 1000, statistics.median(self.page) * 1000
        spread = (max(self.api) - min(self.api)) * 1000
        return (
            f"  {label:<44} API {api:7.0f} ms   page {page:7.0f} ms   page adds {self.added_ms:+5.0f} ms"
            f"   (API runs spread over {spread:.0f} ms)"
        )


async def sign_in(page: httpx.AsyncClient, runtime: Runtime, account_id: int) -> None:
    """A VIEWER with a password, signed in through the sign-in form."""
    async with runtime.sessions() as session, session.begin():
        await accounts.create_user(
            session=session, account_id=account_id, email="viewer@example.com", password=PASSWORD, role=Role.VIEWER
        )
    form = await page.get("/app/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = await page.post(
        "/app/sign-in", data={"csrf_token": token[1], "email": "viewer@example.com", "password": PASSWORD}
    )
    assert signed.status_code == 303, signed.text


async def ready_report(api: httpx.AsyncClient, experiment_id: int) -> str:
    """The data code of a READY report of the page's kind."""
    asked = await api.post(f"/experiments/{experiment_id}/results", json=PAGE_REPORT)
    code: str = asked.json()["dataCode"]
    for _ in range(60_000):
        if (await api.get("/results", params={"dataCode": code})).json()["status"] != "WAITING":
            return code
        await asyncio.sleep(0.01)
    raise RuntimeError("the report was not computed within ten minutes")


async def time_results(api: httpx.AsyncClient, data_code: str) -> float:
    """Seconds to the API's answer with a stored READY report."""
    started = time.perf_counter()
    answer = await api.get("/results", params={"dataCode": data_code})
    elapsed = time.perf_counter() - started
    assert answer.json()["status"] == "READY", answer.text[:500]
    return elapsed


async def forget_reports(runtime: Runtime, experiment_id: int) -> None:
    """Delete the experiment's stored reports, so that the next page view computes its report."""
    async with runtime.sessions() as session, session.begin():
        await session.execute(delete(ResultReport).where(ResultReport.experiment_id == experiment_id))


async def time_page(page: httpx.AsyncClient, path: str) -> float:
    """Seconds to the page's answer, checking it shows results."""
    started = time.perf_counter()
    answer = await page.get(path)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and "Computed " in answer.text, answer.text[:500]
    return elapsed


@dataclass
class FirstLoad:
    """The experiment page as a browser first loads it."""

    html: int
    assets: dict[str, int]

    @property
    def total(self) -> int:
        """Bytes of every response body."""
        return self.html + sum(self.assets.values())

    @property
    def requests(self) -> int:
        """The page and each asset it references."""
        return 1 + len(self.assets)


async def first_load(page: httpx.AsyncClient, path: str) -> FirstLoad:
    """The page's HTML and every asset it references (stylesheet, script, icon), as sent."""
    answer = await page.get(path)
    html = answer.text
    assets = {}
    for url in sorted(set(re.findall(r'(?:href|src)="(/app/static/[^"]+)"', html))):
        fetched = await page.get(url)
        assert fetched.status_code == 200, url
        assets[url.split("?")[0].rsplit("/", 1)[1]] = len(fetched.content)
    return FirstLoad(html=len(answer.content), assets=assets)


@dataclass
class Figures:
    """One size's figures and the load average around them."""

    visitors: int
    computing: Pair
    stored: Pair
    api_default: float
    load: FirstLoad
    load_average: tuple[float, float]


async def measure(visitors: int) -> Figures:
    """Every figure for one size, in a fresh database."""
    async with scratch_postgresql() as database_url:
        settings = Settings(database_url=database_url, rate_limits="100000000/10s;1000000000/1h", log_level="warning")
        runtime = await Runtime.start(settings)
        try:
            app = create_app(runtime=runtime)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=600) as api,
                httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=600) as page,
            ):
                shop = await make_shop(api, runtime)
                await load(database_url, runtime, shop, visitors)
                await sign_in(page, runtime, shop.account_id)
                path = f"/app/experiments/{shop.experiment_id}"
                load_before = os.getloadavg()[0]

                async def computing() -> float:
                    await forget_reports(runtime, shop.experiment_id)
                    return await time_page(page, path)

                computed = await paired(lambda: time_report(api, shop, PAGE_REPORT), computing)
                data_code = await ready_report(api, shop.experiment_id)
                stored = await paired(lambda: time_results(api, data_code), lambda: time_page(page, path))
                api_default = statistics.median([await time_report(api, shop, {}) for _ in range(RUNS)])
                loaded = await first_load(page, path)
                load_after = os.getloadavg()[0]
        finally:
            await runtime.close()
    return Figures(visitors, computed, stored, api_default, loaded, (load_before, load_after))


def _print(figures: list[Figures]) -> None:
    for f in figures:
        print(
            f"\n{f.visitors:,} visitors (load average {f.load_average[0]:.1f} -> {f.load_average[1]:.1f} "
            f"on {os.cpu_count()} CPUs):"
        )
        print(f.computing.line("computing the page's report (by day, cumulated)"))
        print(f.stored.line("showing it again, stored"))
        print(f"  {'for scale: the API, its default report':<44} API {f.api_default * 1000:7.0f} ms")
        worst = max(f.computing.added_ms, f.stored.added_ms)
        verdict = "meets" if worst <= TARGET_ADDED_MS else "misses"
        print(f"  the page adds at most {worst:+.0f} ms: {verdict} the <= {TARGET_ADDED_MS:.0f} ms target")
    load = figures[-1].load
    kilobytes = load.total / 1024
    parts = ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in load.assets.items())
    verdict = "meets" if kilobytes <= TARGET_KB else "misses"
    print(
        f"\nfirst load of the experiment page: {kilobytes:.1f} KB in {load.requests} requests "
        f"(HTML {load.html / 1024:.1f} KB; {parts}); {verdict} the <= {TARGET_KB:.0f} KB target"
    )


def main() -> None:
    """Measure every size and print the figures."""
    _print([asyncio.run(measure(size)) for size in SIZES])


if __name__ == "__main__":
    main()

"""A shop with a live experiment whose pages load the engine from a real Versicolor process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.engine.pages import PageServer, shop_page
from tests.factories import Factory
from tests.server import Server
from tests.tracking.fixtures import Shop, shop
from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit
from versicolor.runtime import Runtime

HOST = "shop.example"


@dataclass
class LiveShop:
    """The shop, its snippet as the live server gives it, and a folder of pages of its own."""

    made: Shop
    snippet: str
    pages: PageServer
    folder: str
    host: str = HOST

    def publish(self, name: str, html: str | None = None, headers: dict[str, str] | None = None) -> str:
        """Serve a page of the shop (the default page with the snippet) and return its address."""
        path = f"{self.folder}/{name}"
        self.pages.publish(path, html if html is not None else shop_page(self.snippet), headers)
        return self.pages.url(self.host, path)


async def live_shop(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    *,
    variation_code: tuple[str, str] | None = None,
    site_fields: dict[str, Any] | None = None,
    **options: Any,
) -> LiveShop:
    """A shop (tests.tracking.fixtures.shop) whose variations rewrite the title, and its snippet."""
    made = await shop(client, factory, **options)
    codes = variation_code or (
        "document.getElementById('title').textContent = 'Green';",
        "document.getElementById('title').textContent = 'Blue';",
    )
    for variation_id, code in zip(made.variation_ids, codes, strict=True):
        answer = await client.patch(f"/variations/{variation_id}", json={"jsCode": code}, headers=made.account.headers)
        assert answer.status_code == 200, answer.text
    if site_fields:
        answer = await client.patch(f"/sites/{made.site_id}", json=site_fields, headers=made.account.headers)
        assert answer.status_code == 200, answer.text
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=30) as http:
        site = await http.get(f"/sites/{made.site_id}", headers=made.account.headers)
    assert site.status_code == 200, site.text
    return LiveShop(made=made, snippet=site.json()["snippet"], pages=pages, folder=pages.folder())


async def stored_events(runtime: Runtime, site_id: int) -> dict[str, list[Any]]:
    """What the database holds for the site: visits, exposures and conversions."""
    async with runtime.sessions() as session:
        visits = list(await session.scalars(select(TrackingVisit).where(TrackingVisit.site_id == site_id)))
        exposures = list(await session.scalars(select(TrackingExposure).where(TrackingExposure.site_id == site_id)))
        conversions = list(
            await session.scalars(select(TrackingConversion).where(TrackingConversion.site_id == site_id))
        )
    return {"visits": visits, "exposures": exposures, "conversions": conversions}


async def eventually(check: Callable[[], Awaitable[bool]], *, seconds: float = 10) -> None:
    """Wait until `check()` holds (what the page sends arrives a moment later); fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not so after {seconds} s")
        await asyncio.sleep(0.1)


async def goal(client: httpx.AsyncClient, shop: LiveShop, goal_type: str, params: dict[str, Any], **fields: Any) -> int:
    """A goal of the shop, measured by its experiment."""
    made = shop.made
    answer = await client.post(
        "/goals",
        json={"name": f"{goal_type} goal", "siteId": made.site_id, "type": goal_type, "params": params, **fields},
        headers=made.account.headers,
    )
    assert answer.status_code == 201, answer.text
    goal_id: int = answer.json()["id"]
    current = await client.get(
        f"/experiments/{made.experiment_id}", params={"optionalFields": "goals"}, headers=made.account.headers
    )
    goals = [*current.json()["goals"], goal_id]
    changed = await client.patch(
        f"/experiments/{made.experiment_id}", json={"goals": goals}, headers=made.account.headers
    )
    assert changed.status_code == 200, changed.text
    return goal_id

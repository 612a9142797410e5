"""What every dashboard page shares: headers, a policy that forbids inline scripts (and pages that need none),
assets from the package, pages for unknown paths, and the way in from `/`."""

from __future__ import annotations

import re

import httpx
from tests.factories import Factory
from tests.web.conftest import Browsers, text_of
from tests.web.shops import stocked_shop


async def test_the_front_page_links_to_the_dashboard(client: httpx.AsyncClient) -> None:
    answer = await client.get("/")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert 'href="/app/"' in answer.text and 'href="/docs"' in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert (await client.get("/app")).headers["location"].endswith("/app/")
    assert "/" not in (await client.get("/openapi.json")).json()["paths"]


async def test_every_page_forbids_inline_scripts_and_has_none(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    for path in (
        "/app/experiments",
        f"/app/experiments/{made.experiment_id}",
        f"/app/experiments/{made.experiment_id}?method=bayesian&breakdown=day&chart=rate",
        f"/app/experiments/{made.experiment_id}/status/PAUSE",
        "/app/sites",
        f"/app/sites/{made.site_id}",
        "/app/account",
        "/app/no-such-page",
    ):
        answer = await browser.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        html = answer.text
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert all(re.fullmatch(r'<script src="/app/static/[\w.]+\?v=\w+" defer>', s) for s in scripts), path
        assert not re.search(r"\son[a-z]+\s*=", html), path  # no event handler attributes
        assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, path
        assert not re.search(r'(src|href)="(https?:)?//', html), path  # nothing from another origin


async def test_assets_come_from_the_package_and_are_cached_for_good(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for asset in re.findall(r'(?:href|src)="(/app/static/[^"]+)"', page):
        answer = await client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/app/static/nothing.js")).status_code == 404


async def test_unknown_paths_and_methods_are_pages_not_json(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    for answer in (
        await browser.get("/app/nothing/here"),
        await browser.get("/app/experiments/not-a-number"),
        await browser.http.delete("/app/experiments"),
    ):
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
        assert "There is no page at" in text_of(answer.text)

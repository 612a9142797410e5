"""The experiments list: the account's own only, filtered, a page at a time, with each one's leading variation."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.factories import Factory
from tests.tracking.fixtures import shop
from tests.web.conftest import Browsers, text_of
from tests.web.shops import many_experiments, stocked_shop

from versicolor.runtime import Runtime
from versicolor.web.rendering import NONE


def _names(html: str) -> list[str]:
    return [text_of(name) for name in re.findall(r'<td><a href="/app/experiments/\d+">(.*?)</a></td>', html)]


async def test_a_thousand_experiments_are_paged(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    await many_experiments(runtime, made.account, made.site_id, 1000, "Bulk")
    browser = browsers()
    await browser.sign_in(made.account.admin)
    first = await browser.page("/app/experiments")
    assert "1,001 experiments, page 1 of 41." in text_of(first)
    assert len(_names(first)) == 25
    # Newest first: the last one made leads.
    assert _names(first)[:2] == ["Bulk 1000", "Bulk 0999"]
    assert 'href="/app/experiments?page=2" rel="next"' in first
    last = await browser.page("/app/experiments", page="41")
    assert _names(last) == ["Checkout button"]
    beyond = await browser.page("/app/experiments", page="42")
    assert "This page is past the last one." in text_of(beyond)
    filtered = await browser.page("/app/experiments", name="bulk 070", page="1")
    assert "10 experiments" in text_of(filtered)  # Bulk 0700 ... Bulk 0709
    drafts = await browser.page("/app/experiments", status="DRAFT", page="40")
    assert "1,000 experiments, page 40 of 40." in text_of(drafts)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"status": "RUNNING"}, "status"),
        ({"site": "abc"}, "site"),
        ({"name": "x" * 201}, "name"),
    ],
)
async def test_bad_filters_are_a_400_page_naming_them(
    browsers: Browsers, factory: Factory, params: dict[str, str], named: str
) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    answer = await browser.get("/app/experiments", **params)
    assert answer.status_code == 400 and named in text_of(answer.text)


async def test_filters_by_site_status_and_name(browsers: Browsers, factory: Factory, client: httpx.AsyncClient) -> None:
    made = await shop(client, factory)
    other = await shop(client, factory, account=made.account, host="other.example", activate=False)
    renamed = await client.patch(
        f"/experiments/{other.experiment_id}", json={"name": "Pricing page"}, headers=made.account.headers
    )
    assert renamed.status_code == 200
    browser = browsers()
    await browser.sign_in(made.account.admin)
    assert _names(await browser.page("/app/experiments", site=str(other.site_id))) == ["Pricing page"]
    assert _names(await browser.page("/app/experiments", status="ACTIVE")) == ["Checkout button"]
    assert _names(await browser.page("/app/experiments", name="PRICING")) == ["Pricing page"]
    assert _names(await browser.page("/app/experiments", name="nothing like it")) == []
    text = text_of(await browser.page("/app/experiments", name="nothing like it"))
    assert "No experiment matches these filters." in text


async def test_each_experiment_shows_its_visitors_and_leading_variation(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    await shop(client, factory, account=made.account, host="draft.example", activate=False)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page("/app/experiments"))
    assert "Checkout button Shop Active" in text
    assert " 8 Green +100.0% not significant yet" in text
    assert f"Draft {NONE} {NONE} {NONE} Not started" in text


async def test_names_with_html_are_shown_as_text(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    answer = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"name": evil, "description": f"{evil} & more", "commonJavaScriptCode": f"</script>{evil}"},
        headers=made.account.headers,
    )
    assert answer.status_code == 200, answer.text
    variation = made.variation_ids[0]
    changed = await client.patch(
        f"/variations/{variation}",
        json={"name": evil, "cssCode": "</style><script>1</script>"},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text
    site = await client.patch(f"/sites/{made.site_id}", json={"name": evil}, headers=made.account.headers)
    assert site.status_code == 200, site.text
    browser = browsers()
    await browser.sign_in(made.account.admin)
    for path in (
        "/app/experiments",
        f"/app/experiments/{made.experiment_id}",
        "/app/sites",
        f"/app/sites/{made.site_id}",
    ):
        html = await browser.page(path)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path
        # The only script a page has is the package's own file.
        assert re.findall(r"<script\b[^>]*>", html) == [
            re.search(r'<script src="/app/static/app\.js\?v=\w+" defer>', html)[0]
        ]  # type: ignore[index]

"""The experiment page breaks its results down by a UNIQUE custom datum of the experiment's site (`custom:<index>`
in the query string), showing each value as the visitors' pages sent it with the figures the results API
computes; a breakdown that names no such datum is a 400 page saying which data can, never a 500.

The shop is tests/web/shops.py `planned_shop`; the browser's part is in test_browser.py."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from tests.factories import Factory
from tests.results.test_results_api import report
from tests.tracking.fixtures import Shop
from tests.web.conftest import Browsers, Dashboard, text_of
from tests.web.shops import ELSEWHERE, PLAN, TAGS, TIER, planned_shop
from tests.web.test_switches import _rows

from versicolor.web import figures
from versicolor.web.rendering import count, percent


@pytest.fixture
async def planned(client: httpx.AsyncClient, factory: Factory) -> Shop:
    """The shop whose visitors sent their plan."""
    return await planned_shop(client, factory)


async def _signed_in(browsers: Browsers, made: Shop) -> Dashboard:
    browser = browsers()
    await browser.sign_in(made.account.admin)
    return browser


def _offered(html: str) -> dict[str, str]:
    """The Breakdown select's options: value -> label."""
    select = html.split('<select id="breakdown" name="breakdown">', 1)[1].split("</select>", 1)[0]
    return {
        value: text_of(label) for value, label in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select)
    }


def _groups(html: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """The breakdown table: per key as shown, per variation, its visitors, rate, improvement and interval."""
    groups: dict[str, dict[str, tuple[str, ...]]] = {}
    label = ""
    for cells in _rows(html, '<table class="results breakdown">'):
        if len(cells) == 7:
            label, cells = cells[0], cells[1:]
        groups.setdefault(label, {})[cells[0]] = cells[1:5]
    return groups


async def test_the_select_offers_the_sites_unique_custom_data_only(browsers: Browsers, planned: Shop) -> None:
    browser = await _signed_in(browsers, planned)
    offered = _offered(await browser.page(f"/app/experiments/{planned.experiment_id}"))
    # Tags is a LIST, Region another site's: neither breaks these results down.
    assert offered == {
        "": "None",
        "day": "Day",
        "device": "Device",
        "browser": "Browser",
        "country": "Country",
        "new_visitor": "New or returning",
        f"custom:{PLAN}": f"Plan (custom datum {PLAN})",
        f"custom:{TIER}": f"Tier (custom datum {TIER})",
    }


async def test_a_custom_datum_breakdown_shows_each_value_with_the_figures_the_api_computes(
    browsers: Browsers, client: httpx.AsyncClient, planned: Shop
) -> None:
    browser = await _signed_in(browsers, planned)
    html = await browser.page(f"/app/experiments/{planned.experiment_id}", breakdown=f"custom:{PLAN}")
    assert f'<option value="custom:{PLAN}" selected>' in html
    assert "Purchase by Plan" in text_of(html)
    assert '<th scope="col">Plan</th>' in html
    groups = _groups(html)
    # Values as the pages sent them: "_vip" (the report's "__vip"), markup as text; no value or "" not recorded.
    assert list(groups) == ["<b>bold</b>", "_vip", "gold", "silver", "Not recorded"]
    visitors = {key: {arm: cells[0] for arm, cells in rows.items()} for key, rows in groups.items()}
    assert visitors == {
        "<b>bold</b>": {"Original": "0", "Green": "1", "Blue": "0"},
        "_vip": {"Original": "0", "Green": "1", "Blue": "0"},
        "gold": {"Original": "2", "Green": "1", "Blue": "0"},
        "silver": {"Original": "1", "Green": "0", "Blue": "1"},
        "Not recorded": {"Original": "1", "Green": "1", "Blue": "0"},
    }
    data = await report(client, planned, {"visitorData": True, "breakdown": {"type": "CUSTOM_DATUM", "index": PLAN}})
    shown = {"__vip": "_vip", "_unknown": "Not recorded"}
    names = {"0": "Original", str(planned.variation_ids[0]): "Green", str(planned.variation_ids[1]): "Blue"}
    for arm, name in names.items():
        for key, general in data["variationData"][arm]["breakdownData"].items():
            if key == "_reference":
                continue
            figures: dict[str, Any] = general["generalData"]
            row = groups[shown.get(key, key)][name]
            assert row[0] == count(figures["visitorCount"]), (key, name)
            assert row[1] == percent(figures["goalsData"][str(planned.goal_id)]["conversionRate"]), (key, name)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("custom:999", "the site has no custom datum at index 999"),
        (f"custom:{ELSEWHERE}", f"the site has no custom datum at index {ELSEWHERE}"),
        (f"custom:{TAGS}", f"custom datum {TAGS} (Tags) is of type LIST"),
        ("custom:abc", "does not name a custom datum"),
        ("custom:", "does not name a custom datum"),
        ("custom:-1", "does not name a custom datum"),
        ("custom:1000", "does not name a custom datum"),
        ("custom:\u0663", "does not name a custom datum"),  # an Arabic-Indic three: a digit, not an index
        ("plan", "or custom:<index>"),
    ],
)
async def test_a_breakdown_that_names_no_unique_custom_datum_of_the_site_is_a_400_page(
    browsers: Browsers, planned: Shop, value: str, says: str
) -> None:
    browser = await _signed_in(browsers, planned)
    answer = await browser.get(f"/app/experiments/{planned.experiment_id}", breakdown=value)
    assert answer.status_code == 400, answer.text[:2000]
    assert answer.headers["content-type"].startswith("text/html")
    text = text_of(answer.text)
    assert "breakdown:" in text and says in text
    if "custom datum" in says and "does not name" not in says:
        # An index that does not break results down: the page names the site's data that do.
        assert f"that can: custom:{PLAN} (Plan), custom:{TIER} (Tier)" in text


async def test_refresh_keeps_the_custom_datum_breakdown_and_refuses_one_that_is_not_offered(
    browsers: Browsers, planned: Shop
) -> None:
    browser = await _signed_in(browsers, planned)
    await browser.page(f"/app/experiments/{planned.experiment_id}", breakdown=f"custom:{PLAN}")
    refreshed = await browser.post(f"/app/experiments/{planned.experiment_id}/results", {"breakdown": f"custom:{PLAN}"})
    assert refreshed.status_code == 303
    assert refreshed.headers["location"] == f"/app/experiments/{planned.experiment_id}?breakdown=custom%3A{PLAN}"
    refused = await browser.post(f"/app/experiments/{planned.experiment_id}/results", {"breakdown": f"custom:{TAGS}"})
    assert refused.status_code == 400
    assert f"'custom:{TAGS}' cannot break these results down" in text_of(refused.text)
    assert f'href="/app/experiments/{planned.experiment_id}"' in refused.text


def test_values_that_are_numbers_are_listed_by_value_and_no_value_last() -> None:
    keys = {"_reference": {}, "_unknown": {}, "gold": {}, "10": {}, "7": {}, "-1.5": {}, "__vip": {}, "nan": {}}
    assert figures.display_order(keys) == ["-1.5", "7", "10", "__vip", "gold", "nan", "_unknown"]
    assert figures.display_order(["2026-03-02", "2026-03-01"]) == ["2026-03-01", "2026-03-02"]

"""Each results switch of the experiment page changes what is computed, not only a label: with a switch on, the
page shows the figures the results API computes when asked the same way, and they differ from the page's figures
without it. The hand-made history (tests/results/dataset.py) makes every switch matter: visitors with two visits,
a visitor converting twice, a purchase before exposure (CUPED), and visitors on several devices, browsers,
countries and days."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from tests.factories import Factory
from tests.results.test_results_api import report
from tests.tracking.fixtures import Shop
from tests.web.conftest import Browsers, text_of
from tests.web.shops import stocked_shop

from versicolor.web.rendering import NONE, count, p_value, percent, signed_percent

Cells = tuple[str, ...]


def _rows(html: str, start: str, end: str = "</table>") -> list[Cells]:
    """The text of each body row's cells in the first table after `start`."""
    section = html.split(start, 1)[1].split(end, 1)[0]
    body = section.split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        rows.append(tuple(text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)))
    return rows


def _goal_rows(html: str, goal_id: int) -> dict[str, Cells]:
    """One goal's results table, by variation name: units, conversions, rate, improvement, interval, p or chance."""
    return {cells[0]: cells[1:7] for cells in _rows(html, f'<section class="goal" aria-labelledby="goal-{goal_id}">')}


def _goal_of(data: dict[str, Any], arm: str, key: str = "_reference") -> dict[str, Any]:
    general: dict[str, Any] = data["variationData"][arm]["breakdownData"][key]["generalData"]
    return general


def _expected(general: dict[str, Any], goal_id: int, *, visits: bool, converted: bool, bayesian: bool) -> Cells:
    """A row as the page should write the API's figures for one arm (not the original)."""
    goal = general["goalsData"][str(goal_id)]
    interval = goal["credibleInterval" if bayesian else "confidenceInterval"]
    drawn = NONE if interval is None else f"{signed_percent(interval['lower'])} to {signed_percent(interval['upper'])}"
    chance, reliability = goal.get("chanceToBeatReference"), goal["reliability"]
    judged = percent(chance, 1) if bayesian else p_value(max(0.0, 1 - reliability / 100))
    return (
        count(general["visitCount" if visits else "visitorCount"]),
        count(goal["convertedVisitCount" if converted else "conversionCount"]),
        percent(goal["conversionRate"]),
        signed_percent(goal["improvementRate"]),
        drawn,
        judged,
    )


async def _page(browsers: Browsers, made: Shop, **switches: str) -> str:
    browser = browsers()
    await browser.sign_in(made.account.admin)
    return await browser.page(f"/app/experiments/{made.experiment_id}", **switches)


@pytest.fixture
async def stocked(client: httpx.AsyncClient, factory: Factory) -> Shop:
    """The shop of the hand-made history."""
    return await stocked_shop(client, factory)


@pytest.mark.parametrize(
    ("switches", "body"),
    [
        ({"method": "sequential"}, {"sequentialTesting": True}),
        ({"method": "bayesian"}, {"bayesian": True}),
        ({"unit": "visits"}, {"visitorData": False}),
        ({"count": "converted"}, {"conversionType": "CONVERTED_VISITS"}),
        ({"cuped": "on"}, {"goalIdsCuped": "every goal"}),
        ({"method": "sequential", "cuped": "on"}, {"sequentialTesting": True, "goalIdsCuped": "every goal"}),
    ],
    ids=["sequential", "bayesian", "per-visit", "converted", "cuped", "sequential-cuped"],
)
async def test_a_switch_shows_the_figures_the_api_computes_asked_the_same_way_and_they_differ(
    browsers: Browsers,
    client: httpx.AsyncClient,
    stocked: Shop,
    switches: dict[str, str],
    body: dict[str, Any],
) -> None:
    if body.get("goalIdsCuped") == "every goal":
        body = {**body, "goalIdsCuped": [stocked.goal_id, stocked.other_goal_id]}
    plain = _goal_rows(await _page(browsers, stocked), stocked.goal_id)
    switched = _goal_rows(await _page(browsers, stocked, **switches), stocked.goal_id)
    # The page asks per visitor unless switched to visits; the API counts visits when visitorData is left out.
    data = await report(client, stocked, {"visitorData": True, **body})
    shape = {
        "visits": body.get("visitorData") is False,
        "converted": body.get("conversionType") == "CONVERTED_VISITS",
        "bayesian": bool(body.get("bayesian")),
    }
    green, blue = (str(v) for v in stocked.variation_ids)
    assert switched["Green"] == _expected(_goal_of(data, green), stocked.goal_id, **shape)
    assert switched["Blue"] == _expected(_goal_of(data, blue), stocked.goal_id, **shape)
    assert switched["Green"] != plain["Green"], "the switch changed nothing the page shows"
    default = await report(client, stocked, {"visitorData": True})
    plain_shape = {"visits": False, "converted": False, "bayesian": False}
    assert plain["Green"] == _expected(_goal_of(default, green), stocked.goal_id, **plain_shape)


async def test_cuped_moves_the_improvement_by_the_pre_exposure_purchase(
    browsers: Browsers, client: httpx.AsyncClient, stocked: Shop
) -> None:
    # o3 bought before it was exposed: CUPED takes that out of the original's rate, so Green's lead shrinks.
    plain = _goal_rows(await _page(browsers, stocked), stocked.goal_id)["Green"]
    adjusted = _goal_rows(await _page(browsers, stocked, cuped="on"), stocked.goal_id)["Green"]
    assert plain[3] == "+100.0%"
    assert adjusted[3] != plain[3] and adjusted[4] != plain[4]
    # Counts are what they are: only the comparison is adjusted.
    assert adjusted[:3] == plain[:3]


@pytest.mark.parametrize(
    ("breakdown", "kind", "keys"),
    [
        ("device", "DEVICE_TYPE", {"Desktop", "Phone", "Tablet"}),
        ("browser", "BROWSER", {"Chrome", "Safari", "Firefox", "Edge"}),
        ("country", "COUNTRY", {"FR", "DE", "US", "Not recorded"}),
        ("new_visitor", "NEW_VISITOR", {"New visitors", "Returning visitors", "Not recorded"}),
        ("day", "INTERVAL", {"2024-05-06", "2024-05-07", "2024-05-08", "2024-05-14", "2024-05-15"}),
    ],
)
async def test_a_breakdown_shows_each_keys_figures_as_the_api_breaks_them_down(
    browsers: Browsers, client: httpx.AsyncClient, stocked: Shop, breakdown: str, kind: str, keys: set[str]
) -> None:
    html = await _page(browsers, stocked, breakdown=breakdown)
    rows = _rows(html, '<table class="results breakdown">')
    # A group's first row starts with its key (a row header spanning the group).
    groups: dict[str, dict[str, Cells]] = {}
    label = ""
    for cells in rows:
        if len(cells) == 7:
            label, cells = cells[0], cells[1:]
        groups.setdefault(label, {})[cells[0]] = cells[1:5]
    assert set(groups) == keys
    asked: dict[str, Any] = {
        "visitorData": True,
        "breakdown": {"type": kind, **({"interval": "DAY"} if kind == "INTERVAL" else {})},
    }
    data = await report(client, stocked, asked)
    green = str(stocked.variation_ids[0])
    for key, general in data["variationData"][green]["breakdownData"].items():
        if key == "_reference":
            continue
        goal = general["generalData"]["goalsData"][str(stocked.goal_id)]
        words = {"true": "New visitors", "false": "Returning visitors", "_unknown": "Not recorded"}
        shown = words.get(key) or (key.capitalize() if key.isalpha() and len(key) > 2 else key[:10])
        assert groups[shown]["Green"] == (
            count(general["generalData"]["visitorCount"]),
            percent(goal["conversionRate"]),
            signed_percent(goal["improvementRate"]) if goal["improvementRate"] is not None else NONE,
            groups[shown]["Green"][3],
        ), (key, groups[shown])
        interval = goal["confidenceInterval"]
        if interval is not None:
            assert groups[shown]["Green"][3] == (
                f"{signed_percent(interval['lower'])} to {signed_percent(interval['upper'])}"
            )

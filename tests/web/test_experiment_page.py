"""An experiment's page: its figures are the results service's, its switches change how they are computed, and
a report computing, failed or empty is said plainly."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from tests.factories import Factory
from tests.results.dataset import send
from tests.results.test_winner import traffic
from tests.tracking.fixtures import shop
from tests.web.conftest import Browsers, text_of
from tests.web.shops import stocked_shop

from versicolor.core.roles import Principal, Role
from versicolor.db.models.results import ResultReport
from versicolor.results import service, store
from versicolor.results.callbacks import CallbackSender
from versicolor.results.request import ReportRequest
from versicolor.runtime import Runtime
from versicolor.web.rendering import MINUS, NONE
from versicolor.web.reports import Options


async def _report_data(client: httpx.AsyncClient, experiment_id: int, headers: dict[str, str], body: dict) -> dict:  # type: ignore[type-arg]
    """The same report through the API, to compare with what the page shows."""
    asked = await client.post(f"/experiments/{experiment_id}/results", json=body, headers=headers)
    assert asked.status_code == 200, asked.text
    for _ in range(200):
        answer = (await client.get("/results", params={"dataCode": asked.json()["dataCode"]}, headers=headers)).json()
        if answer["status"] != "WAITING":
            break
    assert answer["status"] == "READY", answer
    data: dict = answer["data"]  # type: ignore[type-arg]
    return data


def _row(text: str, goal: str, arm: str) -> str:
    """The words of one arm's row in one goal's table."""
    section = text.split(f"{goal} ", 1)[1]
    found = re.search(rf"\b{arm} (\S+ \S+ \S+ \S+.*?)(?= Original | Green | Blue | Signup | Cumulative)", section)
    assert found, section[:600]
    return found[1]


async def test_the_page_shows_each_variations_figures_as_the_results_api_computes_them(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}"))
    data = await _report_data(client, made.experiment_id, made.account.headers, {"visitorData": True})
    green = data["variationData"][str(made.variation_ids[0])]["breakdownData"]["_reference"]["generalData"]
    purchase = green["goalsData"][str(made.goal_id)]
    low, high = purchase["confidenceInterval"]["lower"], purchase["confidenceInterval"]["upper"]
    assert _row(text, "Purchase main goal", "Original").startswith(f"4 2 50.00% {NONE}")
    assert _row(text, "Purchase main goal", "Green").startswith(
        f"3 3 100.00% +100.0% {MINUS}{abs(low):.1f}% to +{high:.1f}% {1 - purchase['reliability'] / 100:.3f}"
    )
    assert "No significant difference yet" in _row(text, "Purchase main goal", "Green")
    assert _row(text, "Purchase main goal", "Blue").startswith(f"1 0 0.00% {MINUS}100.0% {NONE} 1.000 Not enough data")
    assert "No winner yet: no variation improves the main goal with a reliability of at least 95" in text
    assert "Computed " in text and "Refresh" in text
    assert "Traffic did not split" not in text


async def test_switching_to_bayesian_shows_the_chance_to_win_and_the_credible_interval(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}", method="bayesian"))
    data = await _report_data(client, made.experiment_id, made.account.headers, {"visitorData": True, "bayesian": True})
    purchase = data["variationData"][str(made.variation_ids[0])]["breakdownData"]["_reference"]["generalData"][
        "goalsData"
    ][str(made.goal_id)]
    assert "95% credible interval" in text and "Chance to win" in text and "p-value" not in text
    green = _row(text, "Purchase main goal", "Green")
    assert f"{purchase['chanceToBeatReference']:.1f}%" in green
    assert f"+{purchase['credibleInterval']['upper']:.1f}%" in green
    assert "Too close to call yet" in green


@pytest.mark.parametrize(
    ("switches", "expected"),
    [
        ({"method": "sequential"}, "p-value"),
        ({"unit": "visits"}, "Visits"),
        ({"count": "converted"}, "Converted"),
        ({"cuped": "on"}, "CUPED-adjusted"),
        ({"breakdown": "day"}, "Purchase by day"),
        ({"breakdown": "device"}, "Purchase by device"),
        ({"breakdown": "browser"}, "Purchase by browser"),
        ({"breakdown": "country"}, "Purchase by country"),
        ({"breakdown": "new_visitor"}, "New visitors"),
        ({"chart": "rate"}, "Cumulative conversion rate on Purchase"),
    ],
)
async def test_every_switch_gives_a_page(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, switches: dict[str, str], expected: str
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}", **switches))
    assert expected in text
    assert "Original 4" in text or "Original 1" in text or switches.get("unit") == "visits"


async def test_the_chart_draws_one_point_a_day_of_first_exposures(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    html = await browser.page(f"/app/experiments/{made.experiment_id}")
    # Visitors first came on five days (T, T+1d, T+2d, T+8d, T+9d): Green and Blue, five points each.
    lines = re.findall(r'<polyline class="line arm-\d" points="([^"]*)"', html)
    assert len(lines) == 2 and all(len(points.split()) == 5 for points in lines)
    assert len(re.findall(r'<polygon class="band', html)) == 1  # Blue never converted: no interval to shade
    text = text_of(html)
    assert f"2024-05-15 {NONE} +100.0%" in text  # the last day holds everyone: the totals' improvement


async def test_the_goal_of_the_chart_can_be_chosen(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}", goal=str(made.other_goal_id)))
    assert "Cumulative improvement over the original on Signup" in text
    other = await shop(client, factory)
    refused = await browser.get(f"/app/experiments/{made.experiment_id}", goal=str(other.goal_id))
    assert refused.status_code == 400 and "not one of this experiment's goals" in text_of(refused.text)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"method": "magic"}, "method"),
        ({"unit": "hours"}, "unit"),
        ({"breakdown": "weather"}, "breakdown"),
        ({"cuped": "yes"}, "cuped"),
        ({"cuped": "on", "unit": "visits"}, "cuped"),
        ({"goal": "abc"}, "goal"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_switch_that_is_not_one_is_a_400_page_naming_it(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, params: dict[str, str], named: str
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    answer = await browser.get(f"/app/experiments/{made.experiment_id}", **params)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert named in text_of(answer.text)


async def test_an_experiment_without_visitors_says_so(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}"))
    assert "No visitors yet" in text
    draft = await shop(client, factory, account=made.account, host="draft.example", activate=False)
    text = text_of(await browser.page(f"/app/experiments/{draft.experiment_id}"))
    assert "has not started" in text
    assert "Activate" in text


async def test_a_report_still_computing_or_failed_is_said_plainly(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    # Someone else's request is computing the page's report right now.
    principal = Principal(account_id=made.account.account_id, user_id=None, role=Role.VIEWER)
    request = Options().over_time([made.goal_id, made.other_goal_id])
    async with runtime.sessions() as session, session.begin():
        waiting = await service.request_report(
            session=session,
            principal=principal,
            experiment_id=made.experiment_id,
            request=request,
            callbacks=CallbackSender(),
        )
    html = await browser.page(f"/app/experiments/{made.experiment_id}")
    assert "The results are being computed" in text_of(html)
    assert '<meta http-equiv="refresh" content="2">' in html
    # ... and then it fails.
    async with runtime.sessions() as session, session.begin():
        await store.mark_error(session=session, report_id=waiting.id, reason="the database went away")
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}"))
    assert "The results could not be computed: the database went away." in text
    assert "Try again" in text
    # Trying again computes it anew.
    tried = await browser.post(f"/app/experiments/{made.experiment_id}/results")
    assert tried.status_code == 303 and tried.headers["location"] == f"/app/experiments/{made.experiment_id}"
    assert "No visitors yet" in text_of(await browser.page(tried.headers["location"]))


async def test_a_stored_report_is_shown_again_until_refresh_computes_a_new_one(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)

    async def reports() -> list[int]:
        async with runtime.sessions() as session:
            found = await session.scalars(
                select(ResultReport.id).where(ResultReport.experiment_id == made.experiment_id)
            )
            return list(found)

    await browser.page(f"/app/experiments/{made.experiment_id}", method="sequential")
    await browser.page(f"/app/experiments/{made.experiment_id}", method="sequential")
    assert len(await reports()) == 1
    refreshed = await browser.post(f"/app/experiments/{made.experiment_id}/results", {"method": "sequential"})
    assert refreshed.headers["location"] == f"/app/experiments/{made.experiment_id}?method=sequential"
    assert len(await reports()) == 2
    # A viewer may refresh too (asking for a report is reading), but not without the form's token.
    forged = await browser.post(f"/app/experiments/{made.experiment_id}/results", csrf=False)
    assert forged.status_code == 403 and len(await reports()) == 2
    assert ReportRequest.from_json(ReportRequest.build().to_json()) == ReportRequest()


async def test_another_accounts_experiment_is_the_404_page_and_shows_nothing_of_it(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    mine = await shop(client, factory)
    theirs = await stocked_shop(client, factory)
    browser = browsers()
    await browser.sign_in(mine.account.admin)
    for path in (
        f"/app/experiments/{theirs.experiment_id}",
        f"/app/experiments/{theirs.experiment_id}/status/PAUSE",
        f"/app/sites/{theirs.site_id}",
        "/app/experiments/999999999999",
        "/app/experiments/99999999999999999999999",
    ):
        answer = await browser.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Checkout button" not in answer.text and "Green" not in answer.text
    posted = await browser.post(f"/app/experiments/{theirs.experiment_id}/status", {"action": "PAUSE"})
    assert posted.status_code == 404
    refreshed = await browser.post(f"/app/experiments/{theirs.experiment_id}/results")
    assert refreshed.status_code == 404
    listed = text_of(await browser.page("/app/experiments", site=str(mine.site_id)))
    assert listed.count("Checkout button") == 1
    assert (await browser.get("/app/experiments", site=str(theirs.site_id))).status_code == 404


async def test_the_winner_is_named_with_its_reason(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory, deviations={"origin": 0.5, "v1": 0.25, "v2": 0.25})
    v1, v2 = made.variation_ids
    await send(
        client,
        made,
        traffic(made, 0, 400, 40, "o") + traffic(made, v1, 200, 50, "a") + traffic(made, v2, 200, 28, "b"),
    )
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}"))
    assert "Winner: Green, +150.0% on Purchase with a reliability of" in text
    assert "Significantly better" in _row(text, "Purchase main goal", "Green")
    assert "Traffic did not split" not in text
    listed = text_of(await browser.page("/app/experiments"))
    assert "Green +150.0% significant" in listed


async def test_a_sample_ratio_mismatch_is_said_in_plain_words(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory, deviations={"origin": 0.5, "v1": 0.5, "v2": 0})
    await send(client, made, traffic(made, 0, 400, 40, "o") + traffic(made, made.variation_ids[0], 150, 45, "a"))
    browser = browsers()
    await browser.sign_in(made.account.admin)
    text = text_of(await browser.page(f"/app/experiments/{made.experiment_id}"))
    assert "Traffic did not split the way it was set up" in text
    assert "Original got 400 visitors where about 275 were expected; Green got 150 visitors where about 275" in text
    assert "cannot be trusted" in text
    assert "No winner yet: the sample ratio check failed" in text
    assert "traffic split" in text_of(await browser.page("/app/experiments"))

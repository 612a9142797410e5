"""Reports over HTTP on the hand-made history of tests/results/dataset.py: every figure checked by hand."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from scipy.stats import chi2

from tests.factories import Factory
from tests.results.dataset import DAY, T, history, send
from tests.tracking.fixtures import Shop, shop
from versicolor import stats


async def report(client: httpx.AsyncClient, shop: Shop, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Request a report and fetch it once READY; returns its `data`."""
    asked = await client.post(
        f"/experiments/{shop.experiment_id}/results", json=body or {}, headers=shop.account.headers
    )
    assert asked.status_code == 200, asked.text
    code = asked.json()["dataCode"]
    for _ in range(100):
        answer = await client.get("/results", params={"dataCode": code}, headers=shop.account.headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] != "WAITING":
            break
        await asyncio.sleep(0.05)
    result = answer.json()
    assert result["status"] == "READY", result
    data: dict[str, Any] = result["data"]
    return data


@pytest.fixture
async def stocked(client: httpx.AsyncClient, factory: Factory) -> Shop:
    """The shop with the whole hand-made history stored through the Data API."""
    made = await shop(client, factory)
    await send(client, made, history(made))
    return made


def general(data: dict[str, Any], arm: str, key: str = "_reference") -> dict[str, Any]:
    found: dict[str, Any] = data["variationData"][arm]["breakdownData"][key]["generalData"]
    return found


def goal(data: dict[str, Any], arm: str, goal_id: int, key: str = "_reference") -> dict[str, Any]:
    found: dict[str, Any] = general(data, arm, key)["goalsData"][str(goal_id)]
    return found


async def test_per_visitor_report_counts_what_happened_after_each_first_exposure(
    client: httpx.AsyncClient, stocked: Shop
) -> None:
    data = await report(client, stocked, {"visitorData": True})
    v1, v2 = (str(v) for v in stocked.variation_ids)
    assert set(data["variationData"]) == {"0", v1, v2}
    assert {k: general(data, k)["visitorCount"] for k in ("0", v1, v2)} == {"0": 4, v1: 3, v2: 1}
    # Visits: the exposure's visit and later ones, as VISIT events recorded them (o4 and a3 sent none).
    assert {k: general(data, k)["visitCount"] for k in ("0", v1, v2)} == {"0": 4, v1: 3, v2: 1}

    origin = goal(data, "0", stocked.goal_id)
    # o3's purchase came before its exposure: it does not count.
    assert origin["conversionCount"] == 2 and origin["convertedVisitCount"] == 1
    assert origin["revenueCount"] == 30 and origin["averageCart"] == 15
    assert origin["conversionRate"] == 50
    assert origin["improvementRate"] is None and origin["reliability"] is None
    variation = goal(data, v1, stocked.goal_id)
    assert variation["conversionCount"] == 3 and variation["convertedVisitCount"] == 2
    assert variation["revenueCount"] == 35 and variation["averageCart"] == pytest.approx(35 / 3)
    assert variation["conversionRate"] == 100
    # Per visitor purchases: 0 [2, 0, 0, 0] against v1 [2, 1, 0].
    expected = stats.t_test(stats.Mean(n=4, sum=2, sum_squares=4), stats.Mean(n=3, sum=3, sum_squares=5))
    assert variation["improvementRate"] == pytest.approx(100.0)
    assert variation["reliability"] == pytest.approx(expected.reliability)
    assert variation["confidenceInterval"]["lower"] == pytest.approx(expected.confidence_interval[0])
    assert variation["confidenceInterval"]["upper"] == pytest.approx(expected.confidence_interval[1])
    assert goal(data, "0", stocked.other_goal_id)["conversionRate"] == 25
    assert goal(data, v1, stocked.other_goal_id)["conversionRate"] == pytest.approx(100 / 3)
    empty = goal(data, v2, stocked.goal_id)
    assert empty["conversionCount"] == 0 and empty["conversionRate"] == 0 and empty["averageCart"] == 0


async def test_converted_visits_count_each_converted_unit_once(client: httpx.AsyncClient, stocked: Shop) -> None:
    data = await report(client, stocked, {"visitorData": True, "conversionType": "CONVERTED_VISITS"})
    v1 = str(stocked.variation_ids[0])
    assert goal(data, "0", stocked.goal_id)["conversionRate"] == 25  # o1 of 4 visitors
    assert goal(data, v1, stocked.goal_id)["conversionRate"] == pytest.approx(200 / 3)  # a1, a2 of 3
    expected = stats.t_test(stats.Proportion(n=4, sum=1), stats.Proportion(n=3, sum=2))
    assert goal(data, v1, stocked.goal_id)["reliability"] == pytest.approx(expected.reliability)


async def test_per_visit_report_divides_by_visits(client: httpx.AsyncClient, stocked: Shop) -> None:
    data = await report(client, stocked, {"visitorData": False})
    v1 = str(stocked.variation_ids[0])
    origin, variation = goal(data, "0", stocked.goal_id), goal(data, v1, stocked.goal_id)
    assert origin["conversionRate"] == 50  # 2 purchases in 4 visits
    assert variation["conversionRate"] == 100  # 3 purchases in 3 visits
    # Per visitor (purchases, visits): 0 [(2, 2), (0, 1), (0, 1), (0, 0)], v1 [(2, 1), (1, 2), (0, 0)].
    visits0 = stats.Mean(n=4, sum=4, sum_squares=6)
    visits1 = stats.Mean(n=3, sum=3, sum_squares=5)
    expected = stats.t_test(
        stats.Ratio(n=4, numerator=stats.Mean(n=4, sum=2, sum_squares=4), denominator=visits0, sum_products=4),
        stats.Ratio(n=3, numerator=stats.Mean(n=3, sum=3, sum_squares=5), denominator=visits1, sum_products=4),
    )
    assert variation["improvementRate"] == pytest.approx(expected.improvement_rate)
    assert variation["reliability"] == pytest.approx(expected.reliability)

    converted = await report(client, stocked, {"visitorData": False, "conversionType": "CONVERTED_VISITS"})
    # o1 converted in both its visits; a1 in one, a2 in one.
    assert goal(converted, "0", stocked.goal_id)["convertedVisitCount"] == 2
    assert goal(converted, "0", stocked.goal_id)["conversionRate"] == 50
    assert goal(converted, v1, stocked.goal_id)["convertedVisitCount"] == 2
    assert goal(converted, v1, stocked.goal_id)["conversionRate"] == pytest.approx(200 / 3)


async def test_a_request_without_visitor_data_counts_visits_as_kameleoon_does(
    client: httpx.AsyncClient, stocked: Shop
) -> None:
    left_out = await report(client, stocked, {})
    visits = await report(client, stocked, {"visitorData": False})
    visitors = await report(client, stocked, {"visitorData": True})
    assert left_out["variationData"] == visits["variationData"]
    assert left_out["variationData"] != visitors["variationData"]
    v1 = str(stocked.variation_ids[0])
    assert goal(left_out, v1, stocked.goal_id)["reliability"] != goal(visitors, v1, stocked.goal_id)["reliability"]


async def test_breakdown_by_device_splits_every_visitor_into_one_key(client: httpx.AsyncClient, stocked: Shop) -> None:
    data = await report(client, stocked, {"visitorData": True, "breakdown": {"type": "DEVICE_TYPE"}})
    v1, v2 = (str(v) for v in stocked.variation_ids)
    keys = set(data["variationData"]["0"]["breakdownData"])
    assert keys == {"_reference", "DESKTOP", "PHONE", "TABLET"}  # events said MOBILE: it is stored as PHONE
    assert general(data, "0", "DESKTOP")["visitorCount"] == 2 and general(data, "0", "PHONE")["visitorCount"] == 2
    assert general(data, "0", "TABLET")["visitorCount"] == 0
    assert general(data, v1, "TABLET")["visitorCount"] == 1 and general(data, v2, "DESKTOP")["visitorCount"] == 1
    assert goal(data, "0", stocked.goal_id, "DESKTOP")["conversionCount"] == 2
    assert goal(data, v1, stocked.goal_id, "PHONE")["conversionCount"] == 1
    # Within a key the variation is compared with the reference's units of the same key.
    assert goal(data, v1, stocked.goal_id, "PHONE")["improvementRate"] == 0  # reference mean 0: no uplift
    assert goal(data, v1, stocked.goal_id, "DESKTOP")["improvementRate"] == pytest.approx(100.0)  # 2/1 vs 2/2


async def test_breakdown_by_new_visitor_and_unknown_values(client: httpx.AsyncClient, stocked: Shop) -> None:
    data = await report(client, stocked, {"breakdown": {"type": "NEW_VISITOR"}})
    assert set(data["variationData"]["0"]["breakdownData"]) == {"_reference", "true", "false", "_unknown"}
    assert general(data, "0", "true")["visitorCount"] == 2  # o1, o3
    assert general(data, "0", "_unknown")["visitorCount"] == 1  # o4 did not say


@pytest.mark.parametrize(
    ("interval", "keys"),
    [
        (
            "DAY",
            {
                "2024-05-06T00:00:00Z",
                "2024-05-07T00:00:00Z",
                "2024-05-08T00:00:00Z",
                "2024-05-14T00:00:00Z",
                "2024-05-15T00:00:00Z",
            },
        ),
        ("WEEK", {"2024-05-06T00:00:00Z", "2024-05-13T00:00:00Z"}),
        ("MONTH", {"2024-05-01T00:00:00Z"}),
        ("YEAR", {"2024-01-01T00:00:00Z"}),
        (
            "HOUR",
            {
                "2024-05-06T10:00:00Z",
                "2024-05-07T10:00:00Z",
                "2024-05-08T10:00:00Z",
                "2024-05-14T10:00:00Z",
                "2024-05-15T10:00:00Z",
            },
        ),
    ],
)
async def test_breakdown_by_interval_buckets_visitors_by_first_exposure(
    client: httpx.AsyncClient, stocked: Shop, interval: str, keys: set[str]
) -> None:
    data = await report(client, stocked, {"breakdown": {"type": "INTERVAL", "interval": interval}})
    assert set(data["variationData"]["0"]["breakdownData"]) == {"_reference", *keys}
    if interval == "WEEK":
        assert general(data, "0", "2024-05-13T00:00:00Z")["visitorCount"] == 1  # o4
        assert general(data, "0", "2024-05-06T00:00:00Z")["visitorCount"] == 3
        # o1's second purchase came a day after its exposure: it counts in the week it was exposed.
        assert goal(data, "0", stocked.goal_id, "2024-05-06T00:00:00Z")["conversionCount"] == 2


async def test_cumulative_buckets_hold_every_visitor_exposed_up_to_them(
    client: httpx.AsyncClient, stocked: Shop
) -> None:
    v1 = str(stocked.variation_ids[0])
    data = await report(client, stocked, {"breakdown": {"type": "INTERVAL", "interval": "DAY"}, "cumulative": True})
    days = sorted(key for key in data["variationData"]["0"]["breakdownData"] if key != "_reference")

    def cumulative(arm: str, day: str) -> dict[str, Any]:
        found: dict[str, Any] = data["variationData"][arm]["breakdownData"][day]["cumulativeData"]
        return found

    # The first day: only its own visitors (o1; a1), so the same figures as the day's own.
    assert cumulative("0", days[0]) == general(data, "0", days[0])
    assert cumulative(v1, days[0])["visitorCount"] == 1
    # The next day adds o2 and a2.
    assert cumulative("0", days[1])["visitorCount"] == 2 and cumulative(v1, days[1])["visitorCount"] == 2
    assert cumulative(v1, days[1])["goalsData"][str(stocked.goal_id)]["conversionCount"] == 3  # a1 2, a2 1
    # The last day holds everyone: the whole report, comparison included.
    for arm in data["variationData"]:
        assert cumulative(arm, days[-1]) == general(data, arm)
    assert "cumulativeData" not in data["variationData"]["0"]["breakdownData"]["_reference"]


async def test_without_cumulative_buckets_carry_only_their_own_figures(
    client: httpx.AsyncClient, stocked: Shop
) -> None:
    data = await report(client, stocked, {"breakdown": {"type": "INTERVAL", "interval": "DAY"}})
    assert all("cumulativeData" not in key for key in data["variationData"]["0"]["breakdownData"].values())


async def test_filters_include_and_exclude(client: httpx.AsyncClient, stocked: Shop) -> None:
    v1 = str(stocked.variation_ids[0])
    france = await report(client, stocked, {"filters": [{"type": "COUNTRY", "values": ["fr"], "include": True}]})
    assert general(france, "0")["visitorCount"] == 2 and general(france, v1)["visitorCount"] == 1
    assert goal(france, v1, stocked.goal_id)["conversionCount"] == 2
    elsewhere = await report(client, stocked, {"filters": [{"type": "COUNTRY", "values": ["FR"], "include": False}]})
    # Excluding France keeps the visitors that sent no country (a3).
    assert general(elsewhere, "0")["visitorCount"] == 2 and general(elsewhere, v1)["visitorCount"] == 2
    both = await report(
        client,
        stocked,
        {
            "filters": [
                {"type": "NEW_VISITOR", "values": [True]},
                {"type": "BROWSER", "values": ["CHROME"], "include": True},
            ]
        },
    )
    assert general(both, "0")["visitorCount"] == 1 and general(both, v1)["visitorCount"] == 1  # o1, a1


async def test_date_intervals_limit_visitors_and_their_conversions(client: httpx.AsyncClient, stocked: Shop) -> None:
    v1 = str(stocked.variation_ids[0])
    first_two_days = [{"start": T.isoformat(), "end": (T + 2 * DAY).isoformat()}]
    data = await report(client, stocked, {"dateIntervals": first_two_days})
    assert general(data, "0")["visitorCount"] == 2 and general(data, v1)["visitorCount"] == 2
    # a2's purchase on day 3 is outside; a1's two are inside.
    assert goal(data, v1, stocked.goal_id)["conversionCount"] == 2
    assert goal(data, v1, stocked.other_goal_id)["conversionCount"] == 1
    two_periods = [
        {"start": (T + 8 * DAY).isoformat(), "end": (T + 10 * DAY).isoformat()},
        {"start": T.isoformat(), "end": (T + DAY).isoformat()},
    ]
    data = await report(client, stocked, {"dateIntervals": two_periods})
    assert general(data, "0")["visitorCount"] == 2 and general(data, v1)["visitorCount"] == 2  # o1 o4, a1 a3
    assert goal(data, "0", stocked.goal_id)["conversionCount"] == 1  # o1's purchase at T+1d is outside


async def test_another_reference_variation(client: httpx.AsyncClient, stocked: Shop) -> None:
    v1 = str(stocked.variation_ids[0])
    data = await report(client, stocked, {"referenceVariationId": v1})
    assert goal(data, v1, stocked.goal_id)["improvementRate"] is None
    assert goal(data, "0", stocked.goal_id)["improvementRate"] == pytest.approx(-50.0)  # 0.5 against 1


async def test_bayesian_and_sequential_reports(client: httpx.AsyncClient, stocked: Shop) -> None:
    v1 = str(stocked.variation_ids[0])
    data = await report(
        client,
        stocked,
        {"visitorData": True, "bayesian": True, "sequentialTesting": True, "enabledMultipleTesting": True},
    )
    variation = goal(data, v1, stocked.goal_id)
    reference, treated = stats.Mean(n=4, sum=2, sum_squares=4), stats.Mean(n=3, sum=3, sum_squares=5)
    assert variation["chanceToBeatReference"] == pytest.approx(
        100 * stats.compare(reference, treated).chance_to_beat_reference
    )
    assert 0 <= variation["probabilityToBeBest"] <= 100
    best = sum(goal(data, arm, stocked.goal_id)["probabilityToBeBest"] for arm in data["variationData"])
    assert best == pytest.approx(100.0)
    assert goal(data, "0", stocked.goal_id)["chanceToBeatReference"] is None
    credible = stats.compare(reference, treated).ci
    assert credible is not None
    assert variation["credibleInterval"] == {
        "lower": pytest.approx(100 * credible[0]),
        "upper": pytest.approx(100 * credible[1]),
    }
    assert goal(data, "0", stocked.goal_id)["credibleInterval"] is None
    sequential = stats.sequential_test(reference, treated)
    # Multiple testing may only lower reliability.
    assert variation["reliability"] <= sequential.reliability + 1e-9


async def test_cuped_uses_pre_exposure_conversions(client: httpx.AsyncClient, stocked: Shop) -> None:
    v1 = str(stocked.variation_ids[0])
    data = await report(
        client, stocked, {"visitorData": True, "goalsIds": [stocked.goal_id], "goalIdsCuped": [stocked.goal_id]}
    )
    # o3 bought an hour before its exposure: its pre-exposure value is 1, everyone else's 0.
    arms = [
        stats.Cuped(
            n=4, post=stats.Mean(n=4, sum=2, sum_squares=4), pre=stats.Mean(n=4, sum=1, sum_squares=1), sum_products=0
        ),
        stats.Cuped(
            n=3, post=stats.Mean(n=3, sum=3, sum_squares=5), pre=stats.Mean(n=3, sum=0, sum_squares=0), sum_products=0
        ),
    ]
    expected = stats.t_test(*arms)
    assert goal(data, v1, stocked.goal_id)["improvementRate"] == pytest.approx(expected.improvement_rate)
    assert goal(data, v1, stocked.goal_id)["reliability"] == pytest.approx(expected.reliability)
    assert list(general(data, "0")["goalsData"]) == [str(stocked.goal_id)]


async def test_sample_ratio_check_against_the_deviations(client: httpx.AsyncClient, stocked: Shop) -> None:
    data = await report(client, stocked)
    # Equal thirds expected for 4, 3 and 1 visitors.
    statistic = sum((observed - 8 / 3) ** 2 / (8 / 3) for observed in (4, 3, 1))
    assert data["srm"]["pValue"] == pytest.approx(chi2.sf(statistic, 2))
    assert data["srm"]["flagged"] is False
    assert data["srm"]["expectedVisitors"]["0"] == pytest.approx(8 / 3)
    assert data["winner"] is None and data["winnerReason"] == "NO_SIGNIFICANT_VARIATION"


async def test_an_experiment_without_traffic_gives_a_report_of_zeros(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    quiet = await shop(client, factory)
    data = await report(client, quiet, {"bayesian": True, "breakdown": {"type": "COUNTRY"}})
    for arm in ("0", *(str(v) for v in quiet.variation_ids)):
        assert set(data["variationData"][arm]["breakdownData"]) == {"_reference"}
        assert general(data, arm)["visitorCount"] == 0 and general(data, arm)["visitCount"] == 0
        numbers = goal(data, arm, quiet.goal_id)
        assert numbers["conversionCount"] == 0 and numbers["conversionRate"] == 0
    assert goal(data, str(quiet.variation_ids[0]), quiet.goal_id)["reliability"] == 0
    assert data["srm"]["pValue"] == 1 and data["winner"] is None and data["winnerReason"] == "NOT_ENOUGH_DATA"


async def test_all_variations_data_is_taken_and_every_report_holds_every_variation(
    client: httpx.AsyncClient, stocked: Shop
) -> None:
    plain = await report(client, stocked)
    for value in (True, False):
        asked = await report(client, stocked, {"allVariationsData": value})
        assert asked["variationData"] == plain["variationData"]
    assert set(plain["variationData"]) == {"0", *map(str, stocked.variation_ids)}

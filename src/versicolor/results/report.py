"""Aggregates -> the statistics engine -> the report's shape (docs/results.md).

```
{"variationData": {"<arm>": {"breakdownData": {"_reference" | "<key>": {"generalData": {
    "visitCount", "visitorCount", "goalsData": {"<goalId>": {...}}}}}}},
 "srm": {...}, "winner": {...} | null, "winnerReason": null | "..."}
```

Arms are variation ids as strings, "0" the original. `_reference` holds every unit of the report; with a
breakdown each key holds its own units, compared with the reference variation's units of the same key.
Rates, improvements, reliabilities, intervals and probabilities are in percent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from versicolor import stats
from versicolor.core.errors import Invalid
from versicolor.results.request import ConversionType, ReportRequest
from versicolor.results.sums import Aggregates, GoalSums, Units

TOTAL_KEY = "_reference"
MAX_BREAKDOWN_KEYS = 1_000


@dataclass(frozen=True)
class Plan:
    """What the report covers: its arms in order, the reference arm, the goals shown, the main goal, and each
    arm's expected share of traffic (from the deviations in force while units arrived)."""

    arms: tuple[str, ...]
    reference: str
    goal_ids: tuple[int, ...]
    main_goal_id: int | None
    weights: Mapping[str, float]


def statistic(units: Units, sums: GoalSums, request: ReportRequest, *, cuped: bool) -> stats.Statistic:
    """One arm's sufficient statistics on one goal, per visitor or per visit, as the request says."""
    n = units.visitors
    converted_only = request.conversion_type is ConversionType.CONVERTED_VISITS
    if not request.visitor_data:
        visits = stats.Mean(n=n, sum=units.visits, sum_squares=units.visits_squared)
        if converted_only:
            numerator = stats.Mean(n=n, sum=sums.converted_visits, sum_squares=sums.converted_visits_squared)
            return stats.Ratio(
                n=n, numerator=numerator, denominator=visits, sum_products=sums.converted_visits_by_visits
            )
        numerator = stats.Mean(n=n, sum=sums.conversions, sum_squares=sums.conversions_squared)
        return stats.Ratio(n=n, numerator=numerator, denominator=visits, sum_products=sums.conversions_by_visits)
    post: stats.Proportion | stats.Mean
    pre: stats.Proportion | stats.Mean
    if converted_only:
        post = stats.Proportion(n=n, sum=sums.converted_visitors)
        pre = stats.Proportion(n=n, sum=sums.pre_converted_visitors)
        products = sums.converted_pre
    else:
        post = stats.Mean(n=n, sum=sums.conversions, sum_squares=sums.conversions_squared)
        pre = stats.Mean(n=n, sum=sums.pre_conversions, sum_squares=sums.pre_conversions_squared)
        products = sums.conversions_pre
    if cuped:
        return stats.Cuped(n=n, post=post, pre=pre, sum_products=products)
    return post


def _settings(request: ReportRequest) -> stats.AnalysisSettings:
    return stats.AnalysisSettings(
        sequential_testing=request.sequential_testing,
        bayesian=request.bayesian,
        multiple_testing=request.multiple_testing,
    )


def _percent(fraction: float | None) -> float | None:
    if fraction is None or not math.isfinite(fraction):
        return None
    return 100.0 * fraction


def _percents(bounds: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if bounds is None else (100.0 * bounds[0], 100.0 * bounds[1])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _interval(bounds: tuple[float, float] | None) -> dict[str, float | None] | None:
    if bounds is None:
        return None
    return {"lower": _finite(bounds[0]), "upper": _finite(bounds[1])}


def _goal_data(
    units: Units,
    sums: GoalSums,
    request: ReportRequest,
    *,
    compared: stats.VariationResult | None,
    best: float | None,
) -> dict[str, Any]:
    unit_count = units.visitors if request.visitor_data else units.visits
    converted_units = sums.converted_visitors if request.visitor_data else sums.converted_visits
    counted = converted_units if request.conversion_type is ConversionType.CONVERTED_VISITS else sums.conversions
    data: dict[str, Any] = {
        "conversionCount": sums.conversions,
        "convertedVisitCount": converted_units,
        "revenueCount": sums.revenue,
        "averageCart": sums.revenue / sums.conversions if sums.conversions else 0.0,
        "conversionRate": 100.0 * counted / unit_count if unit_count else 0.0,
        # The reference is what the others are compared with: it has no comparison of its own.
        "improvementRate": None,
        "reliability": None,
        "confidenceInterval": None,
    }
    if compared is not None:
        frequentist = compared.frequentist
        data["improvementRate"] = _finite(frequentist.improvement_rate)
        data["reliability"] = _finite(frequentist.reliability)
        data["confidenceInterval"] = _interval(frequentist.confidence_interval)
    if request.bayesian:
        bayesian = compared.bayesian if compared is not None else None
        data["chanceToBeatReference"] = _percent(bayesian.chance_to_beat_reference) if bayesian else None
        data["credibleInterval"] = _interval(_percents(bayesian.ci)) if bayesian else None
        data["expectedLoss"] = _percent(bayesian.expected_loss_variation) if bayesian else None
        data["probabilityToBeBest"] = _percent(best)
    return data


def _analyze(
    plan: Plan,
    request: ReportRequest,
    units: Mapping[str, Units],
    goal_sums: Mapping[tuple[str, int], GoalSums],
    goal_ids: Sequence[int],
) -> stats.Analysis:
    goals = {
        str(goal): {
            arm: statistic(
                units.get(arm, Units()),
                goal_sums.get((arm, goal), GoalSums()),
                request,
                cuped=goal in request.cuped_goal_ids,
            )
            for arm in plan.arms
        }
        for goal in goal_ids
    }
    return stats.analyze(
        goals=goals,
        reference=plan.reference,
        main_goal=None if plan.main_goal_id is None else str(plan.main_goal_id),
        units={arm: units.get(arm, Units()).visitors for arm in plan.arms},
        weights={arm: plan.weights.get(arm, 0.0) for arm in plan.arms},
        settings=_settings(request),
    )


def _general_data(
    plan: Plan,
    request: ReportRequest,
    units: Mapping[str, Units],
    goal_sums: Mapping[tuple[str, int], GoalSums],
    analysis: stats.Analysis,
) -> dict[str, dict[str, Any]]:
    """Per arm: the generalData of one breakdown key."""
    shown: dict[str, dict[str, Any]] = {}
    for arm in plan.arms:
        arm_units = units.get(arm, Units())
        goals_data = {}
        for goal in plan.goal_ids:
            result = analysis.goals[str(goal)]
            best = result.probability_to_be_best.get(arm) if result.probability_to_be_best else None
            goals_data[str(goal)] = _goal_data(
                arm_units,
                goal_sums.get((arm, goal), GoalSums()),
                request,
                compared=result.variations.get(arm),
                best=best,
            )
        shown[arm] = {"visitCount": arm_units.visits, "visitorCount": arm_units.visitors, "goalsData": goals_data}
    return shown


_WINNER_REASONS = {
    "SRM_FAILED": "the sample ratio check failed: traffic did not split as the deviations say",
    "NOT_ENOUGH_DATA": "not enough data on the main goal to compare the variations with the reference",
    "NO_SIGNIFICANT_VARIATION": "no variation improves the main goal with a reliability of at least 95",
    "NO_MAIN_GOAL": "the experiment has no main goal to pick a winner by",
}


def _winner(plan: Plan, analysis: stats.Analysis, main: stats.GoalResult | None) -> tuple[Any, str | None]:
    if plan.main_goal_id is None:
        return None, "NO_MAIN_GOAL"
    winner = analysis.winner
    if winner.variation is None or main is None:
        return None, winner.reason or "NOT_ENOUGH_DATA"
    frequentist = main.variations[winner.variation].frequentist
    return {
        "variationId": winner.variation,
        "goalId": str(plan.main_goal_id),
        "improvementRate": _finite(frequentist.improvement_rate),
        "reliability": _finite(frequentist.reliability),
    }, None


def _add_cumulative(
    plan: Plan,
    request: ReportRequest,
    keys: Sequence[str],
    by_key_units: Mapping[str, Mapping[str, Units]],
    by_key_sums: Mapping[str, Mapping[tuple[str, int], GoalSums]],
    variation_data: dict[str, Any],
) -> None:
    """Each time bucket's `cumulativeData`: the units of every bucket up to it, analysed together."""
    # Interval keys are ISO times of one format: their text order is their time order.
    running_units: dict[str, Units] = {}
    running_sums: dict[tuple[str, int], GoalSums] = {}
    for key in sorted(keys):
        for arm, units in by_key_units[key].items():
            running_units.setdefault(arm, Units()).add(units)
        for arm_goal, sums in by_key_sums[key].items():
            running_sums.setdefault(arm_goal, GoalSums()).add(sums)
        analysis = _analyze(plan, request, running_units, running_sums, plan.goal_ids)
        for arm, general in _general_data(plan, request, running_units, running_sums, analysis).items():
            variation_data[arm]["breakdownData"][key]["cumulativeData"] = general


def build(*, plan: Plan, request: ReportRequest, aggregates: Aggregates) -> dict[str, Any]:
    """The report's `data`: every arm, breakdown key and goal, the sample ratio check and the winner."""
    keys = sorted({key for _, key in aggregates.units} - {""})
    if len(keys) > MAX_BREAKDOWN_KEYS:
        # Every key is a full analysis (Bayesian ones integrate numerically): an hourly breakdown of a year
        # would keep a worker busy for minutes.
        raise Invalid.field(
            "breakdown",
            f"gives {len(keys)} keys, more than the {MAX_BREAKDOWN_KEYS} a report may have; "
            "narrow dateIntervals or choose a longer interval",
        )
    totals: dict[str, Units] = {}
    total_sums: dict[tuple[str, int], GoalSums] = {}
    by_key_units: dict[str, dict[str, Units]] = {key: {} for key in keys}
    by_key_sums: dict[str, dict[tuple[str, int], GoalSums]] = {key: {} for key in keys}
    for (arm, key), units in aggregates.units.items():
        totals.setdefault(arm, Units()).add(units)
        if key:
            by_key_units[key][arm] = units
    for (arm, key, goal), sums in aggregates.goals.items():
        total_sums.setdefault((arm, goal), GoalSums()).add(sums)
        if key:
            by_key_sums.setdefault(key, {})[(arm, goal)] = sums

    # The main goal decides the winner even when the caller did not ask to see it; it is then analysed on
    # its own, so that it does not join the family of tests the caller's goals are corrected for.
    analysis = _analyze(plan, request, totals, total_sums, plan.goal_ids)
    main_result: stats.GoalResult | None = None
    if plan.main_goal_id is not None:
        if plan.main_goal_id not in plan.goal_ids:
            analysis_of_main = _analyze(plan, request, totals, total_sums, [plan.main_goal_id])
            analysis = stats.Analysis(goals=analysis.goals, srm=analysis.srm, winner=analysis_of_main.winner)
            main_result = analysis_of_main.goals[str(plan.main_goal_id)]
        else:
            main_result = analysis.goals[str(plan.main_goal_id)]

    variation_data: dict[str, Any] = {arm: {"breakdownData": {}} for arm in plan.arms}
    for arm, general in _general_data(plan, request, totals, total_sums, analysis).items():
        variation_data[arm]["breakdownData"][TOTAL_KEY] = {"generalData": general}
    for key in keys:
        key_analysis = _analyze(plan, request, by_key_units[key], by_key_sums[key], plan.goal_ids)
        for arm, general in _general_data(plan, request, by_key_units[key], by_key_sums[key], key_analysis).items():
            variation_data[arm]["breakdownData"][key] = {"generalData": general}
    if request.cumulative:
        _add_cumulative(plan, request, keys, by_key_units, by_key_sums, variation_data)

    observed = {arm: totals.get(arm, Units()).visitors for arm in plan.arms}
    total_weight = sum(plan.weights.get(arm, 0.0) for arm in plan.arms)
    total_units = sum(observed.values())
    winner, reason = _winner(plan, analysis, main_result)
    return {
        "variationData": variation_data,
        "srm": {
            "pValue": analysis.srm.p_value,
            "flagged": analysis.srm.flagged,
            "threshold": stats.SRM_THRESHOLD,
            "observedVisitors": observed,
            "expectedVisitors": {
                arm: (plan.weights.get(arm, 0.0) / total_weight * total_units if total_weight else 0.0)
                for arm in plan.arms
            },
        },
        "winner": winner,
        "winnerReason": reason,
        "winnerReasonMessage": None if reason is None else _WINNER_REASONS[reason],
    }

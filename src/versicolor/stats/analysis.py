"""One report's statistics: every variation against the reference on every goal, the sample ratio check,
the multiple-testing adjustment and the winner.

`analyze` is what the results service calls, with the per-arm sufficient statistics it aggregated from
tracking data. It never raises on degenerate data: a comparison that cannot be computed carries a `reason`
and gbstats' default numbers, and a report without a winner says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from versicolor.stats.bayesian import BayesianComparison, Prior, compare, probability_to_be_best
from versicolor.stats.frequentist import DEFAULT_SEQUENTIAL_TUNING, Comparison, sequential_test, t_test
from versicolor.stats.multiple_testing import DEFAULT_CORRECTION, Correction, adjust_p_values
from versicolor.stats.srm import SampleRatio, check
from versicolor.stats.statistics import Statistic

NoWinner: TypeAlias = Literal["SRM_FAILED", "NOT_ENOUGH_DATA", "NO_SIGNIFICANT_VARIATION"]


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """What the report asked for; the defaults are gbstats' (alpha 0.05, tuning 5000, flat prior)."""

    alpha: float = 0.05
    sequential_testing: bool = False
    sequential_tuning: float = DEFAULT_SEQUENTIAL_TUNING
    bayesian: bool = False
    prior: Prior = field(default_factory=Prior)
    multiple_testing: bool = False
    correction: Correction = DEFAULT_CORRECTION


@dataclass(frozen=True, slots=True)
class VariationResult:
    """One variation on one goal. `frequentist` is adjusted for multiple testing when that was asked for."""

    frequentist: Comparison
    unadjusted_p_value: float
    bayesian: BayesianComparison | None = None


@dataclass(frozen=True, slots=True)
class GoalResult:
    """Every variation (keyed by arm, the reference left out) on one goal; with `bayesian`, every arm's
    probability to be best (the reference included)."""

    variations: dict[str, VariationResult]
    probability_to_be_best: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Winner:
    """The winning variation on the main goal, or None and why there is none."""

    variation: str | None
    reason: NoWinner | None


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything statistical a report shows."""

    goals: dict[str, GoalResult]
    srm: SampleRatio
    winner: Winner


def _frequentist(reference: Statistic, variation: Statistic, settings: AnalysisSettings, level: float) -> Comparison:
    if settings.sequential_testing:
        return sequential_test(
            reference, variation, alpha=settings.alpha, tuning=settings.sequential_tuning, interval_alpha=level
        )
    return t_test(reference, variation, alpha=level)


def _no_reference() -> Comparison:
    return Comparison(uplift=0.0, stddev=0.0, ci=None, p_value=1.0, reason="NO_UNITS")


def _compare_goal(
    arms: Mapping[str, Statistic], reference: str, settings: AnalysisSettings
) -> dict[str, VariationResult]:
    base = arms.get(reference)
    results: dict[str, VariationResult] = {}
    for arm, stat in arms.items():
        if arm == reference:
            continue
        if base is None:
            results[arm] = VariationResult(frequentist=_no_reference(), unadjusted_p_value=1.0)
            continue
        frequentist = _frequentist(base, stat, settings, settings.alpha)
        bayesian = compare(base, stat, prior=settings.prior, alpha=settings.alpha) if settings.bayesian else None
        results[arm] = VariationResult(
            frequentist=frequentist, unadjusted_p_value=frequentist.p_value, bayesian=bayesian
        )
    return results


def _adjust(
    goals: Mapping[str, Mapping[str, Statistic]],
    compared: dict[str, dict[str, VariationResult]],
    reference: str,
    settings: AnalysisSettings,
) -> None:
    # Only tests that could be run form the family: a default result (p = 1) is not a test.
    family = [(g, arm) for g, results in compared.items() for arm, r in results.items() if r.frequentist.reason is None]
    adjusted = adjust_p_values([compared[g][arm].unadjusted_p_value for g, arm in family], settings.correction)
    for (g, arm), p_adjusted in zip(family, adjusted, strict=True):
        result = compared[g][arm]
        p = result.unadjusted_p_value
        # The interval at level 1 - alpha x p / p_adjusted excludes 0 exactly when p_adjusted < alpha, so the
        # adjusted interval and the adjusted p-value never disagree.
        level = settings.alpha * p / p_adjusted if p_adjusted > 0 and p > 0 else settings.alpha
        widened = _frequentist(goals[g][reference], goals[g][arm], settings, level)
        compared[g][arm] = replace(result, frequentist=replace(widened, p_value=p_adjusted))


def pick_winner(main_goal: Mapping[str, VariationResult] | None, srm: SampleRatio, *, alpha: float = 0.05) -> Winner:
    """The variation with the best improvement among those significant at `alpha` (reliability >= 95 by
    default) with a positive improvement on the main goal; otherwise None and the reason."""
    if srm.flagged:
        return Winner(variation=None, reason="SRM_FAILED")
    tested = {arm: r.frequentist for arm, r in (main_goal or {}).items() if r.frequentist.reason is None}
    if not tested:
        return Winner(variation=None, reason="NOT_ENOUGH_DATA")
    significant = {arm: c for arm, c in tested.items() if c.p_value <= alpha and c.uplift > 0}
    if not significant:
        return Winner(variation=None, reason="NO_SIGNIFICANT_VARIATION")
    best = max(significant, key=lambda arm: significant[arm].uplift)
    return Winner(variation=best, reason=None)


def analyze(
    *,
    goals: Mapping[str, Mapping[str, Statistic]],
    reference: str,
    main_goal: str | None,
    units: Mapping[str, float],
    weights: Mapping[str, float],
    settings: AnalysisSettings = AnalysisSettings(),
) -> Analysis:
    """Compare every arm with `reference` on every goal, check the sample ratio, and pick the winner.

    `goals` maps goal -> arm -> that arm's sufficient statistics; `units` and `weights` map arm -> units
    exposed and its share of traffic (the deviations in force). A goal's arms are compared in the order given.
    """
    arms = list(weights)
    srm = check([units.get(arm, 0) for arm in arms], [weights[arm] for arm in arms])
    compared = {g: _compare_goal(goal_arms, reference, settings) for g, goal_arms in goals.items()}
    if settings.multiple_testing:
        _adjust(goals, compared, reference, settings)
    results: dict[str, GoalResult] = {}
    for g, goal_arms in goals.items():
        best: dict[str, float] | None = None
        if settings.bayesian:
            best = dict(zip(goal_arms, probability_to_be_best(list(goal_arms.values())), strict=True))
        results[g] = GoalResult(variations=compared[g], probability_to_be_best=best)
    main = compared.get(main_goal) if main_goal is not None else None
    return Analysis(goals=results, srm=srm, winner=pick_winner(main, srm, alpha=settings.alpha))

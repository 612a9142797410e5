"""The committed gbstats vectors (scripts/make_stats_vectors.py), and how far versicolor.stats is from them.

`python -m tests.stats.vectors` prints the largest absolute difference per method.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from versicolor.stats import (
    Comparison,
    Cuped,
    Mean,
    Prior,
    Proportion,
    Ratio,
    Statistic,
    compare,
    probability_to_be_best,
    sequential_test,
    t_test,
)
from versicolor.stats.multiple_testing import benjamini_hochberg, holm
from versicolor.stats.srm import check
from versicolor.stats.statistics import Component

FOLDER = Path(__file__).parent / "vectors"
PROPER_PRIOR = Prior(mean=0.02, stddev=0.05, proper=True)


def load(name: str) -> list[dict[str, Any]]:
    """The cases of one vector file."""
    cases: list[dict[str, Any]] = json.loads((FOLDER / name).read_text())["cases"]
    return cases


def _component(arm: dict[str, Any]) -> Component:
    if arm["kind"] == "proportion":
        return Proportion(n=arm["n"], sum=arm["sum"])
    return Mean(n=arm["n"], sum=arm["sum"], sum_squares=arm["sum_squares"])


def build(arm: dict[str, Any]) -> Statistic:
    """Our statistic for one arm of a vector case."""
    if arm["kind"] == "ratio":
        return Ratio(
            n=arm["n"],
            numerator=_component(arm["numerator"]),
            denominator=_component(arm["denominator"]),
            sum_products=arm["sum_products"],
        )
    if arm["kind"] == "cuped":
        return Cuped(
            n=arm["n"], post=_component(arm["post"]), pre=_component(arm["pre"]), sum_products=arm["sum_products"]
        )
    return _component(arm)


def _frequentist_pairs(ours: Comparison, theirs: dict[str, Any]) -> Iterator[tuple[float, float]]:
    yield ours.uplift, theirs["expected"]
    yield ours.p_value, theirs["p_value"]
    yield ours.stddev, theirs["stddev"]
    yield from zip(ours.ci or (0.0, 0.0), theirs["ci"], strict=True)


def _check_decision(reason: str | None, ci: object, theirs: dict[str, Any]) -> None:
    # Where gbstats falls back to its default result, so must we (and we say why instead of a [0, 0] interval).
    assert (reason is None) == (theirs["error"] is None), (reason, theirs["error"])
    assert (ci is None) == (theirs["error"] is not None)


def comparison_differences() -> dict[str, list[float]]:
    """Every |ours - gbstats| per method over comparisons.json, checking each decision on the way."""
    diffs: dict[str, list[float]] = {m: [] for m in ("frequentist", "sequential", "bayesian", "probability_to_be_best")}
    for case in load("comparisons.json"):
        arms = [build(a) for a in case["arms"]]
        runs = case["gbstats"]
        for i in range(1, len(arms)):
            for name, alpha in (("frequentist", 0.05), ("frequentist_alpha_10", 0.1)):
                ours = t_test(arms[0], arms[i], alpha=alpha)
                theirs = runs[name][i - 1]
                _check_decision(ours.reason, ours.ci, theirs)
                diffs["frequentist"] += [abs(a - b) for a, b in _frequentist_pairs(ours, theirs)]
            for name, tuning in (("sequential", 5000.0), ("sequential_tuning_500", 500.0)):
                ours = sequential_test(arms[0], arms[i], tuning=tuning)
                theirs = runs[name][i - 1]
                _check_decision(ours.reason, ours.ci, theirs)
                diffs["sequential"] += [abs(a - b) for a, b in _frequentist_pairs(ours, theirs)]
            for name, prior in (("bayesian", Prior()), ("bayesian_proper_prior", PROPER_PRIOR)):
                posterior = compare(arms[0], arms[i], prior=prior)
                theirs = runs[name][i - 1]
                _check_decision(posterior.reason, posterior.ci, theirs)
                pairs = [
                    (posterior.uplift, theirs["expected"]),
                    (posterior.stddev, theirs["stddev"]),
                    (posterior.chance_to_beat_reference, theirs["chance_to_win"]),
                    (posterior.expected_loss_reference, theirs["risk"][0]),
                    (posterior.expected_loss_variation, theirs["risk"][1]),
                    *zip(posterior.ci or (0.0, 0.0), theirs["ci"], strict=True),
                ]
                diffs["bayesian"] += [abs(a - b) for a, b in pairs]
        if len(arms) == 2:
            # Two arms: P(variation is best) is gbstats' chance to win on the absolute difference.
            best = probability_to_be_best(arms)
            diffs["probability_to_be_best"].append(abs(best[1] - runs["bayesian_absolute"][0]["chance_to_win"]))
    return diffs


def srm_differences() -> list[float]:
    """|ours - gbstats| for every SRM p-value in srm.json."""
    return [abs(check(c["units"], c["weights"]).p_value - c["p_value"]) for c in load("srm.json")]


def multiple_testing_differences() -> dict[str, list[float]]:
    """|ours - statsmodels| for every adjusted p-value in multiple_testing.json."""
    diffs: dict[str, list[float]] = {"holm": [], "benjamini_hochberg": []}
    for case in load("multiple_testing.json"):
        for name, correction in (("holm", holm), ("benjamini_hochberg", benjamini_hochberg)):
            diffs[name] += [abs(a - b) for a, b in zip(correction(case["p_values"]), case[name], strict=True)]
    return diffs


def main() -> None:
    """Print the largest difference per method."""
    table = {**comparison_differences(), "srm": srm_differences(), **multiple_testing_differences()}
    for method, diffs in table.items():
        print(f"{method:24} {len(diffs):5} numbers  max |ours - reference| = {max(diffs):.3g}")


if __name__ == "__main__":
    main()

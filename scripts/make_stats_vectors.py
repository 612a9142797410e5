"""Write tests/stats/vectors/*.json: what the reference engine gbstats 0.8.0 answers on fixed inputs.

gbstats pins numpy < 2 and pandas < 2, which clash with the project's own environment, so run this script
with a separate virtualenv that has gbstats (and statsmodels, for the multiple-testing vectors):

    python3 -m venv /tmp/gbstats-venv
    /tmp/gbstats-venv/bin/pip install gbstats==0.8.0 "statsmodels>=0.14,<0.15"
    /tmp/gbstats-venv/bin/python scripts/make_stats_vectors.py

The inputs are either written out by hand (edge cases) or simulated from a fixed seed, so running it again
gives the same files. tests/stats/test_vectors.py replays them through versicolor.stats; gbstats is not
needed at test time.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from gbstats.gbstats import process_single_metric
from gbstats.models.settings import AnalysisSettingsForStatsEngine, MetricSettingsForStatsEngine
from gbstats.utils import check_srm
from statsmodels.stats.multitest import multipletests

OUT = Path(__file__).resolve().parent.parent / "tests" / "stats" / "vectors"
SEED = 20240808

Arm = dict[str, Any]

# The analyses run on every case: the settings each passes to gbstats, under the name the tests use.
ANALYSES: dict[str, dict[str, Any]] = {
    "frequentist": {"stats_engine": "frequentist"},
    "frequentist_alpha_10": {"stats_engine": "frequentist", "alpha": 0.1},
    "sequential": {"stats_engine": "frequentist", "sequential_testing_enabled": True},
    "sequential_tuning_500": {
        "stats_engine": "frequentist",
        "sequential_testing_enabled": True,
        "sequential_tuning_parameter": 500,
    },
    "bayesian": {"stats_engine": "bayesian"},
    # Same engine on the absolute difference: for two arms, the chance that the variation's mean is higher,
    # which versicolor's probability_to_be_best must reproduce.
    "bayesian_absolute": {"stats_engine": "bayesian", "difference_type": "absolute"},
}
PROPER_PRIOR = {"prior_proper": True, "prior_mean": 0.02, "prior_stddev": 0.05}


# ---- inputs -------------------------------------------------------------------------------------------------


def proportion(n: float, s: float) -> Arm:
    return {"kind": "proportion", "n": n, "sum": s}


def mean(n: float, s: float, ss: float) -> Arm:
    return {"kind": "mean", "n": n, "sum": s, "sum_squares": ss}


def from_values(values: np.ndarray) -> Arm:
    return mean(int(values.size), float(values.sum()), float((values**2).sum()))


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> Arm:
    return {
        "kind": "ratio",
        "n": int(numerator.size),
        "numerator": from_values(numerator),
        "denominator": from_values(denominator),
        "sum_products": float((numerator * denominator).sum()),
    }


def cuped(post: np.ndarray, pre: np.ndarray, binary: bool = False) -> Arm:
    def part(v: np.ndarray) -> Arm:
        return proportion(int(v.size), float(v.sum())) if binary else from_values(v)

    return {
        "kind": "cuped",
        "n": int(post.size),
        "post": part(post),
        "pre": part(pre),
        "sum_products": float((post * pre).sum()),
    }


def simulated_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for i, (n, rates) in enumerate(
        [
            (1000, [0.05, 0.06]),
            (20000, [0.031, 0.034]),
            (400, [0.5, 0.45]),
            (5000, [0.10, 0.11, 0.095]),
            (3000, [0.2, 0.2, 0.21, 0.23]),
        ]
    ):
        arms = [proportion(n, int(rng.binomial(n, p))) for p in rates]
        cases.append({"name": f"proportion_simulated_{i}", "arms": arms})
    for i, (n, lifts) in enumerate([(2000, [1.0, 1.05]), (10000, [1.0, 0.97, 1.04]), (50, [1.0, 1.3])]):
        arms = []
        for lift in lifts:
            buys = rng.random(n) < 0.08
            values = np.where(buys, rng.lognormal(3.5, 0.8, n) * lift, 0.0)
            arms.append(from_values(np.round(values, 2)))
        cases.append({"name": f"revenue_simulated_{i}", "arms": arms})
    for i, (n, rates) in enumerate([(3000, [0.03, 0.036]), (800, [0.1, 0.1, 0.12])]):
        arms = []
        for p in rates:
            visits = 1 + rng.poisson(1.2, n)
            conversions = rng.binomial(visits, p)
            arms.append(ratio(conversions.astype(float), visits.astype(float)))
        cases.append({"name": f"ratio_simulated_{i}", "arms": arms})
    for i, (n, lifts) in enumerate([(2000, [0.0, 0.15]), (6000, [0.0, 0.05, -0.02])]):
        arms = []
        for lift in lifts:
            pre = rng.poisson(2.0, n).astype(float)
            post = np.maximum(0.0, np.round(0.7 * pre + rng.normal(0.6 + lift, 1.0, n)))
            arms.append(cuped(post, pre))
        cases.append({"name": f"cuped_simulated_{i}", "arms": arms})
    arms = []
    for lift in [0.0, 0.03]:
        pre = (rng.random(4000) < 0.2).astype(float)
        post = ((rng.random(4000) < 0.05 + lift) | ((pre > 0) & (rng.random(4000) < 0.3))).astype(float)
        arms.append(cuped(post, pre, binary=True))
    cases.append({"name": "cuped_binary_simulated", "arms": arms})
    return cases


def edge_cases() -> list[dict[str, Any]]:
    ones = np.ones(10)
    return [
        {"name": "zero_conversions_everywhere", "arms": [proportion(1000, 0), proportion(1000, 0)]},
        {"name": "zero_conversions_in_variation", "arms": [proportion(1000, 30), proportion(1000, 0)]},
        {"name": "zero_conversions_in_reference", "arms": [proportion(1000, 0), proportion(1000, 30)]},
        {"name": "full_conversion_in_variation", "arms": [proportion(500, 250), proportion(500, 500)]},
        {"name": "full_conversion_everywhere", "arms": [proportion(500, 500), proportion(500, 500)]},
        {"name": "variation_empty", "arms": [proportion(1000, 50), proportion(0, 0)]},
        {"name": "reference_empty", "arms": [proportion(0, 0), proportion(1000, 50)]},
        {"name": "single_visitor_each", "arms": [proportion(1, 1), proportion(1, 0)]},
        {"name": "single_visitor_in_variation", "arms": [proportion(1000, 100), proportion(1, 1)]},
        {"name": "two_visitors_each", "arms": [proportion(2, 1), proportion(2, 1)]},
        {"name": "identical_arms", "arms": [proportion(10000, 500), proportion(10000, 500)]},
        {"name": "huge_counts_small_effect", "arms": [proportion(1e9, 5e7), proportion(1e9, 5.001e7)]},
        {"name": "huge_counts_large_effect", "arms": [proportion(1e9, 5e7), proportion(1e9, 6e7)]},
        {
            "name": "huge_counts_three_arms",
            "arms": [proportion(1e9, 5e7), proportion(1e9, 5e7 + 3e4), proportion(1e9, 4.99e7)],
        },
        {"name": "decisive_small_sample", "arms": [proportion(200, 10), proportion(200, 60)]},
        {"name": "mean_single_unit", "arms": [mean(1, 10.0, 100.0), mean(1, 20.0, 400.0)]},
        {"name": "mean_constant_values", "arms": [from_values(ones * 3), from_values(ones * 4)]},
        {"name": "mean_negative_reference", "arms": [mean(100, -50.0, 400.0), mean(100, 20.0, 300.0)]},
        {"name": "mean_huge_counts", "arms": [mean(1e9, 4.2e9, 3.1e10), mean(1e9, 4.21e9, 3.12e10)]},
        {
            "name": "cuped_pre_without_variance",
            "arms": [
                cuped(np.array([0.0, 1, 2, 1, 0, 3]), np.ones(6)),
                cuped(np.array([1.0, 2, 2, 3, 0, 1]), np.ones(6)),
            ],
        },
        {
            "name": "cuped_single_unit",
            "arms": [cuped(np.array([1.0]), np.array([2.0])), cuped(np.array([2.0]), np.array([1.0]))],
        },
        {
            "name": "ratio_zero_denominator",
            "arms": [ratio(np.zeros(5), np.zeros(5)), ratio(np.array([1.0, 0, 1, 0, 0]), np.ones(5))],
        },
    ]


# ---- gbstats ------------------------------------------------------------------------------------------------


def _component_columns(prefix: str, arm: Arm) -> dict[str, float]:
    squares = arm["sum"] if arm["kind"] == "proportion" else arm["sum_squares"]
    return {f"{prefix}_sum": arm["sum"], f"{prefix}_sum_squares": squares}


def metric_and_row(arms: list[Arm], proper: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = arms[0]["kind"]
    priors = PROPER_PRIOR if proper else {}
    rows = []
    for i, arm in enumerate(arms):
        row: dict[str, Any] = {"dimension": "All", "variation": str(i), "users": arm["n"], "count": arm["n"]}
        if kind in ("proportion", "mean"):
            row.update(_component_columns("main", arm))
        elif kind == "ratio":
            row.update(_component_columns("main", arm["numerator"]))
            row.update(_component_columns("denominator", arm["denominator"]))
            row["main_denominator_sum_product"] = arm["sum_products"]
        else:
            row.update(_component_columns("main", arm["post"]))
            row.update(_component_columns("covariate", arm["pre"]))
            row["main_covariate_sum_product"] = arm["sum_products"]
        rows.append(row)
    types = {"proportion": "binomial", "mean": "count"}
    if kind in types:
        metric = {"statistic_type": "mean", "main_metric_type": types[kind]}
    elif kind == "ratio":
        metric = {
            "statistic_type": "ratio",
            "main_metric_type": types[arms[0]["numerator"]["kind"]],
            "denominator_metric_type": types[arms[0]["denominator"]["kind"]],
        }
    else:
        metric = {
            "statistic_type": "mean_ra",
            "main_metric_type": types[arms[0]["post"]["kind"]],
            "covariate_metric_type": types[arms[0]["pre"]["kind"]],
        }
    return {"id": "goal", "name": "goal", **metric, **priors}, rows


def _finite(x: Any) -> Any:
    # JSON has no NaN or infinity; gbstats never returns them on these inputs, and None would fail the tests.
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"gbstats returned {x}")
    return x


def run_gbstats(arms: list[Arm], settings: dict[str, Any], proper: bool) -> list[dict[str, Any]]:
    metric, rows = metric_and_row(arms, proper)
    analysis = AnalysisSettingsForStatsEngine(
        var_names=[str(i) for i in range(len(arms))],
        var_ids=[str(i) for i in range(len(arms))],
        weights=[1 / len(arms)] * len(arms),
        **settings,
    )
    result = asdict(process_single_metric(rows, MetricSettingsForStatsEngine(**metric), [analysis]))
    variations = result["analyses"][0]["dimensions"][0]["variations"]
    out = []
    for v in variations[1:]:
        entry = {
            "expected": _finite(v["expected"]),
            "ci": [_finite(float(x)) for x in v["ci"]],
            "stddev": _finite(v["uplift"]["stddev"]),
            "error": v["errorMessage"],
        }
        if "pValue" in v:
            entry["p_value"] = _finite(v["pValue"])
        else:
            entry["chance_to_win"] = _finite(v["chanceToWin"])
            entry["risk"] = [_finite(float(x)) for x in v["risk"]]
        out.append(entry)
    return out


def comparison_vectors(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases = edge_cases() + simulated_cases(rng)
    for case in cases:
        analyses = {name: run_gbstats(case["arms"], settings, False) for name, settings in ANALYSES.items()}
        analyses["bayesian_proper_prior"] = run_gbstats(case["arms"], {"stats_engine": "bayesian"}, True)
        case["gbstats"] = analyses
    return cases


def srm_vectors(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = [
        {"units": [0, 0], "weights": [0.5, 0.5]},
        {"units": [5000, 5000], "weights": [0.5, 0.5]},
        {"units": [5000, 5200], "weights": [0.5, 0.5]},
        {"units": [10000, 10400], "weights": [0.5, 0.5]},
        {"units": [1000, 1000, 2000], "weights": [25, 25, 50]},
        {"units": [1000, 1100, 1900], "weights": [0.25, 0.25, 0.5]},
        {"units": [1, 0], "weights": [0.5, 0.5]},
        {"units": [1e9, 1.0001e9], "weights": [0.5, 0.5]},
    ]
    for _ in range(12):
        k = int(rng.integers(2, 6))
        weights = rng.dirichlet(np.ones(k) * 3)
        skew = weights * rng.uniform(0.97, 1.03, k)
        units = rng.multinomial(int(rng.integers(100, 200000)), skew / skew.sum())
        cases.append({"units": units.tolist(), "weights": weights.tolist()})
    for case in cases:
        case["p_value"] = float(check_srm(case["units"], case["weights"]))
    return cases


def multiple_testing_vectors(rng: np.random.Generator) -> list[dict[str, Any]]:
    families = [
        [0.01, 0.04, 0.03, 0.005],
        [0.05],
        [0.0, 1.0, 0.5, 0.5],
        [0.01, 0.01, 0.01, 0.2, 0.9],
        [1e-12, 0.049, 0.051, 0.3, 0.7, 0.02],
    ]
    families += [rng.uniform(0, 1, int(rng.integers(2, 16))).tolist() for _ in range(6)]
    families += [(rng.uniform(0, 1, 12) ** 4).tolist() for _ in range(3)]
    return [
        {
            "p_values": family,
            "holm": multipletests(family, method="holm")[1].tolist(),
            "benjamini_hochberg": multipletests(family, method="fdr_bh")[1].tolist(),
        }
        for family in families
    ]


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "comparisons.json": comparison_vectors(rng),
        "srm.json": srm_vectors(rng),
        "multiple_testing.json": multiple_testing_vectors(rng),
    }
    for name, cases in files.items():
        (OUT / name).write_text(json.dumps({"generator": "gbstats 0.8.0", "cases": cases}, indent=1) + "\n")
        print(f"wrote {OUT / name} ({len(cases)} cases)")


if __name__ == "__main__":
    main()

"""versicolor.stats against the reference engine: gbstats 0.8.0 (and statsmodels for the corrections), to 1e-6."""

from __future__ import annotations

import pytest

from tests.stats import vectors

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def comparisons() -> dict[str, list[float]]:
    return vectors.comparison_differences()


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian", "probability_to_be_best"])
def test_comparisons_agree_with_gbstats(comparisons: dict[str, list[float]], method: str) -> None:
    assert comparisons[method], "the vectors hold no case for this method"
    assert max(comparisons[method]) < TOLERANCE


def test_srm_p_values_agree_with_gbstats() -> None:
    assert max(vectors.srm_differences()) < TOLERANCE


@pytest.mark.parametrize("correction", ["holm", "benjamini_hochberg"])
def test_adjusted_p_values_agree_with_statsmodels(correction: str) -> None:
    assert max(vectors.multiple_testing_differences()[correction]) < TOLERANCE


def test_vectors_cover_the_edge_cases() -> None:
    names = {case["name"] for case in vectors.load("comparisons.json")}
    for edge in [
        "zero_conversions_everywhere",
        "full_conversion_in_variation",
        "variation_empty",
        "reference_empty",
        "single_visitor_each",
        "huge_counts_small_effect",
        "cuped_pre_without_variance",
    ]:
        assert edge in names


def test_where_gbstats_gives_no_result_we_give_the_same_decision() -> None:
    # comparison_differences() asserts the decision case by case; here, that such cases exist at all.
    defaults = [
        case["name"]
        for case in vectors.load("comparisons.json")
        if any(v["error"] for v in case["gbstats"]["frequentist"])
    ]
    assert len(defaults) >= 8

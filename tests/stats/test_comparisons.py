"""Single comparisons, the sample ratio check and the corrections: what they promise beyond the vectors."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from versicolor.stats import (
    AnalysisSettings,
    Cuped,
    Mean,
    Proportion,
    Ratio,
    Statistic,
    adjust_p_values,
    analyze,
    check,
    compare,
    probability_to_be_best,
    sequential_test,
    t_test,
)

anything = st.floats(allow_nan=True, allow_infinity=True)
counts = st.one_of(st.integers(0, 10**12).map(float), anything)


def statistics() -> st.SearchStrategy[Statistic]:
    proportion = st.builds(Proportion, counts, anything)
    mean = st.builds(Mean, counts, anything, anything)
    component = st.one_of(proportion, mean)
    return st.one_of(
        proportion,
        mean,
        st.builds(Ratio, counts, component, component, anything),
        st.builds(Cuped, counts, component, component, anything),
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(reference=statistics(), variation=statistics())
def test_no_input_makes_a_comparison_raise_or_return_nonsense(reference: Statistic, variation: Statistic) -> None:
    for result in (t_test(reference, variation), sequential_test(reference, variation)):
        assert 0.0 <= result.p_value <= 1.0
        assert math.isfinite(result.uplift)
        assert (result.reason is None) == (result.ci is not None)
        if result.ci is not None:
            assert all(math.isfinite(x) for x in result.ci)
    posterior = compare(reference, variation)
    assert 0.0 <= posterior.chance_to_beat_reference <= 1.0
    assert math.isfinite(posterior.uplift)
    best = probability_to_be_best([reference, variation])
    assert len(best) == 2 and all(0.0 <= p <= 1.0 for p in best)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(units=st.lists(anything, min_size=0, max_size=5), weights=st.lists(anything, min_size=0, max_size=5))
def test_no_traffic_split_makes_the_sample_ratio_check_raise(units: list[float], weights: list[float]) -> None:
    result = check(units, weights)
    assert 0.0 <= result.p_value <= 1.0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(arms=st.lists(statistics(), min_size=0, max_size=4))
def test_no_report_input_makes_analyze_raise(arms: list[Statistic]) -> None:
    goal = {str(i): stat for i, stat in enumerate(arms)}
    everything = AnalysisSettings(sequential_testing=True, bayesian=True, multiple_testing=True)
    report = analyze(
        goals={"main": goal},
        reference="0",
        main_goal="main",
        units={arm: stat.n for arm, stat in goal.items()},
        weights={arm: 1.0 for arm in goal},
        settings=everything,
    )
    assert report.winner.variation is not None or report.winner.reason is not None


def test_a_single_visitor_gives_no_test_but_the_plain_difference() -> None:
    result = t_test(Proportion(1, 1), Proportion(1, 0))
    assert (result.reason, result.uplift, result.p_value, result.ci) == ("ZERO_VARIANCE", -1.0, 1.0, None)


def test_huge_counts_stay_finite_and_decisive() -> None:
    result = sequential_test(Proportion(1e9, 5e7), Proportion(1e9, 6e7))
    assert result.p_value == 0.0
    assert result.ci is not None and result.ci[0] > 0.19
    posterior = compare(Proportion(1e9, 5e7), Proportion(1e9, 6e7))
    assert posterior.chance_to_beat_reference == 1.0
    assert posterior.expected_loss_variation == 0.0


def test_cuped_narrows_the_interval_when_the_past_predicts_the_present() -> None:
    rng = np.random.default_rng(7)

    def arm(lift: float) -> tuple[Cuped, Mean]:
        pre = rng.poisson(3.0, 5000).astype(float)
        post = np.maximum(0.0, np.round(0.8 * pre + rng.normal(1.0 + lift, 1.0, 5000)))
        plain = Mean(post.size, post.sum(), (post**2).sum())
        adjusted = Cuped(post.size, plain, Mean(pre.size, pre.sum(), (pre**2).sum()), (post * pre).sum())
        return adjusted, plain

    (cuped_a, plain_a), (cuped_b, plain_b) = arm(0.0), arm(0.1)
    with_cuped, without = t_test(cuped_a, cuped_b), t_test(plain_a, plain_b)
    assert with_cuped.ci is not None and without.ci is not None
    assert with_cuped.ci[1] - with_cuped.ci[0] < 0.7 * (without.ci[1] - without.ci[0])
    assert with_cuped.p_value < without.p_value


def test_probability_to_be_best_agrees_with_sampling_the_posteriors() -> None:
    arms = [Mean(800, 4000.0, 52000.0), Mean(900, 4700.0, 60000.0), Mean(500, 2700.0, 40000.0), Proportion(400, 2)]
    exact = probability_to_be_best(arms[:3])
    rng = np.random.default_rng(11)
    draws = np.column_stack([rng.normal(a.mean, math.sqrt(a.variance / a.n), 400_000) for a in arms[:3]])
    sampled = np.bincount(draws.argmax(axis=1), minlength=3) / draws.shape[0]
    assert np.allclose(exact, sampled, atol=4e-3)
    assert math.isclose(sum(exact), 1.0)


def test_probability_to_be_best_is_uniform_when_an_arm_has_no_variance() -> None:
    assert probability_to_be_best([Proportion(1000, 50), Proportion(1000, 0), Proportion(1000, 60)]) == (1 / 3,) * 3
    assert probability_to_be_best([Proportion(1000, 50)]) == (1.0,)
    assert probability_to_be_best([]) == ()


def test_arms_without_weight_are_left_out_of_the_sample_ratio_check() -> None:
    # A paused arm (deviation 0) neither expects units nor counts as a degree of freedom.
    assert check([5000, 5000, 40], [0.5, 0.5, 0.0]).p_value == 1.0
    assert check([5000, 5400], [0.5, 0.5]).flagged
    assert not check([5000, 5100], [0.5, 0.5]).flagged
    assert check([5000, 5000], [0.5]).p_value == 1.0


def test_corrections_keep_the_order_and_never_lower_a_p_value() -> None:
    p = [0.04, 0.001, 0.3, 0.02]
    for correction in ("holm", "benjamini_hochberg"):
        adjusted = adjust_p_values(p, correction)
        assert all(a >= b for a, b in zip(adjusted, p, strict=True))
        assert sorted(range(4), key=lambda i: p[i]) == sorted(range(4), key=lambda i: adjusted[i])
    assert adjust_p_values([]) == []

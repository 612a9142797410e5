"""A report's statistics as the results service gets them: comparisons, corrections, SRM and the winner."""

from __future__ import annotations

import math

from versicolor.stats import Analysis, AnalysisSettings, Mean, Proportion, Statistic, analyze

EVEN = {"0": 0.5, "1": 0.5}


def run(
    goals: dict[str, dict[str, Statistic]],
    *,
    settings: AnalysisSettings | None = None,
    units: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
    main_goal: str | None = "main",
) -> Analysis:
    first_goal = next(iter(goals.values()), {})
    return analyze(
        goals=goals,
        reference="0",
        main_goal=main_goal,
        units=units or {arm: stat.n for arm, stat in first_goal.items()},
        weights=weights or {arm: 1.0 for arm in first_goal} or EVEN,
        settings=settings or AnalysisSettings(),
    )


def test_a_clear_uplift_on_the_main_goal_wins() -> None:
    report = run({"main": {"0": Proportion(10000, 1000), "1": Proportion(10000, 1300)}})

    assert report.winner.variation == "1"
    assert report.winner.reason is None
    result = report.goals["main"].variations["1"].frequentist
    assert math.isclose(result.improvement_rate, 30.0)
    assert result.reliability > 99.9
    assert result.confidence_interval is not None
    assert 0 < result.confidence_interval[0] < 30 < result.confidence_interval[1]


def test_the_best_of_several_significant_variations_wins() -> None:
    arms = {"0": Proportion(10000, 1000), "1": Proportion(10000, 1200), "2": Proportion(10000, 1400)}
    assert run({"main": arms}).winner.variation == "2"


def test_a_significantly_worse_variation_never_wins() -> None:
    report = run({"main": {"0": Proportion(10000, 1300), "1": Proportion(10000, 1000)}})

    assert report.goals["main"].variations["1"].frequentist.reliability > 99
    assert report.winner.variation is None
    assert report.winner.reason == "NO_SIGNIFICANT_VARIATION"


def test_only_the_main_goal_decides_the_winner() -> None:
    report = run(
        {
            "main": {"0": Proportion(10000, 1000), "1": Proportion(10000, 1010)},
            "other": {"0": Proportion(10000, 1000), "1": Proportion(10000, 1500)},
        }
    )
    assert report.winner.reason == "NO_SIGNIFICANT_VARIATION"


def test_a_sample_ratio_mismatch_withholds_the_winner() -> None:
    arms = {"0": Proportion(10000, 1000), "1": Proportion(11000, 1500)}
    report = run({"main": arms}, weights=EVEN)

    assert report.srm.flagged
    assert report.srm.p_value < 0.001
    assert report.winner.variation is None
    assert report.winner.reason == "SRM_FAILED"


def test_an_experiment_without_traffic_is_a_report_of_zeros_not_an_error() -> None:
    report = run({"main": {"0": Proportion(0, 0), "1": Proportion(0, 0)}}, weights=EVEN)

    assert report.srm.p_value == 1.0
    assert not report.srm.flagged
    assert report.winner.reason == "NOT_ENOUGH_DATA"
    result = report.goals["main"].variations["1"].frequentist
    assert result.reason == "NO_UNITS"
    assert (result.improvement_rate, result.reliability, result.confidence_interval) == (0.0, 0.0, None)


def test_a_main_goal_that_was_not_analysed_means_not_enough_data() -> None:
    report = run({"other": {"0": Proportion(10000, 1000), "1": Proportion(10000, 1300)}}, main_goal="main")
    assert report.winner.reason == "NOT_ENOUGH_DATA"
    assert run({"main": {"0": Proportion(10, 1), "1": Proportion(10, 9)}}, main_goal=None).winner.reason == (
        "NOT_ENOUGH_DATA"
    )


def test_a_goal_without_the_reference_arm_gives_default_results() -> None:
    report = run({"main": {"1": Proportion(100, 10), "2": Proportion(100, 20)}})

    assert {r.frequentist.reason for r in report.goals["main"].variations.values()} == {"NO_UNITS"}
    assert report.winner.reason == "NOT_ENOUGH_DATA"


def _family() -> dict[str, dict[str, Statistic]]:
    return {
        "main": {"0": Proportion(20000, 2000), "1": Proportion(20000, 2090), "2": Proportion(20000, 2400)},
        "cart": {"0": Proportion(20000, 5000), "1": Proportion(20000, 5100), "2": Proportion(20000, 4950)},
        "revenue": {
            "0": Mean(20000, 100000.0, 2.5e6),
            "1": Mean(20000, 103000.0, 2.6e6),
            "2": Mean(20000, 99000.0, 2.4e6),
        },
    }


def _every(report: Analysis) -> list[tuple[str, str]]:
    return [(g, arm) for g, goal in report.goals.items() for arm in goal.variations]


def test_multiple_testing_raises_p_values_and_widens_intervals_consistently() -> None:
    for sequential in (False, True):
        plain = run(_family(), settings=AnalysisSettings(sequential_testing=sequential))
        for correction in ("holm", "benjamini_hochberg"):
            settings = AnalysisSettings(sequential_testing=sequential, multiple_testing=True, correction=correction)
            adjusted = run(_family(), settings=settings)
            for g, arm in _every(adjusted):
                before = plain.goals[g].variations[arm].frequentist
                after = adjusted.goals[g].variations[arm]
                assert after.unadjusted_p_value == before.p_value
                assert after.frequentist.p_value >= before.p_value
                assert after.frequentist.uplift == before.uplift
                assert after.frequentist.ci is not None and before.ci is not None
                assert after.frequentist.ci[0] <= before.ci[0] and after.frequentist.ci[1] >= before.ci[1]
                # The adjusted interval excludes 0 exactly when the adjusted p-value is significant.
                excludes_zero = after.frequentist.ci[0] > 0 or after.frequentist.ci[1] < 0
                assert excludes_zero == (after.frequentist.p_value < 0.05)


def test_holm_is_stricter_than_benjamini_hochberg() -> None:
    holm = run(_family(), settings=AnalysisSettings(multiple_testing=True, correction="holm"))
    bh = run(_family(), settings=AnalysisSettings(multiple_testing=True, correction="benjamini_hochberg"))
    for g, arm in _every(holm):
        assert holm.goals[g].variations[arm].frequentist.p_value >= bh.goals[g].variations[arm].frequentist.p_value


def test_multiple_testing_can_take_a_borderline_winner_away() -> None:
    goals: dict[str, dict[str, Statistic]] = {
        "main": {"0": Proportion(20000, 2000), "1": Proportion(20000, 2140)},
        **{f"g{i}": {"0": Proportion(20000, 2000), "1": Proportion(20000, 2000 + 5 * i)} for i in range(6)},
    }
    assert run(goals).winner.variation == "1"
    corrected = run(goals, settings=AnalysisSettings(multiple_testing=True))
    assert corrected.winner.reason == "NO_SIGNIFICANT_VARIATION"


def test_tests_that_could_not_run_are_not_counted_in_the_family() -> None:
    goals: dict[str, dict[str, Statistic]] = {
        "main": {"0": Proportion(20000, 2000), "1": Proportion(20000, 2300)},
        "empty": {"0": Proportion(20000, 0), "1": Proportion(20000, 0)},
    }
    plain = run(goals).goals["main"].variations["1"].frequentist.p_value
    corrected = run(goals, settings=AnalysisSettings(multiple_testing=True, correction="holm"))
    assert corrected.goals["main"].variations["1"].frequentist.p_value == plain
    assert corrected.goals["empty"].variations["1"].frequentist.reason == "REFERENCE_MEAN_ZERO"


def test_sequential_testing_is_more_cautious_than_a_fixed_horizon() -> None:
    goals: dict[str, dict[str, Statistic]] = {"main": {"0": Proportion(5000, 500), "1": Proportion(5000, 570)}}
    fixed = run(goals).goals["main"].variations["1"].frequentist
    sequential = (
        run(goals, settings=AnalysisSettings(sequential_testing=True)).goals["main"].variations["1"].frequentist
    )

    assert fixed.reliability > 95
    assert sequential.reliability < fixed.reliability
    assert fixed.ci is not None and sequential.ci is not None
    assert sequential.ci[0] < fixed.ci[0] and sequential.ci[1] > fixed.ci[1]


def test_bayesian_adds_chance_to_beat_and_probability_to_be_best_for_every_arm() -> None:
    arms: dict[str, Statistic] = {
        "0": Proportion(10000, 1000),
        "1": Proportion(10000, 1100),
        "2": Proportion(10000, 990),
    }
    report = run({"main": arms}, settings=AnalysisSettings(bayesian=True))
    goal = report.goals["main"]

    assert goal.probability_to_be_best is not None
    assert set(goal.probability_to_be_best) == {"0", "1", "2"}
    assert math.isclose(sum(goal.probability_to_be_best.values()), 1.0)
    assert max(goal.probability_to_be_best, key=lambda arm: goal.probability_to_be_best[arm]) == "1"  # type: ignore[index]
    chance = goal.variations["1"].bayesian
    assert chance is not None and chance.chance_to_beat_reference > 0.95
    assert chance.expected_loss_variation < chance.expected_loss_reference
    assert run({"main": arms}).goals["main"].probability_to_be_best is None

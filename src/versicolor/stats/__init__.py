"""Pure statistics for experiment results: per-arm sufficient statistics in, comparisons and a winner out.

Imports only numpy, scipy and the standard library; no web, no database. The numbers agree with the
open-source reference engine gbstats 0.8.0 (tests/stats/vectors). Formulas, defaults and references:
docs/statistics.md.
"""

from versicolor.stats.analysis import Analysis, AnalysisSettings, GoalResult, NoWinner, VariationResult, Winner, analyze
from versicolor.stats.bayesian import BayesianComparison, Prior, compare, probability_to_be_best
from versicolor.stats.frequentist import Comparison, sequential_test, t_test
from versicolor.stats.multiple_testing import DEFAULT_CORRECTION, Correction, adjust_p_values
from versicolor.stats.srm import SRM_THRESHOLD, SampleRatio, check
from versicolor.stats.statistics import Cuped, Mean, Proportion, Ratio, Reason, Statistic

__all__ = [
    "DEFAULT_CORRECTION",
    "SRM_THRESHOLD",
    "Analysis",
    "AnalysisSettings",
    "BayesianComparison",
    "Comparison",
    "Correction",
    "Cuped",
    "GoalResult",
    "Mean",
    "NoWinner",
    "Prior",
    "Proportion",
    "Ratio",
    "Reason",
    "SampleRatio",
    "Statistic",
    "VariationResult",
    "Winner",
    "adjust_p_values",
    "analyze",
    "check",
    "compare",
    "probability_to_be_best",
    "sequential_test",
    "t_test",
]

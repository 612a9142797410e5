"""Sample ratio mismatch: did the arms receive the share of units their deviations promise?

A chi-square goodness-of-fit test of the observed units per arm against the expected weights, as gbstats'
`check_srm`; a p-value under 0.001 flags the report, because its comparisons then rest on a broken
assignment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import chdtrc

SRM_THRESHOLD = 0.001


@dataclass(frozen=True, slots=True)
class SampleRatio:
    """The chi-square p-value and whether it is below the threshold."""

    p_value: float
    flagged: bool


def check(units: Sequence[float], weights: Sequence[float], *, threshold: float = SRM_THRESHOLD) -> SampleRatio:
    """Chi-square test of units per arm against the weights (any positive scale; they need not sum to 1).

    Arms whose weight is 0 (or negative) are left out, of the total and of the degrees of freedom: no units
    are expected there, and gbstats' habit of counting them in the degrees of freedom only blunts the test.
    With no units, fewer than two weighted arms, or numbers that are not finite, the p-value is 1.
    """
    pairs = [(u, w) for u, w in zip(units, weights, strict=False) if w > 0]
    numbers = [x for pair in pairs for x in pair]
    if len(units) != len(weights) or len(pairs) < 2 or not all(math.isfinite(x) for x in numbers):
        return SampleRatio(p_value=1.0, flagged=False)
    total_units = sum(u for u, _ in pairs)
    total_weight = sum(w for _, w in pairs)
    if total_units <= 0 or any(u < 0 for u, _ in pairs):
        return SampleRatio(p_value=1.0, flagged=False)
    try:
        statistic = 0.0
        for observed, weight in pairs:
            expected = weight / total_weight * total_units
            statistic += (observed - expected) ** 2 / expected
    except ArithmeticError:
        # Numbers beyond double precision (no real traffic looks like this): no verdict.
        return SampleRatio(p_value=1.0, flagged=False)
    p_value = float(chdtrc(len(pairs) - 1, statistic))  # chi2.sf without importing scipy.stats (~2 s)
    if not 0.0 <= p_value <= 1.0:
        return SampleRatio(p_value=1.0, flagged=False)
    return SampleRatio(p_value=p_value, flagged=p_value < threshold)

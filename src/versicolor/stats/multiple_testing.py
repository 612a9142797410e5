"""Adjusted p-values for a family of tests (every variation x goal of one report).

Holm (1979) controls the family-wise error rate, the chance of even one false positive; Benjamini-Hochberg
(1995) controls the false discovery rate, the expected share of false positives among the results called
significant. Both return adjusted p-values in the input's order, as R's `p.adjust` and statsmodels'
`multipletests` ("holm", "fdr_bh") do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

Correction: TypeAlias = Literal["holm", "benjamini_hochberg"]
# The correction applied when a report asks for multiple testing without naming one: a report compares every
# variation on every goal, often a dozen tests or more, and controlling the share of false discoveries keeps
# the power to find real effects where Holm would need every effect to be large.
DEFAULT_CORRECTION: Correction = "benjamini_hochberg"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: the i-th smallest p times (m - i + 1), kept monotone, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg's step-up adjustment: the i-th smallest p times m / i, kept monotone, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for position, i in enumerate(order):
        rank = m - position
        running = min(running, m * p_values[i] / rank)
        adjusted[i] = running
    return adjusted


def adjust_p_values(p_values: Sequence[float], correction: Correction = DEFAULT_CORRECTION) -> list[float]:
    """The p-values adjusted by the named correction."""
    if correction == "holm":
        return holm(p_values)
    return benjamini_hochberg(p_values)

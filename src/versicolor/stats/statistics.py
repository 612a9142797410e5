"""Per-arm sufficient statistics of one goal, and the mean and variance each one implies.

The formulas are those of gbstats 0.8.0 (`gbstats/models/statistics.py`), so that a comparison built on them
agrees with the reference engine: a proportion's variance is p(1 - p) (no n - 1 correction), a sample mean's
uses n - 1, a ratio's comes from the delta method, and CUPED's is the variance of y - theta * x.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

# Why a comparison could not be computed; the comparison then carries gbstats' "default" numbers instead.
Reason: TypeAlias = Literal["INVALID_INPUT", "NO_UNITS", "REFERENCE_MEAN_ZERO", "ZERO_VARIANCE"]


@dataclass(frozen=True, slots=True)
class Proportion:
    """A 0/1 value per unit: `sum` of the `n` units converted."""

    n: float
    sum: float

    @property
    def sum_squares(self) -> float:
        """For 0/1 values the sum of squares is the sum."""
        return self.sum

    @property
    def mean(self) -> float:
        """The conversion rate, 0 for no units."""
        return self.sum / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The mean before any CUPED adjustment."""
        return self.mean

    @property
    def variance(self) -> float:
        """p(1 - p), the variance of one unit's 0/1 value."""
        return self.mean * (1.0 - self.mean)


@dataclass(frozen=True, slots=True)
class Mean:
    """Any numeric value per unit (conversions, revenue): its count, sum and sum of squares."""

    n: float
    sum: float
    sum_squares: float

    @property
    def mean(self) -> float:
        """The mean per unit, 0 for no units."""
        return self.sum / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The mean before any CUPED adjustment."""
        return self.mean

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 in the denominator), 0 below two units."""
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)


Component: TypeAlias = Proportion | Mean


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio of two per-unit sums (e.g. conversions per visit, randomised by visitor), by the delta method.

    `n` counts the randomisation units; `sum_products` is the sum over units of numerator x denominator.
    """

    n: float
    numerator: Component
    denominator: Component
    sum_products: float

    @property
    def mean(self) -> float:
        """Sum of numerators over sum of denominators, 0 when the denominators sum to 0."""
        return self.numerator.sum / self.denominator.sum if self.denominator.sum else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The mean before any CUPED adjustment."""
        return self.mean

    @property
    def covariance(self) -> float:
        """Sample covariance of numerator and denominator per unit."""
        if self.n <= 1:
            return 0.0
        return (self.sum_products - self.numerator.sum * self.denominator.sum / self.n) / (self.n - 1)

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio, per unit."""
        d = self.denominator.mean
        if d == 0 or self.n <= 1:
            return 0.0
        m = self.numerator.mean
        return self.numerator.variance / d**2 - 2 * self.covariance * m / d**3 + m**2 * self.denominator.variance / d**4


@dataclass(frozen=True, slots=True)
class Cuped:
    """A goal's value after exposure (`post`) with the same goal's value before it (`pre`), per unit.

    `sum_products` is the sum over units of post x pre. `theta` is chosen per comparison from the pooled arms
    (see `pooled_theta`); 0 means no adjustment.
    """

    n: float
    post: Component
    pre: Component
    sum_products: float
    theta: float = 0.0

    @property
    def mean(self) -> float:
        """The CUPED-adjusted mean, post - theta x pre."""
        return self.post.mean - self.theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        """The observed mean after exposure; relative effects are expressed against it."""
        return self.post.mean

    @property
    def covariance(self) -> float:
        """Sample covariance of post and pre per unit."""
        if self.n <= 1:
            return 0.0
        return (self.sum_products - self.post.sum * self.pre.sum / self.n) / (self.n - 1)

    @property
    def variance(self) -> float:
        """Variance of post - theta x pre per unit."""
        if self.n <= 1:
            return 0.0
        return self.post.variance + self.theta**2 * self.pre.variance - 2 * self.theta * self.covariance


Statistic: TypeAlias = Proportion | Mean | Ratio | Cuped


def _joint(parts: Sequence[Component], n: float) -> Component:
    if all(isinstance(p, Proportion) for p in parts):
        return Proportion(n=n, sum=sum(p.sum for p in parts))
    return Mean(n=n, sum=sum(p.sum for p in parts), sum_squares=sum(p.sum_squares for p in parts))


def pooled_theta(arms: Sequence[Cuped]) -> float:
    """CUPED's theta = cov(post, pre) / var(pre) over all the given arms pooled; 0 when either has no variance."""
    n = sum(a.n for a in arms)
    post = _joint([a.post for a in arms], n)
    pre = _joint([a.pre for a in arms], n)
    if pre.variance == 0 or post.variance == 0:
        return 0.0
    joint = Cuped(n=n, post=post, pre=pre, sum_products=sum(a.sum_products for a in arms))
    return joint.covariance / pre.variance


def adjust(arms: Sequence[Statistic]) -> list[Statistic]:
    """Give CUPED arms their pooled theta, or fall back to the unadjusted values when theta is 0 (as gbstats)."""
    if not arms or not all(isinstance(a, Cuped) for a in arms):
        return list(arms)
    cuped = [a for a in arms if isinstance(a, Cuped)]
    try:
        theta = pooled_theta(cuped)
    except ArithmeticError:
        # Numbers beyond double precision; the comparison will say INVALID_INPUT.
        theta = 0.0
    if not math.isfinite(theta):
        theta = 0.0
    if theta == 0:
        return [a.post for a in cuped]
    return [replace(a, theta=theta) for a in cuped]


def _numbers(stat: Statistic) -> list[float]:
    if isinstance(stat, Proportion):
        return [stat.n, stat.sum]
    if isinstance(stat, Mean):
        return [stat.n, stat.sum, stat.sum_squares]
    if isinstance(stat, Ratio):
        return [stat.n, stat.sum_products, *_numbers(stat.numerator), *_numbers(stat.denominator)]
    return [stat.n, stat.sum_products, stat.theta, *_numbers(stat.post), *_numbers(stat.pre)]


def is_valid(stat: Statistic) -> bool:
    """Every number finite and no negative count."""
    numbers = _numbers(stat)
    return all(math.isfinite(x) for x in numbers) and stat.n >= 0


def unusable(reference: Statistic, variation: Statistic) -> Reason | None:
    """Why these two arms cannot be compared (gbstats then returns its default result), or None."""
    if not (is_valid(reference) and is_valid(variation)):
        return "INVALID_INPUT"
    if reference.n == 0 or variation.n == 0:
        return "NO_UNITS"
    if reference.mean == 0 or reference.unadjusted_mean == 0:
        return "REFERENCE_MEAN_ZERO"
    # A single unit has no variance; gbstats reaches its default result for it through a variance of 0.
    if reference.n < 2 or variation.n < 2 or reference.variance <= 0 or variation.variance <= 0:
        return "ZERO_VARIANCE"
    return None


def raw_uplift(reference: Statistic, variation: Statistic) -> float:
    """The relative difference of means, as gbstats reports it when no test could be run (0 if undefined)."""
    try:
        if not (is_valid(reference) and is_valid(variation)) or reference.unadjusted_mean <= 0:
            return 0.0
        uplift = (variation.mean - reference.mean) / reference.unadjusted_mean
    except ArithmeticError:
        return 0.0
    return uplift if math.isfinite(uplift) else 0.0


@dataclass(frozen=True, slots=True)
class Effect:
    """The relative uplift of a variation over the reference, its delta-method variance and Welch's dof."""

    uplift: float
    variance: float
    dof: float
    n: float


def relative_effect(reference: Statistic, variation: Statistic) -> Effect | Reason:
    """(variation - reference) / reference with its variance, or why it cannot be estimated (as gbstats)."""
    try:
        reason = unusable(reference, variation)
        if reason is not None:
            return reason
        a, b = reference, variation
        mean_a, mean_b = a.unadjusted_mean, b.unadjusted_mean
        uplift = (b.mean - a.mean) / mean_a
        # Delta method for (b - a) / a with independent arms.
        variance = b.variance / (mean_a**2 * b.n) + a.variance * mean_b**2 / (mean_a**4 * a.n)
        dof = (b.variance / b.n + a.variance / a.n) ** 2 / (
            b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
        )
    except ArithmeticError:
        return "INVALID_INPUT"
    if not (variance > 0 and math.isfinite(variance) and math.isfinite(dof) and math.isfinite(uplift)):
        # Only reachable with numbers beyond what double precision can compare.
        return "INVALID_INPUT"
    return Effect(uplift=uplift, variance=variance, dof=dof, n=a.n + b.n)

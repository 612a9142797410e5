"""Frequentist comparison of a variation with the reference: the relative uplift and how sure we are of it.

Welch's two-sided t-test on the relative uplift (variation mean / reference mean - 1), whose variance comes
from the delta method, with Welch-Satterthwaite degrees of freedom; or, for sequential testing, the
always-valid p-value and confidence sequence of Waudby-Smith et al. (asymptotic confidence sequences), tuned
as gbstats does. Both match gbstats 0.8.0's `TwoSidedTTest` and `SequentialTwoSidedTTest` (relative
difference) number for number; see docs/statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import stdtr, stdtrit

from versicolor.stats.statistics import Effect, Reason, Statistic, adjust, raw_uplift, relative_effect

# gbstats' default for the sequential tuning parameter: the total sample size at which the confidence
# sequence is tightest.
DEFAULT_SEQUENTIAL_TUNING = 5000.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """A variation against the reference. Fractions, not percent; `ci` is None when no test could be run.

    When `reason` is set the test could not be run (gbstats' default result): `p_value` is 1, `stddev` 0, and
    `uplift` is still the plain relative difference of the means when the reference mean is positive.
    """

    uplift: float
    stddev: float
    ci: tuple[float, float] | None
    p_value: float
    reason: Reason | None = None

    @property
    def improvement_rate(self) -> float:
        """The relative uplift, in percent."""
        return 100.0 * self.uplift

    @property
    def reliability(self) -> float:
        """(1 - p) x 100."""
        return 100.0 * (1.0 - self.p_value)

    @property
    def confidence_interval(self) -> tuple[float, float] | None:
        """The interval of the relative uplift, in percent."""
        return None if self.ci is None else (100.0 * self.ci[0], 100.0 * self.ci[1])


def _default(reference: Statistic, variation: Statistic, reason: Reason) -> Comparison:
    return Comparison(uplift=raw_uplift(reference, variation), stddev=0.0, ci=None, p_value=1.0, reason=reason)


def _finished(reference: Statistic, variation: Statistic, est: Effect, width: float, p_value: float) -> Comparison:
    ci = (est.uplift - width, est.uplift + width)
    numbers = [est.uplift, est.variance, p_value, *ci]
    if not all(math.isfinite(x) for x in numbers):
        return _default(reference, variation, "INVALID_INPUT")
    # gbstats' runner reports no uplift at all against a negative reference mean.
    uplift = est.uplift if reference.unadjusted_mean > 0 else 0.0
    return Comparison(uplift=uplift, stddev=math.sqrt(est.variance), ci=ci, p_value=p_value)


def t_test(reference: Statistic, variation: Statistic, *, alpha: float = 0.05) -> Comparison:
    """Welch's two-sided t-test of the relative uplift, with a (1 - alpha) confidence interval."""
    reference, variation = adjust([reference, variation])
    est = relative_effect(reference, variation)
    if not isinstance(est, Effect):
        return _default(reference, variation, est)
    stddev = math.sqrt(est.variance)
    # Student's t tail and quantile straight from scipy.special, the functions scipy.stats.t wraps, at a
    # fraction of the per-call cost.
    p_value = float(2 * stdtr(est.dof, -abs(est.uplift / stddev)))
    width = float(stdtrit(est.dof, 1 - alpha / 2)) * stddev
    return _finished(reference, variation, est, width, p_value)


def sequential_rho(*, alpha: float, tuning: float) -> float:
    """The mixing parameter that makes the confidence sequence tightest at `tuning` units (eq. 161)."""
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def sequential_test(
    reference: Statistic,
    variation: Statistic,
    *,
    alpha: float = 0.05,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
    interval_alpha: float | None = None,
) -> Comparison:
    """Always-valid p-value and confidence sequence of the relative uplift (Waudby-Smith et al.).

    The sequence is tuned for `alpha`; `interval_alpha` (default `alpha`) sets the interval's own level, so a
    multiple-testing correction can widen the interval without retuning it. Both alphas must lie in (0, 1).
    """
    reference, variation = adjust([reference, variation])
    est = relative_effect(reference, variation)
    if not isinstance(est, Effect):
        return _default(reference, variation, est)
    level = alpha if interval_alpha is None else interval_alpha
    rho2 = sequential_rho(alpha=alpha, tuning=tuning) ** 2
    n = est.n
    tr2p1 = n * rho2 + 1
    # Products, not powers: Python's float ** raises on overflow where * gives inf, which _finished catches.
    # Eq. 9: the half-width of the asymptotic confidence sequence, with s^2 = variance x N.
    width = math.sqrt(est.variance * n) * math.sqrt(2 * tr2p1 * math.log(math.sqrt(tr2p1) / level) / (n * n * rho2))
    # Eq. 155: p = min(1, 1 / e-value), computed on the log scale so a huge e-value cannot overflow.
    log_evalue = rho2 * (est.uplift * est.uplift * n / est.variance) / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    p_value = min(math.exp(-log_evalue), 1.0) if log_evalue > -700 else 1.0
    return _finished(reference, variation, est, width, p_value)

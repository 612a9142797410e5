"""Bayesian view of the same data: the chance that a variation beats the reference, its expected loss, and the
probability that each arm is the best.

`compare` is gbstats 0.8.0's `EffectBayesianABTest` with a relative effect: a normal likelihood for the
relative uplift (mean and delta-method variance as in the frequentist test) and a normal prior on it, flat
(improper) unless `Prior.proper`. `probability_to_be_best` has no counterpart in gbstats; it integrates the
arms' independent normal posteriors numerically (deterministic, no sampling). See docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.special import ndtr, ndtri

from versicolor.stats.statistics import Effect, Reason, Statistic, adjust, is_valid, raw_uplift, relative_effect

_SQRT_2PI = math.sqrt(2 * math.pi)
# The integration range in standard deviations of one arm's posterior: the density beyond it is < 1e-22.
_Z_RANGE = 10.0


@dataclass(frozen=True, slots=True)
class Prior:
    """A normal prior on the relative uplift; ignored unless `proper` (gbstats' metric defaults)."""

    mean: float = 0.0
    stddev: float = 0.1
    proper: bool = False


@dataclass(frozen=True, slots=True)
class BayesianComparison:
    """The posterior of a variation's relative uplift over the reference. Fractions, not percent.

    `expected_loss_reference` is E[max(uplift, 0)], what keeping the reference costs if the variation is
    better; `expected_loss_variation` is E[max(-uplift, 0)], what shipping the variation costs if it is worse.
    When `reason` is set no posterior could be formed (gbstats' default result): the chance is 0.5, the losses
    0, `ci` None, and `uplift` the plain relative difference of the means.
    """

    uplift: float
    stddev: float
    ci: tuple[float, float] | None
    chance_to_beat_reference: float
    expected_loss_reference: float
    expected_loss_variation: float
    reason: Reason | None = None


def _normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / _SQRT_2PI


def compare(
    reference: Statistic, variation: Statistic, *, prior: Prior = Prior(), alpha: float = 0.05
) -> BayesianComparison:
    """Chance to beat the reference, (1 - alpha) credible interval and expected losses of the relative uplift."""
    reference, variation = adjust([reference, variation])
    est = relative_effect(reference, variation)
    if not isinstance(est, Effect):
        return _default(reference, variation, est)
    if prior.proper and prior.stddev > 0:
        precision = 1 / est.variance + 1 / (prior.stddev * prior.stddev)
        mean = (est.uplift / est.variance + prior.mean / (prior.stddev * prior.stddev)) / precision
    else:
        precision = 1 / est.variance
        mean = est.uplift
    stddev = math.sqrt(1 / precision)
    z = float(ndtri(1 - alpha / 2))
    # P(uplift < 0) and the truncated normal means give the expected losses in closed form.
    a = -mean / stddev
    below = float(ndtr(a))
    density = _normal_pdf(a) if abs(a) < 40 else 0.0
    ci = (mean - z * stddev, mean + z * stddev)
    loss_reference = (1 - below) * mean + stddev * density
    loss_variation = -below * mean + stddev * density
    if not all(math.isfinite(x) for x in (mean, stddev, *ci, loss_reference, loss_variation)):
        return _default(reference, variation, "INVALID_INPUT")
    return BayesianComparison(
        uplift=mean if reference.unadjusted_mean > 0 else 0.0,
        stddev=stddev,
        ci=ci,
        chance_to_beat_reference=float(ndtr(-a)),
        expected_loss_reference=loss_reference,
        expected_loss_variation=loss_variation,
    )


def _default(reference: Statistic, variation: Statistic, reason: Reason) -> BayesianComparison:
    return BayesianComparison(
        uplift=raw_uplift(reference, variation),
        stddev=0.0,
        ci=None,
        chance_to_beat_reference=0.5,
        expected_loss_reference=0.0,
        expected_loss_variation=0.0,
        reason=reason,
    )


def probability_to_be_best(arms: Sequence[Statistic]) -> tuple[float, ...]:
    """P(arm k has the highest true mean), for every arm, under independent normal posteriors of the means.

    Each arm's mean is N(mean, variance / n) (flat prior; CUPED arms share one pooled theta). Then
    P_k = integral of phi(z) x prod_{j != k} Phi((m_k + s_k z - m_j) / s_j) dz, integrated adaptively, so the
    result is deterministic. With two arms this is the chance that the variation's mean exceeds the reference's.
    When any arm has no units, a single unit or no variance, every arm gets 1 / (number of arms).
    """
    count = len(arms)
    if count <= 1:
        return (1.0,) * count
    adjusted = adjust(arms)
    uniform = (1.0 / count,) * count
    try:
        if not all(is_valid(a) and a.n >= 2 and a.variance > 0 for a in adjusted):
            return uniform
        means = [a.mean for a in adjusted]
        spreads = [math.sqrt(a.variance / a.n) for a in adjusted]
        if not all(math.isfinite(x) for x in means) or not all(math.isfinite(s) and s > 0 for s in spreads):
            return uniform
        raw = [_chance_best(k, means, spreads) for k in range(count)]
    except ArithmeticError:
        # Numbers beyond double precision: say nothing rather than something wrong.
        return uniform
    total = sum(raw)
    if not (total > 0 and math.isfinite(total)):
        return uniform
    # The integrals already sum to 1 up to quadrature error; rescaling removes that error.
    return tuple(p / total for p in raw)


def _chance_best(k: int, means: Sequence[float], spreads: Sequence[float]) -> float:
    others = [j for j in range(len(means)) if j != k]
    m_k, s_k = means[k], spreads[k]

    def integrand(z: float) -> float:
        x = m_k + s_k * z
        value = _normal_pdf(z)
        for j in others:
            value *= float(ndtr((x - means[j]) / spreads[j]))
        return value

    # Each other arm's CDF steps where x crosses its mean; telling quad where keeps it from missing a step.
    steps = sorted({min(max((means[j] - m_k) / s_k, -_Z_RANGE), _Z_RANGE) for j in others})
    # Imported here: scipy.integrate costs a second or more of every process start that never integrates.
    from scipy.integrate import quad

    value, _ = quad(integrand, -_Z_RANGE, _Z_RANGE, points=steps, epsabs=1e-11, epsrel=1e-9, limit=500)
    return float(value)

"""A/A simulation: how often daily peeking declares a false winner, with and without sequential testing.

1,000 A/A experiments (two arms, same 5% conversion rate, about 500 new visitors per arm per day, 30 days;
fixed seed). Every day the experimenter looks at the cumulative results and stops at the first day the
reliability reaches 95. The baseline is the fixed horizon: one look, at the end. Every look goes through
versicolor.stats, the engine the results reports use.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from versicolor.stats import Comparison, Proportion, Statistic, sequential_test, t_test

Test = Callable[[Statistic, Statistic], Comparison]

EXPERIMENTS = 1000
DAYS = 30
VISITORS_PER_ARM_PER_DAY = 500
RATE = 0.05
SEED = 8
THRESHOLD = 95.0


def simulate() -> tuple[np.ndarray, np.ndarray]:
    """Cumulative visitors and conversions, shaped (experiments, days, arms)."""
    rng = np.random.default_rng(SEED)
    visitors = rng.poisson(VISITORS_PER_ARM_PER_DAY, size=(EXPERIMENTS, DAYS, 2))
    conversions = rng.binomial(visitors, RATE)
    return visitors.cumsum(axis=1), conversions.cumsum(axis=1)


def first_significant_day(visitors: np.ndarray, conversions: np.ndarray, test: Test, days: range) -> int | None:
    """The first day (0-based) among `days` whose cumulative result reaches the threshold, or None."""
    for day in days:
        a = Proportion(float(visitors[day, 0]), float(conversions[day, 0]))
        b = Proportion(float(visitors[day, 1]), float(conversions[day, 1]))
        if test(a, b).reliability >= THRESHOLD:
            return day
    return None


def main() -> None:
    """Print the false positive rate of each way of looking, and what it cost to compute."""
    visitors, conversions = simulate()
    every_day, last_day = range(DAYS), range(DAYS - 1, DAYS)
    ways: list[tuple[str, Test, range]] = [
        ("fixed horizon (one look at day 30), t-test", t_test, last_day),
        ("daily peeking, t-test", t_test, every_day),
        ("daily peeking, sequentialTesting", sequential_test, every_day),
        ("fixed horizon (one look at day 30), sequentialTesting", sequential_test, last_day),
    ]
    print(
        f"{EXPERIMENTS} A/A experiments, {DAYS} days, ~{VISITORS_PER_ARM_PER_DAY} visitors/arm/day, "
        f"{RATE:.0%} conversion, stop at the first look with reliability >= {THRESHOLD:g}"
    )
    rates: dict[str, float] = {}
    for label, test, days in ways:
        started = time.perf_counter()
        stops = [first_significant_day(visitors[e], conversions[e], test, days) for e in range(EXPERIMENTS)]
        elapsed = time.perf_counter() - started
        hits = [d for d in stops if d is not None]
        rate = len(hits) / EXPERIMENTS
        margin = 1.96 * np.sqrt(rate * (1 - rate) / EXPERIMENTS)
        rates[label] = rate
        looks = sum(len(days) if d is None else d - days.start + 1 for d in stops)
        median_day = f", median stop on day {int(np.median(hits)) + 1}" if hits else ""
        print(
            f"  {label:55} false positives {rate:6.1%} (±{margin:.1%}){median_day}; "
            f"{looks} looks in {elapsed:.1f}s ({1e6 * elapsed / max(looks, 1):.0f} µs each)"
        )
    sequential = rates["daily peeking, sequentialTesting"]
    verdict = "within" if sequential <= 0.05 else "ABOVE"
    print(f"  sequentialTesting with daily peeking: {sequential:.1%}, {verdict} the 5% the test promises")

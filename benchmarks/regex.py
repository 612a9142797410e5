"""User regular expressions: one evaluation of the backtracking worst case `^(a+)+$`, Python's re against RE2.

The text is n `a`s and a `!` (no match: a backtracking engine tries every way of splitting the `a`s, 2^n).
Python's re is the baseline, measured in the same run, up to the length where one evaluation passes a second;
RE2 (core/patterns.py, what the server runs) at the same lengths and far beyond. A typical URL pattern on a
typical URL is shown too, since that is what the server evaluates most.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from versicolor.core import patterns

WORST = r"^(a+)+$"
BACKTRACKING_LIMIT = 1.0  # seconds: past this, the baseline stops growing n


def _seconds(search: Callable[[str], object], text: str, *, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        search(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print one evaluation's time against the input length, for both engines."""
    backtracking = re.compile(WORST)
    linear = patterns.compile_pattern(WORST)
    print(f"pattern {WORST!r}, text 'a' * n + '!'  (one evaluation, best of 3 for RE2)")
    print(f"{'n':>9}  {'Python re (baseline)':>22}  {'RE2 (core/patterns)':>20}")
    baseline_done = False
    for n in (16, 18, 20, 22, 24, 26, 28, 100, 1_000, 10_000, 100_000, 1_000_000):
        text = "a" * n + "!"
        slow = "" if baseline_done else f"{_seconds(backtracking.search, text) * 1000:>19.3f} ms"
        if not baseline_done and float(slow.split()[0]) / 1000 > BACKTRACKING_LIMIT:
            baseline_done = True
        fast = _seconds(linear.search, text, repeat=3) * 1000
        print(f"{n:>9}  {slow or '(stopped: too slow)':>22}  {fast:>17.3f} ms")
    url = "https://shop.example/checkout/step-3?utm_source=newsletter&utm_campaign=spring"
    typical = r"^https://shop\.example/checkout/step-[0-9]+"
    for name, search in (("Python re", re.compile(typical).search), ("RE2", patterns.compile_pattern(typical).search)):
        each = _seconds(lambda text, s=search: [s(text) for _ in range(10_000)], url, repeat=3) / 10_000
        print(f"typical URL pattern, {name:>9}: {each * 1e6:.2f} µs an evaluation")

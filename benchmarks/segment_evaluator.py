"""Segment evaluator: decisions per second for a stored tree, a tree parsed once, and a hand-written predicate.

The hand-written predicate is the floor (the same decision as plain Python, no tree to walk); a stored tree
is validated on every call; a parsed tree is what a caller that tests many visitors against one segment
should hold on to.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

from versicolor.core.segments import VisitorAttributes, matches
from versicolor.core.segments.tree import parse

VISITORS = 20_000

# (mobile or tablet) AND France AND on the cart, OR a returning visitor whose cart is over 100 and who is
# not on Internet Explorer.
TREE = {
    "firstLevel": [
        {
            "conditions": [
                {"targetingType": "DEVICE_TYPE", "include": True, "value": ["MOBILE", "TABLET"]},
                {"targetingType": "COUNTRY", "include": True, "value": ["FR", "BE", "CH"]},
                {"targetingType": "PAGE_URL", "include": True, "matchType": "REGULAR_EXPRESSION", "value": r"/cart\b"},
            ],
            "orOperators": [False, False],
        },
        {
            "conditions": [
                {"targetingType": "NEW_VISITOR", "include": False},
                {
                    "targetingType": "CUSTOM_DATUM",
                    "include": True,
                    "customDataIndex": 0,
                    "matchType": "GREATER",
                    "value": 100,
                },
                {"targetingType": "BROWSER", "include": False, "value": "INTERNET_EXPLORER"},
            ],
            "orOperators": [False, False],
        },
    ],
    "firstLevelOrOperators": [True],
}


_CART = re.compile(r"/cart\b")


def _hand_written(v: VisitorAttributes) -> bool:
    first = (
        v.device_type in ("MOBILE", "TABLET")
        and v.country in ("FR", "BE", "CH")
        and v.page_url is not None
        and _CART.search(v.page_url) is not None
    )
    value = v.custom_data.get(0)
    second = (
        v.new_visitor is False and isinstance(value, int | float) and value > 100 and v.browser != "INTERNET_EXPLORER"
    )
    return first or second


def _visitors(count: int) -> list[VisitorAttributes]:
    rng = random.Random(7)
    pages = [
        "https://shop.example/",
        "https://shop.example/cart",
        "https://shop.example/p/42",
        "https://shop.example/cart?x",
    ]
    return [
        VisitorAttributes(
            page_url=rng.choice(pages),
            device_type=rng.choice(["DESKTOP", "MOBILE", "TABLET"]),
            browser=rng.choice(["CHROME", "FIREFOX", "SAFARI", "INTERNET_EXPLORER"]),
            country=rng.choice(["FR", "DE", "US", "BE", None]),
            new_visitor=rng.random() < 0.4,
            custom_data={0: rng.randint(0, 300)} if rng.random() < 0.7 else {},
        )
        for _ in range(count)
    ]


def _rate(decide: Callable[[VisitorAttributes], bool], visitors: list[VisitorAttributes]) -> tuple[float, int]:
    started = time.perf_counter()
    admitted = sum(decide(v) for v in visitors)
    return len(visitors) / (time.perf_counter() - started), admitted


def main() -> None:
    """Print decisions per second for each way of evaluating the same segment."""
    visitors = _visitors(VISITORS)
    compiled = parse(TREE)
    floor, expected = _rate(_hand_written, visitors)
    parsed, admitted_parsed = _rate(lambda v: matches(compiled, v), visitors)
    stored, admitted_stored = _rate(lambda v: matches(TREE, v), visitors)
    assert admitted_parsed == admitted_stored == expected, "the evaluator and the hand-written predicate disagree"
    print(f"{VISITORS} visitors, 6 conditions in 2 groups; {expected} admitted by every method")
    print(f"  hand-written predicate (baseline): {floor:>10,.0f} decisions/s")
    print(
        f"  parsed once, then matches():       {parsed:>10,.0f} decisions/s ({floor / parsed:.1f}x the baseline's time)"
    )
    print(
        f"  stored tree, matches() each time:  {stored:>10,.0f} decisions/s ({floor / stored:.1f}x the baseline's time)"
    )

"""Whether a visitor belongs to a segment: a validated conditions tree tested against what is known of them.

A condition whose attribute is unknown for the visitor (no country resolved, no value for a custom datum)
does not hold; `include: false` turns that into a match, as "not in France" holds for an unknown country.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from versicolor.core.segments.conditions import (
    BrowserIn,
    Condition,
    Conditions,
    CountryIn,
    CustomDatum,
    CustomDatumMatch,
    DeviceTypeIn,
    Group,
    NewVisitor,
    PageUrl,
    parse,
)

# A custom datum's value as a page reports it: one value, a LIST of values, or a COUNT_LIST (value -> count).
Scalar = str | int | float | bool
CustomValue = Scalar | Sequence[Scalar] | Mapping[str, int]


@dataclass(frozen=True)
class VisitorAttributes:
    """What is known about a visitor at the moment of the decision; None means unknown."""

    page_url: str | None = None
    device_type: str | None = None
    browser: str | None = None
    country: str | None = None
    new_visitor: bool | None = None
    # Keyed by the custom datum's index on the site.
    custom_data: Mapping[int, CustomValue] = field(default_factory=dict)


def matches(conditions: Conditions | Mapping[str, object], visitor: VisitorAttributes) -> bool:
    """Whether `visitor` belongs to the segment the conditions describe (a stored tree is validated first)."""
    tree = conditions if isinstance(conditions, Conditions) else parse(conditions)

    def group_holds(group: Group) -> bool:
        return _combine(group.conditions, group.or_operators, condition_holds)

    def condition_holds(condition: Condition) -> bool:
        return _holds(condition, visitor) == condition.include

    return _combine(tree.groups, tree.or_operators, group_holds)


_Term = TypeVar("_Term")


def _combine(terms: Sequence[_Term], or_operators: Sequence[bool], holds: Callable[[_Term], bool]) -> bool:
    # AND binds tighter than OR: the terms split into AND-runs at each OR; the result is whether any run holds.
    # A run stops testing at its first false term, and the whole at its first true run.
    run_holds = True
    for position, term in enumerate(terms):
        if position > 0 and or_operators[position - 1]:
            if run_holds:
                return True
            run_holds = True
        if run_holds and not holds(term):
            run_holds = False
    return run_holds


def _holds(condition: Condition, visitor: VisitorAttributes) -> bool:
    """Whether the condition's test is true for the visitor, before `include` is applied."""
    match condition:
        case PageUrl(match=text):
            return visitor.page_url is not None and text.test(visitor.page_url)
        case DeviceTypeIn(values=values):
            return visitor.device_type in values
        case BrowserIn(values=values):
            return visitor.browser in values
        case CountryIn(values=values):
            return visitor.country in values
        case NewVisitor():
            return visitor.new_visitor is True
        case CustomDatum():
            return _custom_datum_holds(condition, visitor.custom_data.get(condition.index))
    raise AssertionError(f"no test for {condition!r}")


def _custom_datum_holds(condition: CustomDatum, value: CustomValue | None) -> bool:
    if condition.match_type is CustomDatumMatch.DEFINED:
        return value is not None and value != "" and not (isinstance(value, Sequence | Mapping) and not value)
    if value is None:
        return False
    # A LIST holds when any of its values does; a COUNT_LIST is tested on its values (the keys).
    if isinstance(value, Mapping):
        return any(_scalar_holds(condition, item) for item in value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return any(_scalar_holds(condition, item) for item in value)
    return _scalar_holds(condition, value)


def _scalar_holds(condition: CustomDatum, value: Scalar) -> bool:
    kind = condition.match_type
    if kind is CustomDatumMatch.TRUE:
        return value is True
    if kind is CustomDatumMatch.FALSE:
        return value is False
    if condition.text is not None:
        return isinstance(value, str) and condition.text.test(value)
    number = _number(value)
    if number is None or not isinstance(condition.value, float):
        return False
    return _COMPARISONS[kind](number, condition.value)


def _number(value: Scalar) -> float | None:
    # Pages often report numbers as strings ("42"); a value that is no finite number compares with nothing.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


_COMPARISONS: Mapping[CustomDatumMatch, Callable[[float, float], bool]] = {
    CustomDatumMatch.EQUAL: lambda a, b: a == b,
    CustomDatumMatch.LESS: lambda a, b: a < b,
    CustomDatumMatch.LESS_OR_EQUAL: lambda a, b: a <= b,
    CustomDatumMatch.GREATER: lambda a, b: a > b,
    CustomDatumMatch.GREATER_OR_EQUAL: lambda a, b: a >= b,
}

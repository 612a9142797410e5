"""Whether a visitor belongs to a segment: a validated conditions tree tested against what is known of them.

A condition whose attribute is unknown for the visitor (no country resolved, no value for a custom datum)
does not hold; `include: false` turns that into a match, as "not in France" holds for an unknown country.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from versicolor.core.segments.conditions import (
    BrowserIn,
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
    # Both levels are ORs of AND-runs (AND binds tighter); each loop stops at the first answer. Plain loops:
    # this runs for every visitor, and any()/all() over generators made it 3x slower (benchmarks/segment_evaluator).
    for run in tree.runs:
        for group in run:
            if not _group_holds(group, visitor):
                break
        else:
            return True
    return False


def _group_holds(group: Group, visitor: VisitorAttributes) -> bool:
    for run in group.runs:
        for condition in run:
            if _TESTS[type(condition)](condition, visitor) != condition.include:
                break
        else:
            return True
    return False


def _page_url(condition: PageUrl, visitor: VisitorAttributes) -> bool:
    return visitor.page_url is not None and condition.match.test(visitor.page_url)


def _custom_datum(condition: CustomDatum, visitor: VisitorAttributes) -> bool:
    return _custom_datum_holds(condition, visitor.custom_data.get(condition.index))


# Whether a condition's test is true for the visitor, before `include` is applied; by the condition's class.
_TESTS: Mapping[type, Callable[[Any, VisitorAttributes], bool]] = {
    PageUrl: _page_url,
    DeviceTypeIn: lambda c, v: v.device_type in c.values,
    BrowserIn: lambda c, v: v.browser in c.values,
    CountryIn: lambda c, v: v.country in c.values,
    NewVisitor: lambda c, v: v.new_visitor is True,
    CustomDatum: _custom_datum,
}


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

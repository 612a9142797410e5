"""A segment's conditions tree: the targeting types, the shape each condition takes, and their validation.

The tree (docs/resources.md) is `{"firstLevel": [group, ...], "firstLevelOrOperators": [bool, ...]}`, a group is
`{"conditions": [condition, ...], "orOperators": [bool, ...]}`. Between two neighbours, `true` means OR and
`false` means AND; AND binds tighter than OR, as in ordinary boolean algebra.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from versicolor.core.errors import Detail, Invalid
from versicolor.core.segments.matching import TextMatch, allowed

# Bounds that keep one segment cheap to store and to evaluate for every page view.
MAX_GROUPS = 50
MAX_CONDITIONS_PER_GROUP = 50
MAX_VALUES = 300
MAX_CUSTOM_DATA_INDEX = 999

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


class TargetingType(StrEnum):
    """What a condition looks at."""

    PAGE_URL = "PAGE_URL"
    DEVICE_TYPE = "DEVICE_TYPE"
    BROWSER = "BROWSER"
    NEW_VISITOR = "NEW_VISITOR"
    CUSTOM_DATUM = "CUSTOM_DATUM"
    COUNTRY = "COUNTRY"


class DeviceType(StrEnum):
    """The kinds of device a visitor may use."""

    DESKTOP = "DESKTOP"
    TABLET = "TABLET"
    MOBILE = "MOBILE"


class Browser(StrEnum):
    """The browsers a visitor may use; everything else is OTHER."""

    CHROME = "CHROME"
    FIREFOX = "FIREFOX"
    SAFARI = "SAFARI"
    EDGE = "EDGE"
    OPERA = "OPERA"
    SAMSUNG_INTERNET = "SAMSUNG_INTERNET"
    INTERNET_EXPLORER = "INTERNET_EXPLORER"
    OTHER = "OTHER"


class CustomDatumMatch(StrEnum):
    """How a CUSTOM_DATUM condition compares the visitor's value with its own."""

    CONTAINS = "CONTAINS"
    CORRESPONDS_EXACTLY = "CORRESPONDS_EXACTLY"
    REGULAR_EXPRESSION = "REGULAR_EXPRESSION"
    EQUAL = "EQUAL"
    LESS = "LESS"
    LESS_OR_EQUAL = "LESS_OR_EQUAL"
    GREATER = "GREATER"
    GREATER_OR_EQUAL = "GREATER_OR_EQUAL"
    TRUE = "TRUE"
    FALSE = "FALSE"
    DEFINED = "DEFINED"


TEXT_MATCHES = frozenset(
    {CustomDatumMatch.CONTAINS, CustomDatumMatch.CORRESPONDS_EXACTLY, CustomDatumMatch.REGULAR_EXPRESSION}
)
NUMBER_MATCHES = frozenset(
    {
        CustomDatumMatch.EQUAL,
        CustomDatumMatch.LESS,
        CustomDatumMatch.LESS_OR_EQUAL,
        CustomDatumMatch.GREATER,
        CustomDatumMatch.GREATER_OR_EQUAL,
    }
)
BOOLEAN_MATCHES = frozenset({CustomDatumMatch.TRUE, CustomDatumMatch.FALSE})

# Which match types suit a custom datum of each format (core.custom_data.DataFormat's values).
MATCHES_BY_FORMAT: Mapping[str, frozenset[CustomDatumMatch]] = {
    "STRING": TEXT_MATCHES | {CustomDatumMatch.DEFINED},
    "NUMBER": NUMBER_MATCHES | {CustomDatumMatch.DEFINED},
    "BOOLEAN": BOOLEAN_MATCHES | {CustomDatumMatch.DEFINED},
}


@dataclass(frozen=True)
class PageUrl:
    """The URL of the page the visitor is on matches a pattern."""

    include: bool
    match: TextMatch


@dataclass(frozen=True)
class DeviceTypeIn:
    """The visitor's device type is one of these."""

    include: bool
    values: frozenset[str]


@dataclass(frozen=True)
class BrowserIn:
    """The visitor's browser is one of these."""

    include: bool
    values: frozenset[str]


@dataclass(frozen=True)
class CountryIn:
    """The visitor's country (ISO 3166-1 alpha-2) is one of these."""

    include: bool
    values: frozenset[str]


@dataclass(frozen=True)
class NewVisitor:
    """The visitor has never been seen before this visit (`include: false`: a returning visitor)."""

    include: bool


@dataclass(frozen=True)
class CustomDatum:
    """The visitor's value of the site's custom datum `index` compares with `value` as `match_type` says."""

    include: bool
    index: int
    match_type: CustomDatumMatch
    value: str | float | None = None
    text: TextMatch | None = None


Condition = PageUrl | DeviceTypeIn | BrowserIn | CountryIn | NewVisitor | CustomDatum


_Term = TypeVar("_Term")


def and_runs(terms: Sequence[_Term], or_operators: Sequence[bool]) -> tuple[tuple[_Term, ...], ...]:
    """The terms split at each OR: AND binds tighter, so the whole holds when every term of some run does."""
    runs: list[list[_Term]] = [[]]
    for position, term in enumerate(terms):
        if position > 0 and or_operators[position - 1]:
            runs.append([])
        runs[-1].append(term)
    return tuple(tuple(run) for run in runs)


@dataclass(frozen=True)
class Group:
    """Conditions joined by AND/OR operators (`or_operators[i]` joins conditions i and i+1)."""

    conditions: tuple[Condition, ...]
    or_operators: tuple[bool, ...]
    # Worked out once, so that evaluating a visitor only walks them.
    runs: tuple[tuple[Condition, ...], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", and_runs(self.conditions, self.or_operators))


@dataclass(frozen=True)
class Conditions:
    """A whole, validated conditions tree."""

    groups: tuple[Group, ...]
    or_operators: tuple[bool, ...]
    runs: tuple[tuple[Group, ...], ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", and_runs(self.groups, self.or_operators))

    def custom_data_indexes(self) -> frozenset[int]:
        """The custom data indexes the tree refers to."""
        return frozenset(c.index for g in self.groups for c in g.conditions if isinstance(c, CustomDatum))

    def custom_datum_conditions(self) -> list[tuple[str, CustomDatum]]:
        """Every CUSTOM_DATUM condition with the path of its field in the tree."""
        return [
            (f"firstLevel[{g}].conditions[{c}]", condition)
            for g, group in enumerate(self.groups)
            for c, condition in enumerate(group.conditions)
            if isinstance(condition, CustomDatum)
        ]


class _Problems:
    """Collects every problem of a tree so that one answer names them all."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.details: list[Detail] = []

    def add(self, path: str, message: str) -> None:
        self.details.append(Detail(f"{self.root}.{path}" if path else self.root, message))

    def absorb(self, error: Invalid, path: str) -> None:
        for detail in error.details:
            self.add(f"{path}.{detail.field}", detail.message)


def parse(data: object, *, root: str = "conditionsData") -> Conditions:
    """The validated tree of `data`; raises Invalid naming every field at fault (paths start with `root`)."""
    problems = _Problems(root)
    conditions = _parse_tree(data, problems)
    if problems.details or conditions is None:
        message = "; ".join(f"{d.field}: {d.message}" for d in problems.details)
        raise Invalid(message, details=problems.details)
    return conditions


def _parse_tree(data: object, problems: _Problems) -> Conditions | None:
    if not isinstance(data, Mapping):
        problems.add("", "must be an object with firstLevel and firstLevelOrOperators")
        return None
    _refuse_unknown(data, {"firstLevel", "firstLevelOrOperators"}, "", problems)
    raw_groups = data.get("firstLevel")
    if not isinstance(raw_groups, list) or not raw_groups:
        problems.add("firstLevel", "must be a non-empty array of condition groups")
        return None
    if len(raw_groups) > MAX_GROUPS:
        problems.add("firstLevel", f"must hold at most {MAX_GROUPS} groups")
        return None
    groups = [_parse_group(raw, f"firstLevel[{i}]", problems) for i, raw in enumerate(raw_groups)]
    operators = _parse_operators(
        data.get("firstLevelOrOperators"), len(raw_groups), "firstLevelOrOperators", "groups", problems
    )
    if problems.details:
        return None
    return Conditions(groups=tuple(g for g in groups if g is not None), or_operators=operators)


def _parse_group(data: object, path: str, problems: _Problems) -> Group | None:
    if not isinstance(data, Mapping):
        problems.add(path, "must be an object with conditions and orOperators")
        return None
    _refuse_unknown(data, {"conditions", "orOperators"}, path, problems)
    raw_conditions = data.get("conditions")
    if not isinstance(raw_conditions, list) or not raw_conditions:
        problems.add(f"{path}.conditions", "must be a non-empty array of conditions")
        return None
    if len(raw_conditions) > MAX_CONDITIONS_PER_GROUP:
        problems.add(f"{path}.conditions", f"must hold at most {MAX_CONDITIONS_PER_GROUP} conditions")
        return None
    conditions = [_parse_condition(raw, f"{path}.conditions[{i}]", problems) for i, raw in enumerate(raw_conditions)]
    operators = _parse_operators(
        data.get("orOperators"), len(raw_conditions), f"{path}.orOperators", "conditions", problems
    )
    parsed = tuple(c for c in conditions if c is not None)
    if len(parsed) != len(conditions) or len(operators) != len(parsed) - 1:
        return None  # the problems are recorded; parse() raises them all
    return Group(parsed, operators)


def _parse_operators(data: object, count: int, path: str, what: str, problems: _Problems) -> tuple[bool, ...]:
    # Omitting the operators is fine where there is nothing to join.
    if data is None and count == 1:
        return ()
    expected = f"must be an array of {count - 1} booleans (one between each two {what}; true = OR, false = AND)"
    if not isinstance(data, list) or len(data) != count - 1 or not all(isinstance(v, bool) for v in data):
        problems.add(path, expected)
        return ()
    return tuple(data)


def _refuse_unknown(data: Mapping[str, Any], known: set[str], path: str, problems: _Problems) -> None:
    for key in data:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            problems.add(where, f"is not a known field here (known: {', '.join(sorted(known))})")


_COMMON_FIELDS = {"targetingType", "include"}


def _parse_condition(data: object, path: str, problems: _Problems) -> Condition | None:
    if not isinstance(data, Mapping):
        problems.add(path, "must be an object with targetingType, include and the type's fields")
        return None
    kind = data.get("targetingType")
    if kind is None or kind not in TargetingType.__members__:
        got = "is required" if kind is None else f"must not be {kind!r}"
        problems.add(f"{path}.targetingType", f"{got}; it must be {allowed(TargetingType)}")
        return None
    parser, fields = _PARSERS[TargetingType(kind)]
    _refuse_unknown(data, _COMMON_FIELDS | fields, path, problems)
    include = data.get("include", True)
    if not isinstance(include, bool):
        problems.add(f"{path}.include", f"must be true or false, not {include!r}")
        return None
    try:
        return parser(data, include)
    except Invalid as error:
        problems.absorb(error, path)
        return None


def _one_or_more(value: object, field: str, check: Callable[[str], str | None]) -> frozenset[str]:
    values = [value] if isinstance(value, str) else value
    if value is None:
        raise Invalid.field(field, "is required (a string or an array of strings)")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise Invalid.field(field, "must be a string or a non-empty array of strings")
    if len(values) > MAX_VALUES:
        raise Invalid.field(field, f"must hold at most {MAX_VALUES} values")
    for item in values:
        problem = check(item)
        if problem:
            raise Invalid.field(field, problem)
    return frozenset(values)


def _member_of(kind: type[StrEnum]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in kind.__members__ else f"{value!r} is not {allowed(kind)}"

    return check


def _country_code(value: str) -> str | None:
    if _COUNTRY_CODE.match(value):
        return None
    return f"{value!r} is not an ISO 3166-1 alpha-2 country code in upper case, like FR or US"


def _page_url(data: Mapping[str, Any], include: bool) -> Condition:
    match = TextMatch.of(data.get("matchType"), data.get("value"), type_field="matchType", pattern_field="value")
    return PageUrl(include, match)


def _device_type(data: Mapping[str, Any], include: bool) -> Condition:
    return DeviceTypeIn(include, _one_or_more(data.get("value"), "value", _member_of(DeviceType)))


def _browser(data: Mapping[str, Any], include: bool) -> Condition:
    return BrowserIn(include, _one_or_more(data.get("value"), "value", _member_of(Browser)))


def _country(data: Mapping[str, Any], include: bool) -> Condition:
    return CountryIn(include, _one_or_more(data.get("value"), "value", _country_code))


def _new_visitor(data: Mapping[str, Any], include: bool) -> Condition:
    return NewVisitor(include)


def _custom_datum(data: Mapping[str, Any], include: bool) -> Condition:
    index = data.get("customDataIndex")
    if index is None:
        raise Invalid.field("customDataIndex", "is required: the index of one of the site's custom data")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_CUSTOM_DATA_INDEX:
        raise Invalid.field("customDataIndex", f"must be an integer from 0 to {MAX_CUSTOM_DATA_INDEX}")
    raw_match = data.get("matchType")
    if raw_match is None or raw_match not in CustomDatumMatch.__members__:
        got = "is required" if raw_match is None else f"must not be {raw_match!r}"
        raise Invalid.field("matchType", f"{got}; it must be {allowed(CustomDatumMatch)}")
    match_type = CustomDatumMatch(raw_match)
    value = data.get("value")
    if match_type in TEXT_MATCHES:
        text = TextMatch.of(match_type.value, value, type_field="matchType", pattern_field="value")
        return CustomDatum(include, index, match_type, text.pattern, text)
    if match_type in NUMBER_MATCHES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid.field("value", f"must be a number to compare with {match_type}")
        return CustomDatum(include, index, match_type, float(value))
    if value is not None:
        raise Invalid.field("value", f"must be left out with {match_type}")
    return CustomDatum(include, index, match_type)


_Parser = Callable[[Mapping[str, Any], bool], Condition]

# Each targeting type: how to read a condition of it, and the fields it takes beside targetingType and include.
_PARSERS: Mapping[TargetingType, tuple[_Parser, set[str]]] = {
    TargetingType.PAGE_URL: (_page_url, {"matchType", "value"}),
    TargetingType.DEVICE_TYPE: (_device_type, {"value"}),
    TargetingType.BROWSER: (_browser, {"value"}),
    TargetingType.COUNTRY: (_country, {"value"}),
    TargetingType.NEW_VISITOR: (_new_visitor, set()),
    TargetingType.CUSTOM_DATUM: (_custom_datum, {"customDataIndex", "matchType", "value"}),
}

assert set(_PARSERS) == set(TargetingType), "every targeting type needs a parser"

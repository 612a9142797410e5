"""Each targeting type's condition: what it tests about a visitor, once read and checked (core.segments.reading).

A condition's `holds` says whether its test is true for the visitor, before `include` is applied; None when it
cannot be told here (a JS_CODE condition runs in the page only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from versicolor.core.segments import vocabulary
from versicolor.core.segments.matching import TextMatch
from versicolor.core.segments.visitor import CustomValue, Scalar, VisitorAttributes

MAX_CUSTOM_DATA_INDEX = 999


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

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the page's URL matches."""
        return v.page_url is not None and self.match.test(v.page_url)


@dataclass(frozen=True)
class PageTitle:
    """The title of the page the visitor is on matches a pattern."""

    include: bool
    match: TextMatch

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the page's title matches."""
        return v.page_title is not None and self.match.test(v.page_title)


@dataclass(frozen=True)
class LandingPage:
    """The first page of the visitor's visit matches a pattern."""

    include: bool
    match: TextMatch

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the landing page's URL matches."""
        return v.landing_page_url is not None and self.match.test(v.landing_page_url)


@dataclass(frozen=True)
class PreviousPage:
    """The page the visitor saw before this one matches a pattern."""

    include: bool
    match: TextMatch

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the previous page's URL matches."""
        return v.previous_page_url is not None and self.match.test(v.previous_page_url)


@dataclass(frozen=True)
class Origin:
    """The referrer of the visit (the page that sent the visitor here) matches a pattern."""

    include: bool
    match: TextMatch

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the referrer matches."""
        return v.referrer is not None and self.match.test(v.referrer)


@dataclass(frozen=True)
class VisitedPages:
    """Some page the visitor has visited on the site matches a pattern."""

    include: bool
    match: TextMatch

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether any visited page's URL matches."""
        if v.visited_pages is None:
            return False
        return any(self.match.test(page) for page in v.visited_pages)


@dataclass(frozen=True)
class DeviceTypeIn:
    """The visitor's device type is one of these."""

    include: bool
    values: frozenset[str]

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's device is one of the values."""
        return vocabulary.device_type(v.device_type) in self.values


@dataclass(frozen=True)
class BrowserIn:
    """The visitor's browser is one of these."""

    include: bool
    values: frozenset[str]

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's browser is one of the values."""
        return v.browser in self.values


@dataclass(frozen=True)
class OperatingSystemIn:
    """The visitor's operating system is one of these."""

    include: bool
    values: frozenset[str]

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's operating system is one of the values."""
        return v.os in self.values


@dataclass(frozen=True)
class Geolocation:
    """The visitor is in one of these countries (ISO 3166-1 alpha-2), and in the region and city when given."""

    include: bool
    countries: frozenset[str]
    region: str | None = None
    city: str | None = None

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's country, region and city agree (region and city ignoring case)."""
        if v.country is None or v.country.upper() not in self.countries:
            return False
        if self.region is not None and (v.region is None or v.region.casefold() != self.region):
            return False
        return self.city is None or (v.city is not None and v.city.casefold() == self.city)


@dataclass(frozen=True)
class NewVisitors:
    """The visitor is on their first visit (NEW), or has been seen on an earlier one (RETURNING)."""

    include: bool
    new: bool

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor is of that kind (unknown: neither)."""
        return v.new_visitor is self.new


@dataclass(frozen=True)
class CustomDatum:
    """The visitor's value of the site's custom datum `index` compares with `value` as `match_type` says."""

    include: bool
    index: int
    match_type: CustomDatumMatch
    value: str | float | None = None
    text: TextMatch | None = None

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's value compares as asked."""
        return _custom_datum_holds(self, v.custom_data.get(self.index))


@dataclass(frozen=True)
class JsCode:
    """A JavaScript function body that the page runs; the visitor matches when it returns a truthy value."""

    include: bool
    code: str

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Never known outside the page."""
        return None


@dataclass(frozen=True)
class Cookie:
    """The visitor has a cookie whose name matches, with a value that matches (when a value is given)."""

    include: bool
    name: TextMatch
    value: TextMatch | None = None

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether some cookie's name (and value) match."""
        if v.cookies is None:
            return False
        for name, value in v.cookies.items():
            if self.name.test(name) and (self.value is None or self.value.test(value)):
                return True
        return False


@dataclass(frozen=True)
class DayOfWeek:
    """It is one of these days on the visitor's clock (0 is Monday)."""

    include: bool
    days: frozenset[int]

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's local day is one of them."""
        return v.local_time is not None and v.local_time.weekday() in self.days


@dataclass(frozen=True)
class HourMinuteRange:
    """The visitor's clock shows a time from `start` up to (not including) `end`, in minutes after midnight.

    A range whose end is before its start runs past midnight (22:00 to 06:00).
    """

    include: bool
    start: int
    end: int

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether the visitor's local time of day is in the range."""
        if v.local_time is None:
            return False
        minute = v.local_time.hour * 60 + v.local_time.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


@dataclass(frozen=True)
class TimeRange:
    """The moment of the decision is from `start` up to (not including) `end`; either may be open."""

    include: bool
    start: datetime | None
    end: datetime | None

    def holds(self, v: VisitorAttributes) -> bool | None:
        """Whether now is in the period."""
        if v.now is None:
            return False
        return (self.start is None or v.now >= self.start) and (self.end is None or v.now < self.end)


Condition = (
    PageUrl
    | PageTitle
    | LandingPage
    | PreviousPage
    | Origin
    | VisitedPages
    | DeviceTypeIn
    | BrowserIn
    | OperatingSystemIn
    | Geolocation
    | NewVisitors
    | CustomDatum
    | JsCode
    | Cookie
    | DayOfWeek
    | HourMinuteRange
    | TimeRange
)


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

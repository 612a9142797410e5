"""What a caller asks a report for: the validated request, independent of any wire format.

The router's schema checks types and enum values; `ReportRequest.build` checks what types cannot say
(interval order, overlaps, which options go together) and names the field of every problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from versicolor.core.errors import Detail, Invalid
from versicolor.core.resources import MAX_ID
from versicolor.core.segments import vocabulary
from versicolor.core.segments.conditions import MAX_CUSTOM_DATA_INDEX
from versicolor.tracking import events as tracked

MAX_GOALS = 50
MAX_DATE_INTERVALS = 100
MAX_FILTERS = 20
MAX_FILTER_VALUES = 200
MAX_URL_LENGTH = 2048


class ConversionType(StrEnum):
    """What a goal's rate counts: every conversion, or units with at least one conversion."""

    ALL_CONVERSION = "ALL_CONVERSION"
    CONVERTED_VISITS = "CONVERTED_VISITS"


class Attribute(StrEnum):
    """A unit's attribute that reports break down and filter by."""

    DEVICE_TYPE = "DEVICE_TYPE"
    BROWSER = "BROWSER"
    COUNTRY = "COUNTRY"
    NEW_VISITOR = "NEW_VISITOR"


class BreakdownType(StrEnum):
    """How a report splits each variation's data: by time bucket, by one attribute, or by the value of one
    custom datum."""

    INTERVAL = "INTERVAL"
    DEVICE_TYPE = "DEVICE_TYPE"
    BROWSER = "BROWSER"
    COUNTRY = "COUNTRY"
    NEW_VISITOR = "NEW_VISITOR"
    CUSTOM_DATUM = "CUSTOM_DATUM"


class Interval(StrEnum):
    """The length of a time bucket (UTC; weeks start on Monday)."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


@dataclass(frozen=True)
class DateInterval:
    """A half-open period [start, end) in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Breakdown:
    """The split of a report: `interval` is set exactly when `type` is INTERVAL, `index` (the custom datum's)
    exactly when it is CUSTOM_DATUM."""

    type: BreakdownType
    interval: Interval | None = None
    index: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire form: `{"type"}`, plus `"interval"` for INTERVAL and `"index"` for CUSTOM_DATUM."""
        form: dict[str, Any] = {"type": self.type.value}
        if self.interval is not None:
            form["interval"] = self.interval.value
        if self.index is not None:
            form["index"] = self.index
        return form


@dataclass(frozen=True)
class Filter:
    """Keep (include) or drop (exclude) units whose attribute is one of `values`."""

    type: Attribute
    values: tuple[str, ...]
    include: bool = True


@dataclass(frozen=True)
class ReportRequest:
    """A report to compute; reference variation 0 is the original."""

    goal_ids: tuple[int, ...] = ()
    reference_variation_id: int = 0
    visitor_data: bool = True
    conversion_type: ConversionType = ConversionType.ALL_CONVERSION
    date_intervals: tuple[DateInterval, ...] = ()
    sequential_testing: bool = False
    bayesian: bool = False
    multiple_testing: bool = False
    cuped_goal_ids: tuple[int, ...] = ()
    breakdown: Breakdown | None = None
    cumulative: bool = False
    filters: tuple[Filter, ...] = field(default=())
    callback_url: str | None = None

    @classmethod
    def build(
        cls,
        *,
        goal_ids: Sequence[int] | None = None,
        reference_variation_id: int = 0,
        visitor_data: bool = True,
        conversion_type: ConversionType = ConversionType.ALL_CONVERSION,
        date_intervals: Sequence[tuple[datetime, datetime]] | None = None,
        sequential_testing: bool = False,
        bayesian: bool = False,
        multiple_testing: bool = False,
        cuped_goal_ids: Sequence[int] | None = None,
        breakdown_type: BreakdownType | None = None,
        breakdown_interval: Interval | None = None,
        breakdown_index: int | None = None,
        cumulative: bool = False,
        filters: Sequence[tuple[Attribute, Sequence[str | bool], bool]] | None = None,
        callback_url: str | None = None,
    ) -> ReportRequest:
        """A request whose parts agree with each other; raises Invalid naming every field that does not."""
        problems: list[Detail] = []
        goals = tuple(goal_ids or ())
        cuped = tuple(cuped_goal_ids or ())
        problems += _check_ids("goalsIds", goals)
        problems += _check_ids("goalIdsCuped", cuped)
        missing = [g for g in cuped if goals and g not in goals]
        if missing:
            problems.append(
                Detail("goalIdsCuped", f"goals {missing} are not among goalsIds; CUPED applies to reported goals")
            )
        if cuped and not visitor_data:
            problems.append(
                Detail(
                    "goalIdsCuped",
                    "CUPED needs visitorData true (false when left out): the pre-exposure value is a visitor's",
                )
            )
        if reference_variation_id < 0:
            problems.append(Detail("referenceVariationId", "must be 0 (the original) or a variation id"))
        intervals, interval_problems = _check_intervals(date_intervals or ())
        problems += interval_problems
        breakdown, breakdown_problems = _check_breakdown(breakdown_type, breakdown_interval, breakdown_index)
        problems += breakdown_problems
        if cumulative and breakdown_type is not BreakdownType.INTERVAL:
            problems.append(Detail("cumulative", "goes with a breakdown of type INTERVAL: it sums the time buckets"))
        checked_filters, filter_problems = _check_filters(filters or ())
        problems += filter_problems
        if callback_url is not None:
            problems += _check_callback_url(callback_url)
        if problems:
            raise Invalid("; ".join(f"{p.field}: {p.message}" for p in problems), details=problems)
        return cls(
            goal_ids=goals,
            reference_variation_id=reference_variation_id,
            visitor_data=visitor_data,
            conversion_type=conversion_type,
            date_intervals=intervals,
            sequential_testing=sequential_testing,
            bayesian=bayesian,
            multiple_testing=multiple_testing,
            cuped_goal_ids=cuped,
            breakdown=breakdown,
            cumulative=cumulative,
            filters=checked_filters,
            callback_url=callback_url,
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form of the request (camelCase, as the caller wrote it)."""
        return {
            "goalsIds": list(self.goal_ids),
            "referenceVariationId": self.reference_variation_id,
            "visitorData": self.visitor_data,
            "conversionType": self.conversion_type.value,
            "dateIntervals": [{"start": _iso(i.start), "end": _iso(i.end)} for i in self.date_intervals],
            "sequentialTesting": self.sequential_testing,
            "bayesian": self.bayesian,
            "enabledMultipleTesting": self.multiple_testing,
            "goalIdsCuped": list(self.cuped_goal_ids),
            "breakdown": None if self.breakdown is None else self.breakdown.to_json(),
            "cumulative": self.cumulative,
            "filters": [{"type": f.type.value, "values": list(f.values), "include": f.include} for f in self.filters],
            "callbackUrl": self.callback_url,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> ReportRequest:
        """The request back from its stored form (written by `to_json`, so already valid)."""
        breakdown = stored.get("breakdown")
        return cls(
            goal_ids=tuple(stored["goalsIds"]),
            reference_variation_id=int(stored["referenceVariationId"]),
            visitor_data=bool(stored["visitorData"]),
            conversion_type=ConversionType(stored["conversionType"]),
            date_intervals=tuple(
                DateInterval(datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"]))
                for i in stored["dateIntervals"]
            ),
            sequential_testing=bool(stored["sequentialTesting"]),
            bayesian=bool(stored["bayesian"]),
            multiple_testing=bool(stored["enabledMultipleTesting"]),
            cuped_goal_ids=tuple(stored["goalIdsCuped"]),
            breakdown=None
            if breakdown is None
            else Breakdown(
                BreakdownType(breakdown["type"]),
                Interval(breakdown["interval"]) if breakdown.get("interval") else None,
                breakdown.get("index"),
            ),
            # Requests stored before `cumulative` existed are not cumulative.
            cumulative=bool(stored.get("cumulative", False)),
            filters=tuple(
                Filter(Attribute(f["type"]), tuple(f["values"]), bool(f["include"])) for f in stored["filters"]
            ),
            callback_url=stored.get("callbackUrl"),
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _check_ids(name: str, ids: Sequence[int]) -> list[Detail]:
    problems = []
    if len(ids) > MAX_GOALS:
        problems.append(Detail(name, f"at most {MAX_GOALS} goals per report"))
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(Detail(name, f"goal ids {duplicates} are listed more than once"))
    if any(i <= 0 or i > MAX_ID for i in ids):
        problems.append(Detail(name, f"goal ids are integers from 1 to {MAX_ID}"))
    return problems


def _utc(moment: datetime) -> datetime:
    # A moment without a zone is read as UTC, the zone every report is computed in.
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise Invalid.field("dateIntervals", f"{moment.isoformat()} lies outside the years 1 to 9999 in UTC") from None


def _check_intervals(raw: Sequence[tuple[datetime, datetime]]) -> tuple[tuple[DateInterval, ...], list[Detail]]:
    if len(raw) > MAX_DATE_INTERVALS:
        return (), [Detail("dateIntervals", f"at most {MAX_DATE_INTERVALS} intervals per report")]
    problems = []
    intervals = []
    for index, (start, end) in enumerate(raw):
        interval = DateInterval(_utc(start), _utc(end))
        if interval.end <= interval.start:
            problems.append(
                Detail(
                    f"dateIntervals.{index}", f"end ({_iso(interval.end)}) must be after start ({_iso(interval.start)})"
                )
            )
        intervals.append((index, interval))
    if problems:
        return (), problems
    ordered = sorted(intervals, key=lambda pair: pair[1].start)
    for (index_a, a), (index_b, b) in pairwise(ordered):
        # Half-open intervals: one may end exactly where the next starts.
        if b.start < a.end:
            problems.append(
                Detail(f"dateIntervals.{index_b}", f"overlaps dateIntervals.{index_a}; intervals must not overlap")
            )
    return tuple(i for _, i in ordered), problems


def _check_breakdown(
    kind: BreakdownType | None, interval: Interval | None, index: int | None
) -> tuple[Breakdown | None, list[Detail]]:
    if kind is None:
        given = [name for name, value in (("interval", interval), ("index", index)) if value is not None]
        return None, [Detail("breakdown.type", f"is required with breakdown.{given[0]}")] if given else []
    problems = []
    if kind is BreakdownType.INTERVAL and interval is None:
        allowed = ", ".join(i.value for i in Interval)
        problems.append(Detail("breakdown.interval", f"is required with type INTERVAL; one of {allowed}"))
    if kind is not BreakdownType.INTERVAL and interval is not None:
        problems.append(Detail("breakdown.interval", f"applies only to type INTERVAL, not {kind.value}"))
    if kind is BreakdownType.CUSTOM_DATUM and index is None:
        problems.append(Detail("breakdown.index", "is required with type CUSTOM_DATUM: the custom datum's index"))
    if kind is not BreakdownType.CUSTOM_DATUM and index is not None:
        problems.append(Detail("breakdown.index", f"applies only to type CUSTOM_DATUM, not {kind.value}"))
    if index is not None and not 0 <= index <= MAX_CUSTOM_DATA_INDEX:
        problems.append(Detail("breakdown.index", f"custom data indexes run from 0 to {MAX_CUSTOM_DATA_INDEX}"))
    if problems:
        return None, problems
    return Breakdown(kind, interval, index), []


_BOOLEAN_WORDS = {"true": "true", "false": "false"}
# The values tracking records (versicolor.tracking.events), so that a filter can only name what can match.
_VOCABULARY: dict[Attribute, frozenset[str]] = {
    Attribute.DEVICE_TYPE: tracked.DEVICE_TYPES,
    Attribute.BROWSER: tracked.BROWSERS,
}


def _filter_value(kind: Attribute, value: str | bool) -> str | None:
    """The stored form of one filter value, or None when it cannot match anything tracking records."""
    if kind is Attribute.NEW_VISITOR:
        return _BOOLEAN_WORDS.get(str(value).lower())
    if isinstance(value, bool):
        return None
    word = value.strip().upper()
    if kind is Attribute.DEVICE_TYPE:
        word = vocabulary.device_type(word) or word  # MOBILE, the earlier name, is PHONE
    if kind is Attribute.COUNTRY:
        return word if len(word) == 2 and word.isalpha() and word.isascii() else None
    return word if word in _VOCABULARY[kind] else None


def _allowed(kind: Attribute) -> str:
    if kind is Attribute.NEW_VISITOR:
        return "true or false"
    if kind is Attribute.COUNTRY:
        return "two-letter ISO 3166-1 codes such as FR"
    return "one of " + ", ".join(sorted(_VOCABULARY[kind]))


def _check_filters(
    raw: Sequence[tuple[Attribute, Sequence[str | bool], bool]],
) -> tuple[tuple[Filter, ...], list[Detail]]:
    if len(raw) > MAX_FILTERS:
        return (), [Detail("filters", f"at most {MAX_FILTERS} filters per report")]
    problems = []
    filters = []
    for index, (kind, values, include) in enumerate(raw):
        name = f"filters.{index}.values"
        if not values:
            problems.append(Detail(name, "must list at least one value"))
            continue
        if len(values) > MAX_FILTER_VALUES:
            problems.append(Detail(name, f"at most {MAX_FILTER_VALUES} values per filter"))
            continue
        cleaned = [_filter_value(kind, value) for value in values]
        bad = [value for value, clean in zip(values, cleaned, strict=True) if clean is None]
        if bad:
            problems.append(Detail(name, f"{kind.value} takes {_allowed(kind)}; not {', '.join(map(repr, bad))}"))
            continue
        filters.append(Filter(kind, tuple(dict.fromkeys(c for c in cleaned if c is not None)), include))
    return tuple(filters), problems


def _check_callback_url(url: str) -> list[Detail]:
    # Only the URL's form is checked here; where its host resolves to is checked by results.callbacks,
    # at request time and again at every delivery.
    if len(url) > MAX_URL_LENGTH:
        return [Detail("callbackUrl", f"at most {MAX_URL_LENGTH} characters")]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError:
        return [Detail("callbackUrl", f"{url!r} is not a URL")]
    if parts.scheme.lower() != "https":
        return [Detail("callbackUrl", "must be an https:// URL; reports are not sent over plain HTTP")]
    if not parts.hostname:
        return [Detail("callbackUrl", "names no host")]
    return []

"""Reading one condition of a tree: its targeting type, its fields (older spellings too), and its canonical form.

The canonical form is Kameleoon's spelling of the type, its fields and their values, the one answers show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from versicolor.core.errors import Detail, Invalid
from versicolor.core.experiments import code
from versicolor.core.segments import vocabulary
from versicolor.core.segments.conditions import (
    MAX_CUSTOM_DATA_INDEX,
    NUMBER_MATCHES,
    TEXT_MATCHES,
    BrowserIn,
    Condition,
    Cookie,
    CustomDatum,
    CustomDatumMatch,
    DayOfWeek,
    DeviceTypeIn,
    Geolocation,
    HourMinuteRange,
    JsCode,
    LandingPage,
    NewVisitors,
    OperatingSystemIn,
    Origin,
    PageTitle,
    PageUrl,
    PreviousPage,
    TimeRange,
    VisitedPages,
)
from versicolor.core.segments.matching import MatchType, TextMatch, allowed
from versicolor.core.segments.vocabulary import (
    Browser,
    DeviceType,
    OperatingSystem,
    TargetingType,
    VisitorType,
    Weekday,
)

MAX_VALUES = 300
MAX_TEXT_LENGTH = 200
# Condition ids are numbers a page script must hold exactly: at most 2^53 - 1.
MAX_CONDITION_ID = 2**53 - 1

_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_HOUR_MINUTE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# Kameleoon's name of the exact match, read as Versicolor's (goals and conditions share one spelling).
_TEXT_MATCH_ALIASES = {"EXACT": MatchType.CORRESPONDS_EXACTLY.value}
# Kameleoon's names of custom datum comparisons, read as Versicolor's.
_CUSTOM_DATUM_MATCH_ALIASES = {"EXACT": "CORRESPONDS_EXACTLY", "LOWER": "LESS"}

_COMMON_FIELDS = {"targetingType", "include", "id", "weight"}


def read(data: Mapping[str, Any]) -> tuple[Condition, dict[str, Any]]:
    """The condition `data` describes and its canonical form; raises Invalid naming each field at fault."""
    kind = _targeting_type(data.get("targetingType"))
    if not isinstance(kind, TargetingType):
        raise Invalid.field("targetingType", kind)
    parser, fields = _PARSERS[kind]
    unknown = [
        Detail(str(key), f"is not a known field here (known: {', '.join(sorted(_COMMON_FIELDS | fields))})")
        for key in data
        if key not in _COMMON_FIELDS | fields
    ]
    if unknown:
        raise Invalid("; ".join(f"{d.field}: {d.message}" for d in unknown), details=unknown)
    include = data.get("include", True)
    if not isinstance(include, bool):
        raise Invalid.field("include", f"must be true or false, not {include!r}")
    canonical: dict[str, Any] = {}
    if data.get("id") is not None:
        canonical["id"] = _condition_id(data["id"])
    canonical["targetingType"] = kind.value
    canonical["include"] = include
    if data.get("weight") is not None:
        canonical["weight"] = _weight(data["weight"])
    condition, fields_out = parser(data, include)
    canonical.update(fields_out)
    return condition, canonical


def _targeting_type(kind: object) -> TargetingType | str:
    """The targeting type `kind` names, or the message saying why it names none."""
    if isinstance(kind, str):
        if kind in TargetingType.__members__:
            return TargetingType(kind)
        if kind in vocabulary.OLD_TARGETING_TYPES:
            return vocabulary.OLD_TARGETING_TYPES[kind]
        if kind in vocabulary.NOT_EVALUATED:
            return (
                f"{kind} is a Kameleoon targeting type that Versicolor does not evaluate, so a segment using it "
                f"would decide wrongly; use {allowed(TargetingType)}"
            )
    got = "is required" if kind is None else f"must not be {kind!r}"
    return f"{got}; it must be {allowed(TargetingType)}"


def _condition_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONDITION_ID:
        raise Invalid.field("id", f"must be a whole number from 1 to {MAX_CONDITION_ID}, not {value!r}")
    return value


def _weight(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid.field("weight", f"must be a number, not {value!r}")
    return value


def _given(data: Mapping[str, Any], name: str, *aliases: str) -> tuple[str, object]:
    """The field that holds a value (its canonical name or an older one) and the value; both given is a 400."""
    present = [key for key in (name, *aliases) if key in data]
    if len(present) > 1:
        raise Invalid.field(present[1], f"give {name} only ({present[1]} is its older name)")
    key = present[0] if present else name
    return key, data.get(key)


def _text_match(data: Mapping[str, Any], pattern_name: str, *aliases: str, type_name: str = "matchType") -> TextMatch:
    pattern_field, pattern = _given(data, pattern_name, *aliases)
    match_type = data.get(type_name)
    match_type = _TEXT_MATCH_ALIASES.get(match_type, match_type) if isinstance(match_type, str) else match_type
    return TextMatch.of(match_type, pattern, type_field=type_name, pattern_field=pattern_field)


def _text_fields(match: TextMatch, pattern_name: str, type_name: str = "matchType") -> dict[str, Any]:
    return {type_name: match.match_type.value, pattern_name: match.pattern}


def _one_or_more(
    data: Mapping[str, Any],
    name: str,
    *aliases: str,
    check: Callable[[str], str | None],
    normalise: Callable[[str], str],
) -> tuple[frozenset[str], str | list[str]]:
    """The values of a one-or-many field (a string or an array of strings), checked; and their canonical form."""
    key, value = _given(data, name, *aliases)
    if value is None:
        raise Invalid.field(key, "is required (a string or an array of strings)")
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise Invalid.field(key, "must be a string or a non-empty array of strings")
    if len(values) > MAX_VALUES:
        raise Invalid.field(key, f"must hold at most {MAX_VALUES} values")
    for item in values:
        problem = check(item)
        if problem:
            raise Invalid.field(key, problem)
    canonical = [normalise(v) for v in values]
    return frozenset(canonical), canonical[0] if isinstance(value, str) else canonical


def _member_of(kind: type[StrEnum]) -> tuple[Callable[[str], str | None], Callable[[str], str]]:
    aliases = vocabulary.VALUE_ALIASES.get(kind, {})

    def check(value: str) -> str | None:
        if value in kind.__members__ or value in aliases:
            return None
        return f"{value!r} is not {allowed(kind)}"

    def normalise(value: str) -> str:
        return str(aliases.get(value, value))

    return check, normalise


def _page_url(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "url", "value")
    return PageUrl(include, match), _text_fields(match, "url")


def _page_title(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "title", "value")
    return PageTitle(include, match), _text_fields(match, "title")


def _landing_page(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "url", "value")
    return LandingPage(include, match), _text_fields(match, "url")


def _previous_page(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "url", "value")
    return PreviousPage(include, match), _text_fields(match, "url")


def _origin(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "url", "value")
    return Origin(include, match), _text_fields(match, "url")


def _visited_pages(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    match = _text_match(data, "url", "value")
    return VisitedPages(include, match), _text_fields(match, "url")


def _device_type(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    check, normalise = _member_of(DeviceType)
    values, canonical = _one_or_more(data, "device", "value", check=check, normalise=normalise)
    return DeviceTypeIn(include, values), {"device": canonical}


def _browser(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    if "version" in data or "versionMatchType" in data:
        raise Invalid.field(
            "version", "Versicolor does not know visitors' browser versions, so it cannot target one; leave it out"
        )
    check, normalise = _member_of(Browser)
    values, canonical = _one_or_more(data, "browser", "value", check=check, normalise=normalise)
    return BrowserIn(include, values), {"browser": canonical}


def _operating_system(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    check, normalise = _member_of(OperatingSystem)
    values, canonical = _one_or_more(data, "os", check=check, normalise=normalise)
    return OperatingSystemIn(include, values), {"os": canonical}


def _new_visitors(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    # The earlier NEW_VISITOR condition had no field: it asked for a new visitor.
    visitor_type = data.get("visitorType", VisitorType.NEW.value)
    if not isinstance(visitor_type, str) or visitor_type not in VisitorType.__members__:
        raise Invalid.field("visitorType", f"must be {allowed(VisitorType)}, not {visitor_type!r}")
    return NewVisitors(include, visitor_type == VisitorType.NEW), {"visitorType": visitor_type}


def _country_code(value: str) -> str | None:
    if _COUNTRY_CODE.match(value):
        return None
    return f"{value!r} is not an ISO 3166-1 alpha-2 country code, like FR or US"


def _place(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT_LENGTH:
        raise Invalid.field(name, f"must be a non-blank string of at most {MAX_TEXT_LENGTH} characters")
    return value


def _geolocation(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    countries, canonical = _one_or_more(data, "country", "value", check=_country_code, normalise=str.upper)
    region, city = _place(data, "region"), _place(data, "city")
    fields: dict[str, Any] = {"country": canonical}
    if region is not None:
        fields["region"] = region
    if city is not None:
        fields["city"] = city
    condition = Geolocation(
        include, countries, region.casefold() if region else None, city.casefold() if city else None
    )
    return condition, fields


def _custom_datum(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    index = data.get("customDataIndex")
    if index is None:
        raise Invalid.field("customDataIndex", "is required: the index of one of the site's custom data")
    if isinstance(index, str) and index.isdigit():  # Kameleoon's own configurations write the index as a string
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_CUSTOM_DATA_INDEX:
        raise Invalid.field("customDataIndex", f"must be an integer from 0 to {MAX_CUSTOM_DATA_INDEX}")
    match_field, raw_match = _given(data, "matchType", "valueMatchType")
    if isinstance(raw_match, str):
        raw_match = _CUSTOM_DATUM_MATCH_ALIASES.get(raw_match, raw_match)
    if not isinstance(raw_match, str) or raw_match not in CustomDatumMatch.__members__:
        got = "is required" if raw_match is None else f"must not be {raw_match!r}"
        raise Invalid.field(match_field, f"{got}; it must be {allowed(CustomDatumMatch)}")
    match_type = CustomDatumMatch(raw_match)
    value = data.get("value")
    fields: dict[str, Any] = {"customDataIndex": index, "matchType": match_type.value}
    if match_type in TEXT_MATCHES:
        text = TextMatch.of(match_type.value, value, type_field=match_field, pattern_field="value")
        return CustomDatum(include, index, match_type, text.pattern, text), {**fields, "value": text.pattern}
    if match_type in NUMBER_MATCHES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid.field("value", f"must be a number to compare with {match_type}")
        return CustomDatum(include, index, match_type, float(value)), {**fields, "value": value}
    if value is not None:
        raise Invalid.field("value", f"must be left out with {match_type}")
    return CustomDatum(include, index, match_type), fields


def _js_code(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    source = data.get("jsCode")
    if not isinstance(source, str) or not source.strip():
        raise Invalid.field("jsCode", "is required: the body of a JavaScript function that returns true or false")
    code.check("jsCode", source)
    fields: dict[str, Any] = {"jsCode": source}
    applied = data.get("applied")
    if applied is not None:
        if not isinstance(applied, str) or not applied or len(applied) > 64:
            raise Invalid.field("applied", "must be a string of 1 to 64 characters, such as IMMEDIATE")
        fields["applied"] = applied
    return JsCode(include, source), fields


def _cookie(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    name = _text_match(data, "name", type_name="nameMatchType") if "nameMatchType" in data else None
    if name is None:
        raw_name = data.get("name")
        name = TextMatch.of(
            MatchType.CORRESPONDS_EXACTLY.value, raw_name, type_field="nameMatchType", pattern_field="name"
        )
    fields = _text_fields(name, "name", "nameMatchType")
    value = None
    if data.get("value") is not None or data.get("valueMatchType") is not None:
        value = _text_match(data, "value", type_name="valueMatchType")
        fields.update(_text_fields(value, "value", "valueMatchType"))
    return Cookie(include, name, value), fields


_WEEKDAY_NUMBERS = {day.value: number for number, day in enumerate(Weekday)}


def _day_of_week(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    check, normalise = _member_of(Weekday)
    days, canonical = _one_or_more(data, "day", check=check, normalise=normalise)
    return DayOfWeek(include, frozenset(_WEEKDAY_NUMBERS[d] for d in days)), {"day": canonical}


def _hour_minute(data: Mapping[str, Any], name: str) -> tuple[int, str]:
    value = data.get(name)
    found = _HOUR_MINUTE.match(value) if isinstance(value, str) else None
    if found is None:
        raise Invalid.field(name, f"must be a time of day as HH:MM (00:00 to 23:59), not {value!r}")
    return int(found[1]) * 60 + int(found[2]), found[0]


def _hour_minute_range(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    start, start_text = _hour_minute(data, "start")
    end, end_text = _hour_minute(data, "end")
    if start == end:
        raise Invalid.field("end", "must differ from start (the range is from start up to end)")
    return HourMinuteRange(include, start, end), {"start": start_text, "end": end_text}


def _moment(data: Mapping[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid.field(
            name, f"must be an ISO-8601 date and time with its zone, like 2030-01-31T09:00:00Z, not {value!r}"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise Invalid.field(name, f"{value} falls outside the years 1 to 9999 in UTC") from None


def _time_range(data: Mapping[str, Any], include: bool) -> tuple[Condition, dict[str, Any]]:
    start, end = _moment(data, "dateStart"), _moment(data, "dateEnd")
    if start is None and end is None:
        raise Invalid.field("dateStart", "give dateStart, dateEnd or both")
    if start is not None and end is not None and end <= start:
        raise Invalid.field("dateEnd", "must be after dateStart")
    fields = {name: data[name] for name in ("dateStart", "dateEnd") if data.get(name) is not None}
    return TimeRange(include, start, end), fields


_Parser = Callable[[Mapping[str, Any], bool], tuple[Condition, dict[str, Any]]]

# Each targeting type: how to read a condition of it, and the fields it takes beside the common ones (older
# spellings of a field included).
_PARSERS: Mapping[TargetingType, tuple[_Parser, set[str]]] = {
    TargetingType.PAGE_URL: (_page_url, {"matchType", "url", "value"}),
    TargetingType.PAGE_TITLE: (_page_title, {"matchType", "title", "value"}),
    TargetingType.LANDING_PAGE: (_landing_page, {"matchType", "url", "value"}),
    TargetingType.PREVIOUS_PAGE: (_previous_page, {"matchType", "url", "value"}),
    TargetingType.ORIGIN: (_origin, {"matchType", "url", "value"}),
    TargetingType.VISITED_PAGES: (_visited_pages, {"matchType", "url", "value"}),
    TargetingType.DEVICE_TYPE: (_device_type, {"device", "value"}),
    TargetingType.BROWSER: (_browser, {"browser", "value", "version", "versionMatchType"}),
    TargetingType.OPERATING_SYSTEM: (_operating_system, {"os"}),
    TargetingType.NEW_VISITORS: (_new_visitors, {"visitorType"}),
    TargetingType.GEOLOCATION: (_geolocation, {"country", "value", "region", "city"}),
    TargetingType.CUSTOM_DATUM: (_custom_datum, {"customDataIndex", "matchType", "valueMatchType", "value"}),
    TargetingType.JS_CODE: (_js_code, {"jsCode", "applied"}),
    TargetingType.COOKIE: (_cookie, {"name", "nameMatchType", "value", "valueMatchType"}),
    TargetingType.DAY_OF_WEEK: (_day_of_week, {"day"}),
    TargetingType.HOUR_MINUTE_RANGE: (_hour_minute_range, {"start", "end"}),
    TargetingType.TIME_RANGE: (_time_range, {"dateStart", "dateEnd"}),
}

assert set(_PARSERS) == set(TargetingType), "every targeting type needs a parser"

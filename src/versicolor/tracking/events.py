"""Events as pages and SDKs send them: reading a batch, and checking each event's shape (docs/tracking.md).

A batch is `{"events": [...]}` (application/json) or one event per line (application/x-ndjson). Checking is
all-or-nothing: every problem of every event is collected, each naming the event's index in the batch (and
its line, for NDJSON), so that a client can fix the whole batch at once. Checks that need the database (is
the experiment this site's?) are in `versicolor.tracking.ingestion`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from versicolor.core import json_text
from versicolor.core.errors import Detail, Invalid
from versicolor.core.segments import vocabulary
from versicolor.core.segments.conditions import MAX_CUSTOM_DATA_INDEX
from versicolor.core.segments.vocabulary import Browser, DeviceType
from versicolor.db.models.tracking import EVENT_ID_LENGTH, VISIT_ID_LENGTH, VISITOR_CODE_LENGTH

MAX_EVENTS = 5_000
MAX_BODY_BYTES = 10 * 1024 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
# Earlier timestamps are almost always seconds sent where milliseconds were meant.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CUSTOM_DATA = 100
MAX_CUSTOM_VALUES = 100
MAX_CUSTOM_TEXT = 1_024
MAX_REVENUE = 1e12

JSON_MEDIA_TYPE = "application/json"
# A page's engine sends JSON as text/plain: that keeps its request simple, with no CORS preflight before it.
PLAIN_MEDIA_TYPE = "text/plain"
NDJSON_MEDIA_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})


class EventType(StrEnum):
    """What an event reports."""

    VISIT = "VISIT"
    EXPOSURE = "EXPOSURE"
    CONVERSION = "CONVERSION"


# The values segments target, so that what is recorded can be broken down and filtered by the same names.
DEVICE_TYPES = frozenset(d.value for d in DeviceType)
BROWSERS = frozenset(b.value for b in Browser)
# Earlier or other spellings events may carry, stored as the value they stand for.
_ALIASES = {**vocabulary.VALUE_ALIASES[DeviceType], **vocabulary.VALUE_ALIASES[Browser]}

_COMMON_FIELDS = frozenset(
    {
        "id",
        "type",
        "visitorCode",
        "visitId",
        "timestamp",
        "deviceType",
        "browser",
        "country",
        "newVisitor",
        "customData",
    }
)
_FIELDS_BY_TYPE: Mapping[EventType, frozenset[str]] = {
    EventType.VISIT: _COMMON_FIELDS,
    EventType.EXPOSURE: _COMMON_FIELDS | {"experimentId", "variationId"},
    EventType.CONVERSION: _COMMON_FIELDS | {"goalId", "revenue"},
}
_TYPES: Mapping[str, EventType] = {kind.value: kind for kind in EventType}
_TYPE_OF_FIELD = {
    "experimentId": "EXPOSURE",
    "variationId": "EXPOSURE",
    "goalId": "CONVERSION",
    "revenue": "CONVERSION",
}


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and thousands are made per batch.
@dataclass(slots=True)
class Event:
    """One event whose shape is valid; its experiment, variation or goal are still to be checked."""

    index: int
    id: str
    type: EventType
    visitor_code: str
    visit_id: str
    timestamp: datetime
    experiment_id: int | None = None
    variation_id: int | None = None
    goal_id: int | None = None
    revenue: float | None = None
    device_type: str | None = None
    browser: str | None = None
    country: str | None = None
    new_visitor: bool | None = None
    custom_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Batch:
    """A batch read from a request body: the raw events, and where each came from (for messages)."""

    items: list[Any]
    # For NDJSON, the 1-based line of each event; empty for JSON bodies.
    lines: list[int]

    def detail(self, index: int, field: str, message: str) -> Detail:
        """A problem with event `index` (its `field`, or the whole event when empty), naming its NDJSON line."""
        name = f"events[{index}].{field}" if field else f"events[{index}]"
        return Detail(name, f"line {self.lines[index]}: {message}" if self.lines else message)


def media_type_of(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_batch(body: bytes, content_type: str | None) -> Batch:
    """The events of a request body; raises Invalid for a body that is not a batch at all."""
    media_type = media_type_of(content_type)
    if len(body) > MAX_BODY_BYTES:
        raise Invalid.field("body", f"is {len(body)} bytes; a batch may be at most {MAX_BODY_BYTES} bytes")
    problem = json_text.not_utf8(body)
    if problem:
        raise Invalid(problem, details=[Detail("body", problem)])
    if media_type in (JSON_MEDIA_TYPE, PLAIN_MEDIA_TYPE):
        batch = _read_json(body)
    elif media_type in NDJSON_MEDIA_TYPES:
        batch = _read_ndjson(body)
    else:
        given = f"got {media_type!r}" if media_type else "no Content-Type given"
        raise Invalid(
            'send the events as Content-Type: application/json ({"events": [...]}) or '
            f"application/x-ndjson (one event per line); {given}"
        )
    if not batch.items:
        raise Invalid.field("events", "the batch is empty; send at least one event")
    if len(batch.items) > MAX_EVENTS:
        raise Invalid.field(
            "events", f"the batch has {len(batch.items)} events; at most {MAX_EVENTS} go in one batch, split it"
        )
    return batch


_TOO_DEEP = "nests arrays or objects too deeply to read; an event is a flat object"


def _read_json(body: bytes) -> Batch:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid.field("body", f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise Invalid.field("body", _TOO_DEEP) from None
    if not isinstance(document, dict) or "events" not in document:
        raise Invalid.field("body", 'must be a JSON object {"events": [...]}')
    unknown = sorted(set(document) - {"events"})
    if unknown:
        raise Invalid.field(unknown[0], 'is not a known field; the body is {"events": [...]}')
    if not isinstance(document["events"], list):
        raise Invalid.field("events", "must be an array of events")
    return Batch(items=document["events"], lines=[])


def _read_ndjson(body: bytes) -> Batch:
    items: list[Any] = []
    lines: list[int] = []
    problems: list[Detail] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue  # blank lines (and the final newline) carry nothing
        try:
            items.append(json.loads(line))
            lines.append(number)
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Detail(f"line {number}", f"is not valid JSON ({exc})"))
        except RecursionError:
            problems.append(Detail(f"line {number}", _TOO_DEEP))
        if len(items) + len(problems) > MAX_EVENTS:
            break  # read_batch refuses the size; no need to parse the rest
    if problems:
        raise Invalid(_summary(problems), details=problems)
    return Batch(items=items, lines=lines)


def check(batch: Batch, *, now: datetime) -> tuple[list[Event], list[Detail]]:
    """The events whose shape is valid, and a detail for every problem of the others."""
    events: list[Event] = []
    problems: list[Detail] = []
    latest = now + FUTURE_TOLERANCE
    for index, item in enumerate(batch.items):
        found: list[tuple[str, str]] = []
        event = _event(index, item, latest, found)
        if found:
            problems.extend(batch.detail(index, field, message) for field, message in found)
        elif event is not None:
            events.append(event)
    return events, problems


def refuse(problems: list[Detail]) -> Invalid:
    """The one error a batch with problems gets: every problem listed."""
    return Invalid(_summary(problems), details=problems)


def _summary(problems: list[Detail]) -> str:
    shown = "; ".join(f"{d.field}: {d.message}" for d in problems[:5])
    more = f"; and {len(problems) - 5} more (see details)" if len(problems) > 5 else ""
    return f"the batch was not stored, fix every listed event and send it again: {shown}{more}"


def _event(index: int, item: Any, latest: datetime, found: list[tuple[str, str]]) -> Event | None:
    if not isinstance(item, dict):
        found.append(("", "must be a JSON object"))
        return None
    raw_type = item.get("type")
    kind = _TYPES.get(raw_type) if isinstance(raw_type, str) else None
    if kind is None:
        found.append(("type", f"must be one of VISIT, EXPOSURE, CONVERSION (got {_show(raw_type)})"))
        return None
    allowed = _FIELDS_BY_TYPE[kind]
    if not allowed.issuperset(item):
        for name in item:
            if name not in allowed:
                owner = _TYPE_OF_FIELD.get(name)
                found.append((name, f"belongs to {owner} events only" if owner else "is not a known field"))
    event_id = _text(item, "id", EVENT_ID_LENGTH, found)
    visitor_code = _text(item, "visitorCode", VISITOR_CODE_LENGTH, found)
    visit_id = _text(item, "visitId", VISIT_ID_LENGTH, found)
    timestamp = _timestamp(item.get("timestamp"), latest, found)
    experiment_id = variation_id = goal_id = None
    revenue = None
    if kind is EventType.EXPOSURE:
        experiment_id = _identifier(item, "experimentId", 1, found)
        variation_id = _identifier(item, "variationId", 0, found)
    elif kind is EventType.CONVERSION:
        goal_id = _identifier(item, "goalId", 1, found)
        revenue = _revenue(item.get("revenue"), found)
    device_type = _member(item, "deviceType", DEVICE_TYPES, found)
    browser = _member(item, "browser", BROWSERS, found)
    country = _country(item.get("country"), found)
    new_visitor = item.get("newVisitor")
    if new_visitor is not None and not isinstance(new_visitor, bool):
        found.append(("newVisitor", f"must be true or false (got {_show(new_visitor)})"))
    custom_data = _custom_data(item.get("customData"), found)
    if found or event_id is None or visitor_code is None or visit_id is None or timestamp is None:
        return None
    # Positional, in field order: measurably cheaper than keywords at thousands of events per batch.
    return Event(
        index,
        event_id,
        kind,
        visitor_code,
        visit_id,
        timestamp,
        experiment_id,
        variation_id,
        goal_id,
        revenue,
        device_type,
        browser,
        country,
        new_visitor,
        custom_data,
    )


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(item: Mapping[str, Any], name: str, limit: int, found: list[tuple[str, str]]) -> str | None:
    value = item.get(name)
    if type(value) is str and 0 < len(value) <= limit and not value.isspace() and storable(value):
        return value  # the usual case, decided in one test
    if value is None:
        found.append((name, "is required"))
        return None
    if not isinstance(value, str):
        found.append((name, f"must be a string (got {_show(value)})"))
        return None
    if not value.strip():
        found.append((name, "must not be empty"))
        return None
    if len(value) > limit:
        found.append((name, f"must be at most {limit} characters (got {len(value)})"))
        return None
    if not storable(value):
        found.append((name, "holds a NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff), which cannot be stored"))
        return None
    return value


def storable(text: str) -> bool:
    """Whether every database can keep `text`: JSON's \\u escapes can make a NUL (PostgreSQL text cannot hold
    one) or a lone surrogate (UTF-8 cannot)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _identifier(item: Mapping[str, Any], name: str, least: int, found: list[tuple[str, str]]) -> int | None:
    value = item.get(name)
    if value is None:
        found.append((name, "is required"))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        found.append((name, f"must be an integer id (got {_show(value)})"))
        return None
    if value < least or value >= 2**63:
        lowest = "0 (the original) or a variation id" if least == 0 else "a positive id"
        found.append((name, f"must be {lowest} (got {value})"))
        return None
    return value


def _timestamp(value: Any, latest: datetime, found: list[tuple[str, str]]) -> datetime | None:
    if value is None:
        found.append(("timestamp", "is required: milliseconds since the epoch, or ISO-8601 with a time zone"))
        return None
    moment: datetime
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        found.append(("timestamp", f"must be milliseconds since the epoch or an ISO-8601 string (got {_show(value)})"))
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            found.append(("timestamp", f"is not an ISO-8601 date and time (got {_show(value)})"))
            return None
        if moment.tzinfo is None:
            found.append(("timestamp", f"needs a time zone, e.g. a trailing Z for UTC (got {_show(value)})"))
            return None
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            found.append(("timestamp", f"lies outside the years 1 to 9999 in UTC (got {_show(value)})"))
            return None
    else:
        if not math.isfinite(value) or not 0 <= value < 1e14:
            found.append(("timestamp", f"is not a time in milliseconds since the epoch (got {_show(value)})"))
            return None
        moment = datetime.fromtimestamp(value / 1000, UTC)
    if moment < EARLIEST:
        found.append(
            (
                "timestamp",
                f"{_show(value)} is before the year 2000; send milliseconds (not seconds) since the epoch",
            )
        )
        return None
    if moment > latest:
        found.append(("timestamp", f"{moment.isoformat()} is more than 5 minutes in the future; check the clock"))
        return None
    return moment


def _revenue(value: Any, found: list[tuple[str, str]]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        found.append(("revenue", f"must be a number (got {_show(value)})"))
        return None
    if not 0 <= value <= MAX_REVENUE:
        found.append(("revenue", f"must be between 0 and {MAX_REVENUE:g} (got {value})"))
        return None
    return float(value)


def _member(item: Mapping[str, Any], name: str, allowed: frozenset[str], found: list[tuple[str, str]]) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        if value in allowed:
            return value
        if _ALIASES.get(value) in allowed:
            return _ALIASES[value]
    found.append((name, f"must be one of {', '.join(sorted(allowed))} (got {_show(value)})"))
    return None


def _country(value: Any, found: list[tuple[str, str]]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 2 or not value.isascii() or not value.isalpha():
        found.append(("country", f"must be a two-letter ISO 3166-1 code such as FR (got {_show(value)})"))
        return None
    return value.upper()


def read_custom_data(value: Any, *, field: str = "customData") -> dict[str, Any]:
    """Custom data as events carry it (keys: custom data indexes); raises Invalid naming each bad entry."""
    found: list[tuple[str, str]] = []
    checked = _custom_data(value, found)
    if found or checked is None:
        details = [Detail(field + name.removeprefix("customData"), message) for name, message in found]
        raise Invalid("; ".join(f"{d.field}: {d.message}" for d in details), details=details)
    return checked


def _custom_data(value: Any, found: list[tuple[str, str]]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        found.append(("customData", "must be an object keyed by custom data index"))
        return None
    if len(value) > MAX_CUSTOM_DATA:
        found.append(("customData", f"has {len(value)} entries; at most {MAX_CUSTOM_DATA}"))
        return None
    for key, datum in value.items():
        if not key.isdigit() or not key.isascii() or int(key) > MAX_CUSTOM_DATA_INDEX:
            found.append((f"customData.{key}", f"keys are custom data indexes from 0 to {MAX_CUSTOM_DATA_INDEX}"))
        elif not _custom_value_ok(datum):
            found.append(
                (
                    f"customData.{key}",
                    "must be a string, number or boolean; a list of them (LIST); or an object of counts "
                    f"(COUNT_LIST); at most {MAX_CUSTOM_VALUES} values of {MAX_CUSTOM_TEXT} characters; "
                    "integers within 64 bits",
                )
            )
    return value


def _custom_scalar_ok(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_CUSTOM_TEXT and storable(value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63  # what the database's JSON (and our encoder) holds exactly
    return isinstance(value, float) and math.isfinite(value)


def _custom_value_ok(value: Any) -> bool:
    if isinstance(value, list):
        return len(value) <= MAX_CUSTOM_VALUES and all(_custom_scalar_ok(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_CUSTOM_VALUES and all(
            len(k) <= MAX_CUSTOM_TEXT
            and storable(k)
            and isinstance(n, int)
            and not isinstance(n, bool)
            and 0 <= n < 2**63
            for k, n in value.items()
        )
    return _custom_scalar_ok(value)

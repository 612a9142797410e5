"""Reading and checking a batch of events: every problem of every event named, nothing half-accepted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from versicolor.core.errors import Invalid
from versicolor.tracking.events import MAX_BODY_BYTES, MAX_EVENTS, EventType, check, read_batch

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "e1", "type": "VISIT", "visitorCode": "v1", "visitId": "s1", "timestamp": NOW_MS}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def json_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def problems_of(*events: dict[str, Any]) -> dict[str, str]:
    _, problems = check(read_batch(json_body(*events), "application/json"), now=NOW)
    return {p.field: p.message for p in problems}


def test_each_type_reads_its_fields() -> None:
    body = json_body(
        event(id="a", type="VISIT", deviceType="MOBILE", browser="SAFARI", country="fr", newVisitor=True),
        event(id="b", type="EXPOSURE", experimentId=7, variationId=0, customData={"3": ["x", 1]}),
        event(id="c", type="CONVERSION", goalId=9, revenue=12.5, timestamp="2026-05-01T13:00:00+01:00"),
    )
    events, problems = check(read_batch(body, "application/json; charset=utf-8"), now=NOW)
    assert problems == []
    visit, exposure, conversion = events
    assert (visit.type, visit.device_type, visit.browser, visit.country, visit.new_visitor) == (
        EventType.VISIT,
        "PHONE",  # MOBILE, the earlier name, is stored in Kameleoon's spelling
        "SAFARI",
        "FR",
        True,
    )
    assert (exposure.experiment_id, exposure.variation_id, exposure.custom_data) == (7, 0, {"3": ["x", 1]})
    assert (conversion.goal_id, conversion.revenue, conversion.timestamp) == (9, 12.5, NOW)
    assert visit.timestamp == NOW


def test_ndjson_reads_one_event_per_line_and_skips_blank_lines() -> None:
    body = b"\n".join(json.dumps(event(id=str(n))).encode() for n in range(3)) + b"\n\n"
    events, problems = check(read_batch(body, "application/x-ndjson"), now=NOW)
    assert problems == [] and [e.id for e in events] == ["0", "1", "2"]


def test_ndjson_names_every_malformed_line() -> None:
    body = b'{"id": "a"}\n{not json\n\n[1, 2\n'
    with pytest.raises(Invalid) as caught:
        read_batch(body, "application/x-ndjson")
    assert [d.field for d in caught.value.details] == ["line 2", "line 4"]
    assert "not valid JSON" in caught.value.details[0].message


def test_ndjson_event_problems_name_index_and_line() -> None:
    body = json.dumps(event()).encode() + b"\n\n" + json.dumps(event(type="CLICK")).encode()
    _, problems = check(read_batch(body, "application/x-ndjson"), now=NOW)
    assert [(p.field, p.message.split(":")[0]) for p in problems] == [("events[1].type", "line 3")]


@pytest.mark.parametrize(
    ("body", "content_type", "field", "says"),
    [
        (b"{", "application/json", "body", "not valid JSON"),
        (b"[]", "application/json", "body", '{"events": [...]}'),
        (b'{"events": {}}', "application/json", "events", "array"),
        (b'{"events": [], "extra": 1}', "application/json", "extra", "not a known field"),
        (b'{"events": []}', "application/json", "events", "empty"),
        (b"", "application/x-ndjson", "events", "empty"),
        (b"\xff\xfe", "application/json", "body", "not valid UTF-8"),
        (b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "application/json", "body", "too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "application/x-ndjson", "line 1", "too deeply"),
        (b'{"events": [' + b"9" * 5000 + b"]}", "application/json", "body", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_batch_is_refused(body: bytes, content_type: str, field: str, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        read_batch(body, content_type)
    assert caught.value.details[0].field == field
    assert says in caught.value.details[0].message


@pytest.mark.parametrize("content_type", [None, "text/html", "application/x-www-form-urlencoded"])
def test_other_media_types_are_refused_naming_the_two_accepted(content_type: str | None) -> None:
    with pytest.raises(Invalid) as caught:
        read_batch(json_body(event()), content_type)
    assert "application/json" in caught.value.message and "application/x-ndjson" in caught.value.message


def test_text_plain_is_read_as_json_so_pages_send_without_a_preflight() -> None:
    batch = read_batch(json_body(event()), "text/plain;charset=UTF-8")
    assert len(batch.items) == 1


def test_a_batch_over_the_limit_is_refused_with_the_limit() -> None:
    body = b"\n".join([json.dumps(event()).encode()] * (MAX_EVENTS + 1))
    with pytest.raises(Invalid) as caught:
        read_batch(body, "application/x-ndjson")
    assert str(MAX_EVENTS) in caught.value.message


def test_a_body_over_the_byte_limit_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        read_batch(b" " * (MAX_BODY_BYTES + 1), "application/json")
    assert str(MAX_BODY_BYTES) in caught.value.message


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"type": "CLICK"}, "type", "VISIT, EXPOSURE, CONVERSION"),
        ({"type": None}, "type", "VISIT, EXPOSURE, CONVERSION"),
        ({"type": ["VISIT"]}, "type", "VISIT, EXPOSURE, CONVERSION"),
        ({"visitorCode": ""}, "visitorCode", "empty"),
        ({"visitorCode": "   "}, "visitorCode", "empty"),
        ({"visitorCode": None}, "visitorCode", "required"),
        ({"visitorCode": 12}, "visitorCode", "string"),
        ({"visitorCode": "x" * 256}, "visitorCode", "at most 255"),
        ({"id": None}, "id", "required"),
        ({"id": "x" * 129}, "id", "at most 128"),
        ({"visitId": None}, "visitId", "required"),
        ({"timestamp": None}, "timestamp", "required"),
        ({"timestamp": NOW_MS + 5 * 60_000 + 1_000}, "timestamp", "future"),
        ({"timestamp": (NOW + timedelta(hours=1)).isoformat()}, "timestamp", "future"),
        ({"timestamp": NOW_MS // 1000}, "timestamp", "milliseconds"),
        ({"timestamp": "2026-05-01T12:00:00"}, "timestamp", "time zone"),
        ({"timestamp": "yesterday"}, "timestamp", "ISO-8601"),
        ({"timestamp": True}, "timestamp", "milliseconds since the epoch"),
        ({"timestamp": -5}, "timestamp", "milliseconds since the epoch"),
        ({"deviceType": "WATCH"}, "deviceType", "DESKTOP, PHONE, TABLET"),
        ({"browser": "NETSCAPE"}, "browser", "CHROME"),
        ({"country": "FRA"}, "country", "two-letter"),
        ({"newVisitor": "yes"}, "newVisitor", "true or false"),
        ({"customData": []}, "customData", "object"),
        ({"customData": {"name": "x"}}, "customData.name", "indexes"),
        ({"customData": {"1000": "x"}}, "customData.1000", "indexes"),
        ({"customData": {"1": {"nested": {"deep": 1}}}}, "customData.1", "COUNT_LIST"),
        ({"customData": {"1": "x" * 1025}}, "customData.1", "1024"),
        ({"customData": {"1": 2**64}}, "customData.1", "64 bits"),
        ({"customData": {"1": "\ud800"}}, "customData.1", "string"),
        ({"visitorCode": "caf\u00e9 \ud83e"}, "visitorCode", "surrogate"),
        ({"id": "\udc00"}, "id", "surrogate"),
        ({"visitId": "a\u0000b"}, "visitId", "NUL"),
        ({"customData": {"1": "a\u0000"}}, "customData.1", "string"),
        ({"customData": {"1": {"gold": -1}}}, "customData.1", "COUNT_LIST"),
        ({"goalId": 3}, "goalId", "CONVERSION events only"),
        ({"experimentId": 3}, "experimentId", "EXPOSURE events only"),
        ({"color": "red"}, "color", "not a known field"),
    ],
)
def test_each_bad_field_is_named_with_its_event_index(fields: dict[str, Any], field: str, says: str) -> None:
    problems = problems_of(event(id="fine"), event(**fields))
    assert list(problems) == [f"events[1].{field}"], problems
    assert says in problems[f"events[1].{field}"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"experimentId": None}, "experimentId", "required"),
        ({"experimentId": "7"}, "experimentId", "integer"),
        ({"experimentId": 0}, "experimentId", "positive"),
        ({"experimentId": 7.5}, "experimentId", "integer"),
        ({"variationId": None}, "variationId", "required"),
        ({"variationId": -1}, "variationId", "0 (the original)"),
        ({"variationId": True}, "variationId", "integer"),
    ],
)
def test_exposures_need_an_experiment_and_a_variation(fields: dict[str, Any], field: str, says: str) -> None:
    exposure = event(type="EXPOSURE", experimentId=7, variationId=1)
    exposure.update(fields)
    problems = problems_of({k: v for k, v in exposure.items() if v is not None})
    assert list(problems) == [f"events[0].{field}"] and says in problems[f"events[0].{field}"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"goalId": None}, "goalId", "required"),
        ({"goalId": -3}, "goalId", "positive"),
        ({"revenue": "12"}, "revenue", "number"),
        ({"revenue": -1}, "revenue", "between 0"),
        ({"revenue": float("nan")}, "revenue", "number"),
    ],
)
def test_conversions_need_a_goal_and_a_sane_revenue(fields: dict[str, Any], field: str, says: str) -> None:
    conversion = event(type="CONVERSION", goalId=3)
    conversion.update(fields)
    problems = problems_of({k: v for k, v in conversion.items() if v is not None})
    assert list(problems) == [f"events[0].{field}"] and says in problems[f"events[0].{field}"]


def test_every_problem_of_every_event_is_listed() -> None:
    problems = problems_of(
        event(visitorCode="", country="France"),
        event(id="ok"),
        "not an object",  # type: ignore[arg-type]
        event(type="BOUNCE"),
    )
    assert sorted(problems) == [
        "events[0].country",
        "events[0].visitorCode",
        "events[2]",
        "events[3].type",
    ]


def test_a_timestamp_just_inside_the_tolerance_is_accepted() -> None:
    assert problems_of(event(timestamp=NOW_MS + 5 * 60_000 - 1)) == {}

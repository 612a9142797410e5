"""The report request: every rule a type cannot express, each refusal naming its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from versicolor.core.errors import Invalid
from versicolor.results.request import (
    Attribute,
    Breakdown,
    BreakdownType,
    ConversionType,
    DateInterval,
    Interval,
    ReportRequest,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def refused_fields(**kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as caught:
        ReportRequest.build(**kwargs)
    return [d.field for d in caught.value.details]


def test_defaults_ask_for_everything_per_visitor() -> None:
    request = ReportRequest.build()
    assert request == ReportRequest()
    assert request.visitor_data and request.conversion_type is ConversionType.ALL_CONVERSION
    assert request.reference_variation_id == 0 and request.breakdown is None


def test_intervals_are_sorted_and_read_as_utc() -> None:
    paris = timezone(timedelta(hours=2))
    later = (T0 + timedelta(days=2), T0 + timedelta(days=3))
    # A naive start is read as UTC; an end with a zone is converted to UTC.
    earlier = (datetime(2024, 5, 1, 1), datetime(2024, 5, 1, 4, tzinfo=paris))
    request = ReportRequest.build(date_intervals=[later, earlier])
    assert request.date_intervals == (
        DateInterval(datetime(2024, 5, 1, 1, tzinfo=UTC), datetime(2024, 5, 1, 2, tzinfo=UTC)),
        DateInterval(*later),
    )
    assert request.date_intervals[0].end.tzinfo is UTC


def test_touching_intervals_are_allowed() -> None:
    request = ReportRequest.build(
        date_intervals=[(T0, T0 + timedelta(days=1)), (T0 + timedelta(days=1), T0 + timedelta(days=2))]
    )
    assert len(request.date_intervals) == 2


def test_reversed_and_empty_intervals_are_refused() -> None:
    assert refused_fields(date_intervals=[(T0, T0 - timedelta(hours=1))]) == ["dateIntervals.0"]
    assert refused_fields(date_intervals=[(T0 - timedelta(days=9), T0), (T0, T0)]) == ["dateIntervals.1"]


def test_overlapping_intervals_are_refused() -> None:
    fields = refused_fields(
        date_intervals=[(T0 + timedelta(days=1), T0 + timedelta(days=3)), (T0, T0 + timedelta(days=2))]
    )
    assert fields == ["dateIntervals.0"]


def test_breakdown_interval_goes_with_type_interval_only() -> None:
    assert ReportRequest.build(
        breakdown_type=BreakdownType.INTERVAL, breakdown_interval=Interval.WEEK
    ).breakdown == Breakdown(BreakdownType.INTERVAL, Interval.WEEK)
    assert refused_fields(breakdown_type=BreakdownType.INTERVAL) == ["breakdown.interval"]
    assert refused_fields(breakdown_type=BreakdownType.COUNTRY, breakdown_interval=Interval.DAY) == [
        "breakdown.interval"
    ]


def test_filters_need_values_and_new_visitor_takes_booleans() -> None:
    request = ReportRequest.build(
        filters=[(Attribute.NEW_VISITOR, [True, "FALSE"], True), (Attribute.COUNTRY, [" fr", "FR", "DE"], False)]
    )
    assert request.filters[0].values == ("true", "false")
    assert request.filters[1].values == ("FR", "DE") and request.filters[1].include is False
    assert refused_fields(filters=[(Attribute.BROWSER, [], True)]) == ["filters.0.values"]
    assert refused_fields(filters=[(Attribute.NEW_VISITOR, ["maybe"], True)]) == ["filters.0.values"]
    assert refused_fields(filters=[(Attribute.COUNTRY, ["FR"], True), (Attribute.COUNTRY, [" "], True)]) == [
        "filters.1.values"
    ]


def test_goal_lists_are_checked() -> None:
    assert refused_fields(goal_ids=[1, 2, 1]) == ["goalsIds"]
    assert refused_fields(goal_ids=[1], cuped_goal_ids=[2]) == ["goalIdsCuped"]
    assert refused_fields(goal_ids=[1], cuped_goal_ids=[1], visitor_data=False) == ["goalIdsCuped"]
    assert refused_fields(goal_ids=list(range(1, 52))) == ["goalsIds"]


def test_callback_url_must_be_https() -> None:
    assert refused_fields(callback_url="http://hooks.example.com/x") == ["callbackUrl"]
    assert refused_fields(callback_url="https:///nohost") == ["callbackUrl"]
    assert refused_fields(callback_url="https://hooks.example.com:99999/x") == ["callbackUrl"]
    assert ReportRequest.build(callback_url="https://hooks.example.com/x").callback_url == "https://hooks.example.com/x"


def test_every_problem_is_named_at_once() -> None:
    fields = refused_fields(
        goal_ids=[3, 3], breakdown_type=BreakdownType.INTERVAL, callback_url="ftp://x", date_intervals=[(T0, T0)]
    )
    assert set(fields) == {"goalsIds", "breakdown.interval", "callbackUrl", "dateIntervals.0"}


def test_the_stored_form_reads_back_equal() -> None:
    request = ReportRequest.build(
        goal_ids=[5, 6],
        reference_variation_id=12,
        visitor_data=False,
        conversion_type=ConversionType.CONVERTED_VISITS,
        date_intervals=[(T0, T0 + timedelta(days=1))],
        sequential_testing=True,
        bayesian=True,
        multiple_testing=True,
        breakdown_type=BreakdownType.INTERVAL,
        breakdown_interval=Interval.HOUR,
        filters=[(Attribute.DEVICE_TYPE, ["MOBILE"], False)],
        callback_url="https://hooks.example.com/x",
    )
    assert ReportRequest.from_json(request.to_json()) == request

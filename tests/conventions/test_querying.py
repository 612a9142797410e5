"""The query model without HTTP: declarations, parameter conversion, and pattern escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from versicolor.core import querying
from versicolor.core.errors import Invalid
from versicolor.core.querying import Choice, Fields, Kind

table = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("status", String(10)),
    Column("payload", JSON),
)
FIELDS = Fields({"id": table.c.id, "name": table.c.name, "status": Choice(table.c.status, ["ON", "OFF"])})


def test_kinds_are_read_from_the_columns() -> None:
    assert FIELDS.by_name["id"].kind is Kind.INTEGER
    assert FIELDS.by_name["name"].kind is Kind.TEXT
    assert FIELDS.by_name["status"].kind is Kind.ENUM
    assert FIELDS.by_name["status"].choices == ("ON", "OFF")


def test_a_column_of_unknown_kind_must_be_declared_explicitly() -> None:
    with pytest.raises(TypeError, match="payload"):
        Fields({"id": table.c.id, "payload": table.c.payload})


def test_every_resource_declares_id_for_the_tie_breaker() -> None:
    with pytest.raises(TypeError, match="id"):
        Fields({"name": table.c.name})


def test_enum_values_are_checked_and_listed() -> None:
    with pytest.raises(Invalid, match="'on' is not a value of field status; allowed: ON, OFF"):
        querying.parse(FIELDS, filter='[{"field":"status","operator":"EQUAL","parameters":["on"]}]')


def test_ordering_operators_do_not_apply_to_enums() -> None:
    with pytest.raises(Invalid, match="operator LESS does not apply to field status"):
        querying.parse(FIELDS, filter='[{"field":"status","operator":"LESS","parameters":["ON"]}]')


def test_operator_and_direction_names_ignore_case() -> None:
    query = querying.parse(
        FIELDS,
        filter='[{"field":"id","operator":"greater_or_equal","parameters":["7"]}]',
        sort='[{"field":"name","direction":"desc"}]',
    )
    assert query.conditions[0].operator is querying.Operator.GREATER_OR_EQUAL
    assert query.conditions[0].values == (7,)
    assert query.orders[0].descending


def test_numbers_may_come_as_strings_and_whole_floats() -> None:
    query = querying.parse(FIELDS, filter='[{"field":"id","operator":"IN","parameters":[1, "2", 3.0, " 4 "]}]')
    assert query.conditions[0].values == (1, 2, 3, 4)


def test_true_is_not_a_number() -> None:
    with pytest.raises(Invalid, match="true is not a number for field id"):
        querying.parse(FIELDS, filter='[{"field":"id","operator":"EQUAL","parameters":[true]}]')


def test_a_date_time_without_zone_is_utc() -> None:
    at = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime()))
    fields = Fields({"id": at.c.id, "at": at.c.at})
    query = querying.parse(fields, filter='[{"field":"at","operator":"LESS","parameters":["2024-05-01T12:00:00"]}]')
    assert query.conditions[0].values == (datetime(2024, 5, 1, 12, tzinfo=UTC),)
    zoned = querying.parse(
        fields, filter='[{"field":"at","operator":"LESS","parameters":["2024-05-01T14:00:00+02:00"]}]'
    )
    assert zoned.conditions[0].values == query.conditions[0].values


@pytest.mark.parametrize(
    ("client", "sql"),
    [
        ("50%", "50%"),
        ("50\\%", "50!%"),
        ("a_b", "a_b"),
        ("a\\_b", "a!_b"),
        ("Wow!", "wow!!"),
        ("back\\\\slash", "back\\slash"),
        ("trailing\\", "trailing\\"),
        ("ÉCOLE", "École"),
    ],
)
def test_like_patterns_are_rewritten_with_our_escape(client: str, sql: str) -> None:
    assert querying.like_pattern(client).sql() == sql


def test_contains_makes_every_character_literal() -> None:
    assert querying.contains_pattern("50%_!").sql() == "%50!%!_!!%"


def test_the_folding_rule_touches_ascii_only() -> None:
    assert querying.fold("ÀBC İß Σ") == "Àbc İß Σ"


def test_links_repeat_the_query() -> None:
    query = querying.parse(
        FIELDS, filter='[{"field":"name","operator":"CONTAINS","parameters":["é"]}]', per_page="5", page="2"
    )
    assert query.at_page(3).as_params() == {
        "page": "3",
        "perPage": "5",
        "filter": '[{"field":"name","operator":"CONTAINS","parameters":["é"]}]',
    }

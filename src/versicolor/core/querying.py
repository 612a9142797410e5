"""The list query language of the Automation dialect (docs/conventions.md): a validated query model and its SQL.

This module knows no HTTP. A resource declares what may be searched, once, next to its router:

    GOAL_FIELDS = Fields(
        {
            "id": Goal.id,                                 # the type is read from the column: integer
            "name": Goal.name,                             # text
            "siteId": Goal.site_id,
            "type": Choice(Goal.type, [t.value for t in GoalType]),  # a string column holding an enum
            "hasMultipleConversions": Goal.has_multiple_conversions,
            "dateCreated": Goal.date_created,
        },
        unsearchable=("params", "tags"),   # returned but not scalar (or secret): 400 like an unknown field
        optional=("goals",),               # names `optionalFields` accepts
    )

The API layer (api/conventions/listing.py) turns a request into a `ListQuery` with `parse()` (query string)
or `parse_body()` (`POST /<resource>/search`); a service then runs it over a select scoped to the caller:

    page = await querying.fetch(session=session, statement=goals.scoped(principal), query=query)
    page.items, page.total

Rules that make SQLite and PostgreSQL answer identically (the property tests hold both to a Python oracle):

- Text compares and sorts by Unicode code point (PostgreSQL: `COLLATE "C"`; SQLite: its binary default),
  never by a locale. `EQUAL`, `IN`, `LESS`... on text are exact and case-sensitive.
- `LIKE` and `CONTAINS` ignore the case of A-Z only. Other letters must match exactly: `lower()` folds
  non-ASCII letters on PostgreSQL (depending on the database's locale) but not on SQLite, so we fold with
  a rule we control (`lower()` under the C collation on PostgreSQL, SQLite's ASCII-only `lower()`).
- Nulls sort first on ASC and last on DESC; `id` ASC breaks every tie.
- `NOT_EQUAL` and `NOT_IN` match rows whose value is null (a missing value equals nothing); every other
  comparison, `LIKE` and `CONTAINS` never match null.
- Client values reach SQL only as bound parameters, converted to the field's type first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, ColumnElement, DateTime, Float, Integer, Numeric, Select, String, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Enum as SqlEnum
from sqlalchemy.types import TypeDecorator, TypeEngine

from versicolor.core.errors import Detail, Invalid

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000_000
MAX_CONDITIONS = 50
MAX_PARAMETERS = 500
MAX_SORT_KEYS = 10
MAX_TEXT_PARAMETER = 10_000
_INT64 = 2**63

FILTER_EXAMPLE = '[{"field":"name","operator":"EQUAL","parameters":["Test"]}]'
SORT_EXAMPLE = '[{"field":"dateCreated","direction":"DESC"}]'


class Kind(StrEnum):
    """The type of a searchable field, which decides how parameters are read and which operators apply."""

    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ENUM = "enum"


class Operator(StrEnum):
    """The filter operators (docs/conventions.md)."""

    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    LESS = "LESS"
    LESS_OR_EQUAL = "LESS_OR_EQUAL"
    GREATER = "GREATER"
    GREATER_OR_EQUAL = "GREATER_OR_EQUAL"
    BETWEEN = "BETWEEN"
    LIKE = "LIKE"
    CONTAINS = "CONTAINS"
    IN = "IN"
    NOT_IN = "NOT_IN"
    IS_NULL = "IS_NULL"
    IS_NOT_NULL = "IS_NOT_NULL"


_ANY_OF = frozenset({Operator.EQUAL, Operator.NOT_EQUAL, Operator.IN, Operator.NOT_IN})
_ORDERING = frozenset({Operator.LESS, Operator.LESS_OR_EQUAL, Operator.GREATER, Operator.GREATER_OR_EQUAL})
_PATTERNS = frozenset({Operator.LIKE, Operator.CONTAINS})
_NULLS = frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})
_ALL = frozenset(Operator)

# Ordering a boolean or an enum by its spelling would be a trap; patterns only make sense on text.
OPERATORS_OF: dict[Kind, frozenset[Operator]] = {
    Kind.INTEGER: _ALL - _PATTERNS,
    Kind.NUMBER: _ALL - _PATTERNS,
    Kind.DATETIME: _ALL - _PATTERNS,
    Kind.TEXT: _ALL,
    Kind.ENUM: _ANY_OF | _PATTERNS | _NULLS,
    Kind.BOOLEAN: _ANY_OF | _NULLS,
}


# --- declaring what a resource lets clients search -------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """A searchable column whose kind is given rather than read from the column type."""

    column: Any
    kind: Kind
    choices: tuple[str, ...] = ()


def Choice(column: Any, values: Iterable[str]) -> Typed:
    """A column that holds one of `values` (an enum stored as a string)."""
    return Typed(column, Kind.ENUM, tuple(values))


@dataclass(frozen=True)
class Field:
    """One searchable field: its API name, the SQL expression behind it, and its kind."""

    name: str
    column: ColumnElement[Any]
    kind: Kind
    choices: tuple[str, ...] = ()
    nullable: bool = True


def _kind_of(name: str, sql_type: TypeEngine[Any]) -> tuple[Kind, tuple[str, ...]]:
    while isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, SqlEnum):
        return Kind.ENUM, tuple(str(v) for v in sql_type.enums)
    for sql_class, kind in (
        (Boolean, Kind.BOOLEAN),
        (Integer, Kind.INTEGER),
        (Float, Kind.NUMBER),
        (Numeric, Kind.NUMBER),
        (DateTime, Kind.DATETIME),
        (String, Kind.TEXT),
    ):
        if isinstance(sql_type, sql_class):
            return kind, ()
    raise TypeError(f"field {name}: cannot tell the kind of a {sql_type!r} column; declare it with Typed()")


class Fields:
    """What one resource lets clients filter and sort on, by API name; `id` is required (the tie-breaker)."""

    def __init__(
        self,
        declared: Mapping[str, Any],
        *,
        unsearchable: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> None:
        self.by_name: dict[str, Field] = {}
        for name, spec in declared.items():
            if isinstance(spec, Typed):
                column, kind, choices = spec.column, spec.kind, spec.choices
            else:
                column = spec
                kind, choices = _kind_of(name, spec.type)
            expression = column.expression if isinstance(column, InstrumentedAttribute) else column
            nullable = bool(getattr(expression, "nullable", True))
            self.by_name[name] = Field(name=name, column=expression, kind=kind, choices=choices, nullable=nullable)
        if "id" not in self.by_name:
            raise TypeError("a resource's Fields must declare `id`: it breaks ties in every sort")
        # Listed so that a reader sees they were left out on purpose; they answer like unknown names.
        self.unsearchable = frozenset(unsearchable)
        if self.unsearchable & set(self.by_name):
            raise TypeError(f"fields both searchable and not: {sorted(self.unsearchable & set(self.by_name))}")
        self.optional = frozenset(optional)

    @property
    def id(self) -> Field:
        """The field that breaks ties."""
        return self.by_name["id"]

    def get(self, name: Any, *, where: str) -> Field:
        """The field called `name`; an unknown or unsearchable name is a 400 in the known wording."""
        found = self.by_name.get(name) if isinstance(name, str) else None
        if found is None:
            shown = name if isinstance(name, str) else json.dumps(name)
            raise Invalid(
                f"Cannot filter or sort by given field: {shown}",
                details=[Detail(where, f"searchable fields: {', '.join(sorted(self.by_name))}")],
            )
        return found


# --- the validated query ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One filter entry: `field operator parameters`, with the parameters converted to the field's type."""

    field: Field
    operator: Operator
    values: tuple[Any, ...]
    given: tuple[Any, ...]  # the parameters as the client sent them, to write links to other pages


@dataclass(frozen=True)
class Order:
    """One sort key."""

    field: Field
    descending: bool = False


@dataclass(frozen=True)
class ListQuery:
    """A validated list request: every condition holds (AND), sorted, one page of it."""

    fields: Fields
    conditions: tuple[Condition, ...] = ()
    orders: tuple[Order, ...] = ()
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    optional_fields: frozenset[str] = field(default_factory=frozenset)

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.per_page

    def at_page(self, page: int) -> ListQuery:
        """The same query, another page."""
        return replace(self, page=page)

    def as_params(self) -> dict[str, str]:
        """The query-string parameters of `GET /<resource>` that ask for exactly this page."""
        params = {"page": str(self.page), "perPage": str(self.per_page)}
        if self.conditions:
            params["filter"] = _compact(
                [
                    {"field": c.field.name, "operator": c.operator.value, "parameters": list(c.given)}
                    for c in self.conditions
                ]
            )
        if self.orders:
            params["sort"] = _compact(
                [{"field": o.field.name, "direction": "DESC" if o.descending else "ASC"} for o in self.orders]
            )
        if self.optional_fields:
            params["optionalFields"] = ",".join(sorted(self.optional_fields))
        return params

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions as SQL criteria."""
        return [_criterion(c) for c in self.conditions]

    def order_by(self) -> list[UnaryExpression[Any]]:
        """The sort as SQL, nulls first on ASC and last on DESC, ending with `id` unless the client sorted by it."""
        orders = list(self.orders)
        if not any(o.field.name == "id" for o in orders):
            orders.append(Order(self.fields.id))
        keys = []
        for order in orders:
            key = _sortable(order.field).desc() if order.descending else _sortable(order.field).asc()
            # Said only where nulls can occur: on a NOT NULL column it would keep PostgreSQL off the index.
            if order.field.nullable:
                key = key.nulls_last() if order.descending else key.nulls_first()
            keys.append(key)
        return keys


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the number of rows on all pages."""

    items: list[T]
    total: int
    query: ListQuery

    @property
    def last_page(self) -> int:
        """The number of the last page that has rows (1 when there are none)."""
        return max(1, math.ceil(self.total / self.query.per_page))


async def fetch(*, session: AsyncSession, statement: Select[T], query: ListQuery) -> Page[T]:
    """Run `query` over `statement` (already scoped to the caller's account): one page and the total."""
    filtered = statement.where(*query.where())
    # Counting over the id alone spares the database from reading (SQLite: carrying) every column.
    ids = filtered.with_only_columns(query.fields.id.column, maintain_column_froms=True).order_by(None)
    total = await session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    if total <= query.offset:
        return Page(items=[], total=total, query=query)
    ordered = filtered.order_by(None).order_by(*query.order_by())  # the client's order, not the statement's
    rows = await session.scalars(ordered.offset(query.offset).limit(query.per_page))
    return Page(items=list(rows), total=total, query=query)


# --- parsing ---------------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _invalid(where: str, message: str) -> Invalid:
    return Invalid(message, details=[Detail(where, message)])


def parse(
    fields: Fields,
    *,
    page: str | None = None,
    per_page: str | None = None,
    filter: str | None = None,
    sort: str | None = None,
    optional_fields: str | None = None,
) -> ListQuery:
    """A query from the query-string parameters of `GET /<resource>` (JSON in `filter` and `sort`)."""
    return ListQuery(
        fields=fields,
        conditions=_conditions(fields, _json_param("filter", filter, FILTER_EXAMPLE)),
        orders=_orders(fields, _json_param("sort", sort, SORT_EXAMPLE)),
        page=_page(page),
        per_page=_per_page(per_page),
        optional_fields=_optional(fields, optional_fields.split(",") if optional_fields else []),
    )


_BODY_KEYS = ("filter", "sort", "page", "perPage", "optionalFields")


def parse_body(fields: Fields, body: Any) -> ListQuery:
    """A query from the JSON body of `POST /<resource>/search`: `{"filter", "sort", "page", "perPage"}`."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _invalid("body", f"the search body must be a JSON object with any of {', '.join(_BODY_KEYS)}")
    unknown = sorted(set(body) - set(_BODY_KEYS))
    if unknown:
        raise _invalid(unknown[0], f"unknown key {unknown[0]!r} in the search body; expected {', '.join(_BODY_KEYS)}")
    optional = body.get("optionalFields")
    if isinstance(optional, str):
        optional = optional.split(",") if optional else []
    elif optional is None:
        optional = []
    elif not (isinstance(optional, list) and all(isinstance(o, str) for o in optional)):
        raise _invalid("optionalFields", "optionalFields must be a list of field names or a comma-separated string")
    return ListQuery(
        fields=fields,
        conditions=_conditions(fields, body.get("filter")),
        orders=_orders(fields, body.get("sort")),
        page=_page(body.get("page")),
        per_page=_per_page(body.get("perPage")),
        optional_fields=_optional(fields, optional),
    )


def _json_param(name: str, raw: str | None, example: str) -> Any:
    if raw is None or raw.strip() == "":
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too deeply nested"
        raise _invalid(
            name, f"{name} is not valid JSON ({reason}); send a percent-encoded array like {example}"
        ) from None


def _whole(raw: Any) -> int | None:
    """An integer from a JSON number or a numeric string, or None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,19}\s*", raw):
        return int(raw)
    return None


def _page(raw: Any) -> int:
    # An empty value (`?page=`) is not a number: leaving the parameter out is how a client asks for the default.
    if raw is None:
        return 1
    number = _whole(raw)
    if number is None or not 1 <= number <= MAX_PAGE:
        raise _invalid("page", f"page must be a whole number from 1 to {MAX_PAGE}")
    return number


def _per_page(raw: Any) -> int:
    if raw is None:
        return DEFAULT_PER_PAGE
    number = _whole(raw)
    if number == -1:
        return MAX_PER_PAGE
    if number is None or not 1 <= number <= MAX_PER_PAGE:
        raise _invalid("perPage", f"perPage must be between 1 and {MAX_PER_PAGE}, or -1")
    return number


def optional_fields(fields: Fields, raw: str | None) -> frozenset[str]:
    """The names of a one-object request's `optionalFields` (comma-separated), each one the resource offers."""
    return _optional(fields, raw.split(",") if raw else [])


def _optional(fields: Fields, names: Sequence[str]) -> frozenset[str]:
    wanted = frozenset(n.strip() for n in names if n.strip())
    unknown = sorted(wanted - fields.optional)
    if unknown:
        allowed = ", ".join(sorted(fields.optional)) if fields.optional else "none on this resource"
        raise _invalid("optionalFields", f"unknown optional field {unknown[0]!r}; allowed: {allowed}")
    return wanted


def _entries(name: str, raw: Any, limit: int, example: str) -> list[tuple[str, dict[str, Any]]]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise _invalid(name, f"{name} must be a JSON array of objects like {example}")
    if len(raw) > limit:
        raise _invalid(name, f"{name} has {len(raw)} entries; at most {limit} are allowed")
    entries = []
    for index, entry in enumerate(raw):
        where = f"{name}[{index}]"
        if not isinstance(entry, dict):
            raise _invalid(where, f"{where} must be an object like {example}")
        entries.append((where, entry))
    return entries


def _orders(fields: Fields, raw: Any) -> tuple[Order, ...]:
    orders = []
    for where, entry in _entries("sort", raw, MAX_SORT_KEYS, SORT_EXAMPLE):
        unknown = sorted(set(entry) - {"field", "direction"})
        if unknown:
            raise _invalid(where, f"{where}: unknown key {unknown[0]!r}; expected field and direction")
        if "field" not in entry:
            raise _invalid(f"{where}.field", f"{where} needs a field")
        found = fields.get(entry["field"], where=f"{where}.field")
        direction = entry.get("direction", "ASC")
        if not isinstance(direction, str) or direction.upper() not in ("ASC", "DESC"):
            raise _invalid(f"{where}.direction", f"{where}: direction must be ASC or DESC, not {_show(direction)}")
        orders.append(Order(found, descending=direction.upper() == "DESC"))
    return tuple(orders)


def _conditions(fields: Fields, raw: Any) -> tuple[Condition, ...]:
    conditions = []
    for where, entry in _entries("filter", raw, MAX_CONDITIONS, FILTER_EXAMPLE):
        unknown = sorted(set(entry) - {"field", "operator", "parameters"})
        if unknown:
            raise _invalid(where, f"{where}: unknown key {unknown[0]!r}; expected field, operator and parameters")
        if "field" not in entry:
            raise _invalid(f"{where}.field", f"{where} needs a field")
        found = fields.get(entry["field"], where=f"{where}.field")
        operator = _operator(where, entry.get("operator"), found)
        given = entry.get("parameters")
        if given is None:
            given = []
        if not isinstance(given, list):
            raise _invalid(f"{where}.parameters", f"{where}: parameters must be a JSON array")
        _check_arity(where, operator, given)
        values: tuple[Any, ...]
        if operator in _PATTERNS:
            values = tuple(_pattern(f"{where}.parameters[{i}]", found, operator, p) for i, p in enumerate(given))
        else:
            values = tuple(_value(f"{where}.parameters[{i}]", found, p) for i, p in enumerate(given))
        if operator is Operator.BETWEEN and values[0] > values[1]:
            raise _invalid(
                f"{where}.parameters",
                f"BETWEEN takes the lower bound first: {_show(given[0])} is above {_show(given[1])}",
            )
        conditions.append(Condition(field=found, operator=operator, values=values, given=tuple(given)))
    return tuple(conditions)


def _operator(where: str, raw: Any, found: Field) -> Operator:
    if not isinstance(raw, str) or raw.upper() not in Operator.__members__:
        allowed = ", ".join(o.value for o in Operator)
        raise _invalid(f"{where}.operator", f"unknown operator {_show(raw)}; use one of {allowed}")
    operator = Operator(raw.upper())
    usable = OPERATORS_OF[found.kind]
    if operator not in usable:
        allowed = ", ".join(o.value for o in Operator if o in usable)
        raise _invalid(
            f"{where}.operator",
            f"operator {operator.value} does not apply to field {found.name} ({found.kind.value}); "
            f"use one of {allowed}",
        )
    return operator


def _check_arity(where: str, operator: Operator, given: list[Any]) -> None:
    count = len(given)
    if operator in _NULLS and count:
        raise _invalid(f"{where}.parameters", f"{operator.value} takes no parameters")
    if operator is Operator.BETWEEN and count != 2:
        raise _invalid(f"{where}.parameters", f"BETWEEN needs two parameters (lower and upper bound), got {count}")
    if operator in _ORDERING and count != 1:
        raise _invalid(f"{where}.parameters", f"{operator.value} needs exactly one parameter, got {count}")
    if operator in _ANY_OF | _PATTERNS and count == 0:
        raise _invalid(f"{where}.parameters", f"{operator.value} needs at least one parameter")
    if count > MAX_PARAMETERS:
        raise _invalid(f"{where}.parameters", f"at most {MAX_PARAMETERS} parameters per filter, got {count}")


def _show(raw: Any) -> str:
    if isinstance(raw, str):
        return repr(raw) if len(raw) <= 60 else repr(raw[:57] + "...")
    text = json.dumps(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(where: str, found: Field, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _invalid(where, f"{_show(raw)} is not a string for field {found.name}")
    if len(raw) > MAX_TEXT_PARAMETER:
        raise _invalid(where, f"a parameter for field {found.name} is longer than {MAX_TEXT_PARAMETER} characters")
    # PostgreSQL refuses NUL in text and lone surrogates are not UTF-8: neither can be stored, so neither matches.
    if "\x00" in raw or _unencodable(raw):
        raise _invalid(where, f"the parameter for field {found.name} contains characters text cannot hold")
    return raw


def _unencodable(raw: str) -> bool:
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _value(where: str, found: Field, raw: Any) -> Any:
    """A parameter converted to the field's type, or a 400 naming the field."""
    if found.kind is Kind.INTEGER:
        number = _whole(raw)
        if number is None:
            what = "a whole number" if isinstance(raw, float) else "a number"
            raise _invalid(where, f"{_show(raw)} is not {what} for field {found.name}")
        if not -_INT64 <= number < _INT64:
            raise _invalid(where, f"{_show(raw)} is out of range for field {found.name}")
        return number
    if found.kind is Kind.NUMBER:
        number_value: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number_value = float(raw)
        elif isinstance(raw, str):
            try:
                number_value = float(raw)
            except ValueError:
                number_value = None
        if number_value is None or not math.isfinite(number_value):
            raise _invalid(where, f"{_show(raw)} is not a number for field {found.name}")
        return number_value
    if found.kind is Kind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise _invalid(where, f"{_show(raw)} is not true or false for field {found.name}")
    if found.kind is Kind.DATETIME:
        return _datetime(where, found, raw)
    text = _text(where, found, raw)
    if found.kind is Kind.ENUM and text not in found.choices:
        raise _invalid(where, f"{_show(raw)} is not a value of field {found.name}; allowed: {', '.join(found.choices)}")
    return text


def _datetime(where: str, found: Field, raw: Any) -> datetime:
    problem = f"{_show(raw)} is not an ISO-8601 date-time for field {found.name} (e.g. 2024-05-01T12:00:00Z)"
    if not isinstance(raw, str):
        raise _invalid(where, problem)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise _invalid(where, problem) from None
    # A moment without a zone is read as UTC, the zone every timestamp of the API is written in.
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 lies before the year 1 in UTC
        raise _invalid(where, problem) from None


# --- text rules: patterns and case -------------------------------------------------------------------------

# Patterns reach SQL with our own escape character, whatever the client wrote, so that a client's
# backslashes or a trailing escape can never make the database refuse the pattern.
ESCAPE = "!"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_FOLD = str.maketrans(_UPPER, _LOWER)


def fold(text: str) -> str:
    """The case folding LIKE and CONTAINS use: A-Z to a-z, every other character unchanged."""
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Pattern:
    """A LIKE or CONTAINS parameter: a sequence of literal text, `%` (any run) and `_` (one character)."""

    tokens: tuple[str, ...]  # each token is "%", "_", or a literal character prefixed with "="

    def sql(self) -> str:
        """The case-folded LIKE pattern, escaped with ESCAPE."""
        out = []
        for token in self.tokens:
            if token in ("%", "_"):
                out.append(token)
            else:
                char = fold(token[1:])
                out.append(ESCAPE + char if char in ("%", "_", ESCAPE) else char)
        return "".join(out)

    def regex(self) -> re.Pattern[str]:
        """The same pattern as a Python regular expression over folded text (what the tests' oracle uses)."""
        parts = [".*" if t == "%" else "." if t == "_" else re.escape(fold(t[1:])) for t in self.tokens]
        return re.compile("".join(parts), re.DOTALL)


def like_pattern(text: str) -> Pattern:
    """A client's LIKE pattern: `%` and `_` are wildcards; `\\%`, `\\_` and `\\\\` stand for the character."""
    tokens: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "\\")  # a trailing backslash stands for itself
            tokens.append("=" + escaped)
        elif char in ("%", "_"):
            tokens.append(char)
        else:
            tokens.append("=" + char)
    return Pattern(tuple(tokens))


def contains_pattern(text: str) -> Pattern:
    """A CONTAINS parameter: every character literal, `%` and `_` included."""
    return Pattern(("%", *("=" + c for c in text), "%"))


def _pattern(where: str, found: Field, operator: Operator, raw: Any) -> Pattern:
    text = _text(where, found, raw)
    return like_pattern(text) if operator is Operator.LIKE else contains_pattern(text)


class code_point_order(FunctionElement[str]):
    """Text compared by Unicode code point: PostgreSQL's `COLLATE "C"`; SQLite's default already is."""

    inherit_cache = True
    type = String()


@compiles(code_point_order)
def _code_point_order_default(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(code_point_order, "postgresql")
def _code_point_order_postgresql(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


class ascii_fold(FunctionElement[str]):
    """Text with A-Z lowered and nothing else changed, on every backend (see `fold`)."""

    inherit_cache = True
    type = String()


@compiles(ascii_fold)
def _ascii_fold_default(element: ascii_fold, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's built-in lower() folds ASCII only (unless the ICU extension is loaded, which we never do).
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(ascii_fold, "postgresql")
def _ascii_fold_postgresql(element: ascii_fold, compiler: SQLCompiler, **kw: Any) -> str:
    # Under the C collation PostgreSQL's lower() treats only A-Z as letters, whatever the database's locale.
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


def _sortable(found: Field) -> ColumnElement[Any]:
    return code_point_order(found.column) if found.kind in (Kind.TEXT, Kind.ENUM) else found.column


def _criterion(condition: Condition) -> ColumnElement[bool]:
    column, operator, values = condition.field.column, condition.operator, condition.values
    if operator is Operator.IS_NULL:
        return column.is_(None)
    if operator is Operator.IS_NOT_NULL:
        return column.is_not(None)
    if operator in (Operator.EQUAL, Operator.IN):
        return column == values[0] if len(values) == 1 else column.in_(values)
    if operator in (Operator.NOT_EQUAL, Operator.NOT_IN):
        differs = column != values[0] if len(values) == 1 else column.not_in(values)
        return or_(column.is_(None), differs)
    if operator in _PATTERNS:
        folded = ascii_fold(column)
        return or_(*(folded.like(p.sql(), escape=ESCAPE) for p in values))
    ordered = _sortable(condition.field)
    compared: ColumnElement[bool]
    if operator is Operator.LESS:
        compared = ordered < values[0]
    elif operator is Operator.LESS_OR_EQUAL:
        compared = ordered <= values[0]
    elif operator is Operator.GREATER:
        compared = ordered > values[0]
    elif operator is Operator.GREATER_OR_EQUAL:
        compared = ordered >= values[0]
    else:
        assert operator is Operator.BETWEEN
        compared = ordered.between(values[0], values[1])
    return compared

"""What the aggregate queries compute (per-arm, per-key sufficient statistics) and the SQL pieces they share.

A report's queries read either the raw events (`from_events`) or the rollups ingestion keeps
(`from_rollups`); both select a report's visitors, their breakdown key and their deviation period with the
expressions below, applied to the exposure row (`tracking_exposures`) or to its copy in a rollup row
(`tracking_visitor_goals`), which carry the same column names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Text, and_, case, cast, false, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from versicolor.db.models import TrackingExposure, TrackingVisitorGoal
from versicolor.results.request import Attribute, BreakdownType, DateInterval, Filter, Interval, ReportRequest

# The key of units that did not send the attribute a report is broken down by.
UNKNOWN_KEY = "_unknown"

# A table holding a visitor's exposure: the exposure itself, or a rollup row's copy of it.
Source = type[TrackingExposure] | type[TrackingVisitorGoal]


@dataclass(frozen=True)
class Scope:
    """What to aggregate: one experiment's visitors and these goals, as `request` says.

    `periods` are the moments the experiment's deviations changed: visitors are also counted per period
    (0 before the first moment, i after the i-th), for the sample-ratio check.
    """

    experiment_id: int
    goal_ids: tuple[int, ...]
    request: ReportRequest
    periods: tuple[datetime, ...] = ()


@dataclass
class Units:
    """One arm's units in one key: visitors, their visits, and the sum over visitors of visits squared."""

    visitors: int = 0
    visits: int = 0
    visits_squared: int = 0

    def add(self, other: Units) -> None:
        """Add another key's units to these (the totals over keys)."""
        self.visitors += other.visitors
        self.visits += other.visits
        self.visits_squared += other.visits_squared


@dataclass
class GoalSums:
    """One goal in one arm and key: sums over visitors of post-exposure values, and their cross terms.

    k is a visitor's number of conversions, cv its converted visits (per-visit reports only), v its visits,
    pre its conversions before exposure (CUPED only). `converted_visitors` counts visitors with k > 0.
    """

    converted_visitors: int = 0
    conversions: int = 0  # sum k
    conversions_squared: int = 0  # sum k^2
    converted_visits: int = 0  # sum cv (per visitor: the converted visitors)
    converted_visits_squared: int = 0  # sum cv^2
    conversions_by_visits: int = 0  # sum k v
    converted_visits_by_visits: int = 0  # sum cv v
    revenue: float = 0.0
    pre_conversions: int = 0  # sum pre
    pre_conversions_squared: int = 0  # sum pre^2
    pre_converted_visitors: int = 0  # visitors with pre > 0
    conversions_pre: int = 0  # sum k pre
    converted_pre: int = 0  # visitors with k > 0 and pre > 0

    def add(self, other: GoalSums) -> None:
        """Add another key's sums to these (the totals over keys)."""
        for name in SUM_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


SUM_FIELDS = tuple(GoalSums.__dataclass_fields__)


@dataclass
class Aggregates:
    """Every figure a report needs, keyed by arm (variation id as a string, "0" the original) and breakdown
    key ("" without a breakdown)."""

    units: dict[tuple[str, str], Units] = field(default_factory=dict)
    goals: dict[tuple[str, str, int], GoalSums] = field(default_factory=dict)
    # Visitors per arm and deviation period.
    units_per_period: dict[tuple[str, int], int] = field(default_factory=dict)


# One aggregate query: it runs in the session given and adds its figures to the Aggregates.
Query = Callable[[AsyncSession, Scope, str, Aggregates], Awaitable[None]]


def in_intervals(column: Any, intervals: Sequence[DateInterval]) -> ColumnElement[bool]:
    """The moment falls in one of the intervals (always true without any)."""
    if not intervals:
        return true()
    return or_(*(and_(column >= i.start, column < i.end) for i in intervals))


def _attribute(source: Source, attribute: Attribute) -> QueryableAttribute[Any]:
    columns: dict[Attribute, QueryableAttribute[Any]] = {
        Attribute.DEVICE_TYPE: source.device_type,
        Attribute.BROWSER: source.browser,
        Attribute.COUNTRY: source.country,
        Attribute.NEW_VISITOR: source.new_visitor,
    }
    return columns[attribute]


def _filter_condition(flt: Filter, source: Source) -> ColumnElement[bool]:
    column = _attribute(source, flt.type)
    values: list[Any] = [v == "true" for v in flt.values] if flt.type is Attribute.NEW_VISITOR else list(flt.values)
    if flt.include:
        return column.in_(values)
    # Excluding a value keeps the units that did not send the attribute at all.
    return or_(column.is_(None), column.not_in(values))


def visitor_conditions(scope: Scope, source: Source = TrackingExposure) -> list[ColumnElement[bool]]:
    """The experiment's visitors whose first exposure falls in the report's dates and passes its filters."""
    request = scope.request
    return [
        source.experiment_id == scope.experiment_id,
        in_intervals(source.timestamp, request.date_intervals),
        *(_filter_condition(f, source) for f in request.filters),
    ]


def _bucket(interval: Interval, dialect: str, source: Source) -> ColumnElement[Any]:
    # Constants are written into the SQL, not bound: PostgreSQL must see the same expression in SELECT and
    # GROUP BY.
    if dialect == "postgresql":
        unit = {
            Interval.HOUR: "hour",
            Interval.DAY: "day",
            Interval.WEEK: "week",
            Interval.MONTH: "month",
            Interval.YEAR: "year",
        }[interval]
        # date_trunc on a timestamptz follows the session's zone; reports are in UTC whatever the server's.
        utc = func.timezone(literal_column("'UTC'"), source.timestamp)
        # Grouped as a timestamp and written out in Python (`key_of`): to_char on every row cost a million-visitor
        # daily report about half its time.
        return func.date_trunc(literal_column(f"'{unit}'"), utc)
    if interval is Interval.WEEK:
        # 'weekday 0' moves forward to Sunday (or stays there); six days back is that week's Monday.
        return func.strftime(
            literal_column("'%Y-%m-%d 00:00:00'"),
            source.timestamp,
            literal_column("'weekday 0'"),
            literal_column("'-6 days'"),
        )
    pattern = {
        Interval.HOUR: "%Y-%m-%d %H:00:00",
        Interval.DAY: "%Y-%m-%d 00:00:00",
        Interval.MONTH: "%Y-%m-01 00:00:00",
        Interval.YEAR: "%Y-01-01 00:00:00",
    }
    return func.strftime(literal_column(f"'{pattern[interval]}'"), source.timestamp)


def _custom_datum(index: int, dialect: str) -> ColumnElement[Any]:
    """The text of the value the first exposure carried for custom datum `index`: a string as it is, a number
    or a boolean as JSON writes it; NULL when it carried none, or an empty string.

    The index is an integer checked by the request, written into the SQL (see `_bucket`).
    """
    column = TrackingExposure.custom_data
    if dialect == "postgresql":
        # ->> on json gives exactly that text (a string unquoted, true/false, the number as sent).
        value = column.op("->>")(literal_column(f"'{index}'"))
        return func.nullif(value, literal_column("''"))
    # SQLite's json_extract turns true into 1: the JSON type says which text to give.
    path: ColumnElement[str] = literal_column(f"'$.\"{index}\"'")
    kind = func.json_type(column, path)
    extracted = func.json_extract(column, path)
    return case(
        (kind == literal_column("'true'"), literal_column("'true'")),
        (kind == literal_column("'false'"), literal_column("'false'")),
        (kind.in_([literal_column("'integer'"), literal_column("'real'")]), cast(extracted, Text)),
        (kind == literal_column("'null'"), None),
        else_=func.nullif(extracted, literal_column("''")),
    )


def needs_exposure(scope: Scope) -> bool:
    """The breakdown key is only on the exposure row, not on its copies in the rollups (custom data)."""
    breakdown = scope.request.breakdown
    return breakdown is not None and breakdown.type is BreakdownType.CUSTOM_DATUM


def key(scope: Scope, dialect: str, source: Source = TrackingExposure) -> ColumnElement[Any] | None:
    """The visitor's breakdown key, from its first exposure (None without a breakdown).

    A custom datum key is read from the exposure row itself whatever `source` is: a query over the rollups
    joins the exposure when `needs_exposure`.
    """
    breakdown = scope.request.breakdown
    if breakdown is None:
        return None
    if breakdown.type is BreakdownType.INTERVAL:
        assert breakdown.interval is not None
        return _bucket(breakdown.interval, dialect, source)
    if breakdown.type is BreakdownType.CUSTOM_DATUM:
        assert breakdown.index is not None
        return _custom_datum(breakdown.index, dialect)
    column = _attribute(source, Attribute(breakdown.type.value))
    if breakdown.type is BreakdownType.NEW_VISITOR:
        return case(
            (column.is_(None), None), (column == false(), literal_column("'false'")), else_=literal_column("'true'")
        )
    return column.expression


def key_of(raw: Any, scope: Scope) -> str:
    """The breakdown key a query returned, as the report shows it ("" without a breakdown)."""
    breakdown = scope.request.breakdown
    if breakdown is None:
        return ""
    if raw is None:
        return UNKNOWN_KEY
    if breakdown.type is BreakdownType.INTERVAL:
        # A naive UTC timestamp from PostgreSQL, or SQLite's text of the same form.
        moment = raw.strftime("%Y-%m-%d %H:%M:%S") if isinstance(raw, datetime) else str(raw)
        return moment.replace(" ", "T") + "Z"
    if breakdown.type is BreakdownType.CUSTOM_DATUM:
        return custom_datum_key(str(raw))
    return str(raw)


def custom_datum_key(value: str) -> str:
    """A custom datum's value as a breakdown key: as it is, except that a value beginning with "_" gets one more,
    so that no value can be taken for `_reference` or `_unknown` (and two values never share a key)."""
    return "_" + value if value.startswith("_") else value


def key_of_row(values: Any, scope: Scope) -> str:
    """The breakdown key of a result row with an optional "key" column."""
    return key_of(values.get("key"), scope)


def period(scope: Scope) -> ColumnElement[int] | None:
    """The deviation period of the visitor's first exposure (None when deviations never changed)."""
    if not scope.periods:
        return None
    return case(
        *((TrackingExposure.timestamp < moment, index) for index, moment in enumerate(scope.periods)),
        else_=len(scope.periods),
    )


def groups(source: Any, *names: str) -> list[Any]:
    """The columns of a subquery among `names` it has (a key or period only when the report asks for one)."""
    return [source.c[name] for name in names if name in source.c]


async def add_per_visitor_goal_sums(session: AsyncSession, rows: Any, scope: Scope, result: Aggregates) -> None:
    """Sum `rows`, one per visitor and goal (columns arm, key when broken down, goal_id, k the counted
    conversions, pre the pre-exposure ones, revenue), per arm, key and goal into `result`."""
    grouped = [*groups(rows, "arm", "key"), rows.c.goal_id]
    columns = _per_visitor_goal_columns(rows.c.k, rows.c.pre, rows.c.revenue)
    for row in await session.execute(select(*grouped, *columns).group_by(*grouped)):
        values = row._mapping
        sums = goal_sums(values)
        # Per visitor, a converted unit is a converted visitor.
        sums.converted_visits = sums.converted_visitors
        result.goals[(str(values["arm"]), key_of_row(values, scope), int(values["goal_id"]))] = sums


def _per_visitor_goal_columns(k: Any, pre: Any, revenue: Any) -> list[Any]:
    converted = case((k > 0, 1), else_=0)
    pre_converted = case((pre > 0, 1), else_=0)
    return [
        func.sum(converted).label("converted_visitors"),
        func.sum(k).label("conversions"),
        func.sum(k * k).label("conversions_squared"),
        func.sum(cast(revenue, Float)).label("revenue"),
        func.sum(pre).label("pre_conversions"),
        func.sum(pre * pre).label("pre_conversions_squared"),
        func.sum(pre_converted).label("pre_converted_visitors"),
        func.sum(k * pre).label("conversions_pre"),
        func.sum(converted * pre_converted).label("converted_pre"),
    ]


def per_visit_goal_columns(k: Any, cv: Any, v: Any, revenue: Any) -> list[Any]:
    """The per-visit sums of one goal over rows of one converted visitor each: k counted conversions, cv
    converted visits, v counted visits and revenue."""
    return [
        func.count().label("converted_visitors"),
        func.sum(k).label("conversions"),
        func.sum(k * k).label("conversions_squared"),
        func.sum(cast(revenue, Float)).label("revenue"),
        func.sum(cv).label("converted_visits"),
        func.sum(cv * cv).label("converted_visits_squared"),
        func.sum(k * v).label("conversions_by_visits"),
        func.sum(cv * v).label("converted_visits_by_visits"),
    ]


def goal_sums(values: Any) -> GoalSums:
    """A result row's sums (those it has; the others stay 0)."""
    sums = GoalSums()
    for name in SUM_FIELDS:
        if values.get(name) is not None:
            setattr(sums, name, float(values[name]) if name == "revenue" else int(values[name]))
    return sums

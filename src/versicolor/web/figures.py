"""A report's data as the experiment page shows it: per goal and variation the figures, the interval drawn to
scale, the p-value or chance to win, and a verdict in plain words; the sample ratio check and the winner said
as sentences; the series the chart over time draws."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from versicolor.web.reports import ByDatum, Count, Method, Options, Unit

REFERENCE = "0"  # the arm every report the dashboard asks for compares with: the original
TOTAL_KEY = "_reference"
SIGNIFICANT = 0.05  # the report's alpha: a reliability of 95
SURE = 95.0  # a chance to win (in percent) that counts as sure, and 100 - SURE as surely worse
UNKNOWN_KEY = "_unknown"


@dataclass(frozen=True)
class Arm:
    """An arm of the experiment as the page names it: the original or a variation."""

    key: str  # "0" for the original, else the variation id
    name: str
    colour: int  # an index into the page's palette (CSS classes arm-0 ... arm-7)


@dataclass(frozen=True)
class Verdict:
    """What a comparison means, in words, and its tone (`better`, `worse`, `unclear`, `none`, `reference`)."""

    text: str
    tone: str


@dataclass(frozen=True)
class Bar:
    """An interval on the goal's common scale, in percent of the drawing's width (0 to 100)."""

    low: float
    high: float
    mark: float  # the improvement
    zero: float


@dataclass(frozen=True)
class Row:
    """One arm's figures on one goal."""

    arm: Arm
    units: int
    conversions: float
    rate: float
    improvement: float | None
    interval: tuple[float, float] | None
    p_value: float | None
    chance: float | None
    verdict: Verdict
    bar: Bar | None


@dataclass(frozen=True)
class GoalTable:
    """Every arm's figures on one goal, with the scale their intervals are drawn on (± `scale` percent)."""

    goal_id: int
    name: str
    main: bool
    rows: list[Row]
    scale: float


@dataclass(frozen=True)
class Point:
    """One day of the chart for one arm: the cumulative rate, and the improvement with its interval."""

    day: str
    rate: float
    improvement: float | None
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class Series:
    """One arm's line over time."""

    arm: Arm
    points: list[Point]


@dataclass
class BreakdownRow:
    """One breakdown key's figures on one goal."""

    key: str
    label: str
    rows: list[Row] = field(default_factory=list)


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _pair(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, Mapping):
        return None
    low, high = _finite(value.get("lower")), _finite(value.get("upper"))
    return None if low is None or high is None else (low, high)


def nice_scale(largest: float) -> float:
    """A round bound at least `largest` (1, 2, 5, 10, 20, 50, ...), so the axis reads easily."""
    if largest <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if largest <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _verdict(
    options: Options, units: int, base_units: int, improvement: float | None, interval: Any, p: Any, chance: Any
) -> Verdict:
    if not units or not base_units or improvement is None or interval is None:
        return Verdict("Not enough data to compare", "none")
    if options.method is Method.BAYESIAN:
        if chance is None:
            return Verdict("Not enough data to compare", "none")
        if chance >= SURE:
            return Verdict(f"Better, {chance:.0f}% sure", "better")
        if chance <= 100 - SURE:
            return Verdict(f"Worse, {100 - chance:.0f}% sure", "worse")
        return Verdict("Too close to call yet", "unclear")
    if p is not None and p <= SIGNIFICANT:
        return Verdict("Significantly better", "better") if improvement > 0 else Verdict("Significantly worse", "worse")
    return Verdict("No significant difference yet", "unclear")


def _row(arm: Arm, general: Mapping[str, Any], goal_id: int, options: Options, base_units: int) -> Row:
    goal = general.get("goalsData", {}).get(str(goal_id), {})
    units = int(general.get("visitorCount" if options.unit is Unit.VISITORS else "visitCount", 0))
    converted = options.count is Count.CONVERTED
    conversions = float(goal.get("convertedVisitCount" if converted else "conversionCount", 0))
    improvement = _finite(goal.get("improvementRate"))
    reliability = _finite(goal.get("reliability"))
    p = None if reliability is None else max(0.0, 1.0 - reliability / 100.0)
    chance = _finite(goal.get("chanceToBeatReference")) if options.method is Method.BAYESIAN else None
    if options.method is Method.BAYESIAN:
        interval = _pair(goal.get("credibleInterval"))
    else:
        interval = _pair(goal.get("confidenceInterval"))
    if arm.key == REFERENCE:
        verdict = Verdict("Reference", "reference")
    else:
        verdict = _verdict(options, units, base_units, improvement, interval, p, chance)
    return Row(
        arm=arm,
        units=units,
        conversions=conversions,
        rate=_finite(goal.get("conversionRate")) or 0.0,
        improvement=improvement,
        interval=interval,
        p_value=p,
        chance=chance,
        verdict=verdict,
        bar=None,
    )


def _with_bars(rows: list[Row]) -> tuple[list[Row], float]:
    bounds = [abs(b) for row in rows if row.interval for b in row.interval]
    bounds += [abs(row.improvement) for row in rows if row.improvement is not None and row.arm.key != REFERENCE]
    scale = nice_scale(max(bounds, default=1.0))

    def at(value: float) -> float:
        return max(0.0, min(100.0, 50.0 + 50.0 * value / scale))

    drawn = []
    for row in rows:
        bar = None
        if row.interval is not None and row.improvement is not None:
            bar = Bar(low=at(row.interval[0]), high=at(row.interval[1]), mark=at(row.improvement), zero=50.0)
        drawn.append(replace(row, bar=bar))
    return drawn, scale


def _general(data: Mapping[str, Any], arm: str, key: str, part: str = "generalData") -> Mapping[str, Any]:
    found: Mapping[str, Any] = (
        data.get("variationData", {}).get(arm, {}).get("breakdownData", {}).get(key, {}).get(part, {})
    )
    return found


def arms_of(data: Mapping[str, Any], names: Mapping[str, str]) -> list[Arm]:
    """The report's arms in its order, named (a variation that left the experiment keeps its id as name)."""
    return [
        Arm(key=key, name=names.get(key, f"Variation {key} (removed)"), colour=index % 8)
        for index, key in enumerate(data.get("variationData", {}))
    ]


def goal_tables(
    data: Mapping[str, Any],
    arms: Sequence[Arm],
    goals: Sequence[tuple[int, str]],
    main_goal_id: int | None,
    options: Options,
) -> list[GoalTable]:
    """Per goal (main goal first), every arm's totals."""
    ordered = sorted(goals, key=lambda goal: goal[0] != main_goal_id)
    tables = []
    for goal_id, name in ordered:
        base_units = int(_general(data, REFERENCE, TOTAL_KEY).get("visitorCount", 0))
        rows = [_row(arm, _general(data, arm.key, TOTAL_KEY), goal_id, options, base_units) for arm in arms]
        drawn, scale = _with_bars(rows)
        tables.append(GoalTable(goal_id=goal_id, name=name, main=goal_id == main_goal_id, rows=drawn, scale=scale))
    return tables


def total_units(data: Mapping[str, Any]) -> int:
    """Visitors in the report, every arm."""
    return sum(int(_general(data, arm, TOTAL_KEY).get("visitorCount", 0)) for arm in data.get("variationData", {}))


def series(data: Mapping[str, Any], arms: Sequence[Arm], goal_id: int, options: Options) -> list[Series]:
    """Per arm, its cumulative figures on `goal_id` day by day (the keys of a cumulative daily report)."""
    days = sorted(
        key for key in data.get("variationData", {}).get(REFERENCE, {}).get("breakdownData", {}) if key != TOTAL_KEY
    )
    lines = []
    for arm in arms:
        points = []
        for day in days:
            general = _general(data, arm.key, day, "cumulativeData")
            row = _row(arm, general, goal_id, options, 1)
            points.append(Point(day=day[:10], rate=row.rate, improvement=row.improvement, interval=row.interval))
        lines.append(Series(arm=arm, points=points))
    return lines


def key_label(key: str, options: Options) -> str:
    """A breakdown key in words; a custom datum's value as the visitor's page sent it."""
    if key == UNKNOWN_KEY:
        return "Not recorded"
    if isinstance(options.breakdown, ByDatum):
        # The report gives a value beginning with "_" one more "_", apart from its own _reference and _unknown.
        return key[1:] if key.startswith("_") else key
    if options.breakdown.value == "new_visitor":
        return "New visitors" if key == "true" else "Returning visitors"
    if options.breakdown.value == "day":
        return key[:10]
    return key.replace("_", " ").capitalize() if key.isupper() and len(key) > 2 else key


def breakdown(data: Mapping[str, Any], arms: Sequence[Arm], goal_id: int, options: Options) -> list[BreakdownRow]:
    """Per breakdown key, every arm's figures on `goal_id` (compared within the key)."""
    keys = display_order(data.get("variationData", {}).get(REFERENCE, {}).get("breakdownData", {}))
    found = []
    for key in keys:
        base_units = int(_general(data, REFERENCE, key).get("visitorCount", 0))
        rows = [_row(arm, _general(data, arm.key, key), goal_id, options, base_units) for arm in arms]
        drawn, _ = _with_bars(rows)
        found.append(BreakdownRow(key=key, label=key_label(key, options), rows=drawn))
    return found


def display_order(keys: Collection[str]) -> list[str]:
    """A report's breakdown keys as the page lists them: numbers (a NUMBER custom datum's values) by value, "7"
    before "10", then the rest by text, and the visitors with no value last; the total is not a key."""

    def rank(key: str) -> tuple[int, float, str]:
        try:
            number = float(key)
        except ValueError:
            return (1, 0.0, key)
        return (0, number, key) if math.isfinite(number) else (1, 0.0, key)

    ordered = sorted((key for key in keys if key not in (TOTAL_KEY, UNKNOWN_KEY)), key=rank)
    return [*ordered, UNKNOWN_KEY] if UNKNOWN_KEY in keys else ordered


@dataclass(frozen=True)
class SampleRatio:
    """The sample ratio check in words: flagged or not, and per arm the visitors seen against expected."""

    flagged: bool
    p_value: float | None
    lines: list[tuple[str, int, float]]


def sample_ratio(data: Mapping[str, Any], arms: Sequence[Arm]) -> SampleRatio:
    """The report's sample ratio check."""
    srm = data.get("srm") or {}
    observed, expected = srm.get("observedVisitors", {}), srm.get("expectedVisitors", {})
    lines = [(arm.name, int(observed.get(arm.key, 0)), float(expected.get(arm.key, 0.0))) for arm in arms]
    return SampleRatio(flagged=bool(srm.get("flagged")), p_value=_finite(srm.get("pValue")), lines=lines)


@dataclass(frozen=True)
class Winner:
    """The winner in words, or why there is none."""

    arm: Arm | None
    goal_name: str
    improvement: float | None
    reliability: float | None
    reason: str | None


def winner(data: Mapping[str, Any], arms: Sequence[Arm], goal_names: Mapping[int, str]) -> Winner:
    """The report's winner on the main goal, or its reason for having none."""
    found = data.get("winner")
    by_key = {arm.key: arm for arm in arms}
    if isinstance(found, Mapping):
        goal_id = int(found.get("goalId", 0))
        return Winner(
            arm=by_key.get(str(found.get("variationId"))),
            goal_name=goal_names.get(goal_id, f"goal {goal_id}"),
            improvement=_finite(found.get("improvementRate")),
            reliability=_finite(found.get("reliability")),
            reason=None,
        )
    reason = data.get("winnerReasonMessage") or "no variation is significantly better yet"
    return Winner(arm=None, goal_name="", improvement=None, reliability=None, reason=str(reason))

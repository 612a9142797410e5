"""The chart over time as SVG geometry: lines, interval bands, axes and ticks in the drawing's coordinates.

The page draws it with plain SVG elements and presentation attributes (no script, no inline style), so it
works under the dashboard's Content-Security-Policy and needs no charting library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from versicolor.web.figures import REFERENCE, Arm, Series
from versicolor.web.rendering import signed_percent

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 14, 40
MAX_MARKED_POINTS = 62  # beyond this, points are drawn as a line only


@dataclass(frozen=True)
class Line:
    """One arm's line (`points` in SVG coordinates) and, for improvements, its interval band."""

    arm: Arm
    points: str
    band: str | None
    marks: list[tuple[float, float]]


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis."""

    at: float
    label: str


@dataclass(frozen=True)
class Drawing:
    """Everything the template draws."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    zero: float | None
    days: int


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / count if span > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _range(values: Sequence[float], *, floor_zero: bool) -> tuple[float, float]:
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if floor_zero:
        low = min(low, 0.0)
    else:
        low, high = min(low, 0.0), max(high, 0.0)  # an improvement chart always shows zero
    if high - low < 1e-9:
        high = low + 1.0
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def draw(lines: Sequence[Series], *, improvement: bool) -> Drawing:
    """The drawing of `lines`: cumulative improvements with their intervals, or cumulative rates."""
    shown = [s for s in lines if s.arm.key != REFERENCE] if improvement else list(lines)
    days = max((len(s.points) for s in shown), default=0)
    values: list[float] = []
    for s in shown:
        for index, point in enumerate(s.points):
            value = point.improvement if improvement else point.rate
            if value is not None:
                values.append(value)
            # The first days' intervals are wide; the axis follows the later half, and bands are clipped.
            if improvement and point.interval is not None and index >= len(s.points) // 2:
                values.extend(point.interval)
    low, high = _range(values, floor_zero=not improvement)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (days - 1) if days > 1 else plot_w / 2)

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return round(TOP + plot_h * (high - clipped) / (high - low), 1)

    drawn = []
    for s in shown:
        coordinates: list[tuple[float, float]] = []
        upper: list[tuple[float, float]] = []
        lower: list[tuple[float, float]] = []
        for index, point in enumerate(s.points):
            value = point.improvement if improvement else point.rate
            if value is None:
                continue
            coordinates.append((round(x(index), 1), y(value)))
            if improvement and point.interval is not None:
                upper.append((round(x(index), 1), y(point.interval[1])))
                lower.append((round(x(index), 1), y(point.interval[0])))
        band = None
        if len(upper) > 1:
            band = " ".join(f"{a},{b}" for a, b in [*upper, *reversed(lower)])
        drawn.append(
            Line(
                arm=s.arm,
                points=" ".join(f"{a},{b}" for a, b in coordinates),
                band=band,
                marks=coordinates if len(coordinates) <= MAX_MARKED_POINTS else [],
            )
        )
    step = _nice_step(high - low)
    y_ticks = []
    value = low
    while value <= high + step / 2:
        label = signed_percent(value, 0 if step >= 1 else 1) if improvement else f"{value:.{0 if step >= 1 else 1}f}%"
        y_ticks.append(Tick(at=y(value), label=label))
        value += step
    labels = [s.points for s in shown if s.points]
    x_ticks: list[Tick] = []
    if labels and days:
        every = max(1, math.ceil(days / 6))
        x_ticks = [Tick(at=round(x(i), 1), label=labels[0][i].day[5:]) for i in range(0, days, every)]
    return Drawing(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        lines=drawn,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        zero=y(0.0) if improvement else None,
        days=days,
    )

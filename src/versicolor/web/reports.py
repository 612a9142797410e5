"""The results reports a page shows: what its switches ask for, and a stored report that answers it.

A page does not compute a report on every view. It shows the newest report of the experiment asked the same
way in the last `FRESH_FOR` (any user's: reports are the account's), and asks for a new one only when there is
none or the user presses Refresh. A new report is computed by the results service, as the API's are; the page
waits up to `WAIT` for it and otherwise says it is being computed (and reloads itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from versicolor.core import custom_data
from versicolor.core.errors import Invalid
from versicolor.core.roles import Principal
from versicolor.core.segments.conditions import MAX_CUSTOM_DATA_INDEX
from versicolor.db.models.results import ResultReport
from versicolor.db.types import utcnow
from versicolor.results import store
from versicolor.results.callbacks import CallbackSender
from versicolor.results.request import BreakdownType, ConversionType, Interval, ReportRequest
from versicolor.runtime import Runtime

FRESH_FOR = timedelta(minutes=10)
WAIT = 5.0  # seconds a page waits for a report before it says "being computed"
# Reports the dashboard asks for have no callback URL: the sender is never used to deliver anything.
_NO_CALLBACKS = CallbackSender()


class Method(StrEnum):
    """How variations are compared."""

    FREQUENTIST = "frequentist"
    SEQUENTIAL = "sequential"
    BAYESIAN = "bayesian"


class Unit(StrEnum):
    """What a rate is per."""

    VISITORS = "visitors"
    VISITS = "visits"


class Count(StrEnum):
    """What a goal's rate counts."""

    ALL = "all"
    CONVERTED = "converted"


class Split(StrEnum):
    """How the results are broken down ("" for not at all)."""

    NONE = ""
    DAY = "day"
    DEVICE = "device"
    BROWSER = "browser"
    COUNTRY = "country"
    NEW_VISITOR = "new_visitor"


@dataclass(frozen=True)
class ByDatum:
    """A breakdown by the value of one of the site's UNIQUE custom data: `custom:<index>` in a query string."""

    index: int

    PREFIX = "custom:"

    @property
    def value(self) -> str:
        """The query string's word for it, as `Split.value` is."""
        return f"{self.PREFIX}{self.index}"

    def __str__(self) -> str:
        return self.value


class Chart(StrEnum):
    """What the chart over time draws."""

    IMPROVEMENT = "improvement"
    RATE = "rate"


_SPLIT_TYPES = {
    Split.DEVICE: BreakdownType.DEVICE_TYPE,
    Split.BROWSER: BreakdownType.BROWSER,
    Split.COUNTRY: BreakdownType.COUNTRY,
    Split.NEW_VISITOR: BreakdownType.NEW_VISITOR,
}
_COUNTS = {Count.ALL: ConversionType.ALL_CONVERSION, Count.CONVERTED: ConversionType.CONVERTED_VISITS}
_SWITCHES = ("method", "count", "unit", "cuped", "breakdown", "chart", "goal")
_WORDS: dict[str, type[StrEnum]] = {
    "method": Method,
    "count": Count,
    "unit": Unit,
    "breakdown": Split,
    "chart": Chart,
}


def _choice(params: Mapping[str, str], name: str) -> Any:
    kind = _WORDS[name]
    raw = params.get(name)
    if raw is None:
        return next(iter(kind))
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind if member.value)
        more = f" or {ByDatum.PREFIX}<index> (a UNIQUE custom datum of the site)" if kind is Split else ""
        raise Invalid.field(name, f"{raw[:40]!r} is not one of {allowed}{more}") from None


def _breakdown(params: Mapping[str, str]) -> Split | ByDatum:
    raw = params.get("breakdown", "")
    if not raw.startswith(ByDatum.PREFIX):
        split: Split = _choice(params, "breakdown")
        return split
    index = raw.removeprefix(ByDatum.PREFIX)
    if not (index.isascii() and index.isdigit() and len(index) <= 3):
        raise Invalid.field(
            "breakdown",
            f"{raw[:40]!r} does not name a custom datum: {ByDatum.PREFIX} is followed by its index, "
            f"0 to {MAX_CUSTOM_DATA_INDEX}",
        )
    return ByDatum(int(index))


@dataclass(frozen=True)
class Options:
    """The results switches of the experiment page (its query string); the defaults are the API's."""

    method: Method = Method.FREQUENTIST
    count: Count = Count.ALL
    unit: Unit = Unit.VISITORS
    cuped: bool = False
    breakdown: Split | ByDatum = Split.NONE
    chart: Chart = Chart.IMPROVEMENT
    goal: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Options:
        """The switches a query string sets; raises Invalid naming a value that is not one of the choices.

        Whether a `custom:<index>` breakdown names a UNIQUE custom datum of the experiment's site is the page's
        to check, with `Breakdowns.chosen`: the query string alone cannot say.
        """
        unknown = sorted(set(params) - set(_SWITCHES) - {"changed"})
        if unknown:
            raise Invalid.field(unknown[0][:40], f"is not a switch of this page; it has {', '.join(_SWITCHES)}")
        cuped = params.get("cuped", "")
        if cuped not in ("", "on"):
            raise Invalid.field("cuped", "is 'on' or left out")
        goal = params.get("goal") or None
        if goal is not None and not (goal.isascii() and goal.isdigit() and len(goal) <= 19):
            raise Invalid.field("goal", f"{goal[:40]!r} is not a goal id")
        options = cls(
            method=_choice(params, "method"),
            count=_choice(params, "count"),
            unit=_choice(params, "unit"),
            cuped=cuped == "on",
            breakdown=_breakdown(params),
            chart=_choice(params, "chart"),
            goal=int(goal) if goal else None,
        )
        if options.cuped and options.unit is Unit.VISITS:
            raise Invalid.field("cuped", "compares each visitor with their own past: it works per visitor only")
        return options

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string that asks for these switches (with `changes`), leaving out the defaults."""
        wanted = replace(self, **changes)
        default = Options()
        params: dict[str, str] = {}
        for name in _SWITCHES:
            value = getattr(wanted, name)
            if value != getattr(default, name):
                params[name] = "on" if value is True else str(value)
        return params

    def _request(self, goal_ids: Sequence[int], **breakdown: Any) -> ReportRequest:
        return ReportRequest.build(
            visitor_data=self.unit is Unit.VISITORS,
            conversion_type=_COUNTS[self.count],
            sequential_testing=self.method is Method.SEQUENTIAL,
            bayesian=self.method is Method.BAYESIAN,
            cuped_goal_ids=list(goal_ids) if self.cuped else None,
            **breakdown,
        )

    def over_time(self, goal_ids: Sequence[int]) -> ReportRequest:
        """The page's main report: every goal, day by day and cumulated (the totals are its `_reference`)."""
        return self._request(
            goal_ids, breakdown_type=BreakdownType.INTERVAL, breakdown_interval=Interval.DAY, cumulative=True
        )

    def by_attribute(self, goal_ids: Sequence[int]) -> ReportRequest | None:
        """The report of the chosen breakdown by a visitor attribute or a custom datum, if one is chosen."""
        if isinstance(self.breakdown, ByDatum):
            return self._request(
                goal_ids, breakdown_type=BreakdownType.CUSTOM_DATUM, breakdown_index=self.breakdown.index
            )
        kind = _SPLIT_TYPES.get(self.breakdown)
        return None if kind is None else self._request(goal_ids, breakdown_type=kind)


@dataclass(frozen=True)
class Choice:
    """A breakdown the page offers: its query value, its label in the select, and what its table is "by"."""

    value: str
    label: str
    by: str  # the table's heading says "<goal> by <by>"
    column: str  # the header of the table's first column, the keys


FIXED_CHOICES = (
    Choice(Split.NONE.value, "None", "", ""),
    Choice(Split.DAY.value, "Day", "day", "Day"),
    Choice(Split.DEVICE.value, "Device", "device", "Device"),
    Choice(Split.BROWSER.value, "Browser", "browser", "Browser"),
    Choice(Split.COUNTRY.value, "Country", "country", "Country"),
    Choice(Split.NEW_VISITOR.value, "New or returning", "new or returning visitor", "New visitor"),
)


@dataclass(frozen=True)
class Breakdowns:
    """The breakdowns an experiment's page offers: the fixed ones, then one per UNIQUE custom datum of its site
    (by index); `refused` says why each of the site's other custom data is not offered."""

    choices: tuple[Choice, ...]
    refused: Mapping[int, str]

    def chosen(self, options: Options) -> Choice:
        """The offered breakdown `options` ask for; raises Invalid naming `breakdown` when it is not offered."""
        wanted = options.breakdown
        found = next((choice for choice in self.choices if choice.value == wanted.value), None)
        if found is not None:
            return found
        # Every Split is offered: only a custom datum can be missing.
        assert isinstance(wanted, ByDatum)
        why = self.refused.get(wanted.index, f"the site has no custom datum at index {wanted.index}")
        offered = ", ".join(f"{c.value} ({c.by})" for c in self.choices if c.value.startswith(ByDatum.PREFIX))
        raise Invalid.field(
            "breakdown",
            f"{wanted.value!r} cannot break these results down: {why}. The site's custom data that can: "
            f"{offered or 'none yet (a custom datum of type UNIQUE can)'}",
        )


async def breakdowns(*, session: AsyncSession, principal: Principal, site_id: int) -> Breakdowns:
    """The breakdowns offered for an experiment of `site_id` (a site of the caller's account)."""
    data = await custom_data.of_site(session=session, principal=principal, site_id=site_id)
    by_datum = tuple(
        Choice(ByDatum(datum.index).value, f"{datum.name} (custom datum {datum.index})", datum.name, datum.name)
        for datum in data
        if datum.type == custom_data.DataType.UNIQUE
    )
    refused = {
        datum.index: f"custom datum {datum.index} ({datum.name}) is of type {datum.type}, and a visitor may hold "
        "several of its values; only a UNIQUE custom datum gives each visitor one key"
        for datum in data
        if datum.type != custom_data.DataType.UNIQUE
    }
    return Breakdowns(choices=FIXED_CHOICES + by_datum, refused=refused)


@dataclass(frozen=True)
class Shown:
    """A stored report as a page shows it: its status, its data once READY, or why it failed."""

    report_id: int
    status: store.Status
    data: dict[str, Any] | None
    error: str | None
    requested_at: datetime
    computed_at: datetime | None

    @classmethod
    def of(cls, row: ResultReport, *, data: dict[str, Any] | None = None) -> Shown:
        """How the stored row reads now (a report abandoned mid-computation reads as failed); `data` is its
        data when the caller already holds it (the row was then read without it)."""
        status, error = store.status_of(row)
        if status is store.Status.READY and data is None:
            data = row.data
        return cls(
            report_id=row.id,
            status=status,
            data=data if status is store.Status.READY else None,
            error=error,
            requested_at=row.date_created,
            computed_at=row.date_ready,
        )


@dataclass(frozen=True)
class Wanted:
    """A report a page needs: the stored row, and whether it was just requested (and must be computed)."""

    row: ResultReport
    new: bool


async def find_or_request(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    request: ReportRequest,
    refresh: bool = False,
) -> Wanted:
    """The newest fresh report asked this way, or a new WAITING one (committed with the request's transaction)."""
    if not refresh:
        found = await store.latest(
            session=session,
            principal=principal,
            experiment_id=experiment_id,
            request=request,
            since=utcnow() - FRESH_FOR,
        )
        if found is not None:
            return Wanted(found, new=False)
    from versicolor.results import service  # the statistics engine (numpy, scipy): loaded with the first report

    row = await service.request_report(
        session=session, principal=principal, experiment_id=experiment_id, request=request, callbacks=_NO_CALLBACKS
    )
    return Wanted(row, new=True)


@dataclass
class Settled:
    """Reports as they stand after a page waited for the new ones; `pending` are still being computed."""

    shown: dict[int, Shown]
    pending: list[asyncio.Task[None]]

    async def finish(self) -> None:
        """Wait for the computations still running (after the answer was sent)."""
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)


async def settle(runtime: Runtime, wanted: Iterable[Wanted], *, wait: float = WAIT) -> Settled:
    """Compute the new reports (as the process's report slots allow), wait up to `wait` seconds, and read every
    report back.

    Call once the request's transaction committed: the computations run in transactions of their own.
    """
    wanted = list(wanted)
    computed: dict[int, dict[str, Any]] = {}

    async def compute(report_id: int) -> None:
        from versicolor.results import service  # the statistics engine (numpy, scipy): loaded with the first report

        data = await service.run(
            sessions=runtime.sessions,
            slots=runtime.reports,
            report_id=report_id,
            callbacks=_NO_CALLBACKS,
            server_key=runtime.signing_key,
        )
        if data is not None:
            computed[report_id] = data

    tasks = [asyncio.create_task(compute(w.row.id)) for w in wanted if w.new]
    pending: list[asyncio.Task[None]] = []
    if tasks:
        _, still = await asyncio.wait(tasks, timeout=wait)
        pending = list(still)
    # Reports found stored are shown as read; only the new ones are read again, now that they were computed.
    shown = {w.row.id: Shown.of(w.row) for w in wanted if not w.new}
    # The data of those computed here is at hand: their rows are read without it (a report's data is large).
    held = {w.row.id: computed[w.row.id] for w in wanted if w.new and w.row.id in computed}
    others = [w.row.id for w in wanted if w.new and w.row.id not in held]
    if held or others:
        async with runtime.sessions() as session, session.begin():
            if held:
                light = select(ResultReport).where(ResultReport.id.in_(held)).options(defer(ResultReport.data))
                for row in await session.scalars(light):
                    shown[row.id] = Shown.of(row, data=held[row.id])
            if others:
                for row in await session.scalars(select(ResultReport).where(ResultReport.id.in_(others))):
                    shown[row.id] = Shown.of(row)
    return Settled(shown=shown, pending=pending)

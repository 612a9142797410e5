"""Requesting a report, computing it in the background, and delivering it to its callback URL."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor import metrics
from versicolor.core import custom_data
from versicolor.core.errors import DomainError, Invalid
from versicolor.core.experiments import deviations, experiments
from versicolor.core.experiments.lifecycle import Status
from versicolor.core.roles import Principal, Role
from versicolor.core.sealing import Sealer
from versicolor.db.models import Experiment, Goal
from versicolor.db.models.results import ResultReport
from versicolor.results import aggregation, callback_keys, report, store, sums
from versicolor.results.callbacks import CallbackSender
from versicolor.results.request import Breakdown, BreakdownType, ReportRequest
from versicolor.results.slots import ReportSlots

log = logging.getLogger("versicolor.results")

ORIGIN_ARM = "0"
_PRE_LAUNCH = frozenset({Status.DRAFT.value, Status.SCHEDULED.value})


async def request_report(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    request: ReportRequest,
    callbacks: CallbackSender,
) -> ResultReport:
    """Check the request against the experiment and store it as a WAITING report; `compute` does the rest."""
    experiment = await experiments.get(session=session, principal=principal, experiment_id=experiment_id)
    await _check_goals(session, experiment, request.goal_ids, "goalsIds")
    await _check_goals(session, experiment, request.cuped_goal_ids, "goalIdsCuped")
    if not request.goal_ids and request.cuped_goal_ids:
        shown = set(await _experiment_goal_ids(session, experiment))
        outside = [g for g in request.cuped_goal_ids if g not in shown]
        if outside:
            raise Invalid.field(
                "goalIdsCuped", f"goals {outside} are not among the experiment's goals, which the report shows"
            )
    if request.reference_variation_id != 0:
        variation_ids = [v.id for v in await experiments.variations_of(session=session, experiment=experiment)]
        if request.reference_variation_id not in variation_ids:
            listed = ", ".join(str(v) for v in variation_ids) or "none yet"
            raise Invalid.field(
                "referenceVariationId",
                f"{request.reference_variation_id} is not a variation of experiment {experiment.id}; "
                f"use 0 (the original) or one of its variations ({listed})",
            )
    if request.breakdown is not None and request.breakdown.type is BreakdownType.CUSTOM_DATUM:
        await _check_breakdown_datum(session, principal, experiment, request.breakdown)
    if request.callback_url is not None:
        await callbacks.check(request.callback_url)
    return await store.create(session=session, principal=principal, experiment_id=experiment.id, request=request)


async def _check_goals(session: AsyncSession, experiment: Experiment, goal_ids: Sequence[int], field: str) -> None:
    if not goal_ids:
        return
    found = set(
        await session.scalars(
            select(Goal.id).where(
                Goal.id.in_(goal_ids), Goal.account_id == experiment.account_id, Goal.site_id == experiment.site_id
            )
        )
    )
    missing = [g for g in goal_ids if g not in found]
    if missing:
        raise Invalid.field(field, f"goals {missing} are not goals of site {experiment.site_id}, the experiment's site")


async def _check_breakdown_datum(
    session: AsyncSession, principal: Principal, experiment: Experiment, breakdown: Breakdown
) -> None:
    """A CUSTOM_DATUM breakdown names a custom datum of the experiment's site that holds one value per visitor."""
    data = await custom_data.of_site(session=session, principal=principal, site_id=experiment.site_id)
    datum = next((d for d in data if d.index == breakdown.index), None)
    if datum is None:
        listed = ", ".join(f"{d.index} ({d.name})" for d in data) or "none yet"
        raise Invalid.field(
            "breakdown.index",
            f"site {experiment.site_id} has no custom datum at index {breakdown.index}; its custom data: {listed}",
        )
    if datum.type != custom_data.DataType.UNIQUE:
        raise Invalid.field(
            "breakdown.index",
            f"custom datum {breakdown.index} ({datum.name}) is of type {datum.type}: a visitor may hold several "
            "of its values, and would count in several keys; only UNIQUE custom data break a report down",
        )


async def _experiment_goal_ids(session: AsyncSession, experiment: Experiment) -> list[int]:
    return (await experiments.goal_ids_of(session=session, experiment_ids=[experiment.id]))[experiment.id]


def _arm(deviation_key: str) -> str:
    return ORIGIN_ARM if deviation_key == deviations.ORIGIN else deviation_key


def _expected_weights(
    splits: Sequence[Mapping[str, float]], units_per_period: Mapping[tuple[str, int], int], arms: Sequence[str]
) -> dict[str, float]:
    """Each arm's expected units: every period's units shared out by the split then in force."""
    expected = dict.fromkeys(arms, 0.0)
    for index, split in enumerate(splits):
        period_units = sum(n for (_, period), n in units_per_period.items() if period == index)
        total_share = sum(split.values())
        if not period_units or total_share <= 0:
            continue
        for key, share in split.items():
            expected[_arm(key)] = expected.get(_arm(key), 0.0) + period_units * share / total_share
    if not any(expected.values()) and splits:
        # No units at all: the current split, so that the report still shows the expected shares.
        last = splits[-1]
        for key, share in last.items():
            expected[_arm(key)] = share
    return expected


async def _plan_inputs(
    session: AsyncSession, experiment: Experiment, request: ReportRequest
) -> tuple[list[str], list[int], list[Mapping[str, float]], tuple[datetime, ...]]:
    variation_ids = [v.id for v in await experiments.variations_of(session=session, experiment=experiment)]
    arms = [ORIGIN_ARM, *(str(v) for v in variation_ids)]
    goal_ids = list(request.goal_ids) or await _experiment_goal_ids(session, experiment)
    history = await deviations.history(session=session, experiment=experiment)
    # No traffic arrives before launch, and an experiment never returns to DRAFT or SCHEDULED: of the splits
    # set before launch only the last one ever received traffic, from the first visitor on.
    before = [change for change in history if change.status in _PRE_LAUNCH]
    in_force = before[-1:] + [change for change in history if change.status not in _PRE_LAUNCH]
    splits: list[Mapping[str, float]] = [dict(change.deviations) for change in in_force]
    if not splits:
        splits = [dict(experiment.deviations) or deviations.equal_split(variation_ids)]
    boundaries = tuple(change.date_effective for change in in_force[1:])
    return arms, goal_ids, splits, boundaries


async def compute(
    *, session: AsyncSession, report_id: int, sessions: async_sessionmaker[AsyncSession] | None = None
) -> dict[str, Any] | None:
    """Compute a WAITING report and store it READY; returns its data (None when the report is gone).

    With `sessions`, the aggregate queries may run side by side on connections of their own.
    """
    started = time.perf_counter()
    try:
        data = await _compute(session=session, report_id=report_id, sessions=sessions)
    except Exception:
        metrics.REPORT_COMPUTATIONS.labels("failed").inc()
        raise
    if data is not None:
        metrics.REPORT_COMPUTATIONS.labels("ready").inc()
        metrics.REPORT_SECONDS.observe(time.perf_counter() - started)
    return data


async def _compute(
    *, session: AsyncSession, report_id: int, sessions: async_sessionmaker[AsyncSession] | None
) -> dict[str, Any] | None:
    row = await store.load(session=session, report_id=report_id)
    if row is None:
        return None
    request = ReportRequest.from_json(row.request)
    # The background work acts for the account that asked, and sees nothing of any other.
    principal = Principal(account_id=row.account_id, user_id=None, role=Role.VIEWER)
    experiment = await experiments.get(session=session, principal=principal, experiment_id=row.experiment_id)
    arms, goal_ids, splits, boundaries = await _plan_inputs(session, experiment, request)
    measured = sorted(set(goal_ids) | ({experiment.main_goal_id} if experiment.main_goal_id else set()))
    scope = sums.Scope(
        experiment_id=experiment.id,
        goal_ids=tuple(measured),
        request=request,
        periods=boundaries,
    )
    aggregates = await aggregation.aggregate(session=session, scope=scope, sessions=sessions)
    # Traffic to a variation that has since left the experiment is still shown, after the current ones.
    observed = sorted({arm for arm, _ in aggregates.units} - set(arms), key=int)
    plan = report.Plan(
        arms=(*arms, *observed),
        reference=str(request.reference_variation_id),
        goal_ids=tuple(goal_ids),
        main_goal_id=experiment.main_goal_id,
        weights=_expected_weights(splits, aggregates.units_per_period, arms),
    )
    # The statistics are CPU work (numerical integration for Bayesian reports): off the event loop.
    data = await asyncio.to_thread(report.build, plan=plan, request=request, aggregates=aggregates)
    await store.mark_ready(session=session, report=row, data=data)
    return data


def rendered(*, data_code: str, status: store.Status, data: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """The answer of GET /results, also the body of a callback."""
    answer: dict[str, Any] = {"dataCode": data_code, "status": status.value, "data": data}
    if error is not None:
        answer["error"] = error
    return answer


async def run(
    *,
    sessions: async_sessionmaker[AsyncSession],
    slots: ReportSlots,
    report_id: int,
    callbacks: CallbackSender,
    server_key: str,
    sealer: Sealer | None = None,
) -> dict[str, Any] | None:
    """The background job of one report: compute it in one of the process's `slots`, then deliver it to its
    callback URL if it has one.

    Returns the data stored (so that a caller waiting for it need not read it back), or None if it failed.
    """
    readers = sessions if slots.side_by_side else None
    try:
        async with slots.slot(), sessions() as session, session.begin():
            data = await compute(session=session, report_id=report_id, sessions=readers)
    except DomainError as exc:
        # What the request asked for turned out impossible once the data was seen (too many breakdown keys).
        async with sessions() as session, session.begin():
            await store.mark_error(session=session, report_id=report_id, reason=exc.message)
        return None
    except Exception:
        log.exception("report %s could not be computed", report_id)
        async with sessions() as session, session.begin():
            await store.mark_error(
                session=session, report_id=report_id, reason="the report could not be computed; request it again"
            )
        return None
    if data is None:
        return None
    async with sessions() as session:
        destination = await store.delivery_of(session=session, report_id=report_id)
        if destination is None or destination.callback_url is None:
            return data
        url, data_code, account_id = destination.callback_url, destination.data_code, destination.account_id
        keys = await callback_keys.in_force(
            session=session, sealer=sealer or Sealer(None), server_secret=server_key, account_id=account_id
        )
    body = json.dumps(
        rendered(data_code=data_code, status=store.Status.READY, data=data, error=None), separators=(",", ":")
    ).encode()
    delivery = await callbacks.deliver(url=url, body=body, key=[k.key for k in keys], data_code=data_code)
    async with sessions() as session, session.begin():
        await store.record_callback(
            session=session, report_id=report_id, delivered=delivery.delivered, attempts=delivery.attempts
        )
    return data

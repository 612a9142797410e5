"""One experiment: its setup, the lifecycle actions its status allows (each confirmed on a page of its own),
and its results with the switches that change how they are computed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from versicolor.core import sites
from versicolor.core.errors import Invalid, NotFound
from versicolor.core.experiments import experiments, lifecycle
from versicolor.core.experiments.deviations import ORIGIN
from versicolor.core.experiments.lifecycle import Action, Status
from versicolor.core.roles import Permission
from versicolor.db.models import Experiment, ExperimentGoal, Goal, Segment
from versicolor.results import store
from versicolor.web import charts, figures, pages, reports
from versicolor.web.views.experiments import days_running

# What each action does, said on its confirmation page and its button.
ACTIONS: dict[Action, tuple[str, str]] = {
    Action.ACTIVATE: ("Activate", "Visitors start seeing the variations, and their visits and conversions count."),
    Action.SCHEDULE: ("Schedule", "The experiment starts by itself at the date you give, and stops at the end date."),
    Action.PAUSE: ("Pause", "Visitors see the original only until you resume; the figures so far are kept."),
    Action.RESUME: ("Resume", "Visitors see the variations again, with the traffic split as it is set."),
    Action.STOP: ("Stop", "The experiment ends for good: visitors see the original, and results stay readable."),
    Action.DEACTIVATE: ("Deactivate", "The experiment is retired: it can never run again."),
}
DONE = {
    Action.ACTIVATE: "activated",
    Action.SCHEDULE: "scheduled",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.STOP: "stopped",
    Action.DEACTIVATE: "deactivated",
}


def allowed_actions(status: str) -> list[Action]:
    """The actions the lifecycle table allows from `status`, in the table's order."""
    return [t.action for t in lifecycle.TRANSITIONS if t.source == Status(status) and isinstance(t.action, Action)]


def _page_of(request: Request) -> str:
    return f"/app/experiments/{request.path_params['experiment_id']}"


async def _experiment(ctx: pages.Context) -> Experiment:
    return await experiments.get(
        session=ctx.db, principal=ctx.me.principal, experiment_id=ctx.int_param("experiment_id")
    )


def _action(value: str | None) -> Action:
    if value is None or value not in Action.__members__:
        raise NotFound(f"there is no action {str(value)[:40]!r}; actions are {', '.join(Action)}")
    return Action(value)


async def _setup(ctx: pages.Context, experiment: Experiment) -> dict[str, Any]:
    """What the page shows of the experiment's setup."""
    site = await sites.get(session=ctx.db, principal=ctx.me.principal, site_id=experiment.site_id)
    variations = await experiments.variations_of(session=ctx.db, experiment=experiment)
    goals = list(
        await ctx.db.scalars(
            select(Goal)
            .join(ExperimentGoal, ExperimentGoal.goal_id == Goal.id)
            .where(ExperimentGoal.experiment_id == experiment.id, Goal.account_id == experiment.account_id)
            .order_by(Goal.id)
        )
    )
    goal_ids = [goal.id for goal in goals]
    segment = None
    if experiment.targeting_segment_id is not None:
        segment = await ctx.db.scalar(
            select(Segment).where(
                Segment.account_id == experiment.account_id, Segment.id == experiment.targeting_segment_id
            )
        )
    shares = dict(experiment.deviations)
    traffic = [("Original", shares.get(ORIGIN, 0.0))] + [(v.name, shares.get(str(v.id), 0.0)) for v in variations]
    outside = max(0.0, 1.0 - sum(share for _, share in traffic))
    return {
        "site": site,
        "variations": variations,
        "goals": goals,
        "goal_ids": goal_ids,
        "segment": segment,
        "traffic": traffic,
        "outside": outside,
        "names": {figures.REFERENCE: "Original", **{str(v.id): v.name for v in variations}},
        "breakdowns": await reports.breakdowns(session=ctx.db, principal=ctx.me.principal, site_id=site.id),
    }


def _results(
    setup: dict[str, Any],
    experiment: Experiment,
    options: reports.Options,
    over_time: reports.Shown,
    split: reports.Shown | None,
) -> dict[str, Any]:
    """What the page shows of the results, once the reports are READY."""
    if over_time.data is None:
        return {}
    data = over_time.data
    arms = figures.arms_of(data, setup["names"])
    goals = [(goal.id, goal.name) for goal in setup["goals"]]
    names = dict(goals)
    chosen = options.goal or experiment.main_goal_id or (goals[0][0] if goals else None)
    found: dict[str, Any] = {
        "arms": arms,
        "visitors": figures.total_units(data),
        "tables": figures.goal_tables(data, arms, goals, experiment.main_goal_id, options),
        "srm": figures.sample_ratio(data, arms),
        "winner": figures.winner(data, arms, names),
        "chosen_goal": chosen,
        "chosen_goal_name": names.get(chosen, "") if chosen is not None else "",
        "drawing": None,
        "breakdown_rows": None,
        "breakdown_state": None,
    }
    if chosen is None:
        return found
    lines = figures.series(data, arms, chosen, options)
    found["drawing"] = charts.draw(lines, improvement=options.chart is reports.Chart.IMPROVEMENT)
    found["series"] = lines
    if options.breakdown is reports.Split.DAY:
        found["breakdown_rows"] = figures.breakdown(data, arms, chosen, options)
    elif split is not None:
        found["breakdown_state"] = split
        if split.data is not None:
            found["breakdown_rows"] = figures.breakdown(
                split.data, figures.arms_of(split.data, setup["names"]), chosen, options
            )
    return found


@pages.view()
async def experiment_page(ctx: pages.Context) -> Response | pages.AfterCommit:
    """An experiment, its lifecycle actions and its results."""
    experiment = await _experiment(ctx)
    options = reports.Options.parse(ctx.request.query_params)
    setup = await _setup(ctx, experiment)
    if options.goal is not None and options.goal not in setup["goal_ids"]:
        raise Invalid.field("goal", f"{options.goal} is not one of this experiment's goals")
    breakdown = setup["breakdowns"].chosen(options)
    changed = ctx.request.query_params.get("changed")
    notice = f"Experiment {DONE[Action(changed)]}." if changed is not None and changed in Action.__members__ else None
    values = {
        "nav": "experiments",
        "experiment": experiment,
        "options": options,
        "actions": allowed_actions(experiment.status) if ctx.me.can(Permission.WRITE) else [],
        "action_words": ACTIONS,
        "days": days_running(experiment, datetime.now(UTC)),
        "notice": notice,
        "breakdown": breakdown,
        **setup,
    }
    if experiment.date_started is None:
        return ctx.render("experiment.html", over_time=None, results={}, reload=False, **values)
    wanted = [
        await reports.find_or_request(
            session=ctx.db,
            principal=ctx.me.principal,
            experiment_id=experiment.id,
            request=request,
        )
        for request in (options.over_time(setup["goal_ids"]), options.by_attribute(setup["goal_ids"]))
        if request is not None
    ]

    async def finish() -> Response:
        settled = await reports.settle(ctx.runtime, wanted)
        over_time = settled.shown[wanted[0].row.id]
        split = settled.shown[wanted[1].row.id] if len(wanted) > 1 else None
        results = _results(setup, experiment, options, over_time, split)
        # While a report is being computed the page reloads itself (a meta refresh: no script needed).
        reload = any(shown.status is store.Status.WAITING for shown in (over_time, split) if shown is not None)
        answer = ctx.render("experiment.html", over_time=over_time, results=results, reload=reload, **values)
        answer.background = pages.background(settled)
        return answer

    return pages.AfterCommit(finish)


@pages.action(Permission.READ, back=_page_of)
async def refresh_results(ctx: pages.Context) -> pages.AfterCommit:
    """Compute the results again now, then show them."""
    experiment = await _experiment(ctx)
    switches = {name: value for name, value in ctx.form.items() if name not in ("csrf_token",)}
    options = reports.Options.parse(switches)
    offered = await reports.breakdowns(session=ctx.db, principal=ctx.me.principal, site_id=experiment.site_id)
    offered.chosen(options)
    goal_ids = (await experiments.goal_ids_of(session=ctx.db, experiment_ids=[experiment.id]))[experiment.id]
    wanted = [
        await reports.find_or_request(
            session=ctx.db, principal=ctx.me.principal, experiment_id=experiment.id, request=request, refresh=True
        )
        for request in (options.over_time(goal_ids), options.by_attribute(goal_ids))
        if request is not None
    ]
    location = f"/app/experiments/{experiment.id}" + (f"?{urlencode(options.query())}" if options.query() else "")

    async def finish() -> Response:
        settled = await reports.settle(ctx.runtime, wanted)
        answer = pages.see_other(location)
        answer.background = pages.background(settled)
        return answer

    return pages.AfterCommit(finish)


@pages.view(Permission.WRITE)
async def confirm_action(ctx: pages.Context) -> Response:
    """The confirmation page of a lifecycle action."""
    experiment = await _experiment(ctx)
    action = _action(ctx.request.path_params["action"])
    if action not in allowed_actions(experiment.status):
        lifecycle.transition(Status(experiment.status), action)  # raises Conflict, naming the status
    return ctx.render(
        "confirm_action.html", nav="experiments", experiment=experiment, action=action, words=ACTIONS[action]
    )


def _moment(form: dict[str, str], name: str, label: str) -> datetime | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid.field(name, f"{label} {raw[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@pages.action(Permission.WRITE, back=_page_of)
async def change_status(ctx: pages.Context) -> Response:
    """Move the experiment through its lifecycle, then show it."""
    experiment_id = ctx.int_param("experiment_id")
    action = _action(ctx.form.get("action"))
    start, end = None, None
    if action is Action.SCHEDULE:
        start = _moment(ctx.form, "start", "The start")
        end = _moment(ctx.form, "end", "The end")
        if start is None:
            raise Invalid.field("start", "A scheduled experiment needs a start date")
    await experiments.change_status(
        session=ctx.db,
        principal=ctx.me.principal,
        experiment_id=experiment_id,
        action=action,
        date_start=start,
        date_end=end,
    )
    return pages.see_other(f"/app/experiments/{experiment_id}?changed={action.value}")

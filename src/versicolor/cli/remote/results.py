"""`versicolor results EXPERIMENT_ID`: an experiment's report, a table per goal, and the winner."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from versicolor.cli import console
from versicolor.cli.remote.connection import ProfileName, Progress, connect, reporting
from versicolor.client import where
from versicolor.client.results import ArmResult, Interval, Report

SIGNIFICANCE = 95.0


class Method(StrEnum):
    """How variations are compared with the original."""

    frequentist = "frequentist"
    bayesian = "bayesian"
    sequential = "sequential"


def results(
    experiment_id: Annotated[int, typer.Argument(metavar="EXPERIMENT_ID", help="The experiment's id.")],
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            metavar="frequentist|bayesian|sequential",
            help="frequentist: t-test reliability and confidence interval; bayesian: chance to win and credible "
            "interval; sequential: always-valid reliability (safe to look at any time).",
        ),
    ] = Method.frequentist,
    goal: Annotated[
        list[int] | None, typer.Option("--goal", metavar="GOAL_ID", help="Only this goal (repeat for several).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="How long to wait for the report.")
    ] = 120.0,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Ask for an experiment's results and show, per goal: rate, improvement, chance to win, verdict, winner."""
    progress = Progress()
    with reporting(as_json=as_json), progress.showing("asking for the report"), connect(profile, progress) as client:
        report = client.results.report(
            experiment_id,
            goal_ids=goal or (),
            bayesian=True,
            sequential=method is Method.sequential,
            timeout=timeout,
            on_poll=lambda elapsed: progress.update(f"waiting for the report ({elapsed:.0f} s)"),
        )
        if as_json:
            console.print_json({"dataCode": report.data_code, "status": "READY", "data": report.data})
            return
        progress.update("reading names")
        experiment = client.experiments.get(experiment_id)
        names = {"0": "Original"}
        names.update(
            {str(v.id): v.name for v in client.variations.list(filter=[where("experimentId", "EQUAL", experiment_id)])}
        )
        goal_ids = report.goal_ids()
        goals = (
            {str(g.id): g.name for g in client.goals.list(filter=[where("id", "IN", *goal_ids)])} if goal_ids else {}
        )
    _show(report, method, names, goals, main_goal=experiment.main_goal_id)


def _show(
    report: Report, method: Method, names: dict[str, str], goals: dict[str, str], *, main_goal: int | None
) -> None:
    interval_name = "credible interval" if method is Method.bayesian else "95% interval"
    for goal_id in report.goal_ids():
        main = " (main goal)" if str(main_goal) == goal_id else ""
        console.out.print(f"\n[bold]Goal {goal_id} {goals.get(goal_id, '')!r}{main}[/]", highlight=False)
        table = Table(
            "variation",
            "visitors",
            "conversions",
            "rate",
            f"improvement [{interval_name}]",
            "chance to win",
            "verdict",
            box=None,
            pad_edge=False,
        )
        for column in table.columns:
            column.overflow = "fold"  # on a narrow terminal a cell wraps, never ends in an ellipsis
        for arm in report.arms(goal_id):
            label = f"{names.get(arm.variation_id, 'variation')} ({arm.variation_id})"
            table.add_row(
                label,
                str(arm.visitors),
                str(arm.conversions),
                f"{arm.conversion_rate:.2f}%",
                _improvement(arm, method),
                "" if arm.is_original or arm.chance_to_win is None else f"{arm.chance_to_win:.1f}%",
                verdict(arm, method),
            )
        console.out.print(table)
    winner = report.winner
    if winner:
        variation = str(winner.get("variationId"))
        console.out.print(
            f"\n[bold green]Winner:[/] {names.get(variation, 'variation')} ({variation}) on goal "
            f"{winner.get('goalId')}: {_signed(winner.get('improvementRate'))} "
            f"(reliability {winner.get('reliability', 0):.1f}%)",
            highlight=False,
        )
    else:
        console.out.print(f"\nNo winner yet: {report.winner_reason or 'no variation is significantly better'}")
    if report.srm_flagged:
        console.warn("the traffic split differs from the one set (sample ratio mismatch): check the set-up first")


def verdict(arm: ArmResult, method: Method) -> str:
    """`reference`, `better`, `worse` or `inconclusive`, by the method's own measure of certainty."""
    if arm.is_original:
        return "reference"
    if method is Method.bayesian:
        chance = arm.chance_to_win
        if chance is None:
            return "inconclusive"
        return "better" if chance >= SIGNIFICANCE else "worse" if chance <= 100 - SIGNIFICANCE else "inconclusive"
    if arm.reliability is None or arm.improvement is None or arm.reliability < SIGNIFICANCE:
        return "inconclusive"
    return "better" if arm.improvement > 0 else "worse"


def _improvement(arm: ArmResult, method: Method) -> str:
    if arm.is_original or arm.improvement is None:
        return ""
    interval = arm.credible_interval if method is Method.bayesian else arm.confidence_interval
    return f"{_signed(arm.improvement)} {_interval(interval)}"


def _interval(interval: Interval | None) -> str:
    return "" if interval is None else f"[{_signed(interval.lower)}, {_signed(interval.upper)}]"


def _signed(value: object) -> str:
    return f"{value:+.1f}%" if isinstance(value, int | float) else "?"

"""`versicolor experiments`: list, show and move experiments through their lifecycle, over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from versicolor.cli import console
from versicolor.cli.remote.connection import ProfileName, Progress, connect, reporting
from versicolor.client import Experiment, Versicolor, where

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Experiments of your sites (over HTTP).")

ExperimentId = Annotated[int, typer.Argument(metavar="EXPERIMENT_ID", help="The experiment's id.")]
STATUSES = "DRAFT|SCHEDULED|ACTIVE|PAUSED|STOPPED|DEACTIVATED"


def site_id(client: Versicolor, site: str) -> int:
    """The id of a site given by id or by code."""
    return int(site) if site.isdigit() else client.sites.by_code(site).id


@app.command("list")
def list_experiments(
    site: Annotated[str | None, typer.Option("--site", metavar="SITE", help="Only this site (code or id).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", metavar=STATUSES, help="Only experiments in this status.")
    ] = None,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """List experiments, newest first."""
    progress = Progress()
    with reporting(as_json=as_json), progress.showing("listing experiments"), connect(profile, progress) as client:
        filters = []
        if site is not None:
            filters.append(where("siteId", "EQUAL", site_id(client, site)))
        if status is not None:
            filters.append(where("status", "EQUAL", status.upper()))
        found = list(client.experiments.list(filter=filters, sort=[{"field": "dateCreated", "direction": "DESC"}]))
    if as_json:
        console.print_json([e.raw() for e in found])
        return
    table = Table("id", "key", "name", "status", "site", "variations", "started", box=None, pad_edge=False)
    for e in found:
        started = e.date_started.strftime("%Y-%m-%d %H:%M") if e.date_started else ""
        table.add_row(str(e.id), e.key or "", e.name, e.status, str(e.site_id), str(len(e.variations)), started)
    console.out.print(table)
    console.err.print(f"{len(found)} experiment{'s' if len(found) != 1 else ''}", highlight=False)


@app.command("show")
def show(experiment_id: ExperimentId, profile: ProfileName = None, as_json: console.AsJson = False) -> None:
    """Show an experiment with its variations and goals."""
    progress = Progress()
    with reporting(as_json=as_json), progress.showing("reading the experiment"), connect(profile, progress) as client:
        experiment = client.experiments.get(experiment_id, optional_fields=["goals"])
        variations = list(client.variations.list(filter=[where("experimentId", "EQUAL", experiment.id)]))
    if as_json:
        console.print_json(experiment.raw())
        return
    _describe(experiment)
    split = experiment.deviations
    for variation in [None, *variations]:
        name = "Original" if variation is None else variation.name
        arm = "origin" if variation is None else str(variation.id)
        label = "0" if variation is None else str(variation.id)
        console.out.print(
            f"  variation {label:>8}  {name:30} traffic {100 * split.get(arm, 0.0):5.1f}%", highlight=False
        )


def _describe(experiment: Experiment) -> None:
    lines = [
        ("id", experiment.id),
        ("key", experiment.key or ""),
        ("name", experiment.name),
        ("status", experiment.status),
        ("site", experiment.site_id),
        ("base URL", experiment.base_url),
        ("type", experiment.type),
        ("goals", ", ".join(str(g) for g in experiment.goals or [])),
        ("main goal", experiment.main_goal_id or ""),
        ("segment", experiment.targeting_segment_id or ""),
        ("started", experiment.date_started or ""),
        ("ended", experiment.date_ended or ""),
    ]
    for name, value in lines:
        console.out.print(f"{name:10} {value}", highlight=False)


def _lifecycle(action: str, verb: str) -> None:
    def command(experiment_id: ExperimentId, profile: ProfileName = None, as_json: console.AsJson = False) -> None:
        progress = Progress()
        with (
            reporting(as_json=as_json),
            progress.showing(f"{verb} experiment {experiment_id}"),
            connect(profile, progress) as client,
        ):
            experiment = client.experiments.change_status(experiment_id, action)
        if as_json:
            console.print_json(experiment.raw())
            return
        console.out.print(f"experiment {experiment.id} {experiment.name!r} is {experiment.status}", highlight=False)

    command.__doc__ = f"{action.capitalize()} an experiment ({verb})."
    app.command(action.lower())(command)


_lifecycle("ACTIVATE", "activating")
_lifecycle("PAUSE", "pausing")
_lifecycle("RESUME", "resuming")
_lifecycle("STOP", "stopping")

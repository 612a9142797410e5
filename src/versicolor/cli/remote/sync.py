"""`versicolor sync pull|plan|apply`: a site kept in a folder, in Git, applied like infrastructure."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from versicolor.cli import console
from versicolor.cli.remote.connection import ProfileName, Progress, connect, reporting
from versicolor.client import Versicolor
from versicolor.sync import apply, folder, plan, pull, remote
from versicolor.sync.documents import FolderInvalid, Problem
from versicolor.sync.plan import Change, Diff, Plan
from versicolor.sync.pull import FolderNotEmpty
from versicolor.sync.remote import Current, SiteNotFound
from versicolor.sync.specs import Folder

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Keep a site's goals, segments and experiments in a folder (in Git), and apply it like infrastructure.",
)

Dir = Annotated[Path, typer.Argument(metavar="DIR", help="The folder that describes the site.")]
Site = Annotated[
    str | None, typer.Option("--site", metavar="SITE", help="Refuse unless the folder describes this site (code).")
]
Prune = Annotated[bool, typer.Option("--prune", help="Delete what has a key on the site but is not in the folder.")]
AllowLive = Annotated[
    bool,
    typer.Option("--allow-live-changes", help="Allow changes to the code or traffic of running experiments."),
]
SYMBOL = {"create": "+", "update": "~", "delete": "-", "release": "-"}


@app.command("pull")
def pull_site(
    site: Annotated[str, typer.Argument(metavar="SITE", help="The site's code (or id).")],
    directory: Dir,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the sync files of a folder that has them.")] = False,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Write a site's goals, segments and experiments into a folder (objects without a key get one)."""
    progress = Progress()
    with reporting(as_json=as_json), progress.showing(f"pulling site {site}"), connect(profile, progress) as client:
        code = client.sites.get(int(site)).code if site.isdigit() else site
        try:
            pulled = pull.pull(client, code, directory, force=force)
        except FolderNotEmpty as exc:
            console.fail(str(exc))
        except SiteNotFound:
            console.fail(f"this account has no site with code {code!r}")
    summary = {
        "site": code,
        "path": str(directory),
        "goals": pulled.goals,
        "segments": pulled.segments,
        "experiments": pulled.experiments,
        "variations": pulled.variations,
        "keysGiven": pulled.keys_given,
        "skipped": pulled.skipped,
    }
    if as_json:
        console.print_json(summary)
        return
    for given in pulled.keys_given:
        console.err.print(f"gave a key to {given}", highlight=False)
    for skipped in pulled.skipped:
        console.warn(f"not written: {skipped}")
    console.out.print(
        f"Wrote {pulled.goals} goals, {pulled.segments} segments, {pulled.experiments} experiments "
        f"({pulled.variations} variations) of site {code} into {directory}",
        highlight=False,
    )


def _read(directory: Path, site: str | None, as_json: bool) -> Folder:
    """The folder, checked whole before any request; invalid: every problem with file and line, exit 1."""
    try:
        found = folder.read(directory)
    except FolderInvalid as exc:
        _problems(exc.problems, as_json, f"{directory} cannot be applied as it is:")
    if site is not None and site != found.site:
        _problems(
            [Problem(found.site_where, f"this folder describes site {found.site!r}, not {site!r}")],
            as_json,
            "wrong site:",
        )
    return found


def _current(client: Versicolor, found: Folder, as_json: bool) -> Current:
    try:
        return remote.read(client, found.site)
    except SiteNotFound:
        _problems(
            [
                Problem(
                    found.site_where,
                    f"this account has no site with code {found.site!r} (is the folder meant for another server "
                    "or account?)",
                )
            ],
            as_json,
            "wrong site:",
        )


def _problems(problems: list[Problem], as_json: bool, headline: str) -> NoReturn:
    if as_json:
        console.print_json({"problems": [_problem(p) for p in problems]})
    console.err.print(f"[bold red]error:[/] {headline}", highlight=False)
    for problem in problems:
        console.err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(console.REFUSED)


def _problem(problem: Problem) -> dict[str, Any]:
    return {"file": problem.where.file, "line": problem.where.line or None, "message": problem.message}


@app.command("plan")
def plan_site(
    directory: Dir,
    site: Site = None,
    prune: Prune = False,
    allow_live_changes: AllowLive = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0 when nothing changes, 2 when something does, 1 on error."),
    ] = False,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Show what apply would change on the site: creations, updates with their diffs, deletions."""
    found = _read(directory, site, as_json)
    progress = Progress()
    with reporting(as_json=as_json), progress.showing("reading the site"), connect(profile, progress) as client:
        current = _current(client, found, as_json)
        made = plan.make(found, current, prune=prune, allow_live_changes=allow_live_changes)
    _show(made, as_json)
    if made.problems:
        raise typer.Exit(console.REFUSED)
    if detailed_exitcode and not made.empty:
        raise typer.Exit(console.CHANGES)


@app.command("apply")
def apply_site(
    directory: Dir,
    site: Site = None,
    prune: Prune = False,
    allow_live_changes: AllowLive = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation on a terminal.")] = False,
    profile: ProfileName = None,
    as_json: console.AsJson = False,
) -> None:
    """Make the site match the folder, in dependency order; running it again after a cut finishes the work."""
    found = _read(directory, site, as_json)
    progress = Progress()
    with reporting(as_json=as_json), connect(profile, progress) as client:
        with progress.showing("reading the site"):
            current = _current(client, found, as_json)
            made = plan.make(found, current, prune=prune, allow_live_changes=allow_live_changes)
        if made.problems or made.empty:
            _show(made, as_json)
            raise typer.Exit(console.REFUSED if made.problems else console.OK)
        if not as_json:
            _show(made, as_json)
        if not yes and not as_json and sys.stdin.isatty() and not typer.confirm(f"Apply {len(made.changes)} changes?"):
            raise typer.Exit(console.REFUSED)
        done: list[Change] = []
        with progress.showing("applying") as shown:

            def note(change: Change) -> None:
                done.append(change)
                shown.update(f"applying: {len(done)}/{len(made.changes)} {change.label}")

            before = sum(client.transport.sent.values())
            try:
                writes = apply.run(client, made, current, on_change=note)
            except Exception:
                console.err.print(
                    f"stopped after {len(done)} of {len(made.changes)} changes; the site has those: run apply "
                    "again to finish",
                    highlight=False,
                )
                raise
        requests = sum(client.transport.sent.values()) - before
    if as_json:
        console.print_json({**_plan_json(made), "applied": len(done), "writes": writes, "requests": requests})
        return
    console.out.print(f"Applied {len(done)} changes ({writes} writes, {requests} requests).", highlight=False)


def _show(made: Plan, as_json: bool) -> None:
    if as_json:
        console.print_json(_plan_json(made))
        return
    site = made.site
    if made.empty:
        console.out.print(f"Site {site.code} ({site.name}) matches the folder: nothing to change.", highlight=False)
    else:
        console.out.print(
            f"Site {site.code} ({site.name}): {len(made.changes)} changes, {made.writes} writes", highlight=False
        )
    for change in made.changes:
        _show_change(change)
    if made.kept:
        console.out.print("Kept (on the site with a key, not in the folder; --prune deletes them):", highlight=False)
        for kept in made.kept:
            console.out.print(f"  {kept}", highlight=False)
    for problem in made.problems:
        console.err.print(f"[bold red]refused:[/] {problem}", highlight=False, soft_wrap=True)


def _show_change(change: Change) -> None:
    where = f"  ({change.where})" if change.where else ""
    steps = f"  then {' -> '.join(change.steps)}" if change.steps else ""
    verb = "release (forget its key)" if change.action == "release" else change.action
    console.out.print(f"{SYMBOL[change.action]} {verb} {change.label}{steps}{where}", highlight=False, markup=False)
    for diff in change.diffs:
        for line in _diff_lines(diff, new=change.action == "create"):
            console.out.print(f"    {line}", highlight=False, markup=False)


def _diff_lines(diff: Diff, *, new: bool) -> list[str]:
    if diff.is_code and (isinstance(diff.before, str) or isinstance(diff.after, str)):
        before = (diff.before or "").splitlines(keepends=True)
        after = (diff.after or "").splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, f"{diff.field} (site)", f"{diff.field} (folder)", lineterm="")
        return [f"{diff.field}:", *(f"  {line.rstrip()}" for line in lines)]
    if new:
        return [f"{diff.field}: {_short(diff.after)}"]
    return [f"{diff.field}: {_short(diff.before)} -> {_short(diff.after)}"]


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else ("null" if value is None else str(value))
    return text if len(text) <= 120 else text[:117] + "..."


def _plan_json(made: Plan) -> dict[str, Any]:
    return {
        "site": {"id": made.site.id, "code": made.site.code, "name": made.site.name},
        "changes": [
            {
                "action": c.action,
                "kind": c.kind,
                "key": c.key,
                "experiment": c.experiment,
                "file": c.where.file if c.where else None,
                "line": c.where.line if c.where and c.where.line else None,
                "fields": {d.field: {"before": d.before, "after": d.after} for d in c.diffs},
                "steps": list(c.steps),
                "live": list(c.live),
            }
            for c in made.changes
        ],
        "kept": made.kept,
        "problems": [_problem(p) for p in made.problems],
        "writes": made.writes,
    }

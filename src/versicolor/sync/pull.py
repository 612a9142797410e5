"""Pull: write a site's current state as a sync folder, so that an existing site can be kept in Git.

Objects without a key get one, derived from their name, written to the server first (the only writes a
pull makes): from then on the folder and the site match by key.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from versicolor.client import Experiment, Versicolor
from versicolor.client.models import ApiObject
from versicolor.sync import fields, remote
from versicolor.sync.compare import equal_split, same, same_split
from versicolor.sync.documents import dump
from versicolor.sync.folder import EXPERIMENTS_DIR, GOALS_FILE, MANIFEST, SEGMENTS_FILE, SITE_FILE
from versicolor.sync.plan import LIVE
from versicolor.sync.remote import Current
from versicolor.sync.specs import ORIGIN

MAX_SLUG = 60


class FolderNotEmpty(Exception):
    """Pull would overwrite files that are already there."""


@dataclass
class Pulled:
    """What a pull wrote, and the keys it gave objects that had none."""

    goals: int = 0
    segments: int = 0
    experiments: int = 0
    variations: int = 0
    keys_given: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def pull(client: Versicolor, site_code: str, path: Path, *, force: bool = False) -> Pulled:
    """Write the site's goals, segments and experiments into the folder at `path`."""
    if path.exists() and any(path.iterdir()) and not force:
        raise FolderNotEmpty(f"{path} is not empty; pull into a new folder, or give --force to overwrite it")
    current = remote.read(client, site_code)
    pulled = Pulled()
    _give_keys(client, current, pulled)
    current = remote.read(client, site_code)  # as the server now has it, keys included
    path.mkdir(parents=True, exist_ok=True)
    if force:
        _clear(path)
    site = current.site
    (path / SITE_FILE).write_text(
        dump({"site": site.code}, header=f"The site this folder describes: {site.name} ({site.url or 'no url'})."),
        encoding="utf-8",
    )
    goals = {key: _own_fields(goal, fields.GOAL) for key, goal in sorted(current.goals.items())}
    (path / GOALS_FILE).write_text(dump(goals, header="Goals of the site, by key."), encoding="utf-8")
    segments = {key: _own_fields(segment, fields.SEGMENT) for key, segment in sorted(current.segments.items())}
    (path / SEGMENTS_FILE).write_text(dump(segments, header="Segments of the site, by key."), encoding="utf-8")
    pulled.goals, pulled.segments = len(goals), len(segments)
    (path / EXPERIMENTS_DIR).mkdir(exist_ok=True)
    for key, experiment in sorted(current.experiments.items()):
        pulled.variations += _write_experiment(path / EXPERIMENTS_DIR / key, experiment, current)
        pulled.experiments += 1
    return pulled


def _clear(path: Path) -> None:
    for name in (SITE_FILE, GOALS_FILE, SEGMENTS_FILE):
        (path / name).unlink(missing_ok=True)
    experiments = path / EXPERIMENTS_DIR
    if experiments.is_dir():
        for entry in experiments.iterdir():
            if entry.is_dir() and (entry / MANIFEST).is_file():
                shutil.rmtree(entry)


def slug(name: str, taken: set[str], fallback: str) -> str:
    """A key from a name (`Add to cart!` -> `add-to-cart`), not among `taken` (then -2, -3...)."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG].strip("-") or fallback
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base}-{number}"
        number += 1
    taken.add(candidate)
    return candidate


def _give_keys(client: Versicolor, current: Current, pulled: Pulled) -> None:
    taken = set(current.goals)
    for goal in current.goal_by_id.values():
        if not goal.key:
            key = slug(goal.name, taken, "goal")
            client.goals.update(goal.id, key=key)
            pulled.keys_given.append(f"goal {goal.id} {goal.name!r}: {key}")
    taken = set(current.segments)
    for segment in current.segment_by_id.values():
        if not segment.key:
            key = slug(segment.name, taken, "segment")
            client.segments.update(segment.id, key=key)
            pulled.keys_given.append(f"segment {segment.id} {segment.name!r}: {key}")
    taken = set(current.experiments)
    for experiment in current.all_experiments:
        if not experiment.key:
            key = slug(experiment.name, taken, "experiment")
            client.experiments.update(experiment.id, key=key)
            pulled.keys_given.append(f"experiment {experiment.id} {experiment.name!r}: {key}")
        held = {v.key for v in current.variation_by_id.values() if v.experiment_id == experiment.id and v.key}
        for variation in current.variation_by_id.values():
            if variation.experiment_id == experiment.id and not variation.key:
                key = slug(variation.name, held | {ORIGIN}, "variation")
                client.variations.update(variation.id, key=key)
                pulled.keys_given.append(f"variation {variation.id} {variation.name!r}: {key}")
    for variation in current.variation_by_id.values():
        if variation.experiment_id is None:
            pulled.skipped.append(f"variation {variation.id} {variation.name!r} (in no experiment)")


def _own_fields(obj: ApiObject, known: Mapping[str, fields.Known], *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """An object's fields for a manifest: known ones unless they hold their default, others unless empty."""
    raw = obj.raw()
    left_out = set(leave_out)
    written: dict[str, Any] = {}
    for name, field_ in known.items():
        value = raw.get(name)
        if field_.default is fields.REQUIRED or not same(value, field_.default):
            written[name] = value
    for name, value in raw.items():
        if name in known or name in left_out or fields.is_server_set(name):
            continue
        if value not in (None, False, "", [], {}):
            written[name] = value
    return written


def _write_experiment(folder: Path, experiment: Experiment, current: Current) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _own_fields(experiment, fields.EXPERIMENT, leave_out=("deviations", "goals"))
    manifest["status"] = experiment.status
    goal_keys = sorted(current.goal_by_id[g].key or f"#{g}" for g in experiment.goals or [] if g in current.goal_by_id)
    if goal_keys:
        manifest["goals"] = goal_keys
    if experiment.main_goal_id is not None and experiment.main_goal_id in current.goal_by_id:
        manifest["mainGoal"] = current.goal_by_id[experiment.main_goal_id].key
    if experiment.targeting_segment_id is not None and experiment.targeting_segment_id in current.segment_by_id:
        manifest["targetingSegment"] = current.segment_by_id[experiment.targeting_segment_id].key
    variations = current.variations.get(experiment.id, {})
    key_of = {str(v.id): k for k, v in variations.items()}
    split = {
        ORIGIN if arm == ORIGIN else key_of.get(arm, f"#{arm}"): share for arm, share in experiment.deviations.items()
    }
    if not same_split(split, equal_split(list(variations))) or experiment.status in LIVE:
        manifest["deviations"] = split
    for api_name, file, value in (
        ("commonJavaScriptFile", "common.js", experiment.common_javascript_code),
        ("commonCssFile", "common.css", experiment.common_css_code),
    ):
        if value is not None:
            (folder / file).write_bytes(value.encode("utf-8"))
            manifest[api_name] = file
    written: dict[str, Any] = {}
    for key, variation in sorted(variations.items(), key=lambda item: item[1].id):
        entry = _own_fields(variation, fields.VARIATION)
        stem = key if key != "common" else f"{key}.variation"
        for name, suffix, value in (("jsFile", ".js", variation.js_code), ("cssFile", ".css", variation.css_code)):
            if value is not None:
                (folder / f"{stem}{suffix}").write_bytes(value.encode("utf-8"))
                entry[name] = f"{stem}{suffix}"
        written[key] = entry
    if written:
        manifest["variations"] = written
    header = f"Experiment {experiment.id} of site {current.site.code}: {experiment.name}"
    (folder / MANIFEST).write_text(dump(manifest, header=header), encoding="utf-8")
    return len(written)

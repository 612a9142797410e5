"""Reading a sync folder: every file checked before anything is sent, every problem named with file and line.

```
site.yaml                       site: <code of the site this folder describes>
goals.yaml                      <key>: {name, type, params, ...}             (absent: goals are not managed)
segments.yaml                   <key>: {name, conditionsData, ...}           (absent: segments are not managed)
experiments/<key>/experiment.yaml   name, baseURL, goals, variations, ...    (absent folder: not managed)
experiments/<key>/*.js, *.css   code the manifest names (commonJavaScriptFile, jsFile, ...)
```
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from versicolor.sync import fields
from versicolor.sync.documents import FolderInvalid, Node, Problem, Where, load
from versicolor.sync.fields import Known
from versicolor.sync.specs import ORIGIN, ExperimentSpec, Folder, Spec, VariationSpec

SITE_FILE = "site.yaml"
GOALS_FILE = "goals.yaml"
SEGMENTS_FILE = "segments.yaml"
EXPERIMENTS_DIR = "experiments"
MANIFEST = "experiment.yaml"
MAX_CODE_BYTES = 256 * 1024
LIVE_STATUSES = ("SCHEDULED", "ACTIVE", "PAUSED")
CODE_FILES = {
    "commonJavaScriptFile": ("commonJavaScriptCode", ".js"),
    "commonCssFile": ("commonCssCode", ".css"),
}
VARIATION_CODE_FILES = {"jsFile": ("jsCode", ".js"), "cssFile": ("cssCode", ".css")}


def read(path: Path) -> Folder:
    """The folder at `path`, checked whole; raises FolderInvalid listing every problem found."""
    problems: list[Problem] = []
    if not path.is_dir():
        raise FolderInvalid([Problem(Where(str(path)), "is not a folder")])
    site, site_where = _site(path, problems)
    goals = _objects(path, GOALS_FILE, fields.GOAL, "goal", problems)
    segments = _objects(path, SEGMENTS_FILE, fields.SEGMENT, "segment", problems)
    experiments = _experiments(path, problems)
    if experiments is not None:
        for experiment in experiments.values():
            _check_references(experiment, goals, segments, problems)
    if problems:
        raise FolderInvalid(sorted(problems, key=lambda p: (p.where.file, p.where.line)))
    return Folder(path=path, site=site, site_where=site_where, goals=goals, segments=segments, experiments=experiments)


def _site(path: Path, problems: list[Problem]) -> tuple[str, Where]:
    if not (path / SITE_FILE).is_file():
        problems.append(Problem(Where(SITE_FILE), "is missing: it names the site the folder describes (site: CODE)"))
        return "", Where(SITE_FILE)
    document = load(path, SITE_FILE, problems)
    if document is None:
        return "", Where(SITE_FILE)
    if not isinstance(document.value, dict) or "site" not in document.value:
        problems.append(Problem(document.where, "must say which site the folder describes: site: CODE"))
        return "", document.where
    for name, node in document.value.items():
        if name != "site":
            problems.append(Problem(node.where, f"{name!r} is not a setting of site.yaml (only: site)"))
    node = document.value["site"]
    if not isinstance(node.value, str) or not node.value.strip():
        problems.append(Problem(node.where, "site must be the site's code (text)"))
        return "", node.where
    return node.value.strip(), node.where


def _objects(
    path: Path, relative: str, known: dict[str, Known], kind: str, problems: list[Problem]
) -> dict[str, Spec] | None:
    if not (path / relative).exists():
        return None
    document = load(path, relative, problems)
    if document is None:
        return {}
    if document.value is None or document.value == {}:
        return {}
    if not isinstance(document.value, dict):
        problems.append(Problem(document.where, f"must map each {kind}'s key to its fields"))
        return {}
    specs: dict[str, Spec] = {}
    for key, node in document.value.items():
        if not fields.check_key(key, node, kind, problems):
            continue
        values, places = _fields(node, known, kind, problems)
        specs[key] = Spec(key=key, where=node.where, fields=values, places=places)
    return specs


def _fields(
    node: Node, known: dict[str, Known], kind: str, problems: list[Problem], *, special: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Where]]:
    """The known fields of an object (defaults filled in) and the others as written; `special` are skipped."""
    if not isinstance(node.value, dict):
        problems.append(Problem(node.where, f"a {kind} must be a mapping of its fields"))
        return {}, {}
    values: dict[str, Any] = {}
    places: dict[str, Where] = {}
    for name, value_node in node.value.items():
        places[name] = value_node.where
        if name in special:
            continue
        if name in known:
            values[name] = fields.check(known[name], value_node, name, problems)
        elif fields.is_server_set(name):
            hint = fields.SERVER_SET.get(name, "the server sets it")
            problems.append(Problem(value_node.where, f"{name} cannot be set in a manifest: {hint}"))
        else:
            values[name] = value_node.plain()  # a field sync does not know: carried to the server as written
    for name, field in known.items():
        if name not in node.value:
            if field.default is fields.REQUIRED:
                problems.append(Problem(node.where, f"this {kind} needs {name}"))
            else:
                values[name] = field.default
    return values, places


def _experiments(path: Path, problems: list[Problem]) -> dict[str, ExperimentSpec] | None:
    root = path / EXPERIMENTS_DIR
    if not root.is_dir():
        return None
    found: dict[str, ExperimentSpec] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        relative = f"{EXPERIMENTS_DIR}/{entry.name}"
        if not entry.is_dir():
            problems.append(Problem(Where(relative), f"only folders belong in {EXPERIMENTS_DIR}/, one per experiment"))
            continue
        if not fields.KEY.fullmatch(entry.name):
            problems.append(Problem(Where(relative), f"folder name {entry.name!r} is not a key: use {fields.KEY_RULE}"))
            continue
        if not (entry / MANIFEST).is_file():
            problems.append(Problem(Where(relative), f"has no {MANIFEST}"))
            continue
        document = load(path, f"{relative}/{MANIFEST}", problems)
        if document is not None:
            experiment = _experiment(path, entry.name, document, problems)
            if experiment is not None:
                found[entry.name] = experiment
    return found


_EXPERIMENT_SPECIAL = frozenset(
    {"status", "goals", "mainGoal", "targetingSegment", "deviations", "variations", *CODE_FILES}
)
_VARIATION_SPECIAL = frozenset(VARIATION_CODE_FILES)


def _experiment(path: Path, key: str, document: Node, problems: list[Problem]) -> ExperimentSpec | None:
    if not isinstance(document.value, dict):
        problems.append(Problem(document.where, "must be a mapping of the experiment's fields"))
        return None
    raw: dict[str, Node] = document.value
    folder = f"{EXPERIMENTS_DIR}/{key}"
    values, places = _fields(document, fields.EXPERIMENT, "experiment", problems, special=_EXPERIMENT_SPECIAL)
    for name, (api_name, suffix) in CODE_FILES.items():
        values[api_name] = _code(path, folder, raw.get(name), name, suffix, problems)
    status = None
    if "status" in raw:
        status = fields.check(Known("choice", choices=fields.STATUSES), raw["status"], "status", problems)
    goals = _key_list(raw.get("goals"), "goals", problems)
    main_goal = _optional_key(raw.get("mainGoal"), "mainGoal", problems)
    segment = _optional_key(raw.get("targetingSegment"), "targetingSegment", problems)
    variations = _variations(path, folder, raw.get("variations"), problems)
    deviations = _deviations(raw.get("deviations"), variations, problems)
    if status in LIVE_STATUSES:
        where = raw["status"].where
        if not variations:
            problems.append(Problem(where, f"an experiment needs a variation to be {status}"))
        if main_goal is None or main_goal not in goals:
            problems.append(Problem(where, f"an experiment needs a mainGoal among its goals to be {status}"))
    return ExperimentSpec(
        key=key,
        where=document.where,
        fields=values,
        places=places,
        goals=goals,
        main_goal=main_goal,
        targeting_segment=segment,
        deviations=deviations,
        status=status,
        variations=variations,
    )


def _variations(path: Path, folder: str, node: Node | None, problems: list[Problem]) -> dict[str, VariationSpec]:
    if node is None or node.value is None:
        return {}
    if not isinstance(node.value, dict):
        problems.append(Problem(node.where, "variations must map each variation's key to its fields"))
        return {}
    found: dict[str, VariationSpec] = {}
    for key, item in node.value.items():
        if not fields.check_key(key, item, "variation", problems):
            continue
        if key == ORIGIN:
            problems.append(Problem(item.where, "'origin' names the original page; give the variation another key"))
            continue
        values, places = _fields(item, fields.VARIATION, "variation", problems, special=_VARIATION_SPECIAL)
        if isinstance(item.value, dict):
            for name, (api_name, suffix) in VARIATION_CODE_FILES.items():
                values[api_name] = _code(path, folder, item.value.get(name), name, suffix, problems)
        found[key] = VariationSpec(key=key, where=item.where, fields=values, places=places)
    return found


def _code(path: Path, folder: str, node: Node | None, name: str, suffix: str, problems: list[Problem]) -> str | None:
    """The code in the file a manifest names, read exactly as it is (no newline conversion)."""
    if node is None or node.value is None:
        return None
    file = node.value
    if not isinstance(file, str) or not file.endswith(suffix) or "/" in file or "\\" in file or file.startswith("."):
        problems.append(Problem(node.where, f"{name} must name a {suffix} file beside the manifest, not {file!r}"))
        return None
    target = path / folder / file
    if not target.is_file():
        problems.append(Problem(node.where, f"{name}: {folder}/{file} does not exist"))
        return None
    data = target.read_bytes()
    if len(data) > MAX_CODE_BYTES:
        problems.append(
            Problem(node.where, f"{name}: {folder}/{file} holds {len(data)} bytes; the most is {MAX_CODE_BYTES}")
        )
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(node.where, f"{name}: {folder}/{file} is not UTF-8 ({exc.reason} at byte {exc.start})"))
        return None


def _key_list(node: Node | None, name: str, problems: list[Problem]) -> tuple[str, ...]:
    if node is None or node.value is None:
        return ()
    if not isinstance(node.value, list):
        problems.append(Problem(node.where, f"{name} must be a list of keys"))
        return ()
    keys = [item.value for item in node.value if fields.check_key(item.value, item, name, problems)]
    return tuple(dict.fromkeys(keys))


def _optional_key(node: Node | None, name: str, problems: list[Problem]) -> str | None:
    if node is None or node.value is None:
        return None
    return node.value if fields.check_key(node.value, node, name, problems) else None


def _deviations(
    node: Node | None, variations: dict[str, VariationSpec], problems: list[Problem]
) -> dict[str, float] | None:
    if node is None or node.value is None:
        return None
    if not isinstance(node.value, dict):
        problems.append(Problem(node.where, "deviations must map origin and variation keys to shares from 0 to 1"))
        return None
    shares: dict[str, float] = {}
    for name, item in node.value.items():
        share = item.value
        if name != ORIGIN and name not in variations:
            allowed = ", ".join([ORIGIN, *variations])
            problems.append(
                Problem(item.where, f"deviations: {name!r} is not a variation of this experiment ({allowed})")
            )
        elif isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1 or math.isnan(share):
            problems.append(Problem(item.where, f"deviations: the share of {name} must be a number from 0 to 1"))
        else:
            shares[name] = float(share)
    if sum(shares.values()) > 1 + 1e-9:
        problems.append(Problem(node.where, f"deviations add up to {sum(shares.values()):g}; at most 1"))
    return shares


def _check_references(
    experiment: ExperimentSpec,
    goals: dict[str, Spec] | None,
    segments: dict[str, Spec] | None,
    problems: list[Problem],
) -> None:
    """References to goals and segments the folder manages must name one it describes."""
    if goals is not None:
        for name, keys in (("goals", experiment.goals), ("mainGoal", (experiment.main_goal,))):
            for key in keys:
                if key is not None and key not in goals:
                    problems.append(
                        Problem(experiment.place(name), f"{name}: there is no goal {key!r} in {GOALS_FILE}")
                    )
    segment = experiment.targeting_segment
    if segments is not None and segment is not None and segment not in segments:
        problems.append(
            Problem(
                experiment.place("targetingSegment"),
                f"targetingSegment: there is no segment {segment!r} in {SEGMENTS_FILE}",
            )
        )

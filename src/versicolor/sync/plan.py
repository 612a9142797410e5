"""The plan: what must change on the site for it to match the folder, worked out without writing anything."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from versicolor.client.models import ApiObject, Experiment, Goal, Segment, Site, Variation
from versicolor.sync import fields
from versicolor.sync.compare import equal_split, same, same_split
from versicolor.sync.documents import Problem, Where
from versicolor.sync.folder import GOALS_FILE, SEGMENTS_FILE
from versicolor.sync.remote import Current
from versicolor.sync.specs import ORIGIN, ExperimentSpec, Folder, Spec

# The lifecycle as the API allows it, without SCHEDULE (which needs dates a folder does not hold).
TRANSITIONS: dict[str, dict[str, str]] = {
    "DRAFT": {"ACTIVATE": "ACTIVE", "DEACTIVATE": "DEACTIVATED"},
    "SCHEDULED": {"DEACTIVATE": "DEACTIVATED"},
    "ACTIVE": {"PAUSE": "PAUSED", "STOP": "STOPPED", "DEACTIVATE": "DEACTIVATED"},
    "PAUSED": {"RESUME": "ACTIVE", "STOP": "STOPPED", "DEACTIVATE": "DEACTIVATED"},
    "STOPPED": {"DEACTIVATE": "DEACTIVATED"},
    "DEACTIVATED": {},
}
LIVE = frozenset({"SCHEDULED", "ACTIVE", "PAUSED"})
DELETABLE = frozenset({"DRAFT", "STOPPED"})
# What visitors of a running experiment get: changing these needs --allow-live-changes.
LIVE_EXPERIMENT_FIELDS = frozenset(
    {"baseURL", "commonJavaScriptCode", "commonCssCode", "deviations", "targetingSegment"}
)
LIVE_VARIATION_FIELDS = frozenset({"jsCode", "cssCode", "redirection"})
CODE_FIELDS = frozenset({"commonJavaScriptCode", "commonCssCode", "jsCode", "cssCode"})
# Fields of a server object that a folder never sets as such (ids, references by id).
_READ_ONLY = frozenset({"id", "siteId", "key", "experimentId", "variations", "goals"})


@dataclass(frozen=True)
class Diff:
    """One field that changes: its value on the site (None for a new object) and in the folder."""

    field: str
    before: Any
    after: Any

    @property
    def is_code(self) -> bool:
        """Whether the field holds code (shown as a line diff)."""
        return self.field in CODE_FIELDS


@dataclass
class Change:
    """One object to create, update, delete or release (forget its key), with what changes and why."""

    action: str
    kind: str
    key: str
    where: Where | None = None
    diffs: list[Diff] = field(default_factory=list)
    steps: tuple[str, ...] = ()
    live: tuple[str, ...] = ()
    spec: Spec | None = None
    current: ApiObject | None = None
    experiment: str | None = None  # for a variation: the key of its experiment

    @property
    def label(self) -> str:
        """`goal purchase`, `variation checkout/blue`."""
        return f"{self.kind} {self.key if self.experiment is None else f'{self.experiment}/{self.key}'}"

    @property
    def writes(self) -> int:
        """How many requests that change the site this takes."""
        if self.action == "update" and not self.diffs:
            return len(self.steps)
        if self.action == "update":
            return 1 + max(0, len(self.steps) - 1)
        return 1 + len(self.steps)


@dataclass
class Plan:
    """Every change, in the order apply makes them; `problems` are reasons apply would refuse."""

    site: Site
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether the site already matches the folder."""
        return not self.changes

    @property
    def writes(self) -> int:
        """How many requests that change the site applying it takes."""
        return sum(change.writes for change in self.changes)


def make(folder: Folder, current: Current, *, prune: bool = False, allow_live_changes: bool = False) -> Plan:
    """The changes that make the site match the folder; refused changes are listed in `problems`."""
    planner = _Planner(folder, current, prune=prune, allow_live=allow_live_changes)
    planner.run()
    return planner.plan


class _Planner:
    def __init__(self, folder: Folder, current: Current, *, prune: bool, allow_live: bool) -> None:
        self.folder = folder
        self.current = current
        self.prune = prune
        self.allow_live = allow_live
        self.plan = Plan(site=current.site)

    def run(self) -> None:
        if self.folder.goals is not None:
            for spec in self.folder.goals.values():
                self._simple("goal", spec, self.current.goals.get(spec.key), fields.GOAL)
        if self.folder.segments is not None:
            for spec in self.folder.segments.values():
                self._simple("segment", spec, self.current.segments.get(spec.key), fields.SEGMENT)
        if self.folder.experiments is not None:
            for experiment in self.folder.experiments.values():
                self._experiment(experiment)
        self._leftovers()

    # Goals and segments: their own fields only.
    def _simple(self, kind: str, spec: Spec, current: Goal | Segment | None, known: Mapping[str, Any]) -> None:
        if current is None:
            self.plan.changes.append(
                Change("create", kind, spec.key, spec.where, diffs=_new(spec.fields, known), spec=spec)
            )
            return
        diffs = diffs_of(spec.fields, current.raw())
        if kind == "goal" and any(d.field in ("type", "params") for d in diffs):
            # The server checks params against the type: a change of either sends both.
            raw = current.raw()
            names = {d.field for d in diffs}
            diffs += [Diff(n, raw.get(n), spec.fields[n]) for n in ("type", "params") if n not in names]
        if diffs:
            self.plan.changes.append(Change("update", kind, spec.key, spec.where, diffs, spec=spec, current=current))

    # Experiments: their fields, references by key, their variations, their status.
    def _experiment(self, spec: ExperimentSpec) -> None:
        current = self.current.experiments.get(spec.key)
        self._resolve_references(spec)
        if current is None:
            change = Change(
                "create",
                "experiment",
                spec.key,
                spec.where,
                diffs=_new(spec.fields, fields.EXPERIMENT) + self._references(spec, None),
                steps=self._steps(spec, "DRAFT"),
                spec=spec,
            )
            self.plan.changes.append(change)
            for variation in spec.variations.values():
                self.plan.changes.append(
                    Change(
                        "create",
                        "variation",
                        variation.key,
                        variation.where,
                        diffs=_new(variation.fields, fields.VARIATION),
                        spec=variation,
                        experiment=spec.key,
                    )
                )
            return
        live = current.status in LIVE
        variation_changes: list[Change] = []
        existing = self.current.variations.get(current.id, {})
        for variation in spec.variations.values():
            held = existing.get(variation.key)
            if held is None:
                variation_changes.append(
                    Change(
                        "create",
                        "variation",
                        variation.key,
                        variation.where,
                        diffs=_new(variation.fields, fields.VARIATION),
                        spec=variation,
                        experiment=spec.key,
                        live=("a new variation",) if live else (),
                    )
                )
                continue
            diffs = diffs_of(variation.fields, held.raw())
            if diffs:
                touched = tuple(d.field for d in diffs if d.field in LIVE_VARIATION_FIELDS)
                variation_changes.append(
                    Change(
                        "update",
                        "variation",
                        variation.key,
                        variation.where,
                        diffs,
                        spec=variation,
                        current=held,
                        experiment=spec.key,
                        live=touched if live else (),
                    )
                )
        for key, held in existing.items():
            if key in spec.variations:
                continue
            if not self.prune:
                self.plan.kept.append(f"variation {spec.key}/{key} (id {held.id})")
            elif current.status != "DRAFT":
                self.plan.problems.append(
                    Problem(
                        spec.where,
                        f"variation {key} (id {held.id}) is no longer in the folder, but experiment {spec.key} is "
                        f"{current.status}: variations can be removed only while it is DRAFT",
                    )
                )
            else:
                variation_changes.append(
                    Change("delete", "variation", key, spec.where, current=held, experiment=spec.key)
                )
        changes = list(variation_changes)
        diffs = diffs_of(spec.fields, current.raw()) + self._references(spec, current)
        steps = self._steps(spec, current.status)
        if diffs or steps:
            touched = tuple(d.field for d in diffs if d.field in LIVE_EXPERIMENT_FIELDS)
            changes.append(
                Change(
                    "update",
                    "experiment",
                    spec.key,
                    spec.where,
                    diffs,
                    steps=steps,
                    live=touched if live else (),
                    spec=spec,
                    current=current,
                )
            )
        self.plan.changes.extend(changes)
        refused = sorted(f"{c.label}: {', '.join(c.live)}" for c in changes if c.live)
        if refused and not self.allow_live:
            self.plan.problems.append(
                Problem(
                    spec.where,
                    f"experiment {spec.key} is {current.status}: these changes alter what its visitors get "
                    f"({'; '.join(refused)}); apply them with --allow-live-changes",
                )
            )

    def _references(self, spec: ExperimentSpec, current: Experiment | None) -> list[Diff]:
        """Goals, main goal, segment and split, compared by key (ids of objects without a key show as #id)."""
        diffs: list[Diff] = []
        goals_now = sorted(self._goal_key(g) for g in (current.goals or [])) if current else []
        if sorted(spec.goals) != goals_now and (spec.goals or current is not None):
            diffs.append(Diff("goals", goals_now if current else None, sorted(spec.goals)))
        main_now = self._goal_key(current.main_goal_id) if current and current.main_goal_id else None
        if spec.main_goal != main_now:
            diffs.append(Diff("mainGoal", main_now, spec.main_goal))
        segment_id = current.targeting_segment_id if current else None
        segment_now = self._segment_key(segment_id) if segment_id else None
        if spec.targeting_segment != segment_now:
            diffs.append(Diff("targetingSegment", segment_now, spec.targeting_segment))
        if current is None:
            if spec.deviations is not None and not same_split(spec.deviations, equal_split(list(spec.variations))):
                diffs.append(Diff("deviations", None, spec.deviations))
            return diffs
        split_now = {self._arm(arm): share for arm, share in current.deviations.items()}
        if spec.deviations is None:
            arms_now = [str(v) for v in current.variations]
            automatic = same_split(current.deviations, equal_split(arms_now))
            same_arms = sorted(self._arm(a) for a in arms_now) == sorted(spec.variations)
            if not (automatic and same_arms) and current.status == "DRAFT":
                diffs.append(Diff("deviations", split_now, None))
            elif not (automatic and same_arms):
                wanted = equal_split(list(spec.variations))
                if not same_split(wanted, split_now):
                    diffs.append(Diff("deviations", split_now, wanted))
        elif not same_split(spec.deviations, split_now):
            diffs.append(Diff("deviations", split_now, spec.deviations))
        return diffs

    def _steps(self, spec: ExperimentSpec, status: str) -> tuple[str, ...]:
        if spec.status is None or spec.status == status:
            return ()
        path = _path(status, spec.status)
        if path is None:
            self.plan.problems.append(
                Problem(
                    spec.place("status"),
                    f"experiment {spec.key} is {status} on the site and cannot become {spec.status} "
                    f"(from {status} it can only: {', '.join(sorted(TRANSITIONS[status])) or 'nothing'})",
                )
            )
            return ()
        return path

    def _resolve_references(self, spec: ExperimentSpec) -> None:
        """Without goals.yaml (segments.yaml), references name goals (segments) the site has by key."""
        if self.folder.goals is None:
            for name, keys in (("goals", spec.goals), ("mainGoal", (spec.main_goal,))):
                for goal in keys:
                    if goal is not None and goal not in self.current.goals:
                        self.plan.problems.append(
                            Problem(
                                spec.place(name),
                                f"{name}: the site has no goal with key {goal!r} (and there is no {GOALS_FILE})",
                            )
                        )
        key = spec.targeting_segment
        if self.folder.segments is None and key is not None and key not in self.current.segments:
            self.plan.problems.append(
                Problem(
                    spec.place("targetingSegment"),
                    f"targetingSegment: the site has no segment with key {key!r} (and there is no {SEGMENTS_FILE})",
                )
            )

    def _goal_key(self, goal_id: int) -> str:
        goal = self.current.goal_by_id.get(goal_id)
        return goal.key if goal is not None and goal.key else f"#{goal_id}"

    def _segment_key(self, segment_id: int) -> str:
        segment = self.current.segment_by_id.get(segment_id)
        return segment.key if segment is not None and segment.key else f"#{segment_id}"

    def _arm(self, arm: str) -> str:
        if arm == ORIGIN or not arm.isdigit():
            return arm
        variation = self.current.variation_by_id.get(int(arm))
        return variation.key if variation is not None and variation.key else f"#{arm}"

    # What the site has with a key and the folder does not: kept, or deleted with --prune.
    def _leftovers(self) -> None:
        if self.folder.experiments is not None:
            for key, experiment in self.current.experiments.items():
                if key not in self.folder.experiments:
                    self._leftover_experiment(key, experiment)
            for key, orphans in self.current.orphans.items():
                for orphan in orphans:
                    self._leftover("variation", key, orphan)
        deleted_segments: set[int] = set()
        if self.folder.segments is not None:
            for key, segment in self.current.segments.items():
                if key not in self.folder.segments:
                    deleted_segments.add(segment.id)
                    self._leftover("segment", key, segment)
        if self.folder.goals is not None:
            for key, goal in self.current.goals.items():
                if key not in self.folder.goals:
                    self._leftover("goal", key, goal)
        if self.prune and deleted_segments:
            self._check_segments_free(deleted_segments)

    def _leftover(self, kind: str, key: str, current: Goal | Segment | Variation) -> None:
        if self.prune:
            self.plan.changes.append(Change("delete", kind, key, current=current))
        else:
            self.plan.kept.append(f"{kind} {key} (id {current.id})")

    def _leftover_experiment(self, key: str, experiment: Experiment) -> None:
        if not self.prune:
            self.plan.kept.append(f"experiment {key} (id {experiment.id}, {experiment.status})")
            return
        status = experiment.status
        if status in DELETABLE:
            self.plan.changes.append(Change("delete", "experiment", key, current=experiment))
        elif status == "DEACTIVATED":
            # A deactivated experiment cannot be deleted: prune forgets it (its key is removed).
            self.plan.changes.append(Change("release", "experiment", key, current=experiment))
        elif not self.allow_live:
            self.plan.problems.append(
                Problem(
                    Where("experiments/"),
                    f"experiment {key} (id {experiment.id}) is {status} on the site and not in the folder: "
                    "deleting it stops it for its visitors; prune it with --allow-live-changes",
                )
            )
        elif status == "SCHEDULED":
            self.plan.changes.append(Change("release", "experiment", key, steps=("DEACTIVATE",), current=experiment))
        else:
            self.plan.changes.append(
                Change("delete", "experiment", key, steps=("STOP",), current=experiment, live=("stopped",))
            )

    def _check_segments_free(self, deleted: set[int]) -> None:
        leaving = {
            c.current.id for c in self.plan.changes if isinstance(c.current, Experiment) and c.action == "delete"
        }
        kept_keys = set(self.folder.experiments or {})
        for experiment in self.current.all_experiments:
            segment_id = experiment.targeting_segment_id
            if segment_id not in deleted or experiment.id in leaving:
                continue
            if experiment.key in kept_keys:
                continue  # its manifest names its segment, which the plan already checks
            segment = self.current.segment_by_id[segment_id]
            self.plan.problems.append(
                Problem(
                    Where(SEGMENTS_FILE),
                    f"segment {segment.key} is not in the folder, but experiment {experiment.id} "
                    f"{experiment.name!r} targets it: it cannot be deleted",
                )
            )


def _path(start: str, goal: str) -> tuple[str, ...] | None:
    """The shortest list of lifecycle actions from `start` to `goal`, or None if there is none."""
    queue: deque[tuple[str, tuple[str, ...]]] = deque([(start, ())])
    seen = {start}
    while queue:
        status, actions = queue.popleft()
        if status == goal:
            return actions
        for action, after in TRANSITIONS.get(status, {}).items():
            if after not in seen:
                seen.add(after)
                queue.append((after, (*actions, action)))
    return None


def _new(values: Mapping[str, Any], known: Mapping[str, Any]) -> list[Diff]:
    """The fields of a new object worth showing: those given a value other than the default."""
    shown = []
    for name, value in values.items():
        default = known[name].default if name in known else None
        if value is None or (name in known and default is not fields.REQUIRED and same(value, default)):
            continue
        shown.append(Diff(name, None, value))
    return shown


def diffs_of(wanted: Mapping[str, Any], stored: Mapping[str, Any]) -> list[Diff]:
    """The fields whose folder value differs from the server's."""
    return [
        Diff(name, stored.get(name), value)
        for name, value in wanted.items()
        if name not in _READ_ONLY and not same(value, stored.get(name))
    ]

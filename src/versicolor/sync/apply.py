"""Apply: make the changes of a plan, in dependency order, one request per changed object.

Every object is created with its key in the same request, so an apply cut off half-way leaves objects that the
next run finds by key: running it again finishes the work. Nothing is kept on this side between runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from versicolor.client import Experiment, Versicolor
from versicolor.client.models import Variation
from versicolor.sync.documents import Problem
from versicolor.sync.plan import Change, Diff, Plan, diffs_of
from versicolor.sync.remote import Current
from versicolor.sync.specs import ORIGIN, ExperimentSpec, VariationSpec


class PlanRefused(Exception):
    """The plan holds changes that apply must not make (live changes, impossible transitions...)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class _Ids:
    """The id of every keyed object, those on the site at the start and those created on the way."""

    goals: dict[str, int] = field(default_factory=dict)
    segments: dict[str, int] = field(default_factory=dict)
    experiments: dict[str, int] = field(default_factory=dict)
    variations: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, current: Current) -> _Ids:
        ids = cls(
            goals={k: g.id for k, g in current.goals.items()},
            segments={k: s.id for k, s in current.segments.items()},
            experiments={k: e.id for k, e in current.experiments.items()},
        )
        for key, experiment in current.experiments.items():
            for variation_key, variation in current.variations.get(experiment.id, {}).items():
                ids.variations[(key, variation_key)] = variation.id
        return ids


Listener = Callable[[Change], None]


def run(client: Versicolor, plan: Plan, current: Current, *, on_change: Listener | None = None) -> int:
    """Make every change of `plan` (made from `current`); returns the number of writes sent."""
    if plan.problems:
        raise PlanRefused(plan.problems)
    applier = _Applier(client, plan, current, on_change)
    for change in plan.changes:
        applier.make(change)
    return applier.writes


class _Applier:
    def __init__(self, client: Versicolor, plan: Plan, current: Current, on_change: Listener | None) -> None:
        self.client = client
        self.site_id = plan.site.id
        self.current = current
        self.ids = _Ids.of(current)
        self.on_change = on_change
        self.writes = 0
        # Variations left without an experiment by an interrupted run, reused by key for new experiments.
        self.orphans = {key: list(found) for key, found in current.orphans.items()}
        self.new_experiments = {c.key for c in plan.changes if c.kind == "experiment" and c.action == "create"}

    def make(self, change: Change) -> None:
        made_with_its_experiment = (
            change.kind == "variation" and change.action == "create" and change.experiment in self.new_experiments
        )
        if not made_with_its_experiment:
            handler = getattr(self, f"_{change.action}_{change.kind}")
            handler(change)
        if self.on_change is not None:
            self.on_change(change)

    # Goals and segments.
    def _create_goal(self, change: Change) -> None:
        assert change.spec is not None
        goal = self.client.goals.create({**change.spec.fields, "siteId": self.site_id, "key": change.key})
        self.writes += 1
        self.ids.goals[change.key] = goal.id

    def _update_goal(self, change: Change) -> None:
        assert change.current is not None
        self.client.goals.update(self.ids.goals[change.key], _changed(change.diffs))
        self.writes += 1

    def _delete_goal(self, change: Change) -> None:
        self.client.goals.delete(self.ids.goals.pop(change.key))
        self.writes += 1

    def _create_segment(self, change: Change) -> None:
        assert change.spec is not None
        segment = self.client.segments.create({**change.spec.fields, "siteId": self.site_id, "key": change.key})
        self.writes += 1
        self.ids.segments[change.key] = segment.id

    def _update_segment(self, change: Change) -> None:
        self.client.segments.update(self.ids.segments[change.key], _changed(change.diffs))
        self.writes += 1

    def _delete_segment(self, change: Change) -> None:
        self.client.segments.delete(self.ids.segments.pop(change.key))
        self.writes += 1

    # Experiments and their variations.
    def _create_experiment(self, change: Change) -> None:
        spec = change.spec
        assert isinstance(spec, ExperimentSpec)
        variation_ids = [self._orphan_for(spec, variation) for variation in spec.variations.values()]
        body: dict[str, Any] = {
            **spec.fields,
            "siteId": self.site_id,
            "key": spec.key,
            "goals": [self.ids.goals[key] for key in spec.goals],
            "mainGoalId": self.ids.goals[spec.main_goal] if spec.main_goal else None,
            "targetingSegmentId": self.ids.segments[spec.targeting_segment] if spec.targeting_segment else None,
            "variations": variation_ids,
        }
        by_key = dict(zip(spec.variations, variation_ids, strict=True))
        if spec.deviations is not None:
            body["deviations"] = {_arm_id(arm, by_key): share for arm, share in spec.deviations.items()}
        experiment = self.client.experiments.create(body)
        self.writes += 1
        self.ids.experiments[spec.key] = experiment.id
        for key, variation_id in by_key.items():
            self.ids.variations[(spec.key, key)] = variation_id
        for step in change.steps:
            self.client.experiments.change_status(experiment.id, step)
            self.writes += 1

    def _orphan_for(self, experiment: ExperimentSpec, spec: VariationSpec) -> int:
        """A variation of no experiment for a new experiment: one left by an interrupted run, or a new one."""
        spare = self.orphans.get(spec.key) or []
        if spare:
            orphan: Variation = spare.pop(0)
            diffs = diffs_of(spec.fields, orphan.raw())
            if diffs:
                self.client.variations.update(orphan.id, _changed(diffs))
                self.writes += 1
            return orphan.id
        created = self.client.variations.create({**spec.fields, "siteId": self.site_id, "key": spec.key})
        self.writes += 1
        return created.id

    def _update_experiment(self, change: Change) -> None:
        spec = change.spec
        assert isinstance(spec, ExperimentSpec)
        experiment_id = self.ids.experiments[spec.key]
        body = self._experiment_changes(spec, change.diffs)
        steps = list(change.steps)
        if steps:
            self.client.experiments.change_status(experiment_id, steps.pop(0), body or None)
        else:
            self.client.experiments.update(experiment_id, body)
        self.writes += 1
        for step in steps:
            self.client.experiments.change_status(experiment_id, step)
            self.writes += 1

    def _experiment_changes(self, spec: ExperimentSpec, diffs: list[Diff]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        variations = {key: self.ids.variations[(spec.key, key)] for key in spec.variations}
        for diff in diffs:
            if diff.field == "goals":
                body["goals"] = [self.ids.goals[key] for key in spec.goals]
            elif diff.field == "mainGoal":
                body["mainGoalId"] = self.ids.goals[spec.main_goal] if spec.main_goal else None
            elif diff.field == "targetingSegment":
                segment = spec.targeting_segment
                body["targetingSegmentId"] = self.ids.segments[segment] if segment else None
            elif diff.field == "deviations":
                split = diff.after
                body["deviations"] = None if split is None else {_arm_id(a, variations): s for a, s in split.items()}
            else:
                body[diff.field] = diff.after
        return body

    def _delete_experiment(self, change: Change) -> None:
        experiment = change.current
        assert isinstance(experiment, Experiment)
        for step in change.steps:
            self.client.experiments.change_status(experiment.id, step)
            self.writes += 1
        self.client.experiments.delete(experiment.id)
        self.writes += 1

    def _release_experiment(self, change: Change) -> None:
        experiment = change.current
        assert isinstance(experiment, Experiment)
        for step in change.steps:
            self.client.experiments.change_status(experiment.id, step)
            self.writes += 1
        self.client.experiments.update(experiment.id, key=None)
        self.writes += 1

    def _create_variation(self, change: Change) -> None:
        assert change.spec is not None and change.experiment is not None
        experiment_id = self.ids.experiments[change.experiment]
        body = {**change.spec.fields, "experimentId": experiment_id, "key": change.key}
        created = self.client.variations.create(body)
        self.writes += 1
        self.ids.variations[(change.experiment, change.key)] = created.id

    def _update_variation(self, change: Change) -> None:
        assert change.experiment is not None
        self.client.variations.update(self.ids.variations[(change.experiment, change.key)], _changed(change.diffs))
        self.writes += 1

    def _delete_variation(self, change: Change) -> None:
        assert isinstance(change.current, Variation)
        self.client.variations.delete(change.current.id)
        self.writes += 1


def _changed(diffs: list[Diff]) -> dict[str, Any]:
    return {diff.field: diff.after for diff in diffs}


def _arm_id(arm: str, variation_ids: Mapping[str, int]) -> str:
    return ORIGIN if arm == ORIGIN else str(variation_ids[arm])

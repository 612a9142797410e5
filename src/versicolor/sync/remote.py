"""What the site holds now: read with one list request per kind of object, matched to the folder by key."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from versicolor.client import Experiment, Goal, Segment, Site, Variation, Versicolor, where
from versicolor.client.errors import NotFound


class SiteNotFound(Exception):
    """The folder names a site this account does not have."""


@dataclass
class Current:
    """The site's objects: those with a key by key, and every object by id (keyed or not)."""

    site: Site
    goals: dict[str, Goal] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    experiments: dict[str, Experiment] = field(default_factory=dict)
    # The keyed variations of each experiment (by experiment id), and the keyed ones of no experiment.
    variations: dict[int, dict[str, Variation]] = field(default_factory=lambda: defaultdict(dict))
    orphans: dict[str, list[Variation]] = field(default_factory=lambda: defaultdict(list))
    goal_by_id: dict[int, Goal] = field(default_factory=dict)
    segment_by_id: dict[int, Segment] = field(default_factory=dict)
    variation_by_id: dict[int, Variation] = field(default_factory=dict)
    all_experiments: list[Experiment] = field(default_factory=list)


def read(client: Versicolor, site_code: str) -> Current:
    """Every goal, segment, experiment and variation of the site with this code."""
    try:
        site = client.sites.by_code(site_code)
    except NotFound as exc:
        raise SiteNotFound(site_code) from exc
    of_site = [where("siteId", "EQUAL", site.id)]
    current = Current(site=site)
    for goal in client.goals.list(filter=of_site):
        current.goal_by_id[goal.id] = goal
        if goal.key:
            current.goals[goal.key] = goal
    for segment in client.segments.list(filter=of_site):
        current.segment_by_id[segment.id] = segment
        if segment.key:
            current.segments[segment.key] = segment
    for experiment in client.experiments.list(filter=of_site, optional_fields=["goals"]):
        current.all_experiments.append(experiment)
        if experiment.key:
            current.experiments[experiment.key] = experiment
    for variation in client.variations.list(filter=of_site):
        current.variation_by_id[variation.id] = variation
        if not variation.key:
            continue
        if variation.experiment_id is None:
            current.orphans[variation.key].append(variation)
        else:
            current.variations[variation.experiment_id][variation.key] = variation
    return current

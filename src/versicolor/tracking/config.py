"""The page configuration: what a page's script needs to run a site's live experiments (docs/tracking.md).

It holds the site's tracking script, its ACTIVE experiments (where they run, their global script, deviations,
variations with their code, goals, targeting segment), its ACTIVE personalizations (their code and segment:
everyone in the segment sees it, no assignment), the goals those experiments measure and the segments both
target, how to assign a visitor, and every regular expression of those goals and segments parsed
(core.patterns.parsed): the page runs them without parsing. The body is
canonical JSON (sorted keys, no spaces), so the same content always gives the same bytes and the same ETag.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from versicolor.core import patterns
from versicolor.core.errors import Invalid
from versicolor.core.experiments import deviations as split
from versicolor.core.experiments import experiments as experiment_service
from versicolor.core.experiments.lifecycle import Status
from versicolor.core.segments.service import conditions_of
from versicolor.core.segments.tree import parse
from versicolor.db.models import Experiment, Goal, Personalization, Segment, Site, Variation
from versicolor.tracking import sites
from versicolor.tracking.assignment import ORIGIN_KEY, SEED
from versicolor.tracking.sites import SiteRef

DEFAULT_TTL = 5.0
DEFAULT_MAX_ENTRIES = 10_000

ASSIGNMENT = {
    "hash": "murmur3_x86_32",
    "seed": SEED,
    "key": "<experimentId>:<visitorCode> as UTF-8",
    "point": "hash / 2^32",
    "order": f"{ORIGIN_KEY} (id 0) first, then variation ids ascending",
    "rule": "the first entry whose running sum of shares is greater than point; none: not in the experiment",
}


@dataclass(frozen=True)
class PageConfiguration:
    """The configuration as sent: its exact bytes and their entity tag."""

    body: bytes
    etag: str

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an If-None-Match header names this version (weak comparison, RFC 9110 §13.1.2)."""
        if not if_none_match:
            return False
        if if_none_match.strip() == "*":
            return True
        wanted = self.etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class ConfigurationCache:
    """One process's recently built configurations, by site code; make one per process and share it.

    A warm page view then costs no database round trip at all. The price is staleness: a change to an
    experiment reaches pages within `ttl` seconds (plus the browser's own max-age), the same bound host
    decisions have (core.domains.authorization). Nothing needs to be told of a change: entries just expire.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, SiteRef, PageConfiguration]] = {}

    async def get(self, *, sessions: async_sessionmaker[AsyncSession], code: str) -> tuple[SiteRef, PageConfiguration]:
        """The site with this code and its configuration, from the cache while fresh; NotFound for no such site."""
        now = self._clock()
        entry = self._entries.get(code)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        async with sessions() as session:
            site = await sites.by_code(session=session, code=code)
            configuration = await build(session=session, site=site)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # rare; bounds memory whatever codes clients send
        self._entries[code] = (now + self.ttl, site, configuration)
        return site, configuration

    def forget(self, code: str | None = None) -> None:
        """Drop one site's entry, or all."""
        if code is None:
            self._entries.clear()
        else:
            self._entries.pop(code, None)


async def build(*, session: AsyncSession, site: SiteRef) -> PageConfiguration:
    """The site's current page configuration."""
    content = await content_of(session=session, site=site)
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return PageConfiguration(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


async def content_of(*, session: AsyncSession, site: SiteRef) -> dict[str, Any]:
    """The configuration as a JSON-ready object."""
    experiments = list(
        await session.scalars(
            select(Experiment)
            .where(
                Experiment.account_id == site.account_id,
                Experiment.site_id == site.id,
                Experiment.status == Status.ACTIVE,
            )
            .order_by(Experiment.id)
        )
    )
    ids = [e.id for e in experiments]
    variations = await _variations(session=session, site=site, experiment_ids=ids)
    goal_ids = await experiment_service.goal_ids_of(session=session, experiment_ids=ids)
    wanted_goals = {g for goals in goal_ids.values() for g in goals} | {
        e.main_goal_id for e in experiments if e.main_goal_id is not None
    }
    goals = await _rows(session, Goal, site, wanted_goals)
    shown = list(
        await session.scalars(
            select(Personalization)
            .where(
                Personalization.account_id == site.account_id,
                Personalization.site_id == site.id,
                Personalization.status == Status.ACTIVE,
            )
            .order_by(Personalization.id)
        )
    )
    segment_ids = {e.targeting_segment_id for e in experiments} | {p.targeting_segment_id for p in shown}
    segments = await _rows(session, Segment, site, segment_ids)
    tracking_script = await session.scalar(select(Site.tracking_script).where(Site.id == site.id))
    return {
        "siteCode": site.code,
        "trackingScript": tracking_script,
        "assignment": ASSIGNMENT,
        "experiments": [_experiment(e, variations.get(e.id, []), goal_ids.get(e.id, [])) for e in experiments],
        "personalizations": [_personalization(p) for p in shown],
        "goals": [_goal(g) for g in goals],
        "segments": [{"id": s.id, "name": s.name, "conditionsData": conditions_of(s)} for s in segments],
        "patterns": parsed_patterns(
            [conditions_of(s) for s in segments],
            [g.params for g in goals if g.type == "URL" and g.params],
        ),
    }


def parsed_patterns(
    conditions: Iterable[Mapping[str, Any]], url_goal_params: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Every regular expression of these segment trees and URL goals, by its source, as the page engine runs it."""
    sources: set[str] = set()
    for tree in conditions:
        try:
            sources |= parse(tree).regular_expressions()
        except Invalid:
            continue  # stored before today's rules: its patterns stay unparsed, so the page reports and skips them
    for params in url_goal_params:
        if params.get("matchType") == "REGULAR_EXPRESSION" and isinstance(params.get("matchString"), str):
            sources.add(params["matchString"])
    found: dict[str, Any] = {}
    for source in sorted(sources):
        try:
            found[source] = patterns.parsed(source)
        except patterns.PatternError:
            continue  # likewise: without its parsed form the page treats the pattern as not matching
    return found


def _experiment(experiment: Experiment, variations: list[Variation], goal_ids: list[int]) -> dict[str, Any]:
    return {
        "id": experiment.id,
        "name": experiment.name,
        "type": experiment.type,
        "baseURL": experiment.base_url,
        "targetingConfiguration": experiment.targeting_configuration,
        "globalScript": experiment.global_script,
        # Only the keys of variations still in the experiment: what the assignment walks.
        "deviations": split.restricted(experiment.deviations, variation_ids=[v.id for v in variations]),
        "targetingSegmentId": experiment.targeting_segment_id,
        "mainGoalId": experiment.main_goal_id,
        "goals": goal_ids,
        "commonJavaScriptCode": experiment.common_javascript_code,
        "commonCssCode": experiment.common_css_code,
        "variations": [
            {
                "id": v.id,
                "name": v.name,
                "jsCode": v.js_code,
                "cssCode": v.css_code,
                "redirection": v.redirection,
            }
            for v in variations
        ],
    }


def _personalization(personalization: Personalization) -> dict[str, Any]:
    return {
        "id": personalization.id,
        "name": personalization.name,
        "targetingSegmentId": personalization.targeting_segment_id,
        "javaScriptCode": personalization.javascript_code,
        "cssCode": personalization.css_code,
    }


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "name": goal.name,
        "type": goal.type,
        "params": goal.params,
        "hasMultipleConversions": goal.has_multiple_conversions,
        "status": goal.status,
    }


async def _variations(*, session: AsyncSession, site: SiteRef, experiment_ids: list[int]) -> dict[int, list[Variation]]:
    if not experiment_ids:
        return {}
    rows = await session.scalars(
        select(Variation)
        .where(Variation.account_id == site.account_id, Variation.experiment_id.in_(experiment_ids))
        .order_by(Variation.id)
    )
    found: dict[int, list[Variation]] = {}
    for variation in rows:
        if variation.experiment_id is not None:
            found.setdefault(variation.experiment_id, []).append(variation)
    return found


_Row = TypeVar("_Row", Goal, Segment)


async def _rows(session: AsyncSession, model: type[_Row], site: SiteRef, ids: Iterable[int | None]) -> list[_Row]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return []
    rows = await session.scalars(
        select(model)
        .where(model.account_id == site.account_id, model.site_id == site.id, model.id.in_(wanted))
        .order_by(model.id)
    )
    return list(rows)


async def experiment_of(*, session: AsyncSession, site: SiteRef, experiment_id: int) -> dict[str, Any] | None:
    """One experiment of the site in the configuration's shape, whatever its status (a preview shows drafts)."""
    experiment = await session.scalar(
        select(Experiment).where(
            Experiment.account_id == site.account_id, Experiment.site_id == site.id, Experiment.id == experiment_id
        )
    )
    if experiment is None:
        return None
    variations = await _variations(session=session, site=site, experiment_ids=[experiment.id])
    goal_ids = await experiment_service.goal_ids_of(session=session, experiment_ids=[experiment.id])
    return _experiment(experiment, variations.get(experiment.id, []), goal_ids.get(experiment.id, []))

"""The objects a site resource's fields refer to by id (an experiment's or a personalization's segment and goals):
each found in the caller's account, and on the resource's own site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import resources, segments
from versicolor.core.errors import Invalid, NotFound
from versicolor.core.roles import Principal
from versicolor.db.models import Goal


class OnASite(Protocol):
    """A resource of one site (an experiment, a personalization)."""

    @property
    def site_id(self) -> int: ...


def require_same_site(kind: str, owner: OnASite, *, field: str, what: str, site_id: int) -> None:
    """Raise Invalid naming `field` unless `what` (e.g. "goal 5"), on `site_id`, is on the site of `owner`, a `kind`."""
    if site_id != owner.site_id:
        raise Invalid.field(field, f"{what} belongs to site {site_id}, not to the {kind}'s site {owner.site_id}")


@dataclass(frozen=True)
class Referrer:
    """A resource being written (`owner`, a `kind`), whose fields name other objects of the caller's account."""

    kind: str
    owner: OnASite
    session: AsyncSession
    principal: Principal

    async def segment_id(self, segment_id: int | None) -> int | None:
        """The segment `targetingSegmentId` names, found on the owner's site (None: no segment)."""
        if segment_id is None:
            return None
        segment = await segments.get(session=self.session, principal=self.principal, segment_id=segment_id)
        self.require_same_site(field="targetingSegmentId", what=f"segment {segment_id}", site_id=segment.site_id)
        return segment.id

    async def main_goal_id(self, goal_id: int | None) -> int | None:
        """The goal `mainGoalId` names, found on the owner's site (None: no main goal)."""
        if goal_id is None:
            return None
        (found,) = await self.goal_ids([goal_id], field="mainGoalId")
        return found

    async def goal_ids(self, goal_ids: Sequence[int], *, field: str) -> list[int]:
        """The goals `field` names, each once in the order given, each found on the owner's site.

        The first id that names no goal of the account is the 404, the first goal of another site the 400."""
        wanted = list(dict.fromkeys(goal_ids))
        resources.check_ids("goal", wanted)
        rows = await self.session.execute(
            select(Goal.id, Goal.site_id).where(Goal.account_id == self.principal.account_id, Goal.id.in_(wanted))
        )
        sites_of = {goal_id: site_id for goal_id, site_id in rows}
        for goal_id in wanted:
            if goal_id not in sites_of:
                raise NotFound.object("goal", goal_id)
            self.require_same_site(field=field, what=f"goal {goal_id}", site_id=sites_of[goal_id])
        return wanted

    def require_same_site(self, *, field: str, what: str, site_id: int) -> None:
        """`require_same_site` for this owner."""
        require_same_site(self.kind, self.owner, field=field, what=what, site_id=site_id)

"""Personalizations: code a site shows to every visitor of one segment, with no control group (docs/resources.md).

An experiment splits its visitors between the original and variations to compare them; a personalization
shows its code (`javaScriptCode`, `cssCode`) to everyone in its targeting segment, and nothing to anyone else.
It moves through the experiments' lifecycle table (core/experiments/lifecycle.py), without SCHEDULE, and the
page engine applies an ACTIVE one as it applies a variation (segment decided in the page, styles that follow
the segment in a single-page application, code run once per document).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import links, references, resources, sites, web_urls
from versicolor.core.errors import Conflict
from versicolor.core.experiments import code, lifecycle
from versicolor.core.experiments.lifecycle import Action, Status
from versicolor.core.roles import Principal
from versicolor.db.models import Personalization, PersonalizationGoal
from versicolor.db.types import utcnow

KIND = "personalization"
# A personalization starts when someone activates it; the scheduler is the experiments'.
ACTIONS: frozenset[Action] = frozenset(Action) - {Action.SCHEDULE}


@dataclass(frozen=True)
class PersonalizationFields:
    """Values for a personalization's writable fields; an update applies only the ones it is told were given."""

    name: str = ""
    base_url: str | None = None
    description: str | None = None
    tags: Sequence[str] = ()
    goals: Sequence[int] = ()
    main_goal_id: int | None = None
    targeting_segment_id: int | None = None
    javascript_code: str | None = None
    css_code: str | None = None
    global_script: str | None = None
    is_archived: bool = False
    targeting_configuration: str | None = None


FIELD_NAMES: frozenset[str] = frozenset(f.name for f in fields(PersonalizationFields))


@dataclass(frozen=True)
class Echo:
    """Read-only fields a client may send back as a GET showed them: each must be unchanged."""

    site_id: int | None = None
    status: str | None = None
    date_created: datetime | None = None
    date_started: datetime | None = None
    date_ended: datetime | None = None
    date_status_modified: datetime | None = None


def scoped(principal: Principal) -> Select[Personalization]:
    """Every personalization of the caller's account, as a query to refine."""
    return select(Personalization).where(Personalization.account_id == principal.account_id)


async def get(
    *, session: AsyncSession, principal: Principal, personalization_id: int, for_update: bool = False
) -> Personalization:
    """A personalization of the caller's account; `for_update` locks it until the transaction ends."""
    query = scoped(principal).where(Personalization.id == personalization_id)
    if for_update:
        query = query.with_for_update()
    return await resources.one(session, query, kind=KIND, object_id=personalization_id)


async def create(
    *, session: AsyncSession, principal: Principal, site_id: int, values: PersonalizationFields, given: Collection[str]
) -> Personalization:
    """Create a DRAFT personalization on a site of the caller's account."""
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    now = utcnow()
    personalization = Personalization(
        account_id=principal.account_id,
        site_id=site.id,
        status=Status.DRAFT,
        tags=[],
        is_archived=False,
        date_created=now,
        date_modified=now,
        date_status_modified=now,
    )
    session.add(personalization)
    await _apply(session, principal, personalization, values, given=FIELD_NAMES, now=now)
    return personalization


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    personalization_id: int,
    values: PersonalizationFields,
    given: Collection[str],
    echo: Echo = Echo(),
) -> Personalization:
    """Change the named fields (`given`); `goals` is replaced whole. Echoed read-only fields must be unchanged."""
    unknown = set(given) - FIELD_NAMES
    if unknown:
        raise ValueError(f"not personalization fields: {sorted(unknown)}")
    personalization = await get(
        session=session, principal=principal, personalization_id=personalization_id, for_update=True
    )
    resources.check_site_unchanged(echo.site_id, personalization.site_id, KIND)
    lifecycle.require_status_unchanged(personalization, echo.status, kind=KIND)
    resources.check_unchanged(
        KIND,
        [
            ("dateCreated", echo.date_created, personalization.date_created),
            ("dateStarted", echo.date_started, personalization.date_started),
            ("dateEnded", echo.date_ended, personalization.date_ended),
            ("dateStatusModified", echo.date_status_modified, personalization.date_status_modified),
        ],
    )
    if given:
        await _apply(session, principal, personalization, values, given=frozenset(given), now=utcnow())
    return personalization


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    personalization_id: int,
    values: PersonalizationFields,
    echo: Echo = Echo(),
) -> Personalization:
    """Replace every writable field: those the body left out return to their defaults."""
    return await update(
        session=session,
        principal=principal,
        personalization_id=personalization_id,
        values=values,
        given=FIELD_NAMES,
        echo=echo,
    )


async def change_status(
    *, session: AsyncSession, principal: Principal, personalization_id: int, action: Action
) -> Personalization:
    """Move the personalization through its lifecycle (every action of experiments but SCHEDULE)."""
    personalization = await get(
        session=session, principal=principal, personalization_id=personalization_id, for_update=True
    )
    step = lifecycle.transition(Status(personalization.status), action, kind=KIND, actions=ACTIONS)
    if step.launches:
        lifecycle.require_launchable(personalization, action, launch_problems(personalization), kind=KIND)
    now = utcnow()
    lifecycle.apply(personalization, step, now=now)
    personalization.date_modified = now
    await session.flush()
    return personalization


async def delete(*, session: AsyncSession, principal: Principal, personalization_id: int) -> None:
    """Delete a DRAFT or STOPPED personalization (a running one is stopped first, as an experiment is)."""
    personalization = await get(
        session=session, principal=principal, personalization_id=personalization_id, for_update=True
    )
    lifecycle.require_deletable(personalization, kind=KIND)
    await session.delete(personalization)
    await session.flush()


def launch_problems(personalization: Personalization) -> list[str]:
    """What keeps the personalization from running (empty when it can run)."""
    if personalization.targeting_segment_id is None:
        return ["it has no segment to show to (set targetingSegmentId)"]
    return []


async def goal_ids_of(*, session: AsyncSession, personalization_ids: Iterable[int]) -> dict[int, list[int]]:
    """The goal ids of each personalization, in id order (callers pass ids they already scoped)."""
    return await links.linked_ids(
        session=session,
        owner=PersonalizationGoal.personalization_id,
        target=PersonalizationGoal.goal_id,
        owner_ids=personalization_ids,
    )


async def using_segment(*, session: AsyncSession, principal: Principal, segment_id: int) -> list[Personalization]:
    """The personalizations that show to a segment, oldest first."""
    rows = await session.scalars(
        scoped(principal).where(Personalization.targeting_segment_id == segment_id).order_by(Personalization.id)
    )
    return list(rows)


async def _apply(
    session: AsyncSession,
    principal: Principal,
    personalization: Personalization,
    values: PersonalizationFields,
    *,
    given: frozenset[str],
    now: datetime,
) -> None:
    # A running personalization must keep a segment; one already broken can still be mended.
    was_ready = Status(personalization.status) in lifecycle.LIVE and not launch_problems(personalization)
    refer = references.Referrer(KIND, personalization, session=session, principal=principal)
    if "name" in given:
        personalization.name = resources.name(values.name)
    if "base_url" in given:
        personalization.base_url = None if values.base_url is None else web_urls.checked("baseURL", values.base_url)
    if "description" in given:
        personalization.description = resources.description(values.description)
    if "tags" in given:
        personalization.tags = resources.tags(list(values.tags))
    if "javascript_code" in given:
        personalization.javascript_code = code.check("javaScriptCode", values.javascript_code)
    if "css_code" in given:
        personalization.css_code = code.check("cssCode", values.css_code)
    if "global_script" in given:
        personalization.global_script = code.check("globalScript", values.global_script)
    if "is_archived" in given:
        personalization.is_archived = values.is_archived
    if "targeting_configuration" in given:
        personalization.targeting_configuration = values.targeting_configuration
    if "targeting_segment_id" in given:
        personalization.targeting_segment_id = await refer.segment_id(values.targeting_segment_id)
    if "main_goal_id" in given:
        personalization.main_goal_id = await refer.main_goal_id(values.main_goal_id)
    personalization.date_modified = now
    await session.flush()  # the personalization has an id from here on
    if "goals" in given:
        goal_ids = await refer.goal_ids(values.goals, field="goals")
        await session.execute(
            delete_rows(PersonalizationGoal).where(PersonalizationGoal.personalization_id == personalization.id)
        )
        session.add_all(
            PersonalizationGoal(personalization_id=personalization.id, goal_id=g, account_id=principal.account_id)
            for g in goal_ids
        )
        await session.flush()
    if was_ready and launch_problems(personalization):
        raise Conflict(
            f"{KIND} {personalization.id} is {personalization.status} and must keep a segment to show to; "
            "give it another targetingSegmentId, or STOP it first"
        )

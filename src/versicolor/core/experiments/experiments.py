"""Experiments of a site: create, read, change, move through the lifecycle, duplicate, delete."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import keys, links, references, resources, sites, web_urls
from versicolor.core.errors import Conflict, Invalid, NotFound
from versicolor.core.experiments import code, deviations, lifecycle
from versicolor.core.experiments.lifecycle import Action, Status
from versicolor.core.experiments.targeting import TargetingConfiguration
from versicolor.core.roles import Principal
from versicolor.db.models import Experiment, ExperimentGoal, Site, Variation
from versicolor.db.types import utcnow

KIND = "experiment"


class ExperimentType(StrEnum):
    """The kinds of experiment (docs/resources.md)."""

    CLASSIC = "CLASSIC"
    DEVELOPER = "DEVELOPER"
    AI = "AI"
    MVT = "MVT"
    SDK_HYBRID = "SDK_HYBRID"


@dataclass(frozen=True)
class ExperimentFields:
    """Values for an experiment's writable fields; an update applies only the ones it is told were given.

    `deviations=None` means "split equally between the original and every variation, following the
    variations as they come and go" (the default until someone sets a split).
    """

    name: str = ""
    base_url: str = ""
    type: ExperimentType = ExperimentType.CLASSIC
    description: str | None = None
    tags: Sequence[str] = ()
    deviations: Mapping[str, float] | None = None
    goals: Sequence[int] = ()
    main_goal_id: int | None = None
    targeting_segment_id: int | None = None
    common_javascript_code: str | None = None
    common_css_code: str | None = None
    variations: Sequence[int] = ()
    key: str | None = None
    targeting_configuration: TargetingConfiguration | None = None
    global_script: str | None = None
    # (start, end) of the one schedule an experiment has; ?action=SCHEDULE without dates uses it.
    schedule: tuple[datetime | None, datetime | None] = (None, None)


FIELD_NAMES: frozenset[str] = frozenset(f.name for f in fields(ExperimentFields))
# Variations are objects of their own: a PUT that does not name them leaves them where they are, rather
# than orphaning every variation of the experiment. A key names the experiment for the clients that gave it
# one: a PUT that does not name it keeps it. The global script and the schedule are not in every answer (the
# script only with optionalFields=globalScript): a PUT of an answer without them keeps them.
_KEPT_BY_PUT_UNLESS_GIVEN = frozenset({"variations", "key", "global_script", "schedule"})


def scoped(principal: Principal) -> Select[Experiment]:
    """Every experiment of the caller's account, as a query to refine."""
    return select(Experiment).where(Experiment.account_id == principal.account_id)


async def get(
    *, session: AsyncSession, principal: Principal, experiment_id: int, for_update: bool = False
) -> Experiment:
    """An experiment of the caller's account; `for_update` locks it until the transaction ends."""
    query = scoped(principal).where(Experiment.id == experiment_id)
    if for_update:
        # Two changes of one experiment (or a change and the scheduler) take turns instead of racing.
        query = query.with_for_update()
    return await resources.one(session, query, kind=KIND, object_id=experiment_id)


# A new experiment starts with one variation, as in Kameleoon, whose clients read `variations[0]` right after
# creating one to put their code in it. The original is not a variation: it is the `origin` of the deviations.
FIRST_VARIATION_NAME = "Variation 1"


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    site_id: int,
    values: ExperimentFields,
    first_variation: bool = True,
) -> Experiment:
    """Create a DRAFT experiment on a site of the caller's account, with its first variation.

    `first_variation=False` is for callers that name the experiment's variations themselves (even none).
    """
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    now = utcnow()
    experiment = Experiment(
        account_id=principal.account_id,
        site_id=site.id,
        status=Status.DRAFT,
        deviations={},
        deviations_automatic=True,
        tags=[],
        date_created=now,
        date_modified=now,
        date_status_modified=now,
    )
    session.add(experiment)
    await _apply(
        session,
        principal,
        experiment,
        values,
        given=FIELD_NAMES,
        now=now,
        creating=True,
        first_variation=first_variation,
    )
    return experiment


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    values: ExperimentFields,
    given: Collection[str],
    site_id: int | None = None,
    status: str | None = None,
) -> Experiment:
    """Change the named fields (`given`); arrays are replaced whole.

    `site_id` and `status` are the read-only values a client may echo back from a GET: they must match.
    """
    unknown = set(given) - FIELD_NAMES
    if unknown:
        raise ValueError(f"not experiment fields: {sorted(unknown)}")
    experiment = await get(session=session, principal=principal, experiment_id=experiment_id, for_update=True)
    _check_echo(experiment, site_id=site_id, status=status)
    if given:
        await _apply(session, principal, experiment, values, given=frozenset(given), now=utcnow())
    return experiment


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    values: ExperimentFields,
    given: Collection[str],
    site_id: int | None = None,
    status: str | None = None,
) -> Experiment:
    """Replace every writable field: those not in `given` return to their defaults (variations stay)."""
    applied = (FIELD_NAMES - _KEPT_BY_PUT_UNLESS_GIVEN) | (frozenset(given) & _KEPT_BY_PUT_UNLESS_GIVEN)
    return await update(
        session=session,
        principal=principal,
        experiment_id=experiment_id,
        values=values,
        given=applied,
        site_id=site_id,
        status=status,
    )


async def change_status(
    *,
    session: AsyncSession,
    principal: Principal,
    experiment_id: int,
    action: Action,
    date_start: datetime | None = None,
    date_end: datetime | None = None,
) -> Experiment:
    """Move the experiment through its lifecycle; SCHEDULE takes a start date and an optional end date."""
    experiment = await get(session=session, principal=principal, experiment_id=experiment_id, for_update=True)
    now = utcnow()
    if action is not Action.SCHEDULE and (date_start is not None or date_end is not None):
        raise Invalid.field("dateStart", "dateStart and dateEnd go with action=SCHEDULE only")
    step = lifecycle.transition(Status(experiment.status), action)
    if action is Action.SCHEDULE:
        if date_start is None and date_end is None:
            # Kameleoon's clients schedule with the experiment's stored schedule (its `schedules`).
            date_start, date_end = experiment.scheduled_start, experiment.scheduled_end
        experiment.scheduled_start, experiment.scheduled_end = _check_schedule(date_start, date_end, now=now)
    if step.launches:
        lifecycle.require_launchable(experiment, action, await launch_problems(session=session, experiment=experiment))
    lifecycle.apply(experiment, step, now=now)
    experiment.date_modified = now
    await session.flush()
    return experiment


async def delete(*, session: AsyncSession, principal: Principal, experiment_id: int) -> None:
    """Delete a DRAFT or STOPPED experiment, with its variations."""
    experiment = await get(session=session, principal=principal, experiment_id=experiment_id, for_update=True)
    lifecycle.require_deletable(experiment)
    await session.delete(experiment)
    await session.flush()


async def duplicate(
    *, session: AsyncSession, principal: Principal, experiment_id: int, name: str | None = None
) -> Experiment:
    """A new DRAFT copy of an experiment: same setup, goals and targeting, copies of its variations."""
    source = await get(session=session, principal=principal, experiment_id=experiment_id)
    now = utcnow()
    copy = Experiment(
        account_id=source.account_id,
        site_id=source.site_id,
        name=resources.name(name) if name is not None else f"{source.name} (copy)"[:200],
        base_url=source.base_url,
        type=source.type,
        status=Status.DRAFT,
        description=source.description,
        tags=list(source.tags),
        deviations={},
        deviations_automatic=source.deviations_automatic,
        main_goal_id=source.main_goal_id,
        targeting_segment_id=source.targeting_segment_id,
        common_javascript_code=source.common_javascript_code,
        common_css_code=source.common_css_code,
        targeting_configuration=source.targeting_configuration,
        global_script=source.global_script,
        stored_fields=dict(source.stored_fields),
        date_created=now,
        date_modified=now,
        date_status_modified=now,
    )
    session.add(copy)
    await session.flush()
    goal_ids = (await goal_ids_of(session=session, experiment_ids=[source.id]))[source.id]
    session.add_all(ExperimentGoal(experiment_id=copy.id, goal_id=g, account_id=copy.account_id) for g in goal_ids)
    renamed: dict[str, str] = {deviations.ORIGIN: deviations.ORIGIN}
    for original in await variations_of(session=session, experiment=source):
        twin = Variation(
            account_id=original.account_id,
            site_id=original.site_id,
            experiment_id=copy.id,
            name=original.name,
            js_code=original.js_code,
            css_code=original.css_code,
            color=original.color,
            redirection=original.redirection,
            key=original.key,
            date_created=now,
            date_modified=now,
        )
        session.add(twin)
        await session.flush()
        renamed[str(original.id)] = str(twin.id)
    copy.deviations = {renamed[key]: share for key, share in source.deviations.items() if key in renamed}
    await session.flush()
    await deviations.record(session=session, experiment=copy, now=now)
    return copy


async def variations_of(*, session: AsyncSession, experiment: Experiment) -> list[Variation]:
    """The experiment's variations, oldest first."""
    rows = await session.scalars(
        select(Variation)
        .where(Variation.account_id == experiment.account_id, Variation.experiment_id == experiment.id)
        .order_by(Variation.id)
    )
    return list(rows)


async def variation_ids_of(*, session: AsyncSession, experiment_ids: Iterable[int]) -> dict[int, list[int]]:
    """The variation ids of each experiment, oldest first (callers pass ids they already scoped)."""
    ids = list(experiment_ids)
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(Variation.experiment_id, Variation.id).where(Variation.experiment_id.in_(ids)).order_by(Variation.id)
        )
        for experiment_id, variation_id in rows:
            if experiment_id is not None:  # always: only attached variations were selected
                found[experiment_id].append(variation_id)
    return found


async def goal_ids_of(*, session: AsyncSession, experiment_ids: Iterable[int]) -> dict[int, list[int]]:
    """The goal ids of each experiment, in id order (callers pass ids they already scoped)."""
    return await links.linked_ids(
        session=session, owner=ExperimentGoal.experiment_id, target=ExperimentGoal.goal_id, owner_ids=experiment_ids
    )


async def launch_problems(*, session: AsyncSession, experiment: Experiment) -> list[str]:
    """What keeps the experiment from running (empty when it can run)."""
    variation_ids = (await variation_ids_of(session=session, experiment_ids=[experiment.id]))[experiment.id]
    goal_ids = (await goal_ids_of(session=session, experiment_ids=[experiment.id]))[experiment.id]
    problems = []
    if not variation_ids:
        problems.append("it has no variation")
    if experiment.main_goal_id is None:
        problems.append("it has no main goal (set mainGoalId)")
    elif experiment.main_goal_id not in goal_ids:
        problems.append(f"its main goal {experiment.main_goal_id} is not among its goals (add it to goals)")
    if variation_ids:
        problems.extend(deviations.launch_problems(experiment.deviations, variation_ids=variation_ids))
    return problems


async def settle_deviations(
    *, session: AsyncSession, experiment: Experiment, now: datetime, force_record: bool = False
) -> None:
    """Bring the deviations in line with the experiment's current variations, recording any change.

    While they are automatic and the experiment is a DRAFT they stay an equal split; otherwise keys of
    departed variations are dropped and a newcomer gets no traffic until someone gives it a share (a
    running experiment's split changes only when a person changes it).
    """
    variation_ids = (await variation_ids_of(session=session, experiment_ids=[experiment.id]))[experiment.id]
    before = dict(experiment.deviations)
    if experiment.deviations_automatic and experiment.status == Status.DRAFT:
        after = deviations.equal_split(variation_ids)
    else:
        after = deviations.restricted(before, variation_ids=variation_ids)
        if experiment.deviations_automatic and after != deviations.equal_split(variation_ids):
            experiment.deviations_automatic = False
    if after != before or force_record:
        experiment.deviations = after
        experiment.date_modified = now
        await session.flush()
        await deviations.record(session=session, experiment=experiment, now=now)


async def _apply(
    session: AsyncSession,
    principal: Principal,
    experiment: Experiment,
    values: ExperimentFields,
    *,
    given: frozenset[str],
    now: datetime,
    creating: bool = False,
    first_variation: bool = False,
) -> None:
    # Only a change that breaks a working setup is refused: one already broken (say its main goal was
    # deleted) can still be edited and mended.
    live = not creating and Status(experiment.status) in lifecycle.LIVE
    was_ready = live and not await launch_problems(session=session, experiment=experiment)
    refer = references.Referrer(KIND, experiment, session=session, principal=principal)
    if "name" in given:
        experiment.name = resources.name(values.name)
    if "base_url" in given:
        experiment.base_url = _clean_url(values.base_url)
    if "type" in given:
        experiment.type = ExperimentType(values.type)
    if "description" in given:
        experiment.description = values.description
    if "tags" in given:
        experiment.tags = list(dict.fromkeys(values.tags))
    if "common_javascript_code" in given:
        experiment.common_javascript_code = code.check("commonJavaScriptCode", values.common_javascript_code)
    if "common_css_code" in given:
        experiment.common_css_code = code.check("commonCssCode", values.common_css_code)
    if "global_script" in given:
        experiment.global_script = code.check("globalScript", values.global_script)
    if "targeting_configuration" in given:
        kind = values.targeting_configuration
        experiment.targeting_configuration = None if kind is None else TargetingConfiguration(kind)
    if "schedule" in given:
        experiment.scheduled_start, experiment.scheduled_end = _stored_schedule(*values.schedule)
    if "main_goal_id" in given:
        experiment.main_goal_id = await refer.main_goal_id(values.main_goal_id)
    if "targeting_segment_id" in given:
        experiment.targeting_segment_id = await refer.segment_id(values.targeting_segment_id)
    experiment.date_modified = now
    await session.flush()  # the experiment has an id from here on
    if "key" in given:
        await keys.assign(
            session=session,
            row=experiment,
            key=values.key,
            holders=lambda key: select(Experiment).where(
                Experiment.site_id == experiment.site_id, Experiment.key == key
            ),
            scope=f"site {experiment.site_id}",
        )
    if "goals" in given:
        await _set_goals(session, refer, experiment, values.goals)
    if "variations" in given:
        await _set_variations(session, principal, experiment, values.variations, now=now)
    if first_variation:
        # Before the deviations, so that a split given with the experiment follows the usual rules: the
        # first variation has the share it is given, and none when the split leaves it out.
        session.add(
            Variation(
                account_id=experiment.account_id,
                site_id=experiment.site_id,
                experiment_id=experiment.id,
                name=FIRST_VARIATION_NAME,
                date_created=now,
                date_modified=now,
            )
        )
        await session.flush()
    if "deviations" in given and "variations" not in given and values.deviations:
        await _join_named_variations(session, principal, experiment, values.deviations, now=now)
    if "deviations" in given:
        await _set_deviations(session, experiment, values.deviations, now=now, creating=creating)
    else:
        await settle_deviations(session=session, experiment=experiment, now=now, force_record=creating)
    if was_ready:
        problems = await launch_problems(session=session, experiment=experiment)
        if problems:
            raise Conflict(
                f"experiment {experiment.id} is {experiment.status} and must stay ready to run; "
                "this change would leave it unable to: " + "; ".join(problems)
            )


async def _join_named_variations(
    session: AsyncSession, principal: Principal, experiment: Experiment, split: Mapping[str, float], *, now: datetime
) -> None:
    """Attach the variations a split names that belong to no experiment yet, of the experiment's site.

    Kameleoon's clients make a variation with `POST /variations` (which attaches it to nothing) and add it to an
    experiment by giving it a share in `deviations`. A key naming anything else stays unknown to the split (400).
    """
    digits = [key for key in split if key.isascii() and key.isdigit() and len(key) <= len(str(resources.MAX_ID))]
    named = {int(key) for key in digits if 1 <= int(key) <= resources.MAX_ID}
    if not named:
        return
    free = await session.scalars(
        select(Variation).where(
            Variation.account_id == principal.account_id,
            Variation.site_id == experiment.site_id,
            Variation.experiment_id.is_(None),
            Variation.id.in_(named),
        )
    )
    for variation in free:
        variation.experiment_id = experiment.id
        variation.date_modified = now
    await session.flush()


async def _set_deviations(
    session: AsyncSession,
    experiment: Experiment,
    wanted: Mapping[str, float] | None,
    *,
    now: datetime,
    creating: bool,
) -> None:
    variation_ids = (await variation_ids_of(session=session, experiment_ids=[experiment.id]))[experiment.id]
    if wanted is None:
        experiment.deviations_automatic = True
        split = deviations.equal_split(variation_ids)
    else:
        experiment.deviations_automatic = False
        split = deviations.check(wanted, variation_ids=variation_ids)
    await _store_deviations(session, experiment, split, now=now, force=creating)


async def _store_deviations(
    session: AsyncSession, experiment: Experiment, split: dict[str, float], *, now: datetime, force: bool = False
) -> None:
    if split == experiment.deviations and not force:
        return
    experiment.deviations = split
    await session.flush()
    await deviations.record(session=session, experiment=experiment, now=now)


async def _set_goals(
    session: AsyncSession, refer: references.Referrer, experiment: Experiment, goal_ids: Sequence[int]
) -> None:
    wanted = await refer.goal_ids(goal_ids, field="goals")
    await session.execute(delete_rows(ExperimentGoal).where(ExperimentGoal.experiment_id == experiment.id))
    session.add_all(
        ExperimentGoal(experiment_id=experiment.id, goal_id=g, account_id=experiment.account_id) for g in wanted
    )
    await session.flush()


async def _set_variations(
    session: AsyncSession, principal: Principal, experiment: Experiment, variation_ids: Sequence[int], *, now: datetime
) -> None:
    wanted = list(dict.fromkeys(variation_ids))
    resources.check_ids("variation", wanted)
    rows = await session.scalars(
        select(Variation).where(Variation.account_id == principal.account_id, Variation.id.in_(wanted))
    )
    by_id = {variation.id: variation for variation in rows}
    for variation_id in wanted:
        variation = by_id.get(variation_id)
        if variation is None:
            raise NotFound.object("variation", variation_id)
        references.require_same_site(
            KIND, experiment, field="variations", what=f"variation {variation_id}", site_id=variation.site_id
        )
        if variation.experiment_id not in (None, experiment.id):
            raise Invalid.field(
                "variations",
                f"variation {variation_id} belongs to experiment {variation.experiment_id}; "
                "remove it there first, or duplicate it",
            )
    for current in await variations_of(session=session, experiment=experiment):
        if current.id not in by_id:
            lifecycle.require_variations_removable(experiment, current.id)
            current.experiment_id = None
            current.date_modified = now
    for variation in by_id.values():
        if variation.experiment_id is None:
            variation.experiment_id = experiment.id
            variation.date_modified = now
    await session.flush()


def _check_echo(experiment: Experiment, *, site_id: int | None, status: str | None) -> None:
    if site_id is not None and site_id != experiment.site_id:
        raise Invalid.field(
            "siteId", f"an experiment cannot move to another site (it belongs to site {experiment.site_id})"
        )
    lifecycle.require_status_unchanged(experiment, status)


def _check_schedule(
    date_start: datetime | None, date_end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime | None]:
    if date_start is None:
        raise Invalid.field(
            "dateStart",
            "action=SCHEDULE needs a start date, e.g. dateStart=2030-01-31T09:00:00Z, or a stored one (schedules)",
        )
    start = _utc("dateStart", date_start)
    end = _utc("dateEnd", date_end) if date_end is not None else None
    if start <= now:
        raise Invalid.field("dateStart", f"must be in the future (it is now {now.isoformat()})")
    if end is not None and end <= start:
        raise Invalid.field("dateEnd", "must be after dateStart")
    return start, end


def _stored_schedule(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    start = _utc("schedules[0].dateStart", start) if start is not None else None
    end = _utc("schedules[0].dateEnd", end) if end is not None else None
    if start is not None and end is not None and end <= start:
        raise Invalid.field("schedules[0].dateEnd", "must be after dateStart")
    return start, end


def _utc(field: str, moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise Invalid.field(field, f"{moment.isoformat()} has no time zone; add Z for UTC")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-14:00 is in the year 10000 in UTC, which no timestamp can hold
        raise Invalid.field(field, f"{moment.isoformat()} falls outside the years 1 to 9999 in UTC") from None


def _clean_url(url: str) -> str:
    return web_urls.checked("baseURL", url)


@dataclass(frozen=True)
class ExperimentView:
    """An experiment with the ids of its variations, and of its goals when asked for."""

    experiment: Experiment
    variations: list[int]
    goals: list[int] | None
    site_code: str


async def views(
    *, session: AsyncSession, experiments: Sequence[Experiment], with_goals: bool = False
) -> list[ExperimentView]:
    """The experiments with their linked ids and site codes, fetched in three queries whatever their number."""
    ids = [e.id for e in experiments]
    variation_ids = await variation_ids_of(session=session, experiment_ids=ids)
    goal_ids = await goal_ids_of(session=session, experiment_ids=ids) if with_goals else {}
    site_ids = {e.site_id for e in experiments}
    codes: dict[int, str] = {}
    if site_ids:
        rows = await session.execute(select(Site.id, Site.code).where(Site.id.in_(site_ids)))
        codes = {site_id: site_code for site_id, site_code in rows}
    return [
        ExperimentView(
            experiment=e,
            variations=variation_ids[e.id],
            goals=goal_ids[e.id] if with_goals else None,
            site_code=codes[e.site_id],
        )
        for e in experiments
    ]

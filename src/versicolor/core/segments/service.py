"""Storing segments: create, read, change and delete them within the caller's account."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import keys, resources, sites
from versicolor.core.errors import Conflict, Detail, Invalid, NotFound
from versicolor.core.roles import Principal
from versicolor.core.segments.conditions import MATCHES_BY_FORMAT
from versicolor.core.segments.matching import allowed
from versicolor.core.segments.tree import Conditions, condition_ids, parse
from versicolor.db.models import CustomDatum, Experiment, Personalization, Segment


class SegmentType(StrEnum):
    """The kinds of segment (one today: STANDARD)."""

    STANDARD = "STANDARD"


class SegmentFields(TypedDict, total=False):
    """A segment's changeable fields, snake_case; values are checked by this module."""

    name: Any
    segment_type: Any
    description: Any
    tags: Any
    conditions_data: Any
    key: Any
    audience_tracking: Any
    audience_tracking_editable: Any
    is_favorite: Any


# What create and PUT give a field the body leaves out; None reports a required field missing. The key is not
# among them: a PUT that leaves it out keeps it.
DEFAULTS: SegmentFields = {
    "name": None,
    "segment_type": SegmentType.STANDARD,
    "description": None,
    "tags": [],
    "conditions_data": None,
    "audience_tracking": False,
    "audience_tracking_editable": False,
    "is_favorite": False,
}

_FLAGS = {
    "audience_tracking": "audienceTracking",
    "audience_tracking_editable": "audienceTrackingEditable",
    "is_favorite": "isFavorite",
}

_ROOT = "conditionsData"


def scoped(principal: Principal) -> Select[Segment]:
    """Every segment of the caller's account, as a query to refine."""
    return select(Segment).where(Segment.account_id == principal.account_id)


def describe(segments: Sequence[Segment]) -> str:
    """Segments named for a message: `12 'Mobile', 13 'France'`."""
    return ", ".join(f"{s.id} {s.name!r}" for s in segments)


def _segment_type(value: object) -> str:
    if not isinstance(value, str) or value not in SegmentType.__members__:
        raise Invalid.field("segmentType", f"must be {allowed(SegmentType)}, not {value!r}")
    return value


async def _check_custom_data(session: AsyncSession, site_id: int, conditions: Conditions) -> None:
    """Every CUSTOM_DATUM condition must name a custom datum of the segment's site, compared as its format allows."""
    used = conditions.custom_datum_conditions()
    if not used:
        return
    defined = {
        d.index: d
        for d in await session.scalars(
            select(CustomDatum).where(CustomDatum.site_id == site_id, CustomDatum.index.in_({c.index for _, c in used}))
        )
    }
    problems: list[Detail] = []
    for path, condition in used:
        datum = defined.get(condition.index)
        if datum is None:
            missing = f"site {site_id} has no custom data at index {condition.index}"
            problems.append(Detail(f"{_ROOT}.{path}.customDataIndex", missing))
        elif condition.match_type not in MATCHES_BY_FORMAT[datum.format]:
            suited = sorted(MATCHES_BY_FORMAT[datum.format])
            problems.append(
                Detail(
                    f"{_ROOT}.{path}.matchType",
                    f"{condition.match_type} does not suit custom data {datum.name!r} of format {datum.format}; "
                    f"use {allowed(tuple(suited))}",
                )
            )
    if problems:
        raise Invalid("; ".join(f"{d.field}: {d.message}" for d in problems), details=problems)


async def _apply(session: AsyncSession, segment: Segment, fields: SegmentFields) -> None:
    if "name" in fields:
        segment.name = resources.name(fields["name"])
    if "segment_type" in fields:
        segment.segment_type = _segment_type(fields["segment_type"])
    if "description" in fields:
        segment.description = resources.description(fields["description"])
    if "tags" in fields:
        segment.tags = resources.tags(fields["tags"])
    for name, wire in _FLAGS.items():
        if name in fields:
            value = fields[name]  # type: ignore[literal-required]
            if not isinstance(value, bool):
                raise Invalid.field(wire, f"must be true or false, not {value!r}")
            setattr(segment, name, value)
    if "conditions_data" in fields:
        data = fields["conditions_data"]
        if data is None:
            raise Invalid.field(_ROOT, "is required: an object with firstLevel and firstLevelOrOperators")
        await _store_tree(session, segment, data)


async def _store_tree(session: AsyncSession, segment: Segment, data: object) -> None:
    tree = parse(data, root=_ROOT)
    await _check_custom_data(session, segment.site_id, tree)
    canonical = copy.deepcopy(tree.canonical)
    segment.last_condition_id = _give_ids(canonical, max(segment.last_condition_id, *condition_ids(canonical), 0))
    segment.conditions_data = canonical


def _give_ids(canonical: Mapping[str, Any], last: int) -> int:
    """Give every condition without an id the next one after `last`, in tree order; the last id given."""
    for group in canonical["firstLevel"]:
        for position, condition in enumerate(group["conditions"]):
            if "id" not in condition:
                last += 1
                group["conditions"][position] = {"id": last, **condition}
    return last


def conditions_of(segment: Segment) -> dict[str, Any]:
    """The segment's tree as answers show it: Kameleoon's spelling, every condition with its id.

    A segment stored before conditions had ids (and before Kameleoon's spelling) is read in canonical form with
    ids by position; its next write stores them.
    """
    if segment.last_condition_id > 0:
        return segment.conditions_data
    canonical = copy.deepcopy(parse(segment.conditions_data, root=_ROOT).canonical)
    _give_ids(canonical, 0)
    return canonical


async def _set_key(session: AsyncSession, segment: Segment, fields: SegmentFields) -> None:
    if "key" in fields:
        await keys.assign(
            session=session,
            row=segment,
            key=fields["key"],
            holders=lambda key: select(Segment).where(Segment.site_id == segment.site_id, Segment.key == key),
            scope=f"site {segment.site_id}",
        )


async def create(*, session: AsyncSession, principal: Principal, site_id: int, fields: SegmentFields) -> Segment:
    """Create a segment on a site of the caller's account."""
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    segment = Segment(account_id=principal.account_id, site_id=site.id, last_condition_id=0)
    await _apply(session, segment, {**DEFAULTS, **fields})
    session.add(segment)
    await session.flush()
    await _set_key(session, segment, fields)
    return segment


async def get(*, session: AsyncSession, principal: Principal, segment_id: int) -> Segment:
    """A segment of the caller's account."""
    return await resources.one(
        session, scoped(principal).where(Segment.id == segment_id), kind="segment", object_id=segment_id
    )


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    segment_id: int,
    changes: SegmentFields,
    site_id: int | None = None,
    echo: Mapping[str, object] | None = None,
) -> Segment:
    """Change the named fields of a segment (PATCH: what is named is replaced, the conditions tree whole).

    `echo` holds read-only fields a client sent back from a GET (`id`, `dateCreated`): they must be unchanged.
    """
    segment = await get(session=session, principal=principal, segment_id=segment_id)
    resources.check_site_unchanged(site_id, segment.site_id, "segment")
    given = echo or {}
    resources.check_unchanged(
        "segment",
        [("id", given.get("id"), segment.id), ("dateCreated", given.get("dateCreated"), segment.date_created)],
    )
    await _apply(session, segment, changes)
    await session.flush()
    await _set_key(session, segment, changes)
    return segment


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    segment_id: int,
    fields: SegmentFields,
    site_id: int | None = None,
    echo: Mapping[str, object] | None = None,
) -> Segment:
    """Replace a segment's fields (PUT): those left out go back to their defaults."""
    return await update(
        session=session,
        principal=principal,
        segment_id=segment_id,
        changes={**DEFAULTS, **fields},
        site_id=site_id,
        echo=echo,
    )


async def delete(*, session: AsyncSession, principal: Principal, segment_id: int) -> None:
    """Delete a segment no experiment targets and no personalization shows to; otherwise Conflict naming them."""
    segment = await get(session=session, principal=principal, segment_id=segment_id)
    users = await users_of(session=session, principal=principal, segment_ids=[segment.id])
    targeting, showing = users.experiments[segment.id], users.personalizations[segment.id]
    if targeting or showing:
        named = [
            f"{what} {', '.join(f'{i} {n!r}' for i, n in rows)}"
            for what, rows in (("experiments", targeting), ("personalizations", showing))
            if rows
        ]
        raise Conflict(
            f"segment {segment.id} is the targeting segment of {' and '.join(named)}; "
            "change their targetingSegmentId before deleting it"
        )
    await session.delete(segment)
    await session.flush()


@dataclass(frozen=True)
class SegmentUsers:
    """For each segment: the (id, name) of the experiments that target it and of the personalizations shown to it."""

    experiments: dict[int, list[tuple[int, str]]]
    personalizations: dict[int, list[tuple[int, str]]]


async def users_of(*, session: AsyncSession, principal: Principal, segment_ids: Sequence[int]) -> SegmentUsers:
    """Who uses each of the segments (ids the caller already scoped), in two queries whatever their number."""
    found = SegmentUsers({i: [] for i in segment_ids}, {i: [] for i in segment_ids})
    if not segment_ids:
        return found
    for model, into in ((Experiment, found.experiments), (Personalization, found.personalizations)):
        rows = await session.execute(
            select(model.targeting_segment_id, model.id, model.name)
            .where(model.account_id == principal.account_id, model.targeting_segment_id.in_(segment_ids))
            .order_by(model.id)
        )
        for segment_id, object_id, name in rows:
            if segment_id is not None:  # always: only rows naming one of the segments were selected
                into[segment_id].append((object_id, name))
    return found


async def using_custom_datum(*, session: AsyncSession, principal: Principal, site_id: int, index: int) -> list[Segment]:
    """The segments of a site whose conditions refer to the custom datum at `index`."""
    candidates = await session.scalars(scoped(principal).where(Segment.site_id == site_id).order_by(Segment.id))
    return [s for s in candidates if index in parse(s.conditions_data, root=_ROOT).custom_data_indexes()]


def custom_datum_conditions_suit(segment: Segment, index: int, data_format: str) -> bool:
    """Whether every condition of `segment` on the custom datum at `index` suits a datum of `data_format`."""
    return all(
        condition.match_type in MATCHES_BY_FORMAT[data_format]
        for _, condition in parse(segment.conditions_data, root=_ROOT).custom_datum_conditions()
        if condition.index == index
    )


async def update_condition(
    *, session: AsyncSession, principal: Principal, segment_id: int, condition_id: int, condition: object
) -> Segment:
    """Replace one condition of a segment's tree (PUT): it keeps its place and its id."""
    segment = await get(session=session, principal=principal, segment_id=segment_id)
    if not isinstance(condition, Mapping):
        raise Invalid("the body must be one condition: an object with targetingType, include and the type's fields")
    given_id = condition.get("id")
    if given_id is not None and given_id != condition_id:
        raise Invalid.field("id", f"is {given_id!r} but the path names condition {condition_id}")
    tree = copy.deepcopy(conditions_of(segment))
    for group in tree["firstLevel"]:
        for position, current in enumerate(group["conditions"]):
            if current.get("id") == condition_id:
                group["conditions"][position] = {**condition, "id": condition_id}
                await _store_tree(session, segment, tree)
                await session.flush()
                return segment
    raise NotFound(f"condition {condition_id} not found in segment {segment.id}")

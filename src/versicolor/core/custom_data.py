"""Custom data: values a site's pages report about a page, a visit or a visitor, each under an index."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.core import resources, segments, sites
from versicolor.core.errors import Conflict, Invalid
from versicolor.core.roles import Principal
from versicolor.core.segments.conditions import MAX_CUSTOM_DATA_INDEX
from versicolor.core.segments.matching import allowed
from versicolor.db.models import CustomDatum


class DataType(StrEnum):
    """How many values a datum holds: one, a list, or a list with a count per value."""

    UNIQUE = "UNIQUE"
    LIST = "LIST"
    COUNT_LIST = "COUNT_LIST"


class DataFormat(StrEnum):
    """The kind of each value."""

    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"


class Scope(StrEnum):
    """How long a reported value holds: for the page, the visit, or the visitor."""

    PAGE = "PAGE"
    VISIT = "VISIT"
    VISITOR = "VISITOR"


class CustomDataFields(TypedDict, total=False):
    """A custom datum's changeable fields, snake_case; values are checked by this module."""

    name: Any
    index: Any
    type: Any
    format: Any
    scope: Any


# What create and PUT give a field the body leaves out; a None name reports it missing, a None index
# takes the site's next free index.
DEFAULTS: CustomDataFields = {
    "name": None,
    "index": None,
    "type": DataType.UNIQUE,
    "format": DataFormat.STRING,
    "scope": Scope.VISIT,
}


def _member(kind: type[StrEnum], value: object, field: str) -> str:
    if value is None:
        raise Invalid.field(field, f"is required: {allowed(kind)}")
    if not isinstance(value, str) or value not in kind.__members__:
        raise Invalid.field(field, f"must be {allowed(kind)}, not {value!r}")
    return value


def _index(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CUSTOM_DATA_INDEX:
        raise Invalid.field("index", f"must be an integer from 0 to {MAX_CUSTOM_DATA_INDEX}, not {value!r}")
    return value


def scoped(principal: Principal) -> Select[CustomDatum]:
    """Every custom datum of the caller's account, as a query to refine."""
    return select(CustomDatum).where(CustomDatum.account_id == principal.account_id)


async def of_site(*, session: AsyncSession, principal: Principal, site_id: int) -> list[CustomDatum]:
    """The custom data of one of the caller's sites, by index."""
    query = scoped(principal).where(CustomDatum.site_id == site_id).order_by(CustomDatum.index)
    return list(await session.scalars(query))


async def _next_index(session: AsyncSession, site_id: int) -> int:
    highest = await session.scalar(select(func.max(CustomDatum.index)).where(CustomDatum.site_id == site_id))
    index = 0 if highest is None else highest + 1
    if index > MAX_CUSTOM_DATA_INDEX:
        raise Conflict(f"site {site_id} uses every index up to {MAX_CUSTOM_DATA_INDEX}; give an unused index")
    return index


async def _check_index_free(session: AsyncSession, datum: CustomDatum, index: int) -> None:
    holder = await session.scalar(
        select(CustomDatum).where(
            CustomDatum.site_id == datum.site_id, CustomDatum.index == index, CustomDatum.id != datum.id
        )
    )
    if holder is not None:
        raise Conflict(f"site {datum.site_id} already has custom data at index {index}: {holder.id} {holder.name!r}")


async def _apply(session: AsyncSession, principal: Principal, datum: CustomDatum, fields: CustomDataFields) -> None:
    """Set the given fields, refusing changes that would break the segments that use the datum."""
    if "name" in fields:
        datum.name = resources.name(fields["name"])
    if "type" in fields:
        datum.type = _member(DataType, fields["type"], "type")
    if "scope" in fields:
        datum.scope = _member(Scope, fields["scope"], "scope")
    new_format = _member(DataFormat, fields["format"], "format") if "format" in fields else datum.format
    new_index = datum.index
    if "index" in fields:
        new_index = await _next_index(session, datum.site_id) if fields["index"] is None else _index(fields["index"])
    if datum.id is not None and (new_index != datum.index or new_format != datum.format):
        await _check_segments_allow(session, principal, datum, new_index=new_index, new_format=new_format)
    if new_index != datum.index:
        await _check_index_free(session, datum, new_index)
    datum.index, datum.format = new_index, new_format


async def _check_segments_allow(
    session: AsyncSession, principal: Principal, datum: CustomDatum, *, new_index: int, new_format: str
) -> None:
    users = await segments.using_custom_datum(
        session=session, principal=principal, site_id=datum.site_id, index=datum.index
    )
    if new_index != datum.index:
        blocking = users
        why = "its index cannot change while segments use it"
    else:
        blocking = [s for s in users if not segments.custom_datum_conditions_suit(s, datum.index, new_format)]
        why = f"its format cannot become {new_format}: segments compare it in ways that format does not allow"
    if blocking:
        raise Conflict(f"custom data {datum.id}: {why}: {segments.describe(blocking)}")


async def create(*, session: AsyncSession, principal: Principal, site_id: int, fields: CustomDataFields) -> CustomDatum:
    """Define a custom datum on a site of the caller's account (at the next free index unless one is given)."""
    site = await sites.get(session=session, principal=principal, site_id=site_id)
    datum = CustomDatum(account_id=principal.account_id, site_id=site.id, index=-1, format=DataFormat.STRING.value)
    await _apply(session, principal, datum, {**DEFAULTS, **fields})
    try:
        async with session.begin_nested():
            session.add(datum)
            await session.flush()
    except IntegrityError as exc:  # another request took the index between our check and our insert
        raise Conflict(f"site {site.id} already has custom data at index {datum.index}; try again") from exc
    return datum


async def get(*, session: AsyncSession, principal: Principal, custom_data_id: int) -> CustomDatum:
    """A custom datum of the caller's account."""
    return await resources.one(
        session, scoped(principal).where(CustomDatum.id == custom_data_id), kind="custom data", object_id=custom_data_id
    )


async def update(
    *,
    session: AsyncSession,
    principal: Principal,
    custom_data_id: int,
    changes: CustomDataFields,
    site_id: int | None = None,
) -> CustomDatum:
    """Change the named fields of a custom datum (PATCH)."""
    datum = await get(session=session, principal=principal, custom_data_id=custom_data_id)
    resources.check_site_unchanged(site_id, datum.site_id, "custom data")
    if "index" in changes and changes["index"] is None:
        changes = {**changes, "index": datum.index}  # PATCH with a null index keeps the one it has
    await _apply(session, principal, datum, changes)
    await session.flush()
    return datum


async def replace(
    *,
    session: AsyncSession,
    principal: Principal,
    custom_data_id: int,
    fields: CustomDataFields,
    site_id: int | None = None,
) -> CustomDatum:
    """Replace a custom datum's fields (PUT); left out, the index stays and the rest take their defaults."""
    return await update(
        session=session,
        principal=principal,
        custom_data_id=custom_data_id,
        changes={**DEFAULTS, **fields},
        site_id=site_id,
    )


async def delete(*, session: AsyncSession, principal: Principal, custom_data_id: int) -> None:
    """Delete a custom datum that no segment uses."""
    datum = await get(session=session, principal=principal, custom_data_id=custom_data_id)
    users = await segments.using_custom_datum(
        session=session, principal=principal, site_id=datum.site_id, index=datum.index
    )
    if users:
        raise Conflict(
            f"custom data {datum.id} is used by segments; change their conditions first: {segments.describe(users)}"
        )
    await session.delete(datum)
    await session.flush()

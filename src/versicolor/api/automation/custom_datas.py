"""`/custom-datas`: the custom data a site's pages report, each under an index (docs/resources.md)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import CamelIn, Id, Kept, KeptOut, ReadOnlyEcho, Timestamp, kept_fields
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import custom_data, querying, resources
from versicolor.core.custom_data import CustomDataFields, DataFormat, DataType, Scope
from versicolor.core.querying import Choice, Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import CustomDatum

router = APIRouter(prefix="/custom-datas", tags=["custom data"], route_class=CheckedRoute)

# Every field CustomDataOut shows.
CUSTOM_DATA_FIELDS = Fields(
    {
        "id": CustomDatum.id,
        "name": CustomDatum.name,
        "siteId": CustomDatum.site_id,
        "index": CustomDatum.index,
        "type": Choice(CustomDatum.type, [t.value for t in DataType]),
        "format": Choice(CustomDatum.format, [f.value for f in DataFormat]),
        "scope": Choice(CustomDatum.scope, [s.value for s in Scope]),
        "dateCreated": CustomDatum.date_created,
        "dateModified": CustomDatum.date_modified,
    }
)
CustomDataQuery = Annotated[ListQuery, Depends(listing.query_params(CUSTOM_DATA_FIELDS))]
CustomDataSearch = Annotated[ListQuery, Depends(listing.search_body(CUSTOM_DATA_FIELDS))]

_INDEX_HELP = "0-999, unique on the site; left out, the site's next free index"


class CustomDataOut(KeptOut):
    """A custom datum as the API shows it."""

    id: Id
    name: str
    site_id: Id
    index: int
    type: str
    format: str
    scope: str
    date_created: Timestamp
    date_modified: Timestamp


class CustomDataKept(CamelIn):
    """Fields Kameleoon documents for custom data that Versicolor keeps and returns as given."""

    method: Kept = Field(default=None, description="how Kameleoon collects it (CLIENT, ...); kept as given")
    custom_eval_code: Kept
    description: Kept
    learnable: Kept
    is_constant: Kept
    gtm_variable_name: Kept
    tc_variable_name: Kept
    adobe_analytics_variable_name: Kept


class _CustomDataBody(CustomDataKept):
    """A whole custom datum but its site; a field left out takes its default."""

    name: str
    index: int | None = Field(default=None, description=_INDEX_HELP)
    type: DataType = DataType.UNIQUE
    format: DataFormat = DataFormat.STRING
    scope: Scope = Scope.VISIT


class CustomDataCreate(_CustomDataBody):
    """The body of `POST /custom-datas`."""

    site_id: Id


class CustomDataReplace(_CustomDataBody, ReadOnlyEcho):
    """The body of `PUT /custom-datas/{id}`: the whole datum; left out, the index stays, the rest reset."""

    site_id: Id | None = Field(default=None, description="may be given, but must be the datum's site")


class CustomDataUpdate(CustomDataKept, ReadOnlyEcho):
    """The body of `PATCH /custom-datas/{id}`: only the named fields change."""

    name: str | None = None
    site_id: Id | None = Field(default=None, description="may be given, but must be the datum's site")
    index: int | None = Field(default=None, description=_INDEX_HELP)
    type: DataType | None = None
    format: DataFormat | None = None
    scope: Scope | None = None


_NOT_CORE = {"site_id", "id", "date_created", "date_modified", *CustomDataKept.model_fields}


def _fields(body: CamelIn) -> CustomDataFields:
    # The schemas' field names are CustomDataFields' keys; the core checks every value again.
    return cast(CustomDataFields, body.model_dump(mode="json", exclude_unset=True, exclude=_NOT_CORE))


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[CustomDataOut]:
    page = await querying.fetch(session=session, statement=custom_data.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [CustomDataOut.model_validate(datum) for datum in page.items]


@router.get("")
async def list_custom_data(
    query: CustomDataQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[CustomDataOut]:
    """The account's custom data, one page: `page`, `perPage`, `filter`, `sort` (docs/conventions.md)."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_custom_data(
    query: CustomDataSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[CustomDataOut]:
    """The same as `GET /custom-datas`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.post("", status_code=201)
async def create_custom_data(body: CustomDataCreate, session: DbSession, caller: Caller) -> CustomDataOut:
    """Define a custom datum on one of the account's sites."""
    datum = await custom_data.create(session=session, principal=caller, site_id=body.site_id, fields=_fields(body))
    resources.keep_as_given(datum, kept_fields(body, CustomDataKept))
    return CustomDataOut.model_validate(datum)


@router.get("/{custom_data_id}")
async def get_custom_data(custom_data_id: Id, session: DbSession, caller: Caller) -> CustomDataOut:
    """A custom datum by id."""
    datum = await custom_data.get(session=session, principal=caller, custom_data_id=custom_data_id)
    return CustomDataOut.model_validate(datum)


@router.put("/{custom_data_id}")
async def replace_custom_data(
    custom_data_id: Id, body: CustomDataReplace, session: DbSession, caller: Caller
) -> CustomDataOut:
    """Replace a custom datum: every field takes the body's value, or its default when left out."""
    datum = await custom_data.replace(
        session=session, principal=caller, custom_data_id=custom_data_id, fields=_fields(body), site_id=body.site_id
    )
    body.check_echo("custom datum", datum)
    resources.keep_as_given(datum, kept_fields(body, CustomDataKept), replace=True)
    return CustomDataOut.model_validate(datum)


@router.patch("/{custom_data_id}")
async def update_custom_data(
    custom_data_id: Id, body: CustomDataUpdate, session: DbSession, caller: Caller
) -> CustomDataOut:
    """Change the named fields of a custom datum."""
    datum = await custom_data.update(
        session=session, principal=caller, custom_data_id=custom_data_id, changes=_fields(body), site_id=body.site_id
    )
    body.check_echo("custom datum", datum)
    resources.keep_as_given(datum, kept_fields(body, CustomDataKept))
    return CustomDataOut.model_validate(datum)


@router.delete("/{custom_data_id}", status_code=204)
async def delete_custom_data(custom_data_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a custom datum that no segment uses (409 naming the segments otherwise)."""
    await custom_data.delete(session=session, principal=caller, custom_data_id=custom_data_id)
    return Response(status_code=204)

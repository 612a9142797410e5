"""`/variations`: alternative versions of pages, with their code; each joins at most one experiment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import (
    CamelIn,
    CamelOut,
    Code,
    Id,
    Kept,
    KeptOut,
    ReadOnlyEcho,
    Timestamp,
    check_path_id,
    kept_fields,
    not_null,
)
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import querying, resources
from versicolor.core.experiments import variations
from versicolor.core.experiments.variations import RedirectionType, VariationFields
from versicolor.core.querying import Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import Variation

router = APIRouter(prefix="/variations", tags=["variations"], route_class=CheckedRoute)

VARIATION_FIELDS = Fields(
    {
        "id": Variation.id,
        "name": Variation.name,
        "key": Variation.key,
        "siteId": Variation.site_id,
        "experimentId": Variation.experiment_id,
        "jsCode": Variation.js_code,
        "cssCode": Variation.css_code,
        "color": Variation.color,
        "dateCreated": Variation.date_created,
        "dateModified": Variation.date_modified,
    },
    unsearchable=("redirection",),
)
VariationQuery = Annotated[ListQuery, Depends(listing.query_params(VARIATION_FIELDS))]
VariationSearch = Annotated[ListQuery, Depends(listing.search_body(VARIATION_FIELDS))]

Color = Annotated[int | None, Field(ge=-(2**31), le=2**31 - 1, description="the color shown in editors")]


class Redirection(CamelIn):
    """Where a redirection variation sends visitors."""

    type: RedirectionType
    url: str | None = Field(default=None, max_length=2048, description="GLOBAL_REDIRECTION: the target URL")
    parameters: str | None = Field(
        default=None, max_length=2048, description="PARAMETER_REDIRECTION: e.g. param1=foo&param2=bar"
    )
    include_query_parameters: bool | None = Field(
        default=None, description="GLOBAL_REDIRECTION: keep the original URL's query parameters"
    )


class RedirectionOut(CamelOut):
    """A redirection as the API shows it."""

    type: str
    url: str | None = None
    parameters: str | None = None
    include_query_parameters: bool | None = None


class VariationOut(KeptOut):
    """A variation as the API shows it."""

    id: Id
    name: str
    key: str | None
    site_id: Id
    experiment_id: Id | None
    js_code: str | None
    css_code: str | None
    color: int | None
    redirection: RedirectionOut | None
    date_created: Timestamp
    date_modified: Timestamp


class VariationKept(CamelIn):
    """Fields Kameleoon documents for variations that Versicolor keeps and returns as given."""

    creation_mode: Kept
    custom_json: Kept
    exposition_frequency_delay_seconds_between_two_expositions: Kept
    exposition_frequency_same_visit: Kept
    exposition_frequency_same_visitor: Kept
    exposition_frequency_same_visitor_delay_seconds: Kept
    force_no_flicker: Kept
    is_js_code_after_dom_ready: Kept
    prompt: Kept
    redirection_strings: Kept
    shadow_dom: Kept
    widget_template_input: Kept


class _Writable(VariationKept):
    """The writable fields; absent means "the default" (POST, PUT) or "unchanged" (PATCH)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    experiment_id: Id | None = Field(default=None, description="the experiment the variation joins; null: none")
    js_code: Code = None
    css_code: Code = None
    color: Color = None
    redirection: Redirection | None = None
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per experiment; a PUT without it keeps it",
    )

    _not_null = not_null("name")

    def values(self) -> VariationFields:
        """The body as the core's field values (defaults for what was not sent)."""
        redirection: dict[str, Any] | None = None
        if self.redirection is not None:
            redirection = self.redirection.model_dump(by_alias=True, exclude_none=True)
        return VariationFields(
            name=self.name or "",
            experiment_id=self.experiment_id,
            js_code=self.js_code,
            css_code=self.css_code,
            color=self.color,
            redirection=redirection,
            key=self.key,
        )

    def given(self) -> set[str]:
        """The names of the writable fields this body sent."""
        return set(self.model_fields_set) & variations.FIELD_NAMES


class VariationCreate(_Writable):
    """The body of `POST /variations`; `siteId` may be left out when `experimentId` is given."""

    name: str = Field(min_length=1, max_length=200)
    site_id: Id | None = None


class VariationPatch(_Writable, ReadOnlyEcho):
    """The body of `PATCH /variations/{id}`; read-only fields sent back from a GET are checked or ignored."""

    site_id: Id | None = None


class VariationReplace(VariationPatch):
    """The body of `PUT /variations/{id}`: the whole variation; what is left out returns to its default."""

    name: str = Field(min_length=1, max_length=200)


@router.get("")
async def list_variations(
    query: VariationQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[VariationOut]:
    """The variations of the caller's sites: `page`, `perPage`, `filter`, `sort`."""
    page = await querying.fetch(session=session, statement=variations.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [VariationOut.model_validate(v) for v in page.items]


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_variations(
    query: VariationSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[VariationOut]:
    """The same as `GET /variations`, with the query in a JSON body."""
    return await list_variations(query, request, response, session, caller)


@router.post("", status_code=201)
async def create_variation(body: VariationCreate, session: DbSession, caller: Caller) -> VariationOut:
    """Create a variation; with `experimentId` it joins that experiment."""
    variation = await variations.create(session=session, principal=caller, site_id=body.site_id, values=body.values())
    resources.keep_as_given(variation, kept_fields(body, VariationKept))
    return VariationOut.model_validate(variation)


@router.get("/{variation_id}")
async def get_variation(variation_id: Id, session: DbSession, caller: Caller) -> VariationOut:
    """One variation."""
    return VariationOut.model_validate(
        await variations.get(session=session, principal=caller, variation_id=variation_id)
    )


@router.put("/{variation_id}")
async def replace_variation(
    variation_id: Id, body: VariationReplace, session: DbSession, caller: Caller
) -> VariationOut:
    """Replace a variation's writable fields."""
    check_path_id("variation", variation_id, body.id)
    variation = await variations.replace(
        session=session,
        principal=caller,
        variation_id=variation_id,
        values=body.values(),
        given=body.given(),
        site_id=body.site_id,
    )
    body.check_echo("variation", variation)
    resources.keep_as_given(variation, kept_fields(body, VariationKept), replace=True)
    return VariationOut.model_validate(variation)


@router.patch("/{variation_id}")
async def patch_variation(variation_id: Id, body: VariationPatch, session: DbSession, caller: Caller) -> VariationOut:
    """Change the named fields of a variation."""
    check_path_id("variation", variation_id, body.id)
    variation = await variations.update(
        session=session,
        principal=caller,
        variation_id=variation_id,
        values=body.values(),
        given=body.given(),
        site_id=body.site_id,
    )
    body.check_echo("variation", variation)
    resources.keep_as_given(variation, kept_fields(body, VariationKept))
    return VariationOut.model_validate(variation)


@router.delete("/{variation_id}", status_code=204)
async def delete_variation(variation_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a variation (one of a DRAFT experiment, or of none)."""
    await variations.delete(session=session, principal=caller, variation_id=variation_id)
    return Response(status_code=204)

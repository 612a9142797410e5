"""`/segments`: named sets of a site's visitors, described by a conditions tree (docs/resources.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from versicolor.api.automation.schemas import CamelIn, CamelOut, Id, Timestamp
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import querying, segments
from versicolor.core.querying import Choice, Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.core.segments import SegmentFields, SegmentType
from versicolor.db.models import Segment

router = APIRouter(prefix="/segments", tags=["segments"], route_class=CheckedRoute)

# Every scalar field SegmentOut shows; conditionsData (an object) and tags (a list) are not searchable.
SEGMENT_FIELDS = Fields(
    {
        "id": Segment.id,
        "name": Segment.name,
        "key": Segment.key,
        "siteId": Segment.site_id,
        "segmentType": Choice(Segment.segment_type, [t.value for t in SegmentType]),
        "description": Segment.description,
        "audienceTracking": Segment.audience_tracking,
        "audienceTrackingEditable": Segment.audience_tracking_editable,
        "isFavorite": Segment.is_favorite,
        "dateCreated": Segment.date_created,
        "dateModified": Segment.date_modified,
    },
    unsearchable=("conditionsData", "tags", "experiments", "personalizations"),
    optional=("experiments", "personalizations"),
)
OptionalFields = Annotated[
    str | None, Query(alias="optionalFields", description="comma-separated extra fields: experiments, personalizations")
]
SegmentQuery = Annotated[ListQuery, Depends(listing.query_params(SEGMENT_FIELDS))]
SegmentSearch = Annotated[ListQuery, Depends(listing.search_body(SEGMENT_FIELDS))]

_CONDITIONS_HELP = (
    '{"firstLevel": [{"conditions": [{"targetingType", "include", ...}], "orOperators": [bool]}], '
    '"firstLevelOrOperators": [bool]}; true joins neighbours with OR, false with AND (AND binds tighter). '
    "Targeting types and their fields: see docs/segments.md."
)


class SegmentOut(CamelOut):
    """A segment as the API shows it."""

    id: Id
    name: str
    key: str | None
    site_id: Id
    segment_type: str
    description: str | None
    tags: list[str]
    conditions_data: dict[str, Any]
    audience_tracking: bool
    audience_tracking_editable: bool
    is_favorite: bool
    date_created: Timestamp
    date_modified: Timestamp
    experiments: list[Id] | None = Field(default=None, description="with optionalFields=experiments: who target it")
    personalizations: list[Id] | None = Field(
        default=None, description="with optionalFields=personalizations: the personalizations shown to it"
    )

    @model_serializer(mode="wrap")
    def _optional_only_when_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("experiments", "personalizations"):
            if data.get(name) is None:
                data.pop(name, None)
        return data

    @classmethod
    def of(
        cls, segment: Segment, users: segments.SegmentUsers | None = None, wanted: frozenset[str] = frozenset()
    ) -> SegmentOut:
        """The rendering of one segment (its tree in Kameleoon's spelling, every condition with its id); the ids of
        who uses it when `wanted` names them."""
        return cls(
            experiments=[i for i, _ in users.experiments[segment.id]] if users and "experiments" in wanted else None,
            personalizations=(
                [i for i, _ in users.personalizations[segment.id]] if users and "personalizations" in wanted else None
            ),
            id=segment.id,
            name=segment.name,
            key=segment.key,
            site_id=segment.site_id,
            segment_type=segment.segment_type,
            description=segment.description,
            tags=segment.tags,
            conditions_data=segments.conditions_of(segment),
            audience_tracking=segment.audience_tracking,
            audience_tracking_editable=segment.audience_tracking_editable,
            is_favorite=segment.is_favorite,
            date_created=segment.date_created,
            date_modified=segment.date_modified,
        )


class _SegmentBody(CamelIn):
    """A whole segment but its site; a field left out takes its default."""

    name: str
    conditions_data: dict[str, Any] = Field(description=_CONDITIONS_HELP)
    segment_type: SegmentType = SegmentType.STANDARD
    description: str | None = None
    tags: list[str] | None = None
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per site; a PUT without it keeps it",
    )
    audience_tracking: bool = False
    audience_tracking_editable: bool = False
    is_favorite: bool = False


class _ReadOnlyEcho(CamelIn):
    """Read-only fields a client may send back as it got them (GET, edit, PUT): checked, or ignored."""

    id: Id | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = Field(default=None, description="ignored: it changes with every write")

    def echo(self) -> dict[str, object]:
        """The echoed fields the core checks."""
        return {"id": self.id, "dateCreated": self.date_created}


class SegmentCreate(_SegmentBody):
    """The body of `POST /segments`."""

    site_id: Id


class SegmentReplace(_SegmentBody, _ReadOnlyEcho):
    """The body of `PUT /segments/{id}`: the whole segment; a field left out takes its default."""

    site_id: Id | None = Field(default=None, description="may be given, but must be the segment's site")


class SegmentUpdate(_ReadOnlyEcho):
    """The body of `PATCH /segments/{id}`: only the named fields change (the conditions tree whole)."""

    name: str | None = None
    site_id: Id | None = Field(default=None, description="may be given, but must be the segment's site")
    conditions_data: dict[str, Any] | None = Field(default=None, description=_CONDITIONS_HELP)
    segment_type: SegmentType | None = None
    description: str | None = None
    tags: list[str] | None = None
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per site; a PUT without it keeps it",
    )
    audience_tracking: bool | None = None
    audience_tracking_editable: bool | None = None
    is_favorite: bool | None = None


def _fields(body: _SegmentBody | SegmentUpdate) -> SegmentFields:
    # The schemas' field names are SegmentFields' keys; the core checks every value again. The free-form tree
    # goes to it as parsed: serializing it again would fail (500) on a value nested past pydantic's 255 levels.
    fields = body.model_dump(
        mode="json", exclude_unset=True, exclude={"site_id", "conditions_data", "id", "date_created", "date_modified"}
    )
    if "conditions_data" in body.model_fields_set:
        fields["conditions_data"] = body.conditions_data
    return cast(SegmentFields, fields)


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[SegmentOut]:
    page = await querying.fetch(session=session, statement=segments.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return await _rendered(session, caller, page.items, query.optional_fields)


async def _rendered(
    session: DbSession, caller: Caller, found: list[Segment], wanted: frozenset[str]
) -> list[SegmentOut]:
    users = (
        await segments.users_of(session=session, principal=caller, segment_ids=[s.id for s in found])
        if wanted
        else None
    )
    return [SegmentOut.of(segment, users, wanted) for segment in found]


async def _one(session: DbSession, caller: Caller, segment: Segment, optional_fields: str | None) -> SegmentOut:
    (rendered,) = await _rendered(session, caller, [segment], querying.optional_fields(SEGMENT_FIELDS, optional_fields))
    return rendered


@router.get("")
async def list_segments(
    query: SegmentQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[SegmentOut]:
    """The account's segments, one page: `page`, `perPage`, `filter`, `sort` (docs/conventions.md)."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_segments(
    query: SegmentSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[SegmentOut]:
    """The same as `GET /segments`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.post("", status_code=201)
async def create_segment(body: SegmentCreate, session: DbSession, caller: Caller) -> SegmentOut:
    """Create a segment on one of the account's sites."""
    segment = await segments.create(session=session, principal=caller, site_id=body.site_id, fields=_fields(body))
    return SegmentOut.of(segment)


@router.get("/{segment_id}")
async def get_segment(
    segment_id: Id, session: DbSession, caller: Caller, optional_fields: OptionalFields = None
) -> SegmentOut:
    """A segment by id; `optionalFields=experiments,personalizations` adds the ids of who uses it."""
    segment = await segments.get(session=session, principal=caller, segment_id=segment_id)
    return await _one(session, caller, segment, optional_fields)


@router.put("/{segment_id}")
async def replace_segment(segment_id: Id, body: SegmentReplace, session: DbSession, caller: Caller) -> SegmentOut:
    """Replace a segment: every field takes the body's value, or its default when left out."""
    segment = await segments.replace(
        session=session,
        principal=caller,
        segment_id=segment_id,
        fields=_fields(body),
        site_id=body.site_id,
        echo=body.echo(),
    )
    return SegmentOut.of(segment)


@router.patch("/{segment_id}")
async def update_segment(segment_id: Id, body: SegmentUpdate, session: DbSession, caller: Caller) -> SegmentOut:
    """Change the named fields of a segment."""
    segment = await segments.update(
        session=session,
        principal=caller,
        segment_id=segment_id,
        changes=_fields(body),
        site_id=body.site_id,
        echo=body.echo(),
    )
    return SegmentOut.of(segment)


@router.put("/{segment_id}/conditions/{condition_id}")
async def replace_condition(
    segment_id: Id,
    condition_id: Id,
    session: DbSession,
    caller: Caller,
    condition: Annotated[dict[str, Any], Body(description="one condition, as in conditionsData")],
) -> SegmentOut:
    """Replace one condition of the segment's tree; it keeps its place and its id. Answers the whole segment."""
    segment = await segments.update_condition(
        session=session, principal=caller, segment_id=segment_id, condition_id=condition_id, condition=condition
    )
    return SegmentOut.of(segment)


@router.delete("/{segment_id}", status_code=204)
async def delete_segment(segment_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a segment that no experiment targets and no personalization shows to (409 naming them otherwise)."""
    await segments.delete(session=session, principal=caller, segment_id=segment_id)
    return Response(status_code=204)

"""`/personalizations`: code shown to every visitor of a segment, with no control group, and its lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from versicolor.api.automation.schemas import CamelIn, CamelOut, Code, Id, Timestamp, check_path_id, not_null
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import personalizations, querying
from versicolor.core.experiments.lifecycle import Action, Status
from versicolor.core.personalizations import Echo, PersonalizationFields
from versicolor.core.querying import Choice, Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import Personalization

router = APIRouter(prefix="/personalizations", tags=["personalizations"], route_class=CheckedRoute)

GOALS = "goals"
PERSONALIZATION_FIELDS = Fields(
    {
        "id": Personalization.id,
        "name": Personalization.name,
        "siteId": Personalization.site_id,
        "baseURL": Personalization.base_url,
        "status": Choice(Personalization.status, list(Status)),
        "description": Personalization.description,
        "mainGoalId": Personalization.main_goal_id,
        "targetingSegmentId": Personalization.targeting_segment_id,
        "javaScriptCode": Personalization.javascript_code,
        "cssCode": Personalization.css_code,
        "globalScript": Personalization.global_script,
        "isArchived": Personalization.is_archived,
        "targetingConfiguration": Personalization.targeting_configuration,
        "dateCreated": Personalization.date_created,
        "dateModified": Personalization.date_modified,
        "dateStarted": Personalization.date_started,
        "dateEnded": Personalization.date_ended,
        "dateStatusModified": Personalization.date_status_modified,
    },
    unsearchable=("tags", GOALS),
    optional=(GOALS,),
)
PersonalizationQuery = Annotated[ListQuery, Depends(listing.query_params(PERSONALIZATION_FIELDS))]
PersonalizationSearch = Annotated[ListQuery, Depends(listing.search_body(PERSONALIZATION_FIELDS))]
OptionalFields = Annotated[str | None, Query(alias="optionalFields", description="comma-separated extra fields: goals")]


class PersonalizationOut(CamelOut):
    """A personalization as the API shows it; `goals` only with `optionalFields=goals`."""

    id: Id
    name: str
    site_id: Id
    base_url: str | None = Field(alias="baseURL")
    status: str
    description: str | None
    tags: list[str]
    goals: list[Id] | None = None
    main_goal_id: Id | None
    targeting_segment_id: Id | None
    java_script_code: str | None
    css_code: str | None
    global_script: str | None
    is_archived: bool
    targeting_configuration: str | None
    date_created: Timestamp
    date_modified: Timestamp
    date_started: Timestamp | None
    date_ended: Timestamp | None
    date_status_modified: Timestamp | None

    @model_serializer(mode="wrap")
    def _goals_only_when_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.goals is None:
            data.pop(GOALS, None)
        return data

    @classmethod
    def of(cls, p: Personalization, goals: list[int] | None) -> PersonalizationOut:
        """The rendering of one personalization."""
        return cls(
            id=p.id,
            name=p.name,
            site_id=p.site_id,
            base_url=p.base_url,
            status=p.status,
            description=p.description,
            tags=p.tags,
            goals=goals,
            main_goal_id=p.main_goal_id,
            targeting_segment_id=p.targeting_segment_id,
            java_script_code=p.javascript_code,
            css_code=p.css_code,
            global_script=p.global_script,
            is_archived=p.is_archived,
            targeting_configuration=p.targeting_configuration,
            date_created=p.date_created,
            date_modified=p.date_modified,
            date_started=p.date_started,
            date_ended=p.date_ended,
            date_status_modified=p.date_status_modified,
        )


class _Writable(CamelIn):
    """The writable fields; absent means "the default" (POST, PUT) or "unchanged" (PATCH)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, alias="baseURL", max_length=2048)
    description: str | None = Field(default=None, max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=50)
    goals: list[Id] | None = Field(default=None, max_length=1000)
    main_goal_id: Id | None = None
    targeting_segment_id: Id | None = Field(default=None, description="the segment whose visitors see the code")
    java_script_code: Code = None
    css_code: Code = None
    global_script: Code = None
    is_archived: bool | None = None
    targeting_configuration: str | None = Field(
        default=None, min_length=1, max_length=32, description="kept as given (SITE, SAVED_TEMPLATE...)"
    )

    _not_null = not_null("name", "goals", "is_archived")

    def values(self) -> PersonalizationFields:
        """The body as the core's field values (defaults for what was not sent)."""
        return PersonalizationFields(
            name=self.name or "",
            base_url=self.base_url,
            description=self.description,
            tags=self.tags or (),
            goals=self.goals or (),
            main_goal_id=self.main_goal_id,
            targeting_segment_id=self.targeting_segment_id,
            javascript_code=self.java_script_code,
            css_code=self.css_code,
            global_script=self.global_script,
            is_archived=bool(self.is_archived),
            targeting_configuration=self.targeting_configuration,
        )

    def given(self) -> set[str]:
        """The names of the writable fields this body sent, as the core names them."""
        renamed = {"java_script_code": "javascript_code"}
        return {renamed.get(name, name) for name in self.model_fields_set} & personalizations.FIELD_NAMES


class PersonalizationCreate(_Writable):
    """The body of `POST /personalizations`: a name and a site are enough (a DRAFT to fill in later)."""

    name: str = Field(min_length=1, max_length=200)
    site_id: Id


class _ReadOnlyEcho(CamelIn):
    """Read-only fields a client may send back as it got them (GET, edit, PATCH or PUT): checked or ignored."""

    id: Id | None = None
    site_id: Id | None = None
    status: Status | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = Field(default=None, description="ignored: it changes with every write")
    date_started: datetime | None = None
    date_ended: datetime | None = None
    date_status_modified: datetime | None = None

    def echo(self, personalization_id: int) -> Echo:
        """The echoed fields the core checks (an `id` other than the path's is refused here)."""
        check_path_id(personalizations.KIND, personalization_id, self.id)
        return Echo(
            site_id=self.site_id,
            status=self.status,
            date_created=self.date_created,
            date_started=self.date_started,
            date_ended=self.date_ended,
            date_status_modified=self.date_status_modified,
        )


class PersonalizationPatch(_Writable, _ReadOnlyEcho):
    """The body of `PATCH /personalizations/{id}`: only the named fields change; `goals` is replaced whole."""


class PersonalizationReplace(PersonalizationPatch):
    """The body of `PUT /personalizations/{id}`: the whole personalization; what is left out returns to its
    default."""

    name: str = Field(min_length=1, max_length=200)


async def _rendered(session: DbSession, found: list[Personalization], with_goals: bool) -> list[PersonalizationOut]:
    goal_ids = (
        await personalizations.goal_ids_of(session=session, personalization_ids=[p.id for p in found])
        if with_goals
        else {}
    )
    return [PersonalizationOut.of(p, goal_ids[p.id] if with_goals else None) for p in found]


async def _one(session: DbSession, found: Personalization, optional_fields: str | None) -> PersonalizationOut:
    wanted = querying.optional_fields(PERSONALIZATION_FIELDS, optional_fields)
    (rendered,) = await _rendered(session, [found], GOALS in wanted)
    return rendered


@router.get("")
async def list_personalizations(
    query: PersonalizationQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[PersonalizationOut]:
    """The personalizations of the caller's sites: `page`, `perPage`, `filter`, `sort`, `optionalFields=goals`."""
    page = await querying.fetch(session=session, statement=personalizations.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return await _rendered(session, page.items, GOALS in query.optional_fields)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_personalizations(
    query: PersonalizationSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[PersonalizationOut]:
    """The same as `GET /personalizations`, with the query in a JSON body."""
    return await list_personalizations(query, request, response, session, caller)


@router.post("", status_code=201)
async def create_personalization(
    body: PersonalizationCreate, session: DbSession, caller: Caller, optional_fields: OptionalFields = None
) -> PersonalizationOut:
    """Create a DRAFT personalization."""
    created = await personalizations.create(
        session=session, principal=caller, site_id=body.site_id, values=body.values(), given=body.given()
    )
    return await _one(session, created, optional_fields)


@router.get("/{personalization_id}")
async def get_personalization(
    personalization_id: Id, session: DbSession, caller: Caller, optional_fields: OptionalFields = None
) -> PersonalizationOut:
    """One personalization."""
    found = await personalizations.get(session=session, principal=caller, personalization_id=personalization_id)
    return await _one(session, found, optional_fields)


@router.put("/{personalization_id}")
async def replace_personalization(
    personalization_id: Id,
    body: PersonalizationReplace,
    session: DbSession,
    caller: Caller,
    optional_fields: OptionalFields = None,
) -> PersonalizationOut:
    """Replace a personalization's writable fields (what is left out returns to its default)."""
    changed = await personalizations.replace(
        session=session,
        principal=caller,
        personalization_id=personalization_id,
        values=body.values(),
        echo=body.echo(personalization_id),
    )
    return await _one(session, changed, optional_fields)


@router.patch("/{personalization_id}")
async def patch_personalization(
    personalization_id: Id,
    session: DbSession,
    caller: Caller,
    body: Annotated[PersonalizationPatch | None, Body()] = None,
    action: Annotated[
        Action | None, Query(description="a lifecycle step: ACTIVATE, PAUSE, RESUME, STOP, DEACTIVATE")
    ] = None,
    optional_fields: OptionalFields = None,
) -> PersonalizationOut:
    """Change the named fields, then (with `action`) move the personalization through its lifecycle."""
    if body is not None:
        await personalizations.update(
            session=session,
            principal=caller,
            personalization_id=personalization_id,
            values=body.values(),
            given=body.given(),
            echo=body.echo(personalization_id),
        )
    if action is not None:
        changed = await personalizations.change_status(
            session=session, principal=caller, personalization_id=personalization_id, action=action
        )
    else:
        changed = await personalizations.get(session=session, principal=caller, personalization_id=personalization_id)
    return await _one(session, changed, optional_fields)


@router.delete("/{personalization_id}", status_code=204)
async def delete_personalization(personalization_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a DRAFT or STOPPED personalization."""
    await personalizations.delete(session=session, principal=caller, personalization_id=personalization_id)
    return Response(status_code=204)

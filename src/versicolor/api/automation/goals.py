"""`/goals`: what counts as a conversion on a site (docs/resources.md)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import CamelIn, CamelOut, Id, ReadOnlyEcho, Timestamp
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import goals, querying
from versicolor.core.goals import GoalFields, GoalStatus, GoalType
from versicolor.core.querying import Choice, Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import Goal

router = APIRouter(prefix="/goals", tags=["goals"], route_class=CheckedRoute)

# Every scalar field GoalOut shows; params (an object) and tags (a list) are not searchable.
GOAL_FIELDS = Fields(
    {
        "id": Goal.id,
        "name": Goal.name,
        "key": Goal.key,
        "siteId": Goal.site_id,
        "type": Choice(Goal.type, [t.value for t in GoalType]),
        "hasMultipleConversions": Goal.has_multiple_conversions,
        "status": Choice(Goal.status, [s.value for s in GoalStatus]),
        "description": Goal.description,
        "dateCreated": Goal.date_created,
        "dateModified": Goal.date_modified,
    },
    unsearchable=("params", "tags"),
)
GoalQuery = Annotated[ListQuery, Depends(listing.query_params(GOAL_FIELDS))]
GoalSearch = Annotated[ListQuery, Depends(listing.search_body(GOAL_FIELDS))]

_PARAMS_HELP = (
    "Settings of the goal's type: URL {matchString, matchType: CONTAINS | CORRESPONDS_EXACTLY | "
    "REGULAR_EXPRESSION}; PAGE_VIEWS {pageViews: 1-1000}; TIME_SPENT {timeSeconds: 1-86400}; "
    "SCROLL {scrollValue: 0-100}; CLICK {cssSelector} (optional); CUSTOM none."
)


class GoalOut(CamelOut):
    """A goal as the API shows it."""

    id: Id
    name: str
    key: str | None
    site_id: Id
    type: str
    params: dict[str, Any]
    has_multiple_conversions: bool
    status: str
    description: str | None
    tags: list[str]
    date_created: Timestamp
    date_modified: Timestamp


class _GoalBody(CamelIn):
    """A whole goal but its site; a field left out takes its default."""

    name: str
    type: GoalType
    params: dict[str, Any] | None = Field(default=None, description=_PARAMS_HELP)
    has_multiple_conversions: bool = False
    status: GoalStatus = GoalStatus.ACTIVE
    description: str | None = None
    tags: list[str] | None = None
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per site; a PUT without it keeps it",
    )


class GoalCreate(_GoalBody):
    """The body of `POST /goals`."""

    site_id: Id


class GoalUpdate(ReadOnlyEcho):
    """The body of `PATCH` and `PUT /goals/{id}`: only the named fields change (arrays and params whole).

    Kameleoon's reference updates a goal with PUT as it does with PATCH: a client sends `{name, status}` to rename
    or switch one off, and the rest of the goal stays as it was.
    """

    name: str | None = None
    type: GoalType | None = None
    site_id: Id | None = Field(default=None, description="may be given, but must be the goal's site")
    params: dict[str, Any] | None = Field(default=None, description=_PARAMS_HELP)
    has_multiple_conversions: bool | None = None
    status: GoalStatus | None = None
    description: str | None = None
    tags: list[str] | None = None
    key: str | None = Field(
        default=None,
        description="a stable name of your choice (a-z, 0-9, . _ -), unique per site; a PUT without it keeps it",
    )


def _fields(body: GoalCreate | GoalUpdate) -> GoalFields:
    # The schemas' field names are GoalFields' keys; the core checks every value again. The free-form params
    # go to it as parsed: serializing them again would fail (500) on a value nested past pydantic's 255 levels.
    fields = body.model_dump(
        mode="json", exclude_unset=True, exclude={"site_id", "params", "id", "date_created", "date_modified"}
    )
    if "params" in body.model_fields_set:
        fields["params"] = body.params
    return cast(GoalFields, fields)


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[GoalOut]:
    page = await querying.fetch(session=session, statement=goals.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [GoalOut.model_validate(goal) for goal in page.items]


@router.get("")
async def list_goals(
    query: GoalQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[GoalOut]:
    """The account's goals, one page: `page`, `perPage`, `filter`, `sort` (docs/conventions.md)."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_goals(
    query: GoalSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[GoalOut]:
    """The same as `GET /goals`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.post("", status_code=201)
async def create_goal(body: GoalCreate, session: DbSession, caller: Caller) -> GoalOut:
    """Create a goal on one of the account's sites."""
    goal = await goals.create(session=session, principal=caller, site_id=body.site_id, fields=_fields(body))
    return GoalOut.model_validate(goal)


@router.get("/{goal_id}")
async def get_goal(goal_id: Id, session: DbSession, caller: Caller) -> GoalOut:
    """A goal by id."""
    return GoalOut.model_validate(await goals.get(session=session, principal=caller, goal_id=goal_id))


@router.put("/{goal_id}")
async def replace_goal(goal_id: Id, body: GoalUpdate, session: DbSession, caller: Caller) -> GoalOut:
    """Update a goal as Kameleoon does with PUT: the named fields change, the others stay."""
    return await update_goal(goal_id, body, session, caller)


@router.patch("/{goal_id}")
async def update_goal(goal_id: Id, body: GoalUpdate, session: DbSession, caller: Caller) -> GoalOut:
    """Change the named fields of a goal."""
    goal = await goals.update(
        session=session, principal=caller, goal_id=goal_id, changes=_fields(body), site_id=body.site_id
    )
    body.check_echo("goal", goal)
    return GoalOut.model_validate(goal)


@router.delete("/{goal_id}", status_code=204)
async def delete_goal(goal_id: Id, session: DbSession, caller: Caller) -> Response:
    """Delete a goal; experiments that measured it stop measuring it."""
    await goals.delete(session=session, principal=caller, goal_id=goal_id)
    return Response(status_code=204)

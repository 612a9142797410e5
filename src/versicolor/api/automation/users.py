"""`/accounts` (but `/accounts/me`): the users of the caller's account, managed by its ADMINs."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import CamelIn, CamelOut, Id, Timestamp
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import passwords, querying, users
from versicolor.core.querying import Choice, Fields, ListQuery
from versicolor.core.roles import Permission, Role
from versicolor.core.users import UserFields
from versicolor.db.models import User

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=CheckedRoute)

# Every field UserOut shows. Passwords and credentials are never shown, so never searchable either.
USER_FIELDS = Fields(
    {
        "id": User.id,
        "email": User.email,
        "firstName": User.first_name,
        "lastName": User.last_name,
        "role": Choice(User.role, [r.value for r in Role]),
        "dateCreated": User.date_created,
    },
    unsearchable=("password", "passwordHash", "clientSecret"),
)
UserQuery = Annotated[ListQuery, Depends(listing.query_params(USER_FIELDS))]
UserSearch = Annotated[ListQuery, Depends(listing.search_body(USER_FIELDS))]


class UserOut(CamelOut):
    """A user as the API shows it."""

    id: Id
    email: str
    first_name: str | None
    last_name: str | None
    role: str
    date_created: Timestamp


class InvitedUserOut(UserOut):
    """A user just invited, with the API credentials it was given: the secret is shown this once only."""

    client_id: str
    client_secret: str


class UserInvite(CamelIn):
    """The body of `POST /accounts`."""

    email: str = Field(max_length=320)
    role: Role = Role.VIEWER
    first_name: str | None = None
    last_name: str | None = None
    password: str | None = Field(
        default=None,
        description="lets the user sign in on the authorization page; at least 12 characters, not a common or easily "
        "guessed password",
    )


class PasswordReset(CamelIn):
    """The body of `PUT /accounts/{id}/password`."""

    password: str = Field(
        max_length=passwords.MAX_LENGTH, description="at least 12 characters, not a common or easily guessed one"
    )


class UserUpdate(CamelIn):
    """The body of `PATCH /accounts/{id}`: only the named fields change."""

    first_name: str | None = None
    last_name: str | None = None
    role: Role | None = None


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[UserOut]:
    page = await querying.fetch(session=session, statement=users.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [UserOut.model_validate(user) for user in page.items]


@router.get("")
async def list_users(
    query: UserQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[UserOut]:
    """The account's users, one page: `page`, `perPage`, `filter`, `sort` (docs/conventions.md)."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_users(
    query: UserSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[UserOut]:
    """The same as `GET /accounts`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.post("", status_code=201, openapi_extra=needs(Permission.ADMIN))
async def invite_user(body: UserInvite, session: DbSession, caller: Caller) -> InvitedUserOut:
    """Add a user to the account (ADMINs only); the answer shows the new API client secret this once."""
    created = await users.invite(
        session=session,
        principal=caller,
        email=body.email,
        role=body.role,
        first_name=body.first_name,
        last_name=body.last_name,
        password=body.password,
    )
    shown = UserOut.model_validate(created.user)
    return InvitedUserOut(
        **shown.model_dump(),
        client_id=created.credentials.client_id,
        client_secret=created.credentials.client_secret,
    )


@router.get("/{user_id}")
async def get_user(user_id: Id, session: DbSession, caller: Caller) -> UserOut:
    """A user of the account by id."""
    return UserOut.model_validate(await users.get(session=session, principal=caller, user_id=user_id))


@router.patch("/{user_id}", openapi_extra=needs(Permission.ADMIN))
async def update_user(user_id: Id, body: UserUpdate, session: DbSession, caller: Caller) -> UserOut:
    """Change a user's names or role (ADMINs only); the last ADMIN cannot be demoted (409)."""
    changes = cast(UserFields, body.model_dump(mode="json", exclude_unset=True))
    return UserOut.model_validate(
        await users.update(session=session, principal=caller, user_id=user_id, changes=changes)
    )


@router.put("/{user_id}/password", status_code=204, openapi_extra=needs(Permission.ADMIN))
async def reset_password(user_id: Id, body: PasswordReset, session: DbSession, caller: Caller) -> Response:
    """Set a user's password (ADMINs only, not with a partner application's token); its sessions end."""
    await users.reset_password(session=session, principal=caller, user_id=user_id, password=body.password)
    return Response(status_code=204)

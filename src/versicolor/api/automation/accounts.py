"""`/accounts/me`: the caller, its API credentials, and the account secret (`/accounts` itself is users.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import CamelIn, CamelOut, Timestamp
from versicolor.api.deps import RuntimeDep, runtime_of, token_gate
from versicolor.api.oauth import throttle_of
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, CallerUser, needs
from versicolor.core import accounts, passwords
from versicolor.core.errors import Forbidden, TooManyAttempts
from versicolor.core.roles import Permission

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=CheckedRoute)


class Me(CamelOut):
    """The caller, with its API client id (never a secret)."""

    id: int
    account_id: int
    email: str
    first_name: str | None
    last_name: str | None
    role: str
    date_created: Timestamp
    client_id: str | None


class NewCredentials(CamelOut):
    """New API credentials: the secret is shown this once, and only its hash is kept."""

    client_id: str
    client_secret: str


class PasswordChange(CamelIn):
    """The body of `PUT /accounts/me/password`."""

    current_password: str | None = Field(
        default=None, max_length=passwords.MAX_LENGTH, description="required when the user has a password"
    )
    new_password: str = Field(
        max_length=passwords.MAX_LENGTH, description="at least 12 characters, not a common or easily guessed one"
    )


class NewAccountSecret(CamelOut):
    """A new account secret (`X-Account-Secret` on /v3): shown this once, and only its hash is kept."""

    account_secret: str


@router.get("/me")
async def me(user: CallerUser) -> Me:
    """Who the access token acts as."""
    return Me.model_validate(vars(user))  # from its fields: a third of the time pydantic takes `from_attributes`


# Every role may replace its own credentials: declared READ, the permission every role has.
@router.post("/me/credentials", openapi_extra=needs(Permission.READ))
async def rotate_credentials(request: Request, caller: Caller) -> NewCredentials:
    """Issue a new client secret for the caller; the old one and every token issued from it stop working."""
    # Committed, and known to every worker, before the new secret is shown.
    async with token_gate(request).changing() as session:
        issued = await accounts.rotate_credentials(session=session, principal=caller)
    return NewCredentials(client_id=issued.client_id, client_secret=issued.client_secret)


# Every role may change its own password (READ, the permission every role has); partner tokens may not.
@router.put("/me/password", status_code=204, openapi_extra=needs(Permission.READ))
async def change_password(body: PasswordChange, request: Request, caller: Caller) -> Response:
    """Change the caller's password (the current one is required); every signed-in session of the user ends."""
    throttle, address = throttle_of(request), request.client.host if request.client else None
    identity = str(caller.user_id)
    wait = await throttle.retry_after(kind="current-password", identity=identity, address=address)
    if wait is not None:
        raise TooManyAttempts(f"too many wrong current passwords; try again in {wait} s", retry_after=wait)
    try:
        async with runtime_of(request).sessions() as session, session.begin():
            await accounts.change_password(
                session=session, principal=caller, current=body.current_password, new=body.new_password
            )
    except Forbidden:
        await throttle.failed(kind="current-password", identity=identity, address=address)
        raise
    await throttle.succeeded(kind="current-password", identity=identity, address=address)
    return Response(status_code=204)


@router.post("/me/account-secret", openapi_extra=needs(Permission.ADMIN))
async def rotate_account_secret(runtime: RuntimeDep, caller: Caller) -> NewAccountSecret:
    """Issue a new account secret for the caller's account (ADMIN); the old one stops working at once."""
    async with runtime.sessions() as session, session.begin():
        account_secret = await accounts.rotate_account_secret(session=session, principal=caller)
    return NewAccountSecret(account_secret=account_secret)

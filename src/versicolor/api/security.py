"""Who is calling, and may they: the one place where every API request is authenticated and authorised.

A bearer token is checked in two steps: its signature and expiry (a bad one is a 401), then the token gate
(auth/gate.py): revoked, user deleted, credentials rotated → 403. Both run without a database round trip
while nothing has changed. The role check follows: the permission a route needs is derived here from its
method, or declared by the route with `openapi_extra=needs(Permission.X)`, so no endpoint checks roles itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.api.deps import DbSession, RuntimeDep, token_gate
from versicolor.auth.gate import UserSnapshot
from versicolor.core import secrets
from versicolor.core.errors import Forbidden, Unauthenticated
from versicolor.core.roles import Permission, Principal, Role
from versicolor.db.models import Account
from versicolor.runtime import Runtime

# A route may declare the permission it needs in its OpenAPI extra (it is then documented too);
# otherwise reading methods need READ and the others WRITE.
PERMISSION_KEY = "x-permission"
_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def needs(permission: Permission) -> dict[str, str]:
    """The `openapi_extra` that declares a route's permission: `@router.post(..., openapi_extra=needs(...))`."""
    return {PERMISSION_KEY: permission.value}


def required_permission(request: Request) -> Permission:
    """The permission the matched route needs."""
    route = request.scope.get("route")
    declared = (getattr(route, "openapi_extra", None) or {}).get(PERMISSION_KEY)
    if declared is not None:
        return Permission(declared)
    return Permission.READ if request.method in _READING_METHODS else Permission.WRITE


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer` header; raises Unauthenticated when there is none."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing Authorization header: send Authorization: Bearer <access token>")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthenticated("malformed Authorization header: expected Authorization: Bearer <access token>")
    return token


# The scope key under which a request keeps its caller once checked (a route may ask for it as Caller and as
# CallerUser; the check runs once). Only this module sets it; a client cannot reach an ASGI scope key.
CHECKED_CALLER = "versicolor.caller"


async def _checked_bearer(request: Request) -> tuple[Principal, UserSnapshot]:
    # Nothing here is a sync dependency (such as RuntimeDep): FastAPI runs those in a thread pool, a hop that
    # costs more than the whole token check.
    checked: tuple[Principal, UserSnapshot] | None = request.scope.get(CHECKED_CALLER)
    if checked is not None:
        return checked
    _, user = await token_gate(request).check(bearer_token(request))
    principal = Principal(account_id=user.account_id, user_id=user.id, role=Role(user.role))
    principal.require(required_permission(request))
    request.state.principal = principal
    request.scope[CHECKED_CALLER] = checked = (principal, user)
    return checked


async def _bearer_caller(request: Request) -> Principal:
    principal, _ = await _checked_bearer(request)
    return principal


async def authenticate(request: Request, session: AsyncSession | None, runtime: Runtime) -> Principal:
    """The caller behind the request's bearer token, allowed to make this call.

    For code that authenticates by hand; `session` is not needed (the token gate keeps what it reads).
    """
    del session, runtime
    return await _bearer_caller(request)


Caller = Annotated[Principal, Depends(_bearer_caller)]


async def _caller_user(request: Request) -> UserSnapshot:
    # The same check as Caller's, not a dependency on it: each level of dependencies costs FastAPI ~10 µs.
    _, user = await _checked_bearer(request)
    return user


# The user a bearer token acts as, as of this request (for `/accounts/me`: no database round trip).
CallerUser = Annotated[UserSnapshot, Depends(_caller_user)]


def account_secret(request: Request) -> str | None:
    """The account secret of a v3 request (`X-Account-Secret` header or `account_secret` parameter), if any."""
    return request.headers.get("x-account-secret") or request.query_params.get("account_secret")


async def authenticate_v3(request: Request, session: DbSession, runtime: RuntimeDep) -> Principal:
    """The caller of an Edit v3 request: an account secret (as the public service takes) or a bearer token."""
    given = account_secret(request)
    if given is None:
        return await _bearer_caller(request)
    if len(given) > 256:
        raise Forbidden("the account secret is not valid; find it under your account's API settings")
    account_id = await session.scalar(select(Account.id).where(Account.account_secret_hash == secrets.digest(given)))
    if account_id is None:
        raise Forbidden("the account secret is not valid; find it under your account's API settings")
    # The account secret stands for the account as a whole, with every permission (as the public service).
    principal = Principal(account_id=account_id, user_id=None, role=Role.ADMIN)
    request.state.principal = principal
    return principal


V3Caller = Annotated[Principal, Depends(authenticate_v3)]

"""Who is calling, and may they: the one place where every API request is authenticated and authorised.

A bearer token is checked in two steps: its signature and expiry (a bad one is a 401), then the token gate
(auth/gate.py): revoked, user deleted, credentials rotated → 403. Both run without a database round trip
while nothing has changed. The role check follows: the permission a route needs is derived here from its
method, or declared by the route with `openapi_extra=needs(Permission.X)`, so no endpoint checks roles itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.api import credentials
from versicolor.api.credentials import Kind
from versicolor.api.deps import runtime_of, token_gate
from versicolor.auth import scopes
from versicolor.auth.gate import UserSnapshot
from versicolor.auth.tokens import AccessClaims
from versicolor.core.errors import Forbidden
from versicolor.core.roles import Permission, Principal, Role
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
    credential = credentials.of(request.scope)
    if credential is None or credential.kind is not Kind.BEARER:
        raise credentials.no_bearer_token(request.scope)
    return credential.value


# The scope key under which a request keeps its caller once checked (a route may ask for it as Caller and as
# CallerUser; the check runs once): the principal, and the user (None for a v3 account secret, which stands for
# the account, not a user). Only this module sets it; a client cannot reach an ASGI scope key.
CHECKED_CALLER = "versicolor.caller"
Checked = tuple[Principal, UserSnapshot | None]


async def _checked_bearer(request: Request) -> tuple[Principal, UserSnapshot]:
    # Nothing here is a sync dependency (such as RuntimeDep): FastAPI runs those in a thread pool, a hop that
    # costs more than the whole token check.
    checked: Checked | None = request.scope.get(CHECKED_CALLER)
    if checked is not None and checked[1] is not None:
        return checked[0], checked[1]
    credential = credentials.of(request.scope)
    if credential is None or credential.kind is not Kind.BEARER:
        raise credentials.no_bearer_token(request.scope)
    gate = token_gate(request)
    # Verified once per request: the rate limiter may have done it already (api/credentials.py).
    claims = credential.verify(gate)
    user = await gate.admit(claims)
    principal = _principal(claims, user)
    principal.require(required_permission(request))
    request.scope[CHECKED_CALLER] = (principal, user)
    return principal, user


def _principal(claims: AccessClaims, user: UserSnapshot) -> Principal:
    if claims.generation is not None:
        return user.principal  # the user's own API credentials: what the role allows
    # A partner application's token (no credentials generation): what the role and the approved scopes allow.
    granted = scopes.permissions(scopes.stored(claims.scope))
    return Principal(account_id=user.account_id, user_id=user.id, role=Role(user.role), scopes=granted)


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
    credential = credentials.of(request.scope)
    return credential.value if credential is not None and credential.kind is Kind.ACCOUNT_SECRET else None


async def _checked_v3(request: Request) -> Checked:
    """The caller of an Edit v3 request: an account secret (as the public service takes) or a bearer token."""
    checked: Checked | None = request.scope.get(CHECKED_CALLER)
    if checked is not None:
        return checked
    credential = credentials.of(request.scope)
    if credential is None or credential.kind is not Kind.ACCOUNT_SECRET:
        return await _checked_bearer(request)
    # Looked up once per request (the rate limiter may have done it already), in a transaction of its own: the
    # caller is known before the body is read, and the request's transaction only opens after that.
    account_id = await credential.look_up_alone(runtime_of(request).sessions)
    if account_id is None:
        raise Forbidden("the account secret is not valid; find it under your account's API settings")
    # The account secret stands for the account as a whole, with every permission (as the public service).
    request.scope[CHECKED_CALLER] = checked = (Principal(account_id=account_id, user_id=None, role=Role.ADMIN), None)
    return checked


async def _v3_caller(request: Request) -> Principal:
    principal, _ = await _checked_v3(request)
    return principal


V3Caller = Annotated[Principal, Depends(_v3_caller)]

CallerCheck = Callable[[Request], Awaitable[object]]

# For each caller parameter: the check that finds it, and which half of the checked (principal, user) pair it gets.
_CALLER_PARTS: dict[Callable[..., Any], tuple[CallerCheck, int]] = {
    _bearer_caller: (_checked_bearer, 0),
    _caller_user: (_checked_bearer, 1),
    _v3_caller: (_checked_v3, 0),
}
_REQUEST = "versicolor_request"  # the name under which a taken endpoint is handed its request


def take_caller_parameters(dependant: Dependant) -> CallerCheck | None:
    """Take a route's own `Caller`, `CallerUser` and `V3Caller` parameters from FastAPI's dependencies; the check
    that finds them, or None when the route has none.

    The route (api/routes.py, CheckedRoute) then runs that check from the request's headers before FastAPI reads
    the body or solves anything, and the endpoint is handed the parameters from that check: a dependency less to
    solve (~20 µs a request), and a caller who is refused never has their body read. Deeper dependencies that
    ask for the caller keep theirs, and find it checked.
    """
    callers = [sub for sub in dependant.dependencies if sub.call in _CALLER_PARTS]
    if not callers:
        return None
    endpoint = dependant.call
    if not inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint!r} takes its caller, so it must be `async def`")
    checks = {_CALLER_PARTS[sub.call][0] for sub in callers if sub.call}
    if len(checks) != 1:
        raise TypeError(f"{endpoint!r} takes callers of two dialects; a route speaks one")
    parts = {sub.name: _CALLER_PARTS[sub.call][1] for sub in callers if sub.name and sub.call}
    dependant.dependencies = [sub for sub in dependant.dependencies if sub.call not in _CALLER_PARTS]
    given_request = dependant.request_param_name
    if given_request is None:
        dependant.request_param_name = _REQUEST

    @functools.wraps(endpoint)
    async def with_caller(**values: Any) -> Any:
        request: Request = values[given_request] if given_request else values.pop(_REQUEST)
        checked = request.scope[CHECKED_CALLER]
        for name, part in parts.items():
            values[name] = checked[part]
        return await endpoint(**values)

    dependant.call = with_caller
    return checks.pop()


class Way(StrEnum):
    """A way a caller can show who it is, as the API document names it (api/openapi.py)."""

    BEARER = "bearer"  # an OAuth access token
    ACCOUNT_SECRET = "account_secret"  # noqa: S105  (a kind of credential, not one)
    PAGE = "page"  # a browser page on a host the account's Domains enable (its Origin or Referer)


# A route that authenticates by hand (the Data API) declares its ways: `openapi_extra=accepts(Way.BEARER)`.
ACCEPTS_KEY = "x-accepts"


def accepts(*ways: Way) -> dict[str, list[str]]:
    """The `openapi_extra` of a route that checks its caller by hand: the ways it accepts."""
    return {ACCEPTS_KEY: [way.value for way in ways]}


def ways_of(route: APIRoute) -> tuple[Way, ...]:
    """How a route's callers authenticate: what it declares, else what its caller parameters check; () for none."""
    declared = (route.openapi_extra or {}).get(ACCEPTS_KEY)
    if declared is not None:
        return tuple(Way(way) for way in declared)
    check = getattr(route, "caller_check", None)  # a CheckedRoute's (api/routes.py)
    calls = set(_calls(route.dependant))
    if check is _checked_v3 or _v3_caller in calls:
        return (Way.BEARER, Way.ACCOUNT_SECRET)
    if check is _checked_bearer or calls & {_bearer_caller, _caller_user}:
        return (Way.BEARER,)
    return ()


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)

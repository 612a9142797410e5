"""Who is calling, and may they: the one place where every API request is authenticated and authorised."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from versicolor.api.deps import DbSession, RuntimeDep
from versicolor.auth import tokens
from versicolor.core import secrets
from versicolor.core.errors import Forbidden, Unauthenticated
from versicolor.core.roles import Permission, Principal, Role
from versicolor.db.models import Account, ApiCredential, User

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


async def authenticate(request: Request, session: DbSession, runtime: RuntimeDep) -> Principal:
    """The caller behind the request's bearer token, allowed to make this call."""
    claims = tokens.verify(key=runtime.signing_key, token=bearer_token(request))
    row = (
        await session.execute(
            select(User.role, User.account_id, ApiCredential.generation)
            .outerjoin(ApiCredential, ApiCredential.user_id == User.id)
            .where(User.id == claims.user_id)
        )
    ).first()
    if row is None or row.account_id != claims.account_id:
        raise Forbidden("the access token's user no longer exists; it has been revoked")
    if row.generation is not None and row.generation != claims.generation:
        raise Forbidden("the access token was revoked when its API credentials were rotated")
    principal = Principal(account_id=claims.account_id, user_id=claims.user_id, role=Role(row.role))
    principal.require(required_permission(request))
    request.state.principal = principal
    request.state.token_id = claims.jti
    return principal


Caller = Annotated[Principal, Depends(authenticate)]


def account_secret(request: Request) -> str | None:
    """The account secret of a v3 request (`X-Account-Secret` header or `account_secret` parameter), if any."""
    return request.headers.get("x-account-secret") or request.query_params.get("account_secret")


async def authenticate_v3(request: Request, session: DbSession, runtime: RuntimeDep) -> Principal:
    """The caller of an Edit v3 request: an account secret (as the public service takes) or a bearer token."""
    given = account_secret(request)
    if given is None:
        return await authenticate(request, session, runtime)
    account_id = await session.scalar(select(Account.id).where(Account.account_secret_hash == secrets.digest(given)))
    if account_id is None:
        raise Forbidden("the account secret is not valid; find it under your account's API settings")
    # The account secret stands for the account as a whole, with every permission (as the public service).
    principal = Principal(account_id=account_id, user_id=None, role=Role.ADMIN)
    request.state.principal = principal
    return principal


V3Caller = Annotated[Principal, Depends(authenticate_v3)]

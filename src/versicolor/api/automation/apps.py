"""`/applications`: the partner applications the caller's account registered (ADMIN only).

Applications are registered by an operator (`versicolor apps create`), as the public service registers them on
request; here an account's ADMINs see them and delete them. Deleting one revokes every token issued to it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from versicolor.api.automation.schemas import CamelOut, Timestamp
from versicolor.api.deps import DbSession
from versicolor.api.security import Caller, needs, token_gate
from versicolor.auth import apps
from versicolor.core.roles import Permission

router = APIRouter(prefix="/applications", tags=["applications"])
ADMIN = needs(Permission.ADMIN)


class AppOut(CamelOut):
    """A partner application (never its secret)."""

    id: int
    name: str
    client_id: str
    redirect_uris: list[str]
    date_created: Timestamp


@router.get("", openapi_extra=ADMIN)
async def list_applications(session: DbSession, caller: Caller) -> list[AppOut]:
    """The partner applications of the caller's account."""
    return [AppOut.model_validate(app) for app in await apps.list_apps(session=session, principal=caller)]


@router.get("/{app_id}", openapi_extra=ADMIN)
async def get_application(app_id: int, session: DbSession, caller: Caller) -> AppOut:
    """One partner application."""
    return AppOut.model_validate(await apps.get(session=session, principal=caller, app_id=app_id))


@router.delete("/{app_id}", status_code=204, openapi_extra=ADMIN)
async def delete_application(app_id: int, request: Request, caller: Caller) -> Response:
    """Delete a partner application; every token issued to it stops working, on every worker, at once."""
    async with token_gate(request).changing() as session:
        await apps.delete(session=session, principal=caller, app_id=app_id)
    return Response(status_code=204)

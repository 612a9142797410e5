"""`/applications`: the partner applications the caller's account registered (ADMIN only).

Applications are registered by an operator (`versicolor apps create`), as the public service registers them on
request; here an account's ADMINs see them and delete them. Deleting one revokes every token issued to it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api.automation.schemas import CamelIn, CamelOut, Timestamp
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession, token_gate
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.auth import apps
from versicolor.core import querying
from versicolor.core.querying import Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import PartnerApp

router = APIRouter(prefix="/applications", tags=["applications"], route_class=CheckedRoute)
ADMIN = needs(Permission.ADMIN)

# Every scalar field AppOut shows; the secret is never shown, so never searchable either.
APP_FIELDS = Fields(
    {
        "id": PartnerApp.id,
        "name": PartnerApp.name,
        "clientId": PartnerApp.client_id,
        "dateCreated": PartnerApp.date_created,
    },
    unsearchable=("clientSecret", "secretHash"),
)
AppQuery = Annotated[ListQuery, Depends(listing.query_params(APP_FIELDS))]
AppSearch = Annotated[ListQuery, Depends(listing.search_body(APP_FIELDS))]


class AppOut(CamelOut):
    """A partner application (never its secret)."""

    id: int
    name: str
    client_id: str
    redirect_uris: list[str]
    date_created: Timestamp


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[AppOut]:
    page = await querying.fetch(session=session, statement=apps.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [AppOut.model_validate(app) for app in page.items]


@router.get("", openapi_extra=ADMIN)
async def list_applications(
    query: AppQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[AppOut]:
    """The partner applications of the caller's account, one page: `page`, `perPage`, `filter`, `sort`."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=ADMIN)
async def search_applications(
    query: AppSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[AppOut]:
    """The same as `GET /applications`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.get("/{app_id}", openapi_extra=ADMIN)
async def get_application(app_id: int, session: DbSession, caller: Caller) -> AppOut:
    """One partner application."""
    return AppOut.model_validate(await apps.get(session=session, principal=caller, app_id=app_id))


class SecretRotation(CamelIn):
    """The body of `POST /applications/{id}/secret` (optional)."""

    overlap_seconds: int = Field(
        default=86_400,
        ge=0,
        # Bounded here too, so that no number is too large to be a duration (it was a 500).
        le=int(apps.MAX_SECRET_OVERLAP.total_seconds()),
        description="how long the current secret keeps working beside the new one (a day; at most 30 days)",
    )


class NewAppSecret(CamelOut):
    """An application's new secret, shown this once; the previous one works until `previousSecretExpiresAt`."""

    client_id: str
    client_secret: str
    previous_secret_expires_at: Timestamp | None


@router.post("/{app_id}/secret", openapi_extra=ADMIN)
async def rotate_secret(
    app_id: int, session: DbSession, caller: Caller, body: SecretRotation | None = None
) -> NewAppSecret:
    """A new client secret for the application; the current one keeps working for `overlapSeconds`."""
    overlap = timedelta(seconds=(body or SecretRotation()).overlap_seconds)
    app, client_secret = await apps.rotate_secret(session=session, principal=caller, app_id=app_id, overlap=overlap)
    return NewAppSecret(
        client_id=app.client_id, client_secret=client_secret, previous_secret_expires_at=app.previous_secret_expires_at
    )


@router.delete("/{app_id}", status_code=204, openapi_extra=ADMIN)
async def delete_application(app_id: int, request: Request, caller: Caller) -> Response:
    """Delete a partner application; every token issued to it stops working, on every worker, at once."""
    async with token_gate(request).changing() as session:
        await apps.delete(session=session, principal=caller, app_id=app_id)
    return Response(status_code=204)

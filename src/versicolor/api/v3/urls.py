"""`/v3/edit/urls`: Domains (the Edit API v3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import StrictBool, StrictStr

from versicolor.api.conventions import cursor
from versicolor.api.conventions.cursor import CursorParams
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import V3Caller
from versicolor.api.v3.decisions import ForgetDecisions
from versicolor.api.v3.schemas import SnakeIn, SnakeOut, Timestamp, TimestampIn
from versicolor.core.domains import urls
from versicolor.core.domains.values import UNSET
from versicolor.db.models import Url

router = APIRouter(prefix="/v3/edit/urls", tags=["v3: urls"], route_class=CheckedRoute)


class UrlOut(SnakeOut):
    """A Url (Domain) as the Edit API v3 shows it."""

    id: str
    created_at: Timestamp
    updated_at: Timestamp
    url_group_id: str | None
    host: str
    domain: str
    enabled: str
    installed_at: Timestamp | None
    first_seen_at: Timestamp | None
    last_seen_at: Timestamp | None
    unlisted: bool
    archived_at: Timestamp | None


class UrlEnvelope(SnakeOut):
    """One Url: `{"url": {...}}`."""

    url: UrlOut


class UrlList(SnakeOut):
    """A page of Urls and the cursor to the next."""

    urls: list[UrlOut]
    cursor: cursor.Cursor


class UrlBatchOut(SnakeOut):
    """Every Url a batch named, in the order named."""

    urls: list[UrlOut]


class UrlCreate(SnakeIn):
    """The body of `POST /v3/edit/urls`."""

    host: Any  # checked by the domain: a host name, an address or a URL, as a string
    enabled: Any = "on"
    unlisted: StrictBool = False
    archived_at: TimestampIn = None
    url_group_id: StrictStr | None = None


class UrlUpdate(SnakeIn):
    """The body of `PUT|PATCH /v3/edit/urls/:id`: only the named fields change."""

    enabled: Any = None
    unlisted: StrictBool = False
    archived_at: TimestampIn = None
    url_group_id: StrictStr | None = None


class UrlBatch(UrlUpdate):
    """The body of `POST /v3/edit/urls/batch`."""

    ids: list[Any]


def _given(body: SnakeIn, name: str) -> Any:
    """The value of a body field the client named, or UNSET."""
    return getattr(body, name) if name in body.model_fields_set else UNSET


def _changes(body: UrlUpdate) -> urls.UrlChanges:
    return urls.UrlChanges(
        enabled=_given(body, "enabled"),
        archived_at=_given(body, "archived_at"),
        unlisted=_given(body, "unlisted"),
        url_group_id=_given(body, "url_group_id"),
    )


def _out(url: Url) -> UrlOut:
    return UrlOut.model_validate(url)


@router.post("", status_code=201)
async def create_url(body: UrlCreate, session: DbSession, caller: V3Caller, forget: ForgetDecisions) -> UrlEnvelope:
    """Enable a new domain."""
    url = await urls.create(
        session=session,
        principal=caller,
        host=body.host,
        enabled=_given(body, "enabled"),
        archived_at=_given(body, "archived_at"),
        unlisted=_given(body, "unlisted"),
        url_group_id=_given(body, "url_group_id"),
    )
    forget.after_response(caller.account_id)
    return UrlEnvelope(url=_out(url))


@router.get("")
async def list_urls(
    session: DbSession,
    caller: V3Caller,
    query: CursorParams,
    domain: Annotated[str | None, Query(description="Only Urls on this domain and its subdomains")] = None,
) -> UrlList:
    """The account's Urls, newest first."""
    found = await cursor.page(
        session, urls.search(caller, domain=domain), query, id_column=Url.id, created_column=Url.created_at
    )
    return UrlList(urls=[_out(url) for url in found.items], cursor=found.cursor)


@router.post("/batch")
async def batch_update_urls(
    body: UrlBatch, session: DbSession, caller: V3Caller, forget: ForgetDecisions
) -> UrlBatchOut:
    """Update many Urls at once, all or none."""
    changed = await urls.update_many(session=session, principal=caller, ids=body.ids, changes=_changes(body))
    forget.after_response(caller.account_id)
    return UrlBatchOut(urls=[_out(url) for url in changed])


@router.get("/{url_id}")
async def get_url(url_id: str, session: DbSession, caller: V3Caller) -> UrlEnvelope:
    """One Url."""
    return UrlEnvelope(url=_out(await urls.get(session=session, principal=caller, url_id=url_id)))


@router.put("/{url_id}")
@router.patch("/{url_id}")
@router.post("/{url_id}")
async def update_url(
    url_id: str, body: UrlUpdate, session: DbSession, caller: V3Caller, forget: ForgetDecisions
) -> UrlEnvelope:
    """Change the named fields of a Url (PUT, PATCH, and POST as the older public docs show, alike)."""
    url = await urls.update(session=session, principal=caller, url_id=url_id, changes=_changes(body))
    forget.after_response(caller.account_id)
    return UrlEnvelope(url=_out(url))

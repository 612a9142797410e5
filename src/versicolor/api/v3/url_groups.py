"""`/v3/edit/url_groups`: Environments (the Edit API v3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import StrictStr

from versicolor.api.conventions import cursor
from versicolor.api.conventions.cursor import CursorParams
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import V3Caller
from versicolor.api.v3.decisions import ForgetDecisions
from versicolor.api.v3.schemas import SnakeIn, SnakeOut, Timestamp, TimestampIn
from versicolor.core.domains import url_groups
from versicolor.core.domains.values import UNSET
from versicolor.db.models import UrlGroup

router = APIRouter(prefix="/v3/edit/url_groups", tags=["v3: url groups"], route_class=CheckedRoute)


class UrlGroupOut(SnakeOut):
    """A Url Group (Environment) as the Edit API v3 shows it."""

    id: str
    created_at: Timestamp
    updated_at: Timestamp
    archived_at: Timestamp | None
    name: str
    description: str | None
    short_name: str | None
    style_short_name_color: str | None


class UrlGroupEnvelope(SnakeOut):
    """One Environment: `{"url_group": {...}}`."""

    url_group: UrlGroupOut


class UrlGroupList(SnakeOut):
    """A page of Environments. `urls` repeats `url_groups`: the Edit API v3's example prints that key."""

    url_groups: list[UrlGroupOut]
    urls: list[UrlGroupOut]
    cursor: cursor.Cursor


class UrlGroupCreate(SnakeIn):
    """The body of `POST /v3/edit/url_groups`."""

    name: StrictStr
    description: StrictStr | None = None
    short_name: StrictStr | None = None
    style_short_name_color: StrictStr | None = None


class UrlGroupUpdate(SnakeIn):
    """The body of `PUT|PATCH /v3/edit/url_groups/:id`: only the named fields change."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    short_name: StrictStr | None = None
    style_short_name_color: StrictStr | None = None
    archived_at: TimestampIn = None
    urls_action_on_archive: Any = None


def _given(body: SnakeIn, name: str) -> Any:
    """The value of a body field the client named, or UNSET."""
    return getattr(body, name) if name in body.model_fields_set else UNSET


def _out(group: UrlGroup) -> UrlGroupOut:
    return UrlGroupOut.model_validate(group)


@router.post("", status_code=201)
async def create_url_group(body: UrlGroupCreate, session: DbSession, caller: V3Caller) -> UrlGroupEnvelope:
    """Create an Environment."""
    group = await url_groups.create(
        session=session,
        principal=caller,
        name=body.name,
        description=body.description,
        short_name=body.short_name,
        style_short_name_color=body.style_short_name_color,
    )
    return UrlGroupEnvelope(url_group=_out(group))


@router.get("")
async def list_url_groups(session: DbSession, caller: V3Caller, query: CursorParams) -> UrlGroupList:
    """The account's Environments, newest first; the Default Environment is the oldest."""
    statement = await url_groups.listing(session=session, principal=caller)
    found = await cursor.page(session, statement, query, id_column=UrlGroup.id, created_column=UrlGroup.created_at)
    shown = [_out(group) for group in found.items]
    return UrlGroupList(url_groups=shown, urls=shown, cursor=found.cursor)


@router.get("/{url_group_id}")
async def get_url_group(url_group_id: str, session: DbSession, caller: V3Caller) -> UrlGroupEnvelope:
    """One Environment."""
    group = await url_groups.get(session=session, principal=caller, url_group_id=url_group_id)
    return UrlGroupEnvelope(url_group=_out(group))


@router.put("/{url_group_id}")
@router.patch("/{url_group_id}")
async def update_url_group(
    url_group_id: str, body: UrlGroupUpdate, session: DbSession, caller: V3Caller, forget: ForgetDecisions
) -> UrlGroupEnvelope:
    """Change the named fields of an Environment; archive its Urls too with `urls_action_on_archive=archive`."""
    changes = url_groups.UrlGroupChanges(
        name=_given(body, "name"),
        description=_given(body, "description"),
        short_name=_given(body, "short_name"),
        style_short_name_color=_given(body, "style_short_name_color"),
        archived_at=_given(body, "archived_at"),
        urls_action_on_archive=_given(body, "urls_action_on_archive"),
    )
    group = await url_groups.update(session=session, principal=caller, url_group_id=url_group_id, changes=changes)
    forget.after_response(caller.account_id)  # archiving may have archived its Urls
    return UrlGroupEnvelope(url_group=_out(group))

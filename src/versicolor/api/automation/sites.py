"""`/sites`: the account's projects."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from versicolor.api import public_url
from versicolor.api.automation.schemas import CamelIn, Kept, KeptOut, ReadOnlyEcho, Timestamp, kept_fields
from versicolor.api.conventions import listing
from versicolor.api.deps import DbSession
from versicolor.api.routes import CheckedRoute
from versicolor.api.security import Caller, needs
from versicolor.core import querying, resources, sites
from versicolor.core.querying import Fields, ListQuery
from versicolor.core.roles import Permission
from versicolor.db.models import Site
from versicolor.engine.script import SiteSettings
from versicolor.engine.snippet import snippet

router = APIRouter(prefix="/sites", tags=["sites"], route_class=CheckedRoute)

# Every scalar field SiteOut shows; domainNames is a list, so it is not searchable.
SITE_FIELDS = Fields(
    {
        "id": Site.id,
        "code": Site.code,
        "name": Site.name,
        "url": Site.url,
        "dateCreated": Site.date_created,
    },
    unsearchable=("domainNames",),
)
SiteQuery = Annotated[ListQuery, Depends(listing.query_params(SITE_FIELDS))]
SiteSearch = Annotated[ListQuery, Depends(listing.search_body(SITE_FIELDS))]


class SiteOut(KeptOut):
    """A site as the API shows it."""

    id: int
    code: str
    name: str
    url: str | None
    domain_names: list[str]
    date_created: Timestamp
    anti_flicker_timeout: int
    consent_required: bool
    tracking_script: str | None = Field(description="run on every page of the site, before any experiment")
    snippet: str = Field(description="the tags to paste into the <head> of the site's pages (docs/engine.md)")


def _out(site: Site, request: Request) -> SiteOut:
    settings = SiteSettings(site.code, site.anti_flicker_timeout, site.consent_required)
    return SiteOut.model_validate(
        {
            "id": site.id,
            "code": site.code,
            "name": site.name,
            "url": site.url,
            "domain_names": site.domain_names,
            "date_created": site.date_created,
            "anti_flicker_timeout": site.anti_flicker_timeout,
            "consent_required": site.consent_required,
            "tracking_script": site.tracking_script,
            "stored_fields": site.stored_fields,
            # The page engine's address: VERSICOLOR_PUBLIC_URL when set; otherwise the address this request
            # reached (the caller's own Host, which only the caller sees: the answer is no-store).
            "snippet": snippet(public_url.base(request) or str(request.base_url), settings),
        }
    )


_TIMEOUT = Field(default=sites.DEFAULT_ANTI_FLICKER_TIMEOUT, description="milliseconds the snippet may hide a page")
_CONSENT = Field(default=False, description="the engine stores and sends nothing until versicolor.consent(true)")


_TRACKING_SCRIPT = Field(
    default=None, description="JavaScript run on every page of the site before any experiment; at most 256 KiB"
)


class SiteKept(CamelIn):
    """Fields Kameleoon documents for sites that Versicolor keeps and returns as given."""

    description: Kept
    behavior_when_timeout: Kept
    data_storage: Kept
    indicators: Kept
    is_script_active: Kept
    capture_event_method: Kept
    is_audience_used: Kept
    is_kameleoon_enabled: Kept
    experiment_config: Kept
    personalization_config: Kept
    audience_config: Kept


class _SiteEcho(ReadOnlyEcho):
    """What a GET shows that a client may send back: checked (code) or ignored (the snippet)."""

    code: str | None = None
    snippet: str | None = Field(default=None, description="ignored: the server writes it")

    def check_site(self, site: Site) -> None:
        """Refuse (400) an id, code or creation date other than the site's."""
        self.check_echo("site", site, ("code", self.code, site.code))


class SiteCreate(SiteKept):
    """The body of `POST /sites`."""

    name: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    domain_names: list[str] = Field(default_factory=list, max_length=1000)
    anti_flicker_timeout: int = _TIMEOUT
    consent_required: bool = _CONSENT
    tracking_script: str | None = _TRACKING_SCRIPT


class SiteReplace(SiteKept, _SiteEcho):
    """The body of `PUT /sites/{id}`: the whole site; a field left out is cleared."""

    name: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    domain_names: list[str] = Field(default_factory=list, max_length=1000)
    anti_flicker_timeout: int = _TIMEOUT
    consent_required: bool = _CONSENT
    tracking_script: str | None = _TRACKING_SCRIPT


class SiteUpdate(SiteKept, _SiteEcho):
    """The body of `PATCH /sites/{id}`: only the named fields change."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2048)
    domain_names: list[str] | None = Field(default=None, max_length=1000)
    anti_flicker_timeout: int | None = None
    consent_required: bool | None = None
    tracking_script: str | None = _TRACKING_SCRIPT


_NOT_CORE = {"id", "code", "snippet", "date_created", "date_modified", *SiteKept.model_fields}


async def _answer(
    request: Request, response: Response, session: DbSession, caller: Caller, query: ListQuery
) -> list[SiteOut]:
    page = await querying.fetch(session=session, statement=sites.scoped(caller), query=query)
    listing.set_headers(request, response, page)
    return [_out(site, request) for site in page.items]


@router.get("")
async def list_sites(
    query: SiteQuery, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[SiteOut]:
    """The caller's account's sites, one page: `page`, `perPage`, `filter`, `sort` (docs/conventions.md)."""
    return await _answer(request, response, session, caller, query)


@router.post("/search", openapi_extra=needs(Permission.READ))
async def search_sites(
    query: SiteSearch, request: Request, response: Response, session: DbSession, caller: Caller
) -> list[SiteOut]:
    """The same as `GET /sites`, with the query in a JSON body."""
    return await _answer(request, response, session, caller, query)


@router.post("", status_code=201)
async def create_site(body: SiteCreate, request: Request, session: DbSession, caller: Caller) -> SiteOut:
    """Create a site."""
    site = await sites.create(
        session=session,
        principal=caller,
        name=body.name,
        url=body.url,
        domain_names=body.domain_names,
        anti_flicker_timeout=body.anti_flicker_timeout,
        consent_required=body.consent_required,
        tracking_script=body.tracking_script,
    )
    resources.keep_as_given(site, kept_fields(body, SiteKept))
    return _out(site, request)


@router.get("/byCode/{code}")
async def get_site_by_code(code: str, request: Request, session: DbSession, caller: Caller) -> SiteOut:
    """A site by its code."""
    return _out(await sites.get_by_code(session=session, principal=caller, code=code), request)


@router.get("/{site_id}")
async def get_site(site_id: int, request: Request, session: DbSession, caller: Caller) -> SiteOut:
    """A site by id."""
    return _out(await sites.get(session=session, principal=caller, site_id=site_id), request)


@router.patch("/{site_id}")
async def update_site(site_id: int, body: SiteUpdate, request: Request, session: DbSession, caller: Caller) -> SiteOut:
    """Change the named fields of a site."""
    changes = cast(sites.SiteChanges, body.model_dump(exclude_unset=True, exclude=_NOT_CORE))
    site = await sites.update(session=session, principal=caller, site_id=site_id, changes=changes)
    body.check_site(site)
    resources.keep_as_given(site, kept_fields(body, SiteKept))
    return _out(site, request)


@router.put("/{site_id}")
async def replace_site(
    site_id: int, body: SiteReplace, request: Request, session: DbSession, caller: Caller
) -> SiteOut:
    """Replace a site: every changeable field takes the body's value, or its default when left out."""
    site = await sites.replace(
        session=session,
        principal=caller,
        site_id=site_id,
        name=body.name,
        url=body.url,
        domain_names=body.domain_names,
        anti_flicker_timeout=body.anti_flicker_timeout,
        consent_required=body.consent_required,
        tracking_script=body.tracking_script,
    )
    body.check_site(site)
    resources.keep_as_given(site, kept_fields(body, SiteKept), replace=True)
    return _out(site, request)


@router.delete("/{site_id}", status_code=204)
async def delete_site(site_id: int, session: DbSession, caller: Caller) -> Response:
    """Delete a site and everything in it."""
    await sites.delete(session=session, principal=caller, site_id=site_id)
    return Response(status_code=204)

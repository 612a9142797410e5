"""`GET /data/v1/sites/{siteCode}/config`: the page configuration, for pages on authorised hosts only.

Cacheable: the ETag is a hash of the exact bytes, and an unchanged configuration answers 304 to
`If-None-Match`. `private` keeps shared caches from answering one host with a decision made for another;
browsers keep it for `max-age` seconds and then revalidate. Host authorisation runs before the ETag is
compared, so a host that was disabled gets its 403 even for a version it holds.

Each process keeps a built configuration for a few seconds (tracking.config.ConfigurationCache), as it keeps
host decisions: a warm page view costs no database round trip, and a change reaches pages within that time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from versicolor.api.data import access
from versicolor.api.deps import runtime_of
from versicolor.api.security import Way, accepts

router = APIRouter(tags=["data"])

MAX_AGE_SECONDS = 60
CACHE_CONTROL = f"private, max-age={MAX_AGE_SECONDS}"


_CACHED = {
    "ETag": {
        "description": "The configuration's version; send it back as If-None-Match.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}


@router.get(
    "/sites/{site_code}/config",
    openapi_extra=accepts(Way.PAGE),
    responses={
        200: {
            "description": "The configuration (docs/tracking.md).",
            "content": {"application/json": {"schema": {"type": "object"}}},
            "headers": _CACHED,
        },
        304: {"description": "Unchanged since the version If-None-Match names.", "headers": _CACHED},
    },
)
async def get_config(site_code: str, request: Request) -> Response:
    """The site's ACTIVE experiments with their deviations, variation code, goals and segments."""
    site, current = await access.configurations(request).get(sessions=runtime_of(request).sessions, code=site_code)
    granted = await access.page_access(request, site)
    headers = {"ETag": current.etag, "Cache-Control": CACHE_CONTROL, **granted.cors}
    if current.matches(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(current.body, media_type="application/json", headers=headers)


@router.options("/sites/{site_code}/config", include_in_schema=False)
async def preflight_config(site_code: str, request: Request) -> Response:
    """The CORS preflight of a script's GET: allowed for pages on authorised hosts only."""
    granted = await access.by_page(request, site_code, preflight=True)
    return Response(status_code=204, headers=granted.cors)

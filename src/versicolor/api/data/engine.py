"""`GET /data/v1/sites/{siteCode}/engine.js`, the page engine, and `GET .../preview`, what a preview link shows.

The script is the same for every page of a site; it is refused (403) to a page whose host Domains does not
authorise, as the configuration is. A request that names no page at all (neither `Origin` nor `Referer`, as
from `curl` or a page with `Referrer-Policy: no-referrer` and no `crossorigin` attribute) gets it: the script
alone runs nothing, since the configuration it asks for names its page. Cacheable: `ETag` and
`If-None-Match` (304), `private` and `Vary: Origin` as for the configuration.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from versicolor.api.data import access
from versicolor.api.deps import runtime_of
from versicolor.api.security import Way, accepts
from versicolor.core.errors import NotFound
from versicolor.engine import preview, script
from versicolor.engine.sites import settings_of
from versicolor.tracking import config

router = APIRouter(tags=["data"])

MAX_AGE_SECONDS = 300
CACHE_CONTROL = f"private, max-age={MAX_AGE_SECONDS}"


_CACHED = {
    "ETag": {"description": "The script's version; send it back as If-None-Match.", "schema": {"type": "string"}},
    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
}


@router.get(
    "/sites/{site_code}/engine.js",
    openapi_extra=accepts(Way.PAGE),
    response_class=Response,
    responses={
        200: {
            "description": "The script.",
            "content": {"text/javascript": {"schema": {"type": "string"}}},
            "headers": _CACHED,
        },
        304: {"description": "Unchanged since the version If-None-Match names.", "headers": _CACHED},
    },
)
async def get_engine(site_code: str, request: Request) -> Response:
    """The site's page engine: JavaScript to load with the tag of the site's `snippet`."""
    async with runtime_of(request).sessions() as session:
        site, settings = await settings_of(session=session, code=site_code)
    cors = (await access.page_access(request, site)).cors if access.page_host(request) else {"Vary": "Origin"}
    served = script.for_site(settings)
    headers = {"ETag": served.etag, "Cache-Control": CACHE_CONTROL, **cors}
    if served.matches(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(served.body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/sites/{site_code}/preview", openapi_extra=accepts(Way.PAGE))
async def get_preview(site_code: str, request: Request, token: Annotated[str, Query(max_length=1000)]) -> JSONResponse:
    """The experiment and variation a preview link shows, for a page of the site on an authorised host."""
    granted = await access.by_page(request, site_code)
    runtime = runtime_of(request)
    shown = preview.read(key=runtime.signing_key, value=token, site_code=site_code)
    async with runtime.sessions() as session:
        experiment = await config.experiment_of(session=session, site=granted.site, experiment_id=shown.experiment_id)
    if experiment is None:
        raise NotFound(f"experiment {shown.experiment_id} no longer exists")
    if shown.variation_id != 0 and all(v["id"] != shown.variation_id for v in experiment["variations"]):
        raise NotFound(f"variation {shown.variation_id} is no longer in experiment {shown.experiment_id}")
    body = {"experiment": experiment, "variationId": shown.variation_id}
    return JSONResponse(body, headers={"Cache-Control": "no-store", **granted.cors})

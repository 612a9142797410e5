"""`GET /data/v1/sites/{siteCode}/visitors/{visitorCode}/variations`: assignment on the server, for SDKs.

Targeting segments are evaluated against the attributes given as query parameters; an attribute left out
is unknown (a condition on it does not hold; an excluding one does). A JS_CODE condition runs in the page only:
an experiment whose targeting hangs on one for this visitor is listed under `pageOnly`, not decided.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import WithJsonSchema

from versicolor.api.automation.schemas import CamelOut
from versicolor.api.data import access
from versicolor.api.deps import runtime_of
from versicolor.api.security import Way, accepts
from versicolor.core.errors import Invalid
from versicolor.core.segments import vocabulary
from versicolor.core.segments.visitor import VisitorAttributes
from versicolor.core.segments.vocabulary import Browser, OperatingSystem
from versicolor.db.models.tracking import VISITOR_CODE_LENGTH
from versicolor.tracking import events, visitors

router = APIRouter(tags=["data"])


class AllocationOut(CamelOut):
    """The variation a visitor sees in one experiment."""

    experiment_id: int
    variation_id: int


class PageOnlyOut(CamelOut):
    """An experiment the server cannot decide for this visitor, and why."""

    experiment_id: int
    reason: str


class VisitorVariationsOut(CamelOut):
    """Every ACTIVE experiment of the site the visitor is in, with their variation (0 = the original)."""

    site_code: str
    visitor_code: str
    variations: list[AllocationOut]
    page_only: list[PageOnlyOut]


_PAGE_ONLY_REASON = (
    "its targeting segment has a JS_CODE condition that decides for this visitor, and only the page can run it"
)
_DEVICE_TYPES = "DESKTOP, TABLET or PHONE (MOBILE, the earlier name, is read as PHONE)"


@router.get("/sites/{site_code}/visitors/{visitor_code}/variations", openapi_extra=accepts(Way.BEARER))
async def get_visitor_variations(
    site_code: str,
    visitor_code: str,
    request: Request,
    device_type: Annotated[str | None, Query(alias="deviceType", description=_DEVICE_TYPES)] = None,
    browser: Annotated[Browser | None, Query()] = None,
    os: Annotated[OperatingSystem | None, Query()] = None,
    country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2, e.g. FR")] = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
    city: Annotated[str | None, Query(max_length=200)] = None,
    new_visitor: Annotated[bool | None, Query(alias="newVisitor")] = None,
    page_url: Annotated[str | None, Query(alias="pageUrl", max_length=8192)] = None,
    page_title: Annotated[str | None, Query(alias="pageTitle", max_length=8192)] = None,
    landing_page_url: Annotated[str | None, Query(alias="landingPageUrl", max_length=8192)] = None,
    previous_page_url: Annotated[str | None, Query(alias="previousPageUrl", max_length=8192)] = None,
    referrer: Annotated[str | None, Query(max_length=8192)] = None,
    visited_pages: Annotated[
        list[str] | None, Query(alias="visitedPages", description="repeat it: one URL per visited page")
    ] = None,
    cookies: Annotated[str | None, Query(description='JSON object of cookie names to values: {"plan": "gold"}')] = None,
    local_time: Annotated[
        str | None,
        # Read as text: pydantic would take a number as seconds since 1970, which is no wall clock.
        WithJsonSchema({"type": "string", "format": "date-time"}),
        Query(alias="localTime", description="the visitor's wall clock, e.g. 2030-01-31T09:30:00"),
    ] = None,
    custom_data: Annotated[
        str | None, Query(alias="customData", description='JSON object by custom data index: {"3": "gold"}')
    ] = None,
) -> VisitorVariationsOut:
    """The visitor's variation of every ACTIVE experiment of the site they are in (bearer token only)."""
    granted = await access.by_token(request, site_code)
    if not visitor_code.strip() or len(visitor_code) > VISITOR_CODE_LENGTH or not events.storable(visitor_code):
        raise Invalid.field("visitorCode", f"must be 1 to {VISITOR_CODE_LENGTH} characters of text, not blank")
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise Invalid.field("country", f"must be a two-letter ISO 3166-1 code such as FR (got {country!r})")
    device = vocabulary.device_type(device_type)
    if device is not None and device not in vocabulary.DeviceType.__members__:
        raise Invalid.field("deviceType", f"must be {_DEVICE_TYPES}, not {device_type!r}")
    if visited_pages is not None and len(visited_pages) > 500:
        raise Invalid.field("visitedPages", "at most 500 pages")
    attributes = VisitorAttributes(
        page_url=page_url,
        page_title=page_title,
        landing_page_url=landing_page_url,
        previous_page_url=previous_page_url,
        referrer=referrer,
        visited_pages=tuple(visited_pages) if visited_pages is not None else None,
        device_type=device,
        browser=browser,
        os=os,
        country=country.upper() if country else None,
        region=region,
        city=city,
        new_visitor=new_visitor,
        custom_data={int(k): v for k, v in _custom_data(custom_data).items()},
        cookies=_cookies(cookies),
        now=datetime.now(UTC),
        local_time=_local(local_time),
    )
    async with runtime_of(request).sessions() as session:
        found = await visitors.allocations(
            session=session, site=granted.site, visitor_code=visitor_code, attributes=attributes
        )
    return VisitorVariationsOut(
        site_code=site_code,
        visitor_code=visitor_code,
        variations=[AllocationOut(experiment_id=a.experiment_id, variation_id=a.variation_id) for a in found.allocated],
        page_only=[PageOnlyOut(experiment_id=e, reason=_PAGE_ONLY_REASON) for e in found.page_only],
    )


def _local(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid.field(
            "localTime", f"must be an ISO-8601 date and time such as 2030-01-31T09:30:00 (got {raw[:40]!r})"
        ) from None
    # The wall clock has no zone; one given (Z, +02:00) is the visitor's own, so its local reading is kept.
    return moment.replace(tzinfo=None)


def _cookies(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if (
        not isinstance(value, dict)
        or len(value) > 200
        or not all(isinstance(k, str) and isinstance(v, str) and events.storable(k + v) for k, v in value.items())
    ):
        raise Invalid.field("cookies", "must be a JSON object of at most 200 cookie names to string values")
    return value


def _custom_data(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise Invalid.field("customData", 'must be a JSON object by custom data index, e.g. {"3": "gold"}') from None
    return events.read_custom_data(value)

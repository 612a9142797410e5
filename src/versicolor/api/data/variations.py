"""`GET /data/v1/sites/{siteCode}/visitors/{visitorCode}/variations`: assignment on the server, for SDKs.

Targeting segments are evaluated against the attributes given as query parameters; an attribute left out
is unknown (a condition on it does not hold; an excluding one does).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from versicolor.api.automation.schemas import CamelOut
from versicolor.api.data import access
from versicolor.api.deps import runtime_of
from versicolor.core.errors import Invalid
from versicolor.core.segments.conditions import Browser, DeviceType
from versicolor.core.segments.evaluator import VisitorAttributes
from versicolor.db.models.tracking import VISITOR_CODE_LENGTH
from versicolor.tracking import events, visitors

router = APIRouter(tags=["data"])


class AllocationOut(CamelOut):
    """The variation a visitor sees in one experiment."""

    experiment_id: int
    variation_id: int


class VisitorVariationsOut(CamelOut):
    """Every ACTIVE experiment of the site the visitor is in, with their variation (0 = the original)."""

    site_code: str
    visitor_code: str
    variations: list[AllocationOut]


@router.get("/sites/{site_code}/visitors/{visitor_code}/variations")
async def get_visitor_variations(
    site_code: str,
    visitor_code: str,
    request: Request,
    device_type: Annotated[DeviceType | None, Query(alias="deviceType")] = None,
    browser: Annotated[Browser | None, Query()] = None,
    country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2, e.g. FR")] = None,
    new_visitor: Annotated[bool | None, Query(alias="newVisitor")] = None,
    page_url: Annotated[str | None, Query(alias="pageUrl", max_length=8192)] = None,
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
    attributes = VisitorAttributes(
        page_url=page_url,
        device_type=device_type,
        browser=browser,
        country=country.upper() if country else None,
        new_visitor=new_visitor,
        custom_data={int(k): v for k, v in _custom_data(custom_data).items()},
    )
    async with runtime_of(request).sessions() as session:
        found = await visitors.allocations(
            session=session, site=granted.site, visitor_code=visitor_code, attributes=attributes
        )
    return VisitorVariationsOut(
        site_code=site_code,
        visitor_code=visitor_code,
        variations=[AllocationOut(experiment_id=a.experiment_id, variation_id=a.variation_id) for a in found],
    )


def _custom_data(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise Invalid.field("customData", 'must be a JSON object by custom data index, e.g. {"3": "gold"}') from None
    return events.read_custom_data(value)

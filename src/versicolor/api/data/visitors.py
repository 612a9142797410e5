"""A site's visitors as stored, for finding and removing poisoned traffic (docs/tracking.md), bearer tokens only.

- `GET /data/v1/sites/{siteCode}/visitors?experimentId=&receivedAfter=&receivedBefore=&limit=`: an experiment's
  visitors by when the server received their first exposure, most revenue first (any role).
- `POST /data/v1/sites/{siteCode}/visitors/forget` `{"visitorCodes": [...]}`: delete everything stored of those
  visitors on the site (EDITOR or ADMIN).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request

from versicolor.api.automation.schemas import CamelOut
from versicolor.api.data import access
from versicolor.api.deps import runtime_of
from versicolor.api.security import Way, accepts
from versicolor.core.errors import Invalid, NotFound
from versicolor.db.models import Experiment
from versicolor.db.models.tracking import VISITOR_CODE_LENGTH
from versicolor.tracking import erasure, events

router = APIRouter(tags=["data"])


class VisitorOut(CamelOut):
    """One visitor of the experiment: its variation, when it was exposed and received, what it converted."""

    visitor_code: str
    variation_id: int
    exposed_at: datetime
    received_at: datetime
    conversions: int
    revenue: float | None


class VisitorsOut(CamelOut):
    """The experiment's visitors received in the window, most revenue first."""

    visitors: list[VisitorOut]


class ForgottenOut(CamelOut):
    """What forgetting the visitors deleted."""

    visitors: int
    visits: int
    exposures: int
    conversions: int


@router.get("/sites/{site_code}/visitors", openapi_extra=accepts(Way.BEARER))
async def list_visitors(
    site_code: str,
    request: Request,
    experiment_id: Annotated[int, Query(alias="experimentId", ge=1, le=2**63 - 1)],  # an id fits 64 bits
    received_after: Annotated[str | None, Query(alias="receivedAfter")] = None,
    received_before: Annotated[str | None, Query(alias="receivedBefore")] = None,
    limit: Annotated[int, Query(ge=1, le=erasure.MAX_LISTED)] = 100,
) -> VisitorsOut:
    """An experiment's visitors by when their first exposure was received, most revenue first."""
    after = _instant("receivedAfter", received_after)
    before = _instant("receivedBefore", received_before)
    async with runtime_of(request).sessions() as session, session.begin():
        granted = await access.token_access(request, session, site_code)
        site = granted.site
        experiment = await session.get(Experiment, experiment_id)
        if experiment is None or experiment.account_id != site.account_id or experiment.site_id != site.id:
            raise NotFound(f"experiment {experiment_id} is not an experiment of site {site.code}")
        found = await erasure.exposed_visitors(
            session=session,
            site=site,
            experiment_id=experiment_id,
            received_after=after,
            received_before=before,
            limit=limit,
        )
    return VisitorsOut(visitors=[VisitorOut(**vars(v)) for v in found])


_FORGET_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "visitorCodes": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": erasure.MAX_FORGOTTEN,
                        "items": {"type": "string", "minLength": 1, "maxLength": VISITOR_CODE_LENGTH, "pattern": r"\S"},
                    }
                },
                "required": ["visitorCodes"],
                "additionalProperties": False,
            }
        }
    },
}


@router.post("/sites/{site_code}/visitors/forget", openapi_extra={**accepts(Way.BEARER), "requestBody": _FORGET_BODY})
async def forget_visitors(site_code: str, request: Request) -> ForgottenOut:
    """Delete every visit, exposure, conversion and rollup of the listed visitors on the site."""
    await access.check_token(request)  # from the headers: a refused token never has its body read
    codes = _visitor_codes(await request.body(), request.headers.get("content-type"))
    async with runtime_of(request).sessions() as session, session.begin():
        granted = await access.token_access(request, session, site_code)
        forgotten = await erasure.forget(session=session, site=granted.site, visitor_codes=codes)
    return ForgottenOut(visitors=len(set(codes)), **vars(forgotten))


def _instant(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid.field(name, f"must be an ISO-8601 date-time such as 2026-05-01T12:00:00Z (got {raw!r})") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _visitor_codes(body: bytes, content_type: str | None) -> list[str]:
    if events.media_type_of(content_type) != "application/json":
        raise Invalid("the body must be JSON sent with Content-Type: application/json")
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Invalid("the body is not valid JSON") from None
    codes = document.get("visitorCodes") if isinstance(document, dict) else None
    if not isinstance(document, dict) or set(document) != {"visitorCodes"} or not isinstance(codes, list):
        raise Invalid.field("visitorCodes", 'the body must be {"visitorCodes": ["...", ...]}')
    if not 1 <= len(codes) <= erasure.MAX_FORGOTTEN:
        raise Invalid.field("visitorCodes", f"must list 1 to {erasure.MAX_FORGOTTEN} visitor codes (got {len(codes)})")
    for index, code in enumerate(codes):
        if (
            not isinstance(code, str)
            or not code.strip()
            or len(code) > VISITOR_CODE_LENGTH
            or not events.storable(code)
        ):
            raise Invalid.field(
                f"visitorCodes[{index}]", f"must be a visitor code of 1 to {VISITOR_CODE_LENGTH} characters"
            )
    return codes

"""`POST /data/v1/sites/{siteCode}/events`: a batch of visits, exposures and conversions (docs/tracking.md).

202 means stored: the batch's one transaction has committed before the answer is sent. Anything else means
nothing of the batch was stored, so the client sends it again as it was (event ids make that safe).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.requests import ClientDisconnect

from versicolor import metrics
from versicolor.api.body_limits import BodyTooLarge
from versicolor.api.data import access, page_limits
from versicolor.api.data.answers import refusal
from versicolor.api.deps import runtime_of
from versicolor.api.dialects import AutomationErrorBody, Dialect, error_response
from versicolor.api.security import Way, accepts
from versicolor.core.errors import DomainError, Invalid
from versicolor.db.models.tracking import EVENT_ID_LENGTH, VISIT_ID_LENGTH, VISITOR_CODE_LENGTH
from versicolor.db.types import utcnow
from versicolor.tracking import events, ingestion

log = logging.getLogger("versicolor.tracking")

router = APIRouter(tags=["data"])

# Retry-After for a batch the database could not take.
RETRY_AFTER_SECONDS = 5


def _text(limit: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S", "description": description}


_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
_CUSTOM_SCALAR = {
    "anyOf": [
        {"type": "string", "maxLength": events.MAX_CUSTOM_TEXT},
        {"type": "number"},
        {"type": "boolean"},
    ]
}
# One event as tracking/events.py reads it: the fields every event has, and those of its type.
_COMMON = {
    "id": _text(EVENT_ID_LENGTH, "the event's own id: a batch sent again is counted once"),
    "visitorCode": _text(VISITOR_CODE_LENGTH, "the visitor's code"),
    "visitId": _text(VISIT_ID_LENGTH, "the visit's id"),
    "timestamp": {
        "description": "when it happened: milliseconds since 1970, or ISO-8601 with a time zone; from the year "
        "2000 to at most 5 minutes ahead of the server's clock",
        "anyOf": [
            {"type": "integer", "minimum": int(events.EARLIEST.timestamp() * 1000), "maximum": 10**14 - 1},
            {"type": "string", "format": "date-time"},
        ],
    },
    "deviceType": {"type": "string", "enum": sorted(events.DEVICE_TYPES)},
    "browser": {"type": "string", "enum": sorted(events.BROWSERS)},
    "country": {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2, e.g. FR"},
    "newVisitor": {"type": "boolean"},
    "customData": {
        "type": "object",
        "description": "values by custom data index: a value, a list of values (LIST), or counts (COUNT_LIST)",
        "maxProperties": events.MAX_CUSTOM_DATA,
        "propertyNames": {"pattern": "^[0-9]+$"},
        "additionalProperties": {
            "anyOf": [
                _CUSTOM_SCALAR,
                {"type": "array", "maxItems": events.MAX_CUSTOM_VALUES, "items": _CUSTOM_SCALAR},
                {
                    "type": "object",
                    "maxProperties": events.MAX_CUSTOM_VALUES,
                    "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                },
            ]
        },
    },
}
_REQUIRED = ["id", "type", "visitorCode", "visitId", "timestamp"]


def _event(kind: events.EventType, description: str, **fields: Any) -> dict[str, Any]:
    return {
        "title": f"{kind.value.title()} event",
        "description": description,
        "type": "object",
        "properties": {"type": {"const": kind.value}, **_COMMON, **fields},
        "required": [*_REQUIRED, *(name for name in fields if name != "revenue")],
        "additionalProperties": False,
    }


EVENT_SCHEMA = {
    "oneOf": [
        _event(events.EventType.VISIT, "a visit began"),
        _event(
            events.EventType.EXPOSURE,
            "the visitor saw a variation of an experiment of this site (0: the original)",
            experimentId=_ID,
            variationId={**_ID, "minimum": 0},
        ),
        _event(
            events.EventType.CONVERSION,
            "the visitor reached a goal of this site",
            goalId=_ID,
            revenue={"type": "number", "minimum": 0, "maximum": events.MAX_REVENUE},
        ),
    ]
}
_BATCH = {
    "type": "object",
    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": events.MAX_EVENTS, "items": EVENT_SCHEMA}},
    "required": ["events"],
    "additionalProperties": False,
}
_EVENTS_OPENAPI: dict[str, Any] = {
    **accepts(Way.BEARER, Way.PAGE),
    "requestBody": {
        "required": True,
        "description": f"At most {events.MAX_EVENTS} events and {events.MAX_BODY_BYTES} bytes. Pages send the JSON "
        "as text/plain, which needs no CORS preflight.",
        "content": {
            "application/json": {"schema": _BATCH},
            "text/plain": {"schema": _BATCH},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one event (JSON) per line"}},
        },
    },
}
_STORED = {"type": "object", "properties": {"received": {"type": "integer"}}, "required": ["received"]}


@router.post(
    "/sites/{site_code}/events",
    status_code=202,
    openapi_extra=_EVENTS_OPENAPI,
    responses={
        202: {
            "description": "Stored, all of it: the batch's transaction committed before this answer.",
            "content": {"application/json": {"schema": _STORED}},
        },
        503: {
            "description": "The database could not store the batch; nothing of it was stored. Send it again "
            "after `Retry-After` seconds.",
            "model": AutomationErrorBody,
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
        },
    },
)
async def post_events(site_code: str, request: Request) -> Response:
    """Store a batch of events, all or nothing: `{"events": [...]}` as JSON, or NDJSON (one event per line)."""
    granted: access.Access | None = None
    limited: list[tuple[bytes, bytes]] = []
    runtime = runtime_of(request)
    caps = access.revenue_caps(request)
    try:
        access.require_token_or_page(request)
        by_token = "authorization" in request.headers
        batch = None
        if not by_token:
            # A page's host decision commits on its own: a first contact keeps its Url even if the batch fails.
            granted = await access.by_page(request, site_code)
            batch = events.read_batch(await _read_body(request), request.headers.get("content-type"))
            counted = await page_limits.count_events(request, granted.site, len(batch.items))
            if not counted.allowed:
                return counted.refusal(granted.cors)
            limited = counted.headers
        else:
            await access.check_token(request)  # from the headers: a refused token never has its body read
            body = await _read_body(request)
        # One transaction per batch; with a token, checking it shares the batch's transaction (one round trip
        # to begin and one to commit, rather than two of each).
        async with runtime.sessions() as session, session.begin():
            if by_token:
                granted = await access.token_access(request, session, site_code)
                batch = events.read_batch(body, request.headers.get("content-type"))
            assert granted is not None and batch is not None
            stored = await ingestion.ingest(session=session, site=granted.site, batch=batch, now=utcnow(), caps=caps)
    except DomainError as exc:
        return refusal(exc, granted.cors if granted else {}, limited)
    except BodyTooLarge as exc:
        return error_response(Dialect.AUTOMATION, exc.status_code, exc.detail, headers=granted.cors if granted else {})
    except (DBAPIError, OSError):
        # The transaction rolled back (or died with its connection): not one event of the batch is stored.
        log.exception("a batch of events for site %s was not stored", site_code)
        return error_response(
            Dialect.AUTOMATION,
            503,
            "the database could not store the batch; nothing of it was stored, send it again",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), **(granted.cors if granted else {})},
        )
    metrics.EVENT_BATCHES.inc()
    for kind, count in (("visit", stored.visits), ("exposure", stored.exposures), ("conversion", stored.conversions)):
        if count:
            metrics.EVENTS_INGESTED.labels(kind).inc(count)
    answer = JSONResponse({"received": stored.received}, status_code=202, headers=granted.cors)
    answer.raw_headers.extend(limited)
    return answer


@router.options("/sites/{site_code}/events", include_in_schema=False)
async def preflight_events(site_code: str, request: Request) -> Response:
    """The CORS preflight of a browser's POST: allowed for pages on authorised hosts only."""
    granted = await access.by_page(request, site_code, preflight=True)
    return Response(status_code=204, headers=granted.cors)


async def _read_body(request: Request) -> bytes:
    # Bounded as it arrives (api/body_limits.py: the Data API's maximum is a batch's, events.MAX_BODY_BYTES).
    try:
        return await request.body()
    except ClientDisconnect:
        log.info("client disconnected before its batch for %s arrived whole; nothing stored", request.url.path)
        raise Invalid("the request ended before its whole body arrived; nothing was stored") from None

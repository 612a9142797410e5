"""Which dialect a request speaks, and how each dialect shapes an error body."""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from versicolor.core.errors import Detail


class Dialect(StrEnum):
    """The API dialects (docs/conventions.md)."""

    AUTOMATION = "automation"
    V3 = "v3"


class ErrorDetailBody(BaseModel):
    """One problem with one field of the input."""

    field: str = Field(description="the field or parameter, dotted into nested objects (`body` for the whole body)")
    message: str


class AutomationErrorBody(BaseModel):
    """An error of the Automation dialect (and of the Data API)."""

    status: int = Field(description="the HTTP status, repeated")
    error: str = Field(description="the status's reason phrase, e.g. Bad Request")
    message: str = Field(description="what went wrong and what to do about it")
    details: list[ErrorDetailBody] = Field(description="one entry per problem with a field; empty when none")
    request_id: str | None = Field(
        default=None, alias="requestId", description="on a 500: the id to quote when reporting it"
    )


class V3ErrorBody(BaseModel):
    """An error of the Edit v3 dialect."""

    code: int = Field(description="the HTTP status, repeated")
    messages: list[str] = Field(description="what went wrong, one line per problem")
    wait: int | None = Field(default=None, description="on a 429: seconds before a request will be counted again")
    request_id: str | None = Field(
        default=None, alias="requestId", description="on a 500: the id to quote when reporting it"
    )


# The body schema of each dialect's errors, as the API document shows them.
ERROR_BODIES: dict[Dialect, type[BaseModel]] = {Dialect.AUTOMATION: AutomationErrorBody, Dialect.V3: V3ErrorBody}


def dialect_of(path: str) -> Dialect:
    """The dialect a request path belongs to: `/v3/...`, and `/` (where Chameleon's clients check a secret)."""
    return Dialect.V3 if path in ("/", "/v3") or path.startswith("/v3/") else Dialect.AUTOMATION


def error_response(
    dialect: Dialect,
    status: int,
    message: str,
    *,
    details: list[Detail] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """An error in the dialect's shape: Automation `{status, error, message, details}`, v3 `{code, messages}`."""
    body: dict[str, Any]
    if dialect is Dialect.V3:
        messages = [message] if not details or len(details) == 1 else [f"{d.field}: {d.message}" for d in details]
        body = {"code": status, "messages": messages}
    else:
        body = {
            "status": status,
            "error": HTTPStatus(status).phrase,
            "message": message,
            "details": [{"field": d.field, "message": d.message} for d in details or []],
        }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)

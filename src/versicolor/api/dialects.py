"""Which dialect a request speaks, and how each dialect shapes an error body."""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from versicolor.core.errors import Detail


class Dialect(StrEnum):
    """The API dialects (docs/conventions.md)."""

    AUTOMATION = "automation"
    V3 = "v3"


def dialect_of(path: str) -> Dialect:
    """The dialect a request path belongs to."""
    return Dialect.V3 if path == "/v3" or path.startswith("/v3/") else Dialect.AUTOMATION


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

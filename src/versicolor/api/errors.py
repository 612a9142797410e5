"""Turn every failure into an answer in the caller's dialect; nothing escapes as a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from versicolor.api.dialects import dialect_of, error_response
from versicolor.api.request_ids import current_request_id
from versicolor.auth.grants import OAuthError
from versicolor.core.errors import (
    Conflict,
    Detail,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)

log = logging.getLogger("versicolor.errors")

STATUS_OF: dict[type[DomainError], int] = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyAttempts: 429,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status a domain error stands for."""
    for kind, status in STATUS_OF.items():
        if isinstance(exc, kind):
            return status
    return 400


# A boolean where a number belongs (api/strict_input.py): said plainly, since "a valid integer" reads oddly for
# `true`, which many languages would call 1.
_NUMBER_ERRORS = {"int_type": "a whole number", "float_type": "a number", "bool_not_number": "a number"}


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) if parts else "body"


def validation_details(errors: Sequence[Any]) -> list[Detail]:
    """Pydantic's errors as field-named details a person can act on."""
    details = []
    for error in errors:
        kind = error.get("type", "")
        field = _field_name(error.get("loc", ()))
        if kind == "json_invalid":
            reason = error.get("ctx", {}).get("error", "syntax error")
            position = [p for p in error.get("loc", ()) if isinstance(p, int)]
            where = f" at character {position[0]}" if position else ""
            details.append(Detail("body", f"the body is not valid JSON ({reason}{where})"))
        elif kind == "missing" and field == "body":
            details.append(Detail("body", "a JSON body is required"))
        elif kind == "missing":
            details.append(Detail(field, "is required"))
        elif kind == "extra_forbidden":
            details.append(Detail(field, "is not a known field"))
        elif kind in _NUMBER_ERRORS and isinstance(error.get("input"), bool):
            shown = "true" if error["input"] else "false"
            details.append(Detail(field, f"must be {_NUMBER_ERRORS[kind]}, not {shown}"))
        else:
            details.append(Detail(field, str(error.get("msg", "is invalid")).rstrip(".")))
    return details


def summary(details: Sequence[Detail]) -> str:
    """One line naming every problem."""
    return "; ".join(f"{d.field}: {d.message}" if d.field != "body" else d.message for d in details)


def _encodable(text: str) -> str:
    # A message may quote the input, and JSON input can hold a lone surrogate (\ud800) that UTF-8 cannot encode:
    # shown as its escape, the answer can still be sent (otherwise rendering the 400 itself fails with a 500).
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if not text.isascii() else text


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    details = [Detail(_encodable(d.field), _encodable(d.message)) for d in exc.details]
    message = _encodable(exc.message)
    return error_response(dialect_of(request.url.path), status, message, details=details, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    return error_response(dialect_of(request.url.path), 400, summary(details), details=details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 400 and exc.__cause__ is not None:
        message = _unreadable_body(exc.__cause__) or message
    elif exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(dialect_of(request.url.path), exc.status_code, message, headers=headers)


def _unreadable_body(cause: BaseException) -> str | None:
    # FastAPI answers "There was an error parsing the body" for any failure of the JSON decoder but a syntax
    # error; these are the ones a client can cause, said so that it can fix them.
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {cause.start}); send JSON encoded as UTF-8"
    if isinstance(cause, RecursionError):
        return "the body is not valid JSON: it nests arrays or objects too deeply to read"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the body is not valid JSON: it holds a number of more than 4300 digits"
    return None


async def _oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="versicolor"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
    )


class UnhandledErrorMiddleware:
    """Answers an unexpected exception with a 500 in the dialect's shape; the traceback goes to the log only.

    It sits inside the request-id middleware, so that the 500 carries the id the log line names.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = current_request_id.get()
            log.exception("unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id)
            if started:
                raise  # too late to answer; the server closes the connection
            response = error_response(
                dialect_of(scope["path"]),
                500,
                f"internal error; quote request id {request_id} when reporting it",
                extra={"requestId": request_id},
            )
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OAuthError, _oauth_error)

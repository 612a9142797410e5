"""The errors a client call raises: one class per kind of failure, each carrying what the server said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of the request, as the server named it."""

    field: str
    message: str


class VersicolorError(Exception):
    """Base of every error the client raises."""


class ConnectionFailed(VersicolorError):
    """The server could not be reached, or stopped answering, after the retries the client allows."""


class ApiError(VersicolorError):
    """The server answered with an error status.

    `message` is the server's message for people; `errors` names the fields at fault (400s); `request_id` is
    the id the server logged the request under (quote it when you report a problem).
    """

    def __init__(
        self,
        *,
        status: int,
        message: str,
        method: str,
        url: str,
        errors: tuple[FieldError, ...] = (),
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.errors = errors
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        return f"{self.status} on {self.method} {self.url}: {self.describe()}"

    def describe(self) -> str:
        """The server's message, with each field's problem when the message does not already say it."""
        missing = [f"{e.field}: {e.message}" for e in self.errors if e.field not in self.message]
        return "; ".join([self.message, *missing]) if missing else self.message


class BadRequest(ApiError):
    """400: the request was refused as it is; `errors` names the fields at fault."""


class AuthenticationFailed(ApiError):
    """401: the credentials or the token were refused (a rotated secret, an expired or revoked token)."""


class PermissionDenied(ApiError):
    """403: the caller is known but its role (or the token's scope) does not allow this."""


class NotFound(ApiError):
    """404: no such object in the caller's account."""


class Conflict(ApiError):
    """409: the object's current state does not allow the action (the message says which state)."""


class RateLimited(ApiError):
    """429 after the client waited as long as it was allowed to; `retry_after` is the server's advice."""

    def __init__(self, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the server failed; the request id finds the cause in its log."""


def error_class(status: int) -> type[ApiError]:
    """The class of error an error status stands for."""
    known: dict[int, type[ApiError]] = {
        400: BadRequest,
        401: AuthenticationFailed,
        403: PermissionDenied,
        404: NotFound,
        409: Conflict,
        429: RateLimited,
    }
    if status in known:
        return known[status]
    return ServerError if status >= 500 else ApiError

"""How Data API answers are shaped when CORS headers must ride on errors too."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from versicolor.api.dialects import Dialect, error_response
from versicolor.api.errors import status_of
from versicolor.core.errors import DomainError, Unauthenticated


def refusal(exc: DomainError, cors: dict[str, str], extra: list[tuple[bytes, bytes]] | None = None) -> JSONResponse:
    """A domain error in the Automation shape, carrying the CORS headers of a granted browser request.

    Raised errors reach the app's handler without them, and a browser would hide the reason from the page.
    """
    headers = dict(cors)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    answer = error_response(Dialect.AUTOMATION, status_of(exc), exc.message, details=exc.details, headers=headers)
    answer.raw_headers.extend(extra or [])  # a page's rate limit headers
    return answer

"""A client for a command: the profile's server and credentials, a progress line while it waits, and every
failure turned into one line and the documented exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.status import Status

from versicolor.cli import console
from versicolor.cli.remote import profiles
from versicolor.client import (
    ApiError,
    AuthenticationFailed,
    ConnectionFailed,
    PermissionDenied,
    RateLimited,
    ServerError,
    Versicolor,
    VersicolorError,
)
from versicolor.client.results import ReportFailed, ReportNotReady

ProfileName = Annotated[
    str | None,
    typer.Option("--profile", metavar="NAME", help="The profile `versicolor login` saved (VERSICOLOR_PROFILE)."),
]


class Progress:
    """A spinner on stderr while a command waits (on a terminal), or a line per wait (in a log)."""

    def __init__(self) -> None:
        self._status: Status | None = None

    @contextmanager
    def showing(self, text: str) -> Iterator[Progress]:
        """Show `text` with a spinner until the block ends."""
        if not console.err.is_terminal:
            yield self
            return
        with console.err.status(text) as status:
            self._status = status
            try:
                yield self
            finally:
                self._status = None

    def update(self, text: str) -> None:
        """Change what the spinner says."""
        if self._status is not None:
            self._status.update(text)

    def waiting(self, reason: str, seconds: float) -> None:
        """The client waits before trying again: say why and for how long."""
        text = f"{reason}; waiting {seconds:.1f} s"
        if self._status is not None:
            self._status.update(text)
        else:
            console.err.print(text, highlight=False, markup=False)


def connect(profile: str | None, progress: Progress) -> Versicolor:
    """A client of the profile's server; exits with code 3 when no server or credentials are known."""
    found = profiles.load(profile)
    if not found.url:
        console.fail(
            "no server: run `versicolor login`, or set VERSICOLOR_URL (with VERSICOLOR_CLIENT_ID and "
            "VERSICOLOR_CLIENT_SECRET)",
            code=console.NOT_ALLOWED,
        )
    if not found.client_id or not found.client_secret:
        console.fail(
            f"no API credentials for {found.url}: run `versicolor login`, or set VERSICOLOR_CLIENT_ID and "
            "VERSICOLOR_CLIENT_SECRET",
            code=console.NOT_ALLOWED,
        )
    return Versicolor(found.url, client_id=found.client_id, client_secret=found.client_secret, on_wait=progress.waiting)


@contextmanager
def reporting(*, as_json: bool = False) -> Iterator[None]:
    """Turn a client error into one line on stderr (and a JSON error on stdout with --json), and its exit code."""
    try:
        yield
    except VersicolorError as exc:
        code, lines = describe(exc)
        if as_json:
            console.print_json({"error": error_object(exc)})
        for extra in lines[1:]:
            console.err.print(f"  {extra}", highlight=False, soft_wrap=True, markup=False)
        console.fail(lines[0], code=code)


def describe(exc: VersicolorError) -> tuple[int, list[str]]:
    """The exit code of a client error, and its lines for people (the first says what went wrong)."""
    if isinstance(exc, AuthenticationFailed | PermissionDenied):
        code = console.NOT_ALLOWED
    elif isinstance(exc, ConnectionFailed | RateLimited | ServerError | ReportNotReady):
        code = console.UNAVAILABLE
    elif isinstance(exc, ReportFailed):
        code = console.REFUSED
    else:
        code = console.REFUSED
    if not isinstance(exc, ApiError):
        return code, [str(exc)]
    lines = [f"{exc.status} {_reason(exc.status)}: {exc.message}"]
    lines += [f"{e.field}: {e.message}" for e in exc.errors if f"{e.field}: {e.message}" not in exc.message]
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        lines.append(f"the server asks to wait {exc.retry_after:g} s before trying again")
    if exc.request_id:
        lines.append(f"request id {exc.request_id} ({exc.method} {exc.url})")
    return code, lines


def error_object(exc: VersicolorError) -> dict[str, Any]:
    """A client error as JSON: the API's status, message, field details and request id."""
    if not isinstance(exc, ApiError):
        return {"message": str(exc), "kind": type(exc).__name__}
    return {
        "status": exc.status,
        "message": exc.message,
        "details": [{"field": e.field, "message": e.message} for e in exc.errors],
        "requestId": exc.request_id,
        "kind": type(exc).__name__,
    }


def _reason(status: int) -> str:
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
    }.get(status, "Server Error" if status >= 500 else "Error")

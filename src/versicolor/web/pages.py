"""What every dashboard request goes through, so that each view says only what its page shows or does.

- `@view(permission)` (GET): the signed-in user or a redirect to sign-in (coming back afterwards), the role's
  permission, one transaction committed when the page is ready.
- `@action(permission, back=...)` (POST): the same, and a form read strictly whose CSRF token must be the
  session's. A control the user may not use is not shown, and posting it anyway is a 403 that changes nothing.
- A domain error becomes a page with its status (another account's object is the same 404 as a missing one).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from versicolor.auth.throttle import FailureThrottle
from versicolor.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated
from versicolor.core.roles import Permission
from versicolor.runtime import Runtime
from versicolor.web import forms, rendering, sessions
from versicolor.web.reports import Settled
from versicolor.web.sessions import SignedIn

log = logging.getLogger("versicolor.web")

STATUS_OF: dict[type[DomainError], int] = {
    Invalid: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}
TITLES = {
    400: "This cannot be done as asked",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not found",
    409: "Not possible right now",
    500: "Something went wrong",
}


def runtime_of(request: Request) -> Runtime:
    """The running service's Runtime (the application is wired with a way to reach it)."""
    runtime: Runtime = request.app.state.runtime_of()
    return runtime


def throttle_of(request: Request) -> FailureThrottle:
    """The service's one throttle of failed sign-ins, shared with the authorization page."""
    throttle: FailureThrottle = request.app.state.throttle_of()
    return throttle


@dataclass
class Context:
    """One request of a signed-in user: its database session (the request's transaction) and its form."""

    request: Request
    runtime: Runtime
    db: AsyncSession
    me: SignedIn
    form: dict[str, str]

    def render(
        self, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any
    ) -> HTMLResponse:
        """A page, with what the layout needs (the user, its CSRF token)."""
        return page(template, me=self.me, status=status, headers=headers, **values)

    def int_param(self, name: str) -> int:
        """A path parameter the route declared as an integer."""
        value: int = self.request.path_params[name]
        return value


def page(
    template: str, *, me: SignedIn | None, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    """A page for `me` (None: nobody signed in)."""
    csrf_token = me.page.csrf_token if me else ""
    values.setdefault("nav", "")
    return rendering.html(template, status=status, headers=headers, me=me, csrf_token=csrf_token, **values)


def error_page(status: int, message: str, *, me: SignedIn | None, back: str | None = None) -> HTMLResponse:
    """The page of a refused request: what went wrong, in words, and where to go back to."""
    return page("error.html", me=me, status=status, title=TITLES.get(status, "Error"), message=message, back=back)


def see_other(location: str) -> RedirectResponse:
    """Go to `location` after a form (303: the browser follows with a GET)."""
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def status_of(error: DomainError) -> int:
    """The HTTP status a domain error stands for."""
    for kind, status in STATUS_OF.items():
        if isinstance(error, kind):
            return status
    return 400


_NEEDS = {
    Permission.READ: "see this account",
    Permission.WRITE: "change experiments (an EDITOR or ADMIN can)",
    Permission.ADMIN: "manage domains, users and credentials (an ADMIN can)",
}


def require(me: SignedIn, permission: Permission) -> None:
    """Raise Forbidden, in the dashboard's words, unless the user's role carries `permission`."""
    if not me.can(permission):
        raise Forbidden(f"Your role, {me.role}, does not let you {_NEEDS[permission]}. Nothing was changed.")


@dataclass(frozen=True)
class AfterCommit:
    """What a page does once the request's transaction committed: wait for work that other sessions do (a
    results report is computed in transactions of its own), then answer."""

    finish: Callable[[], Awaitable[Response]]


def background(settled: Settled) -> BackgroundTask | None:
    """Finishing the reports still being computed once the page is sent (the server waits for them when it
    stops, instead of leaving them half done)."""
    return BackgroundTask(settled.finish) if settled.pending else None


Handler = Callable[[Context], Awaitable[Response | AfterCommit]]
Endpoint = Callable[[Request], Awaitable[Response]]


def view(permission: Permission = Permission.READ) -> Callable[[Handler], Endpoint]:
    """A page (GET) for users whose role carries `permission`."""

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            runtime = runtime_of(request)
            me: SignedIn | None = None
            try:
                async with runtime.sessions() as db, db.begin():
                    me = await sessions.signed_in(session=db, page=sessions.page_session(request, runtime))
                    if me is None:
                        return see_other(sessions.sign_in_location(request))
                    require(me, permission)
                    answer = await handler(Context(request=request, runtime=runtime, db=db, me=me, form={}))
                return await answer.finish() if isinstance(answer, AfterCommit) else answer
            except DomainError as error:
                return error_page(status_of(error), error.message, me=me)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate


def action(permission: Permission, *, back: Callable[[Request], str]) -> Callable[[Handler], Endpoint]:
    """A form's target (POST) for users whose role carries `permission`; `back` is the page the form is on."""

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            runtime = runtime_of(request)
            page_session = sessions.page_session(request, runtime)
            me: SignedIn | None = None
            try:
                form = await forms.read(request)
            except forms.FormProblem as problem:
                return error_page(400, problem.message + " Nothing was changed.", me=None, back=back(request))
            try:
                async with runtime.sessions() as db, db.begin():
                    me = await sessions.signed_in(session=db, page=page_session)
                    if me is None:
                        # Signed out or expired: nothing is done; after signing in, the user is on the form's page.
                        return see_other(f"{sessions.SIGN_IN}?{urlencode({'next': back(request)})}")
                    if not me.page.accepts(form.get("csrf_token")):
                        return error_page(
                            403,
                            "This form has expired or was not sent from the dashboard (its security token is "
                            "missing or wrong). Nothing was changed; open the page again and retry.",
                            me=me,
                            back=back(request),
                        )
                    require(me, permission)
                    answer = await handler(Context(request=request, runtime=runtime, db=db, me=me, form=form))
                return await answer.finish() if isinstance(answer, AfterCommit) else answer
            except DomainError as error:
                return error_page(status_of(error), error.message, me=me, back=back(request))

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate

"""Signing in to the dashboard and out of it: the authorization page's sign-in (auth/signin.py), throttled the
same way, opening a server-side session of purpose `dashboard`."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from versicolor.auth import signin
from versicolor.auth.pages import PageSession
from versicolor.web import forms, pages, rendering, sessions


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _form(
    request: Request,
    page_session: PageSession,
    *,
    next_page: str,
    error: str | None = None,
    notice: str | None = None,
    email: str = "",
    choices: tuple[signin.Choice, ...] = (),
    status: int = 200,
) -> Response:
    runtime = pages.runtime_of(request)
    answer = rendering.html(
        "sign_in.html",
        status=status,
        me=None,
        nav="",
        csrf_token=page_session.csrf_token,
        next_page=next_page,
        error=error,
        notice=notice,
        email=email,
        choices=choices,
    )
    return sessions.keep(answer, request, runtime, page_session)


async def sign_in_page(request: Request) -> Response:
    """The sign-in form; a signed-in user goes straight on to the page asked for."""
    runtime = pages.runtime_of(request)
    next_page = sessions.safe_next(request.query_params.get("next"))
    current = sessions.page_session(request, runtime)
    async with runtime.sessions() as db, db.begin():
        me = await sessions.signed_in(session=db, page=current)
    if me is not None:
        return pages.see_other(next_page)
    notice = None
    if current is not None and current.session_token is not None:
        notice = "Your session has ended; sign in again to go on where you were."
    # The session being replaced keeps its CSRF token until sign-in, so two tabs do not invalidate each other.
    page_session = current if current is not None else PageSession.fresh()
    return _form(request, page_session, next_page=next_page, notice=notice)


async def sign_in(request: Request) -> Response:
    """Check the email and password; on success open a session and go on to the page asked for."""
    runtime = pages.runtime_of(request)
    current = sessions.page_session(request, runtime)
    try:
        form = await forms.read(request)
    except forms.FormProblem as problem:
        return pages.error_page(400, problem.message, me=None, back=sessions.SIGN_IN)
    next_page = sessions.safe_next(form.get("next"))
    if current is None or not current.accepts(form.get("csrf_token")):
        # Login CSRF, or a form left open past its cookie's life: show a form rather than sign anyone in, and keep
        # the cookie there is (a forged post must not sign its user out either).
        return _form(
            request,
            current or PageSession.fresh(),
            next_page=next_page,
            error="This form had expired; sign in again.",
            status=403,
        )
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password:
        return _form(
            request, current, next_page=next_page, error="Enter your email and password.", email=email, status=400
        )
    chosen = form.get("account_id", "")
    outcome = await signin.attempt(
        sessions=runtime.sessions,
        throttle=pages.throttle_of(request),
        email=email,
        password=password,
        address=_address(request),
        account_id=int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 19 else None,
    )
    if outcome.retry_after is not None:
        error = f"Too many failed sign-ins; try again in {outcome.retry_after} s."
        return _form(request, current, next_page=next_page, error=error, email=email, status=429)
    if outcome.choices:
        # One person may be a user of several accounts: the dashboard shows one account at a time.
        error = "This email and password open several accounts: choose one, and enter the password again."
        return _form(request, current, next_page=next_page, error=error, email=email, choices=outcome.choices)
    if outcome.user is None:
        return _form(request, current, next_page=next_page, error="Wrong email or password.", email=email, status=401)
    token = await signin.open_session(
        sessions=runtime.sessions,
        user=outcome.user,
        purpose=sessions.PURPOSE,
        ttl=timedelta(seconds=runtime.settings.dashboard_session_ttl),
        ending=current.session_token,
    )
    # A new CSRF token on signing in: one learnt before (login CSRF) is worth nothing afterwards.
    return sessions.keep(pages.see_other(next_page), request, runtime, PageSession.fresh(token))


async def sign_out(request: Request) -> Response:
    """End the session on the server (every copy of the cookie stops working) and show the sign-in form."""
    runtime = pages.runtime_of(request)
    current = sessions.page_session(request, runtime)
    try:
        form = await forms.read(request)
    except forms.FormProblem as problem:
        return pages.error_page(400, problem.message, me=None, back=sessions.HOME)
    if current is None or not current.accepts(form.get("csrf_token")):
        return pages.error_page(
            403, "This sign-out form had expired; you are still signed in. Try again.", me=None, back=sessions.HOME
        )
    await signin.close_session(sessions=runtime.sessions, token=current.session_token)
    return sessions.keep(pages.see_other(sessions.SIGN_IN), request, runtime, PageSession.fresh())

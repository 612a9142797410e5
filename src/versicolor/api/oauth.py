"""The OAuth 2.0 endpoints: token (RFC 6749), revocation (RFC 7009) and the authorization page.

Every failure of the token and revocation endpoints is an RFC 6749 §5.2 body, never a 500, and nothing is
issued. These endpoints run their own transactions (not the request's): a replayed code or refresh token
must roll back what was being issued and still commit the revocation it triggers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from versicolor.api.body_limits import BodyTooLarge
from versicolor.api.deps import RuntimeDep, token_gate
from versicolor.auth import authorize, clients, grants, pages, revocation, scopes, signin
from versicolor.auth.authorize import AuthorizationRequest, PageError, RedirectError
from versicolor.auth.errors import OAuthError, Replayed, invalid_client, invalid_request
from versicolor.auth.pages import PageSession, SessionCookie
from versicolor.auth.throttle import FailureThrottle
from versicolor.core.roles import Principal, Role
from versicolor.db.models import User
from versicolor.runtime import Runtime

router = APIRouter(prefix="/oauth", tags=["oauth"])

MAX_FIELDS = 32
MAX_VALUE = 4096
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class FormProblem(Exception):
    """A request body or query that cannot be read as one set of single-valued parameters."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters as a dict; refuses repeated names (RFC 6749 §3.1) and oversized values."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise FormProblem(f"parameter {name[:64]} is given more than once")
        if len(value) > MAX_VALUE:
            raise FormProblem(f"parameter {name[:64]} is over {MAX_VALUE} characters")
        values[name] = value
    return values


async def read_form(request: Request) -> dict[str, str]:
    """The request's form parameters, read strictly; raises FormProblem."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise FormProblem(
            "send the parameters as application/x-www-form-urlencoded"
            + (f" (got {media_type})" if media_type else " (no Content-Type given)")
        )
    try:
        body = await request.body()  # bounded as it is read (api/body_limits.py: 16 KiB for /oauth)
    except BodyTooLarge as exc:
        raise FormProblem(exc.detail, status=exc.status_code) from None
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError as exc:
        raise FormProblem("the request body is not valid UTF-8") from exc
    except ValueError as exc:
        raise FormProblem(f"the request body has more than {MAX_FIELDS} parameters or is malformed") from exc
    return single_values(pairs)


async def _oauth_form(request: Request) -> dict[str, str]:
    if request.url.query:
        # Secrets in a URL end up in logs; RFC 6749 §3.2 wants the parameters in the body.
        raise invalid_request("send the parameters in the form body, not in the URL")
    try:
        return await read_form(request)
    except FormProblem as problem:
        raise OAuthError("invalid_request", problem.message, status=problem.status) from None


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_client() from exc
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise invalid_client()
    # RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(client_secret)


def _claimed_client_id(request: Request, form: dict[str, str]) -> str | None:
    """The client id a request claims, before it is authenticated (for throttling)."""
    header = request.headers.get("authorization")
    if header:
        try:
            return _basic_credentials(header)[0]
        except OAuthError:
            return None
    return form.get("client_id")


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    header = request.headers.get("authorization")
    if header:
        if "client_secret" in form:
            raise invalid_request("authenticate the client one way: HTTP Basic or form fields, not both")
        client_id, client_secret = _basic_credentials(header)
        if "client_id" in form and form["client_id"] != client_id:
            raise invalid_request("client_id in the form differs from the one in the Authorization header")
        return client_id, client_secret
    given_id, given_secret = form.get("client_id"), form.get("client_secret")
    if not given_id:
        raise invalid_client()
    return given_id, given_secret  # no secret: a public client (auth/clients.py)


def throttle_of(request: Request) -> FailureThrottle:
    """The application's throttle of failed authentications, made on first use."""
    return app_throttle(request.app)


def app_throttle(app: FastAPI) -> FailureThrottle:
    """`app`'s one throttle of failed authentications (every page that signs people in shares it)."""
    throttle = getattr(app.state, "auth_throttle", None)
    if not isinstance(throttle, FailureThrottle):
        throttle = FailureThrottle.for_runtime(app.state.runtime)
        app.state.auth_throttle = throttle
    return throttle


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _too_many(retry_after: int) -> JSONResponse:
    # 429 rather than invalid_client: the client may well be right, it must wait (docs/oauth.md).
    return JSONResponse(
        {
            "error": "slow_down",
            "error_description": f"too many failed client authentications; retry in {retry_after} s",
        },
        status_code=429,
        headers={**_NO_STORE, "Retry-After": str(retry_after)},
    )


class _Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


async def _client_of(request: Request, runtime: Runtime, form: dict[str, str]) -> clients.Client:
    """The request's authenticated client; failures are counted, and refused for a while past the limits."""
    throttle = throttle_of(request)
    claimed, address = _claimed_client_id(request, form), _address(request)
    wait = await throttle.retry_after(kind="client", identity=claimed, address=address)
    if wait is not None:
        raise _Throttled(wait)
    try:
        client_id, client_secret = _client_credentials(request, form)
        async with runtime.sessions() as session, session.begin():
            client = await clients.authenticate(session=session, client_id=client_id, client_secret=client_secret)
    except OAuthError as failure:
        if failure.error == "invalid_client":
            await throttle.failed(kind="client", identity=claimed, address=address)
        raise
    await throttle.succeeded(kind="client", identity=client.client_id, address=address)
    return client


def _form_schema(properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", "description": text} for name, text in properties.items()},
        "required": required,
    }
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}


# What the token and revocation endpoints answer (their errors are RFC 6749 §5.2 bodies, not a dialect's).
_OAUTH_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
                "slow_down",
            ],
        },
        "error_description": {"type": "string"},
    },
    "required": ["error", "error_description"],
}


def _oauth_errors(success: dict[str, Any]) -> dict[str, Any]:
    def error(description: str, **extra: Any) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": _OAUTH_ERROR}}, **extra}

    return {
        "responses": {
            "200": success,
            "400": error("invalid_request, invalid_grant, unauthorized_client or unsupported_grant_type."),
            "401": error(
                "invalid_client: unknown client_id or wrong secret.",
                headers={"WWW-Authenticate": {"description": 'Basic realm="versicolor"', "schema": {"type": "string"}}},
            ),
            "413": error("invalid_request: the form is over 16 KiB."),
            "429": error(
                "slow_down: too many failed client authentications.",
                headers={"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            ),
        }
    }


_TOKENS = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "const": "Bearer"},
        "expires_in": {"type": "integer", "description": "seconds"},
        "refresh_token": {"type": "string", "description": "authorization_code and refresh_token grants only"},
    },
    "required": ["access_token", "token_type", "expires_in"],
}
_TOKEN_FORM = _form_schema(
    {
        "grant_type": "client_credentials, authorization_code or refresh_token",
        "client_id": "unless sent with HTTP Basic",
        "client_secret": "unless sent with HTTP Basic",
        "code": "authorization_code: the code from the redirect",
        "redirect_uri": "authorization_code: the redirect_uri given to /oauth/authorize",
        "code_verifier": "authorization_code: the PKCE verifier, when a code_challenge was sent",
        "refresh_token": "refresh_token: the latest refresh token",
        "scope": "refresh_token: optionally fewer of the scopes the user approved, space-separated",
    },
    ["grant_type"],
) | _oauth_errors({"description": "Tokens (RFC 6749 §5.1).", "content": {"application/json": {"schema": _TOKENS}}})
_REVOKE_FORM = _form_schema(
    {
        "token": "the access or refresh token to revoke",
        "token_type_hint": "access_token or refresh_token (optional)",
        "client_id": "unless sent with HTTP Basic",
        "client_secret": "unless sent with HTTP Basic",
    },
    ["token"],
) | _oauth_errors({"description": "Revoked, or was not a token of this client (RFC 7009 §2.2)."})

# The authorization page answers HTML, and redirects back to the application.
_PAGE = {"text/html": {"schema": {"type": "string"}}}
_AUTHORIZE_PARAMETERS = {
    "client_id": "the partner application's client id",
    "response_type": "code",
    "redirect_uri": "one of the application's registered redirect URLs",
    "state": "anything; sent back unchanged",
    "code_challenge": "PKCE: BASE64URL(SHA256(code_verifier))",
    "code_challenge_method": "S256",
    "scope": "space-separated scopes",
}
_AUTHORIZE_ANSWERS = {
    "responses": {
        "200": {"description": "The sign-in or consent page.", "content": _PAGE},
        "302": {
            "description": "Back to the application: `code` and `state`, or `error=access_denied`.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        "303": {
            "description": "The page again, after signing in.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        "400": {"description": "An error page: the request is malformed, or the client unknown.", "content": _PAGE},
        "401": {"description": "The sign-in page: wrong email or password.", "content": _PAGE},
        "403": {"description": "An error page: the form's security token is missing or wrong.", "content": _PAGE},
        "413": {"description": "An error page: the form is over 16 KiB.", "content": _PAGE},
        "429": {"description": "The sign-in page: too many failed sign-ins.", "content": _PAGE},
    }
}
_AUTHORIZE_PAGE = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in _AUTHORIZE_PARAMETERS.items()
    ],
    **_AUTHORIZE_ANSWERS,
}
_AUTHORIZE_FORM = (
    _form_schema(
        {
            "action": "sign_in, approve, deny or switch",
            "csrf_token": "the page's own",
            "email": "sign_in: the user's email",
            "password": "sign_in: the user's password",
            **_AUTHORIZE_PARAMETERS,
        },
        ["action", "csrf_token"],
    )
    | _AUTHORIZE_ANSWERS
)


@router.post("/token", openapi_extra=_TOKEN_FORM)
async def token(request: Request, runtime: RuntimeDep) -> Response:
    """Exchange a grant for tokens (RFC 6749 §4.1.3, §4.4, §6)."""
    form = await _oauth_form(request)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise invalid_request("grant_type is required: client_credentials, authorization_code or refresh_token")
    if grant_type not in ("client_credentials", "authorization_code", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type {grant_type[:64]!r} is not supported: use client_credentials, authorization_code or "
            "refresh_token",
        )
    try:
        client = await _client_of(request, runtime, form)
    except _Throttled as throttled:
        return _too_many(throttled.retry_after)
    lifetimes = grants.Lifetimes(access=runtime.settings.access_token_ttl, refresh=runtime.settings.refresh_token_ttl)
    if grant_type == "client_credentials":
        answer = await grants.client_credentials(key=runtime.keyring.signer(), lifetimes=lifetimes, client=client)
        return JSONResponse(answer.as_json(), headers=_NO_STORE)
    try:
        async with runtime.sessions() as session, session.begin():
            if grant_type == "authorization_code":
                answer = await grants.authorization_code(
                    session=session,
                    key=runtime.keyring.signer(),
                    lifetimes=lifetimes,
                    client=client,
                    code=form.get("code"),
                    redirect_uri=form.get("redirect_uri"),
                    code_verifier=form.get("code_verifier"),
                )
            else:
                answer = await grants.refresh_token(
                    session=session,
                    key=runtime.keyring.signer(),
                    lifetimes=lifetimes,
                    client=client,
                    refresh_token=form.get("refresh_token"),
                    scope=form.get("scope"),
                )
    except Replayed as replay:
        # The transaction above rolled back; revoke what the first use issued, on every worker, then refuse.
        async with token_gate(request).changing() as session:
            await revocation.revoke_replayed(session=session, replay=replay)
        raise OAuthError("invalid_grant", replay.description) from None
    return JSONResponse(answer.as_json(), headers=_NO_STORE)


@router.post("/revoke", openapi_extra=_REVOKE_FORM)
async def revoke(request: Request, runtime: RuntimeDep) -> Response:
    """Revoke an access or refresh token (RFC 7009); unknown tokens are answered 200 too."""
    form = await _oauth_form(request)
    given = form.get("token")
    if not given:
        raise invalid_request("token is required: the access or refresh token to revoke")
    try:
        client = await _client_of(request, runtime, form)
    except _Throttled as throttled:
        return _too_many(throttled.retry_after)
    async with token_gate(request).changing() as session:
        await revocation.revoke(
            session=session, keyring=runtime.keyring, client=client, token=given, hint=form.get("token_type_hint")
        )
    return Response(status_code=200, headers=_NO_STORE)


# The authorization page ------------------------------------------------------------------------------------


def _cookie(runtime: Runtime) -> SessionCookie:
    return SessionCookie(runtime.signing_key)


def _page(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(pages.render(template, **context), status_code=status, headers=pages.HEADERS)


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return _page("error.html", status=status, message=message)


def _with_cookie(response: Response, request: Request, runtime: Runtime, session: PageSession) -> Response:
    response.set_cookie(
        pages.COOKIE_NAME,
        _cookie(runtime).dump(session),
        max_age=pages.SESSION_MAX_AGE,
        path=pages.COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _redirect(location: str, status: int = 302) -> RedirectResponse:
    return RedirectResponse(location, status_code=status, headers=_NO_STORE)


def _sign_in_page(
    request: AuthorizationRequest,
    session: PageSession,
    *,
    error: str | None = None,
    email: str | None = None,
    status: int = 200,
    choices: tuple[signin.Choice, ...] = (),
) -> HTMLResponse:
    return _page(
        "sign_in.html",
        status=status,
        app_name=request.app.name,
        owner_name=request.owner_name,
        parameters=request.parameters(),
        csrf_token=session.csrf_token,
        error=error,
        email=email,
        choices=choices,
    )


def _consent_page(request: AuthorizationRequest, session: PageSession, user: User) -> HTMLResponse:
    role = Role(user.role)
    as_user = Principal(account_id=user.account_id, user_id=user.id, role=role)
    asked = [
        {"name": name, "text": scopes.SCOPES[name][1], "allowed": as_user.can(scopes.SCOPES[name][0])}
        for name in request.scope
    ]
    return _page(
        "consent.html",
        app_name=request.app.name,
        owner_name=request.owner_name,
        parameters=request.parameters(),
        csrf_token=session.csrf_token,
        email=user.email,
        role=user.role,
        scopes=asked,
        redirect_host=urlsplit(request.redirect_uri).netloc,
    )


@router.get("/authorize", response_class=HTMLResponse, openapi_extra=_AUTHORIZE_PAGE)
async def authorize_page(request: Request, runtime: RuntimeDep) -> Response:
    """The page where a user signs in and approves or denies a partner application (RFC 6749 §4.1.1)."""
    try:
        params = single_values(request.query_params.multi_items())
    except FormProblem as problem:
        return _error_page(problem.message)
    session = _cookie(runtime).load(request.cookies.get(pages.COOKIE_NAME)) or PageSession.fresh()
    try:
        async with runtime.sessions() as db, db.begin():
            auth_request = await authorize.validate(session=db, params=params)
            user = await signin.signed_in_user(session=db, token=session.session_token, purpose=pages.SESSION_PURPOSE)
    except PageError as problem:
        return _error_page(problem.message, problem.status)
    except RedirectError as problem:
        return _redirect(problem.location)
    page = _sign_in_page(auth_request, session) if user is None else _consent_page(auth_request, session, user)
    return _with_cookie(page, request, runtime, session)


@router.post("/authorize", response_class=HTMLResponse, openapi_extra=_AUTHORIZE_FORM)
async def authorize_decision(request: Request, runtime: RuntimeDep) -> Response:
    """The page's forms: sign in, approve, deny, or sign in as someone else."""
    try:
        form = await read_form(request)
    except FormProblem as problem:
        return _error_page(problem.message, problem.status)
    session = _cookie(runtime).load(request.cookies.get(pages.COOKIE_NAME))
    if session is None or not session.accepts(form.get("csrf_token")):
        return _error_page(
            "This form has expired, or was not sent from the Versicolor sign-in page (its security token is "
            "missing or wrong). Nothing was approved.",
            403,
        )
    action = form.get("action")
    try:
        async with runtime.sessions() as db, db.begin():
            auth_request = await authorize.validate(session=db, params=form)
            if action == "approve":
                user = await signin.signed_in_user(
                    session=db, token=session.session_token, purpose=pages.SESSION_PURPOSE
                )
                if user is None:
                    return _sign_in_page(auth_request, session, error="Sign in to approve the application.")
                return _redirect(await authorize.approve(session=db, request=auth_request, user=user))
    except PageError as problem:
        return _error_page(problem.message, problem.status)
    except RedirectError as problem:
        return _redirect(problem.location)
    if action == "deny":
        return _redirect(authorize.deny(auth_request))
    again = f"{request.url.path}?{urlencode(auth_request.parameters())}"
    if action == "switch":
        # The old session ends on the server: a copy of the old cookie approves nothing any more.
        await signin.close_session(sessions=runtime.sessions, token=session.session_token)
        return _with_cookie(_redirect(again, 303), request, runtime, PageSession.fresh())
    if action == "sign_in":
        return await _sign_in(request, runtime, form, auth_request, session, again)
    return _error_page("The form was sent without a valid action (approve, deny or sign in).")


async def _sign_in(
    request: Request,
    runtime: Runtime,
    form: dict[str, str],
    auth_request: AuthorizationRequest,
    session: PageSession,
    again: str,
) -> Response:
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password:
        return _sign_in_page(auth_request, session, error="Enter your email and password.", email=email, status=400)
    chosen = form.get("account_id", "")
    outcome = await signin.attempt(
        sessions=runtime.sessions,
        throttle=throttle_of(request),
        email=email,
        password=password,
        address=_address(request),
        account_id=int(chosen) if chosen.isdigit() and len(chosen) < 19 else None,
    )
    if outcome.retry_after is not None:
        return _sign_in_page(
            auth_request,
            session,
            error=f"Too many failed sign-ins; try again in {outcome.retry_after} s.",
            email=email,
            status=429,
        )
    if outcome.choices:
        return _sign_in_page(
            auth_request,
            session,
            error="This email and password open several accounts: choose one, and enter the password again.",
            email=email,
            choices=outcome.choices,
        )
    if outcome.user is None:
        return _sign_in_page(auth_request, session, error="Wrong email or password.", email=email, status=401)
    token = await signin.open_session(
        sessions=runtime.sessions,
        user=outcome.user,
        purpose=pages.SESSION_PURPOSE,
        ttl=timedelta(seconds=pages.SESSION_MAX_AGE),
        ending=session.session_token,
    )
    # A new CSRF token on signing in: one learnt before (login CSRF) is worth nothing afterwards.
    return _with_cookie(_redirect(again, 303), request, runtime, PageSession.fresh(token))

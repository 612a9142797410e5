"""The authorization endpoint's rules: which requests are acceptable, and what approving or denying sends back.

Until the client and its redirect URI are known to be registered together, nothing is ever redirected: the
problem is shown on an error page (`PageError`), so that the endpoint cannot be used as an open redirector.
Later problems go back to the application as RFC 6749 §4.1.2.1 errors (`RedirectError`).
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from versicolor.auth import apps, pkce, scopes
from versicolor.core import secrets
from versicolor.db.models import Account, AuthorizationCode, PartnerApp, User
from versicolor.db.types import utcnow

CODE_TTL = timedelta(minutes=10)
MAX_STATE = 1024
# The parameters of an authorization request, carried through the sign-in and approval forms.
PARAMETERS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


class PageError(Exception):
    """A problem shown to the user on an error page, never redirected."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RedirectError(Exception):
    """A problem reported to the (verified) redirect URI as `error` and `error_description`."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request: a registered application and one of its redirect URIs."""

    app: PartnerApp
    owner_name: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    def parameters(self) -> dict[str, str]:
        """The request's parameters, to carry in a form or a URL."""
        values = {
            "client_id": self.app.client_id,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scope),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
        }
        return {name: value for name, value in values.items() if value is not None}


async def validate(*, session: AsyncSession, params: Mapping[str, str]) -> AuthorizationRequest:
    """The authorization request `params` make; raises PageError or RedirectError."""
    client_id = params.get("client_id")
    if not client_id:
        raise PageError("The link that brought you here is incomplete: it names no application (client_id).")
    app = await apps.by_client_id(session=session, client_id=client_id)
    if app is None:
        raise PageError(f"No application is registered with client_id {client_id[:64]!r}.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise PageError(f"The link from {app.name} is incomplete: it gives no redirect_uri.")
    if redirect_uri not in app.redirect_uris:
        raise PageError(
            f"The redirect_uri given is not registered for {app.name}, so Versicolor will not send you there."
        )
    response_type = params.get("response_type")
    if response_type != "code":
        raise PageError(f"response_type must be code; {app.name} asked for {(response_type or 'nothing')[:32]!r}.")
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise RedirectError(error_location(redirect_uri, "invalid_request", f"state is over {MAX_STATE} characters"))
    try:
        scope = scopes.parse(params.get("scope"))
    except scopes.ScopeError as exc:
        raise RedirectError(error_location(redirect_uri, "invalid_scope", str(exc), state=state)) from None
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    problem = pkce.challenge_problem(challenge, method)
    if problem is None and challenge is None and app.public:
        problem = (
            f"{app.name} is a public client: PKCE is required (send code_challenge and code_challenge_method=S256)"
        )
    if problem is not None:
        raise RedirectError(error_location(redirect_uri, "invalid_request", problem, state=state))
    owner = await session.get(Account, app.account_id)
    return AuthorizationRequest(
        app=app,
        owner_name=owner.name if owner else "",
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=challenge,
        code_challenge_method=method,
    )


async def approve(*, session: AsyncSession, request: AuthorizationRequest, user: User) -> str:
    """Issue an authorization code for `user` and return where to send the browser with it."""
    code = _random.token_urlsafe(32)
    session.add(
        AuthorizationCode(
            account_id=user.account_id,
            app_id=request.app.id,
            user_id=user.id,
            code_hash=secrets.digest(code),
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            scope=" ".join(request.scope),
            expires_at=utcnow() + CODE_TTL,
        )
    )
    await session.flush()
    return with_query(request.redirect_uri, {"code": code, "state": request.state})


def deny(request: AuthorizationRequest) -> str:
    """Where to send the browser when the user denies the application."""
    return error_location(
        request.redirect_uri, "access_denied", "the user denied the authorization request", state=request.state
    )


def error_location(redirect_uri: str, error: str, description: str, *, state: str | None = None) -> str:
    """A registered redirect URI carrying an RFC 6749 §4.1.2.1 error."""
    return with_query(redirect_uri, {"error": error, "error_description": description, "state": state})


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` added to its query (keeping the query it already has, RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))

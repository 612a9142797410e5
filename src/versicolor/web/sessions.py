"""Who is signed in to the dashboard: its cookie, the server-side session behind it, and where sign-in leads.

The same machinery as the authorization page (auth/pages.py, auth/signin.py): a signed cookie holds the page's
CSRF token and the token of a server-side session (auth/sessions.py) of purpose `dashboard`. Signing out, signing
in again or an expired session ends it on the server, so a copied cookie is worth nothing from then on. The
cookie is HttpOnly, SameSite=Lax, Secure over HTTPS, and sent only to /app.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from versicolor.auth import signin
from versicolor.auth.pages import PageSession, SessionCookie
from versicolor.core.roles import Permission, Principal, Role
from versicolor.runtime import Runtime

PURPOSE = "dashboard"
COOKIE_NAME = "versicolor_dashboard"
COOKIE_PATH = "/app"
_SALT = "versicolor.dashboard-session"
HOME = "/app/experiments"
SIGN_IN = "/app/sign-in"


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user of a request, as the domain sees it (`principal`), and its page session.

    Plain values, not the database row: they stay readable after the request's transaction rolled back (an
    error page still shows who is signed in).
    """

    user_id: int
    email: str
    principal: Principal
    page: PageSession

    @property
    def role(self) -> Role:
        """The user's role now (read on every request: a changed role applies at once)."""
        return self.principal.role

    def can(self, permission: Permission) -> bool:
        """Whether the user's role carries `permission`: what the pages show controls for."""
        return self.principal.can(permission)


def _cookie(runtime: Runtime) -> SessionCookie:
    return SessionCookie(runtime.signing_key, salt=_SALT, max_age=runtime.settings.dashboard_session_ttl)


def page_session(request: Request, runtime: Runtime) -> PageSession | None:
    """The page session the request's cookie holds, or None (no cookie, forged, expired)."""
    return _cookie(runtime).load(request.cookies.get(COOKIE_NAME))


async def signed_in(*, session: AsyncSession, page: PageSession | None) -> SignedIn | None:
    """The signed-in user of a page session, or None (never signed in, signed out, ended or expired)."""
    if page is None or page.session_token is None:
        return None
    user = await signin.signed_in_user(session=session, token=page.session_token, purpose=PURPOSE)
    if user is None:
        return None
    principal = Principal(account_id=user.account_id, user_id=user.id, role=Role(user.role))
    return SignedIn(user_id=user.id, email=user.email, principal=principal, page=page)


def keep(response: Response, request: Request, runtime: Runtime, page: PageSession) -> Response:
    """`response` setting the cookie that holds `page`."""
    response.set_cookie(
        COOKIE_NAME,
        _cookie(runtime).dump(page),
        max_age=runtime.settings.dashboard_session_ttl,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path of this server, never another site."""
    if not value or len(value) > 2048 or "\\" in value or any(ord(c) < 32 for c in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not (parts.path == "/app" or parts.path.startswith("/app/")):
        return HOME
    if parts.path.startswith(SIGN_IN):
        return HOME
    return value


def sign_in_location(request: Request) -> str:
    """The sign-in page, coming back to the page `request` asked for."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{SIGN_IN}?{urlencode({'next': safe_next(asked)})}"

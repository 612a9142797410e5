"""The authorization page: its HTML (server-rendered, self-contained) and its signed session cookie.

The cookie holds the signed-in user (if any) and the page's CSRF token; it is signed with a key derived from
the server's signing key (itsdangerous), expires after an hour, and is HttpOnly and SameSite=Lax. Every form
post must carry the cookie's CSRF token: a post from another site has neither.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, select_autoescape

COOKIE_NAME = "versicolor_authorize"
COOKIE_PATH = "/oauth/authorize"
SESSION_MAX_AGE = 3600

_templates = Environment(
    loader=PackageLoader("versicolor.auth", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package and never change while it runs
)

# Every page: never cached, never framed (clickjacking an approve button), no external resources at all.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}


def render(template: str, **context: Any) -> str:
    """One of the page's templates, rendered."""
    return _templates.get_template(template).render(**context)


@dataclass(frozen=True)
class PageSession:
    """What the cookie remembers between the page's steps."""

    csrf_token: str
    user_id: int | None = None

    @classmethod
    def fresh(cls, user_id: int | None = None) -> PageSession:
        """A new session with a new CSRF token (also on signing in, so that an old token is worth nothing)."""
        return cls(csrf_token=secrets.token_urlsafe(32), user_id=user_id)

    def accepts(self, csrf_token: str | None) -> bool:
        """Whether a form's CSRF token is this session's."""
        return csrf_token is not None and hmac.compare_digest(csrf_token.encode(), self.csrf_token.encode())


class SessionCookie:
    """Signs and reads the page's session cookie."""

    def __init__(self, key: str) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="versicolor.authorize-session")

    def load(self, raw: str | None) -> PageSession | None:
        """The session a cookie value holds, or None if it is missing, forged, expired or malformed."""
        if not raw or len(raw) > 1024:
            return None
        try:
            data = self._serializer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user_id = data.get("u")
        return PageSession(csrf_token=data["c"], user_id=user_id if isinstance(user_id, int) else None)

    def dump(self, session: PageSession) -> str:
        """The signed cookie value for `session`."""
        return str(self._serializer.dumps({"c": session.csrf_token, "u": session.user_id}))

"""The authorization page: its HTML (server-rendered, self-contained) and its signed session cookie.

The cookie holds the page's CSRF token and, once the user signed in, the token of a server-side session
(auth/sessions.py) that says who. It is signed (itsdangerous) with a key derived from the server's signing
key, expires after an hour, and is HttpOnly and SameSite=Lax. Every form post must carry the cookie's CSRF
token: a post from another site has neither. `PageSession` and `SessionCookie` serve any signed-in page (the
dashboard too): give each its own salt, cookie name and path.
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
SESSION_PURPOSE = "authorize"  # the server-side sessions this page opens (auth/sessions.py)

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
    session_token: str | None = None  # a server-side session's (auth/sessions.py), once signed in

    @classmethod
    def fresh(cls, session_token: str | None = None) -> PageSession:
        """A new session with a new CSRF token (also on signing in, so that an old token is worth nothing)."""
        return cls(csrf_token=secrets.token_urlsafe(32), session_token=session_token)

    def accepts(self, csrf_token: str | None) -> bool:
        """Whether a form's CSRF token is this session's."""
        return csrf_token is not None and hmac.compare_digest(csrf_token.encode(), self.csrf_token.encode())


class SessionCookie:
    """Signs and reads the page's session cookie."""

    def __init__(self, key: str, *, salt: str = "versicolor.authorize-session", max_age: int = SESSION_MAX_AGE) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=salt)
        self._max_age = max_age

    def load(self, raw: str | None) -> PageSession | None:
        """The session a cookie value holds, or None if it is missing, forged, expired or malformed."""
        if not raw or len(raw) > 1024:
            return None
        try:
            data = self._serializer.loads(raw, max_age=self._max_age)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        token = data.get("s")
        return PageSession(csrf_token=data["c"], session_token=token if isinstance(token, str) else None)

    def dump(self, session: PageSession) -> str:
        """The signed cookie value for `session`."""
        return str(self._serializer.dumps({"c": session.csrf_token, "s": session.session_token}))

"""A browser's part in the authorization code flow, driven over HTTP: read the page, post its forms."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.factories import Member
from versicolor.auth import apps
from versicolor.runtime import Runtime

REDIRECT_URI = "https://partner.example/callback"


@dataclass
class App:
    """A partner application registered for a test."""

    id: int
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    @property
    def basic(self) -> httpx.BasicAuth:
        """HTTP Basic client authentication."""
        return httpx.BasicAuth(self.client_id, self.client_secret)


async def register_app(
    runtime: Runtime, account_id: int, redirect_uris: list[str] | None = None, name: str = "Partner"
) -> App:
    """A partner application, registered through the same service as `versicolor apps create`."""
    uris = redirect_uris or [REDIRECT_URI]
    async with runtime.sessions() as session, session.begin():
        created = await apps.create(session=session, account_id=account_id, name=name, redirect_uris=uris)
    return App(created.app.id, created.app.client_id, created.client_secret, uris)


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Forms(HTMLParser):
    """The forms of a page: hidden fields and submit buttons' actions."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "input" and values.get("type") == "hidden":
            self.fields[values["name"]] = values.get("value", "")
        if tag == "button" and values.get("name") == "action":
            self.actions.append(values.get("value", ""))


def form_of(html: str) -> _Forms:
    """The hidden fields and actions of a page's form."""
    parser = _Forms()
    parser.feed(html)
    return parser


def authorize_url(app: App, *, state: str = "xyz", challenge: str | None = None, **extra: str) -> str:
    """The URL a partner application sends users to."""
    params = {"client_id": app.client_id, "response_type": "code", "redirect_uri": app.redirect_uris[0], "state": state}
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/oauth/authorize?" + urlencode(params | extra)


async def sign_in(browser: httpx.AsyncClient, url: str, member: Member) -> httpx.Response:
    """Open the authorization page and sign in (unless signed in already); returns the consent page."""
    page = await browser.get(url)
    assert page.status_code == 200, page.text
    form = form_of(page.text)
    if "approve" in form.actions and member.email in page.text:
        return page
    assert "sign_in" in form.actions, page.text
    signed_in = await browser.post(
        "/oauth/authorize",
        data={**form.fields, "email": member.email, "password": member.password, "action": "sign_in"},
    )
    assert signed_in.status_code == 303, signed_in.text
    consent = await browser.get(signed_in.headers["location"])
    assert consent.status_code == 200 and "approve" in form_of(consent.text).actions, consent.text
    return consent


async def approve(browser: httpx.AsyncClient, url: str, member: Member) -> str:
    """Sign in and approve; returns the redirect Location (the application's callback with the code)."""
    consent = await sign_in(browser, url, member)
    decided = await browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "approve"})
    assert decided.status_code == 302, decided.text
    location: str = decided.headers["location"]
    return location


def query_of(location: str) -> dict[str, str]:
    """The single-valued query parameters of a URL."""
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def code_for(browser: httpx.AsyncClient, app: App, member: Member, challenge: str | None = None) -> str:
    """An authorization code, obtained the way a user obtains one for the application."""
    location = await approve(browser, authorize_url(app, challenge=challenge), member)
    assert location.startswith(app.redirect_uris[0]), location
    return query_of(location)["code"]


def has_error(html: str, text: str) -> bool:
    """Whether an error message containing `text` is shown on the page."""
    return re.search(r'class="error"[^>]*>[^<]*' + re.escape(text), html) is not None

"""A browser's part in the dashboard, driven over HTTP: cookies kept, forms posted with the page's CSRF token."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import Member

_addresses = itertools.count(1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Dashboard:
    """One browser: its own cookies; `csrf` is the token of the last page it read."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def get(self, path: str, **params: Any) -> httpx.Response:
        """GET a page (without following redirects), remembering its CSRF token."""
        answer = await self.http.get(path, params=params or None)
        found = _CSRF.search(answer.text)
        if found:
            self.csrf = unescape(found[1])
        return answer

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        """POST a form, with the CSRF token of the last page read unless `csrf` is False."""
        fields = {**(data or {})}
        if csrf:
            fields.setdefault("csrf_token", self.csrf)
        # As a browser sends it, also when empty.
        return await self.http.post(
            path,
            content=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    async def sign_in(self, member: Member, *, next_page: str = "/app/experiments") -> httpx.Response:
        """Sign in as `member` through the sign-in form."""
        await self.get("/app/sign-in", next=next_page)
        answer = await self.post(
            "/app/sign-in", {"email": member.email, "password": member.password, "next": next_page}
        )
        assert answer.status_code == 303, answer.text
        return answer

    async def page(self, path: str, **params: Any) -> str:
        """A page's HTML, asserting it answered 200."""
        answer = await self.get(path, **params)
        assert answer.status_code == 200, (answer.status_code, answer.headers.get("location"), answer.text[:2000])
        return answer.text


Browsers = Callable[..., Dashboard]


@pytest.fixture
async def browsers(app: FastAPI) -> AsyncIterator[Browsers]:
    """Makes browsers, each with its own cookies, from loopback (`address` for one of its own, over HTTPS)."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str | None = None) -> Dashboard:
        scheme = "https" if address else "http"
        transport = httpx.ASGITransport(app=app, client=(address or "127.0.0.1", 50200 + next(_addresses) % 1000))
        http = httpx.AsyncClient(transport=transport, base_url=f"{scheme}://dashboard.example")
        clients.append(http)
        return Dashboard(http)

    yield make
    for http in clients:
        await http.aclose()


def unique_address() -> str:
    """A documentation-range address no other test of this module uses, for failures counted apart."""
    return f"198.18.{next(_addresses) % 250}.{next(_addresses) % 250 + 1}"


def text_of(html: str) -> str:
    """A page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", without_tags))).strip()

"""`/oauth/authorize`: the page a user signs in on, approves or denies; never an open redirector."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from tests.auth.browser import (
    REDIRECT_URI,
    App,
    approve,
    authorize_url,
    form_of,
    has_error,
    query_of,
    register_app,
    sign_in,
)
from tests.auth.conftest import ClientAt, unique_address
from tests.factories import Factory
from versicolor.app import create_app
from versicolor.db.models import SignInSession, User
from versicolor.db.types import utcnow
from versicolor.runtime import Runtime


def _is_error_page(answer: httpx.Response, status: int, text: str) -> None:
    assert answer.status_code == status, answer.text
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert has_error(answer.text, text), answer.text


async def _partner(factory: Factory, uris: list[str] | None = None) -> App:
    account = await factory.account()
    return await register_app(factory.runtime, account.account_id, uris)


async def test_page_is_self_contained_html_with_a_csrf_token_and_a_protected_cookie(
    browser: httpx.AsyncClient, factory: Factory
) -> None:
    app = await _partner(factory)
    page = await browser.get(authorize_url(app))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Partner" in page.text
    form = form_of(page.text)
    assert form.fields["client_id"] == app.client_id and len(form.fields["csrf_token"]) >= 32
    # No external assets: no scripts, stylesheets, images or fonts fetched from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", page.text)
    assert not re.search(r'(src|href)="https?://', page.text)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/oauth/authorize" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback: a browser would drop a Secure cookie


async def test_cookie_is_secure_over_https(client_at: ClientAt, factory: Factory) -> None:
    app = await _partner(factory)
    async with client_at() as http:
        page = await http.get(authorize_url(app))
    assert page.status_code == 200 and "secure" in page.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "https://partner.example/callback.evil.example",
        "https://partner.example/callback/../../evil",
        "https://partner.example/callback?next=https://evil.example",
        "https://partner.example/Callback",
        "https://PARTNER.example/callback",
        "http://partner.example/callback",
        "//evil.example/callback",
        "https://partner.example@evil.example/callback",
        "javascript:alert(1)",
    ],
)
async def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(
    browser: httpx.AsyncClient, factory: Factory, redirect_uri: str
) -> None:
    app = await _partner(factory)
    answer = await browser.get(authorize_url(app, redirect_uri=redirect_uri))
    _is_error_page(answer, 400, "not registered")
    assert "evil" not in answer.headers.get("location", "")


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"response_type": "code", "redirect_uri": REDIRECT_URI}, "names no application"),
        ({"client_id": "unknown", "response_type": "code", "redirect_uri": REDIRECT_URI}, "No application"),
        ({"client_id": "{app}", "response_type": "code"}, "gives no redirect_uri"),
        ({"client_id": "{app}", "response_type": "token", "redirect_uri": REDIRECT_URI}, "response_type must be code"),
        ({"client_id": "{app}", "redirect_uri": REDIRECT_URI}, "response_type must be code"),
    ],
)
async def test_bad_requests_before_the_redirect_is_trusted_are_error_pages(
    browser: httpx.AsyncClient, factory: Factory, params: dict[str, str], text: str
) -> None:
    app = await _partner(factory)
    query = {name: value.replace("{app}", app.client_id) for name, value in params.items()}
    _is_error_page(await browser.get("/oauth/authorize?" + urlencode(query)), 400, text)


async def test_repeated_parameters_are_an_error_page(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    url = authorize_url(app) + "&redirect_uri=" + "https://evil.example/"
    _is_error_page(await browser.get(url), 400, "more than once")


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "must be S256"),
        ({"code_challenge": "a" * 43}, "must be S256"),
        ({"code_challenge_method": "S256"}, "without code_challenge"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "43-character"),
    ],
)
async def test_bad_pkce_parameters_go_back_to_the_application_as_invalid_request(
    browser: httpx.AsyncClient, factory: Factory, extra: dict[str, str], text: str
) -> None:
    app = await _partner(factory)
    answer = await browser.get(authorize_url(app, state="s1", **extra))
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["error"] == "invalid_request" and query["state"] == "s1" and text in query["error_description"]


async def test_approval_redirects_with_code_and_state_keeping_the_registered_query(
    browser: httpx.AsyncClient, factory: Factory
) -> None:
    app = await _partner(factory, ["https://partner.example/cb?tenant=7"])
    account = await factory.account()
    location = await approve(browser, authorize_url(app, state="st/8 ü"), account.admin)
    assert location.startswith("https://partner.example/cb?")
    query = query_of(location)
    assert query["tenant"] == "7" and query["state"] == "st/8 ü" and len(query["code"]) >= 32


async def test_deny_redirects_access_denied_with_state(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    account = await factory.account()
    consent = await sign_in(browser, authorize_url(app, state="abc"), account.admin)
    denied = await browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "deny"})
    assert denied.status_code == 302
    query = query_of(denied.headers["location"])
    assert query["error"] == "access_denied" and query["state"] == "abc" and "code" not in query


async def test_cancel_on_the_sign_in_page_denies(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    page = await browser.get(authorize_url(app, state="q"))
    cancelled = await browser.post("/oauth/authorize", data={**form_of(page.text).fields, "action": "deny"})
    assert cancelled.status_code == 302 and query_of(cancelled.headers["location"])["error"] == "access_denied"


async def test_posts_without_the_csrf_token_approve_nothing(
    app: FastAPI, browser: httpx.AsyncClient, factory: Factory
) -> None:
    client_app = await _partner(factory)
    account = await factory.account()
    consent = await sign_in(browser, authorize_url(client_app), account.admin)
    fields = form_of(consent.text).fields
    for data in (
        {**fields, "action": "approve", "csrf_token": "forged"},
        {name: value for name, value in fields.items() if name != "csrf_token"} | {"action": "approve"},
        {**fields, "action": "approve", "csrf_token": ""},
    ):
        answer = await browser.post("/oauth/authorize", data=data)
        _is_error_page(answer, 403, "security token")
    # A post from another site carries none of the user's cookies (SameSite), so it fails the same way.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as stranger:
        answer = await stranger.post("/oauth/authorize", data={**fields, "action": "approve"})
    _is_error_page(answer, 403, "security token")


async def test_tampered_hidden_fields_are_validated_again(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    account = await factory.account()
    consent = await sign_in(browser, authorize_url(app), account.admin)
    fields = form_of(consent.text).fields
    answer = await browser.post(
        "/oauth/authorize", data={**fields, "redirect_uri": "https://evil.example/", "action": "approve"}
    )
    _is_error_page(answer, 400, "not registered")


async def test_wrong_password_shows_the_sign_in_page_again(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    account = await factory.account()
    page = await browser.get(authorize_url(app))
    fields = form_of(page.text).fields
    for email, password in ((account.admin.email, "wrong password"), ("nobody@example.com", "whatever1")):
        answer = await browser.post(
            "/oauth/authorize", data={**fields, "email": email, "password": password, "action": "sign_in"}
        )
        assert answer.status_code == 401 and has_error(answer.text, "Wrong email or password")
        assert "sign_in" in form_of(answer.text).actions
    empty = await browser.post("/oauth/authorize", data={**fields, "email": "", "password": "", "action": "sign_in"})
    assert empty.status_code == 400 and has_error(empty.text, "Enter your email and password")
    # Still not signed in: approving asks to sign in.
    approve_anyway = await browser.post("/oauth/authorize", data={**fields, "action": "approve"})
    assert approve_anyway.status_code == 200 and has_error(approve_anyway.text, "Sign in to approve")


async def test_unknown_action_is_an_error_page(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    page = await browser.get(authorize_url(app))
    answer = await browser.post("/oauth/authorize", data={**form_of(page.text).fields, "action": "launch"})
    _is_error_page(answer, 400, "valid action")


async def test_signing_in_as_someone_else(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    first, second = await factory.account(), await factory.account()
    consent = await sign_in(browser, authorize_url(app), first.admin)
    switched = await browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "switch"})
    assert switched.status_code == 303
    page = await browser.get(switched.headers["location"])
    assert "sign_in" in form_of(page.text).actions
    location = await approve(browser, authorize_url(app), second.admin)
    assert "code" in query_of(location)


async def test_a_deleted_user_is_signed_out(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    account = await factory.account()
    await sign_in(browser, authorize_url(app), account.admin)
    async with factory.runtime.sessions() as session, session.begin():
        await session.execute(delete(User).where(User.id == account.admin.user_id))
    page = await browser.get(authorize_url(app))
    assert "sign_in" in form_of(page.text).actions


def _strict_browser(runtime: Runtime, address: str) -> httpx.AsyncClient:
    strict = replace(runtime, settings=runtime.settings.model_copy(update={"auth_failures_before_backoff": 2}))
    transport = httpx.ASGITransport(app=create_app(runtime=strict), client=(address, 2))
    return httpx.AsyncClient(transport=transport, base_url="https://api.example")


async def _try_password(
    browser: httpx.AsyncClient, fields: dict[str, str], email: str, password: str
) -> httpx.Response:
    return await browser.post(
        "/oauth/authorize", data={**fields, "email": email, "password": password, "action": "sign_in"}
    )


async def test_a_strangers_failed_sign_ins_never_lock_the_owner_out(factory: Factory, runtime: Runtime) -> None:
    app = await _partner(factory)
    account = await factory.account()
    async with _strict_browser(runtime, unique_address()) as attacker:
        fields = form_of((await attacker.get(authorize_url(app))).text).fields
        for _ in range(3):  # two free failures, then a wait
            assert (await _try_password(attacker, fields, account.admin.email, "not it at all")).status_code == 401
        # The attacker now waits, even with the right password (a right guess must not show)...
        right = await _try_password(attacker, fields, account.admin.email, account.admin.password)
        assert right.status_code == 429 and has_error(right.text, "Too many failed sign-ins")
        # ... and may still sign in as itself: the wait is for that email from that network.
        other = await factory.account()
        assert (await _try_password(attacker, fields, other.admin.email, other.admin.password)).status_code == 303
    # The owner, from its own network, signs in at once.
    async with _strict_browser(runtime, unique_address()) as owner:
        fields = form_of((await owner.get(authorize_url(app))).text).fields
        assert (await _try_password(owner, fields, account.admin.email, account.admin.password)).status_code == 303


async def test_signing_in_as_someone_else_ends_the_old_session(browser: httpx.AsyncClient, factory: Factory) -> None:
    app = await _partner(factory)
    first, second = await factory.account(), await factory.account()
    consent = await sign_in(browser, authorize_url(app), first.admin)
    old_cookie = browser.cookies.get("versicolor_authorize")
    old_fields = form_of(consent.text).fields
    switched = await browser.post("/oauth/authorize", data={**old_fields, "action": "switch"})
    assert switched.status_code == 303
    # Someone who kept the old cookie (the same browser's back button, or a copy) cannot approve with it.
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://localhost") as replay:
        replay.cookies.set("versicolor_authorize", old_cookie, path="/oauth/authorize")
        approved = await replay.post("/oauth/authorize", data={**old_fields, "action": "approve"})
        assert approved.status_code == 200 and "location" not in approved.headers
        assert "sign_in" in form_of(approved.text).actions
        page = await replay.get(authorize_url(app))
        assert "sign_in" in form_of(page.text).actions and first.admin.email not in page.text
    # The browser signs in as the other user, and approves as that one.
    location = await approve(browser, authorize_url(app), second.admin)
    assert "code" in query_of(location)


async def test_a_signed_in_session_is_kept_on_the_server_not_in_the_cookie(
    browser: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    app = await _partner(factory)
    account = await factory.account()
    await sign_in(browser, authorize_url(app), account.admin)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(SignInSession).where(SignInSession.user_id == account.admin.user_id).values(ended_at=utcnow())
        )
    page = await browser.get(authorize_url(app))
    assert "sign_in" in form_of(page.text).actions

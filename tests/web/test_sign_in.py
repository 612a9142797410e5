"""Signing in to the dashboard and out of it: the account's users, the shared throttle, server-side sessions."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from tests.factories import Factory
from tests.web.conftest import Browsers, text_of, unique_address

from versicolor.core import accounts
from versicolor.core.roles import Role
from versicolor.db.models import SignInSession
from versicolor.db.types import utcnow
from versicolor.runtime import Runtime


async def test_a_page_asked_for_before_signing_in_is_shown_after_signing_in(
    browsers: Browsers, factory: Factory
) -> None:
    account = await factory.account()
    browser = browsers()
    asked = await browser.get("/app/sites?x=1")
    assert asked.status_code == 303
    location = asked.headers["location"]
    assert urlsplit(location).path == "/app/sign-in"
    assert parse_qs(urlsplit(location).query)["next"] == ["/app/sites?x=1"]
    form = await browser.page(location)
    assert 'name="next" value="/app/sites?x=1"' in form
    signed = await browser.sign_in(account.admin, next_page="/app/sites?x=1")
    assert signed.headers["location"] == "/app/sites?x=1"
    assert "Sites" in await browser.page("/app/sites")


async def test_the_session_cookie_is_http_only_same_site_lax_for_the_dashboard_only(
    browsers: Browsers, factory: Factory
) -> None:
    account = await factory.account()
    plain = await browsers().sign_in(account.admin)
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/app" in cookie
    assert "secure" not in cookie  # plain HTTP from this machine: a browser would drop a Secure cookie
    secure = await browsers(unique_address()).sign_in(account.admin)
    assert "secure" in secure.headers["set-cookie"].lower()


async def test_wrong_password_is_refused_with_one_answer_for_unknown_emails_too(
    browsers: Browsers, factory: Factory
) -> None:
    account = await factory.account()
    browser = browsers(unique_address())
    await browser.get("/app/sign-in")
    for email in (account.admin.email, "nobody@example.com"):
        answer = await browser.post("/app/sign-in", {"email": email, "password": "not the password", "next": "/app/"})
        assert answer.status_code == 401
        assert "Wrong email or password." in text_of(answer.text)
        assert "set-cookie" not in answer.headers or "versicolor_dashboard" in answer.headers["set-cookie"]
    assert (await browser.get("/app/experiments")).status_code == 303  # still not signed in


async def test_failed_sign_ins_are_throttled_like_the_authorization_pages(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    browser = browsers(unique_address())
    await browser.get("/app/sign-in")
    statuses = []
    for _ in range(40):
        answer = await browser.post("/app/sign-in", {"email": account.admin.email, "password": "wrong guess"})
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert "Too many failed sign-ins" in text_of(answer.text)
            break
    assert statuses[-1] == 429, statuses
    # Refused before the password is looked at: the right one is refused too, for now, from this network.
    right = await browser.post("/app/sign-in", {"email": account.admin.email, "password": account.admin.password})
    assert right.status_code == 429


async def test_a_sign_in_form_without_its_token_signs_nobody_in(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.get("/app/sign-in")
    forged = await browser.post(
        "/app/sign-in", {"email": account.admin.email, "password": account.admin.password}, csrf=False
    )
    assert forged.status_code == 403
    assert (await browser.get("/app/experiments")).status_code == 303
    # Nor does it sign anyone out: the signed-in user's cookie stays as it was.
    await browser.sign_in(account.admin)
    await browser.post("/app/sign-in", {"email": "x@example.com", "password": "y"}, csrf=False)
    assert (await browser.get("/app/experiments")).status_code == 200
    # A form posted from another site has no cookie at all.
    stranger = browsers()
    answer = await stranger.post(
        "/app/sign-in", {"email": account.admin.email, "password": account.admin.password, "csrf_token": "x" * 43}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/app", "/\\evil.example", "/docs", "javascript:alert(1)", "/app/sign-in"],
)
async def test_signing_in_never_leads_off_the_dashboard(browsers: Browsers, factory: Factory, target: str) -> None:
    account = await factory.account()
    signed = await browsers().sign_in(account.admin, next_page=target)
    assert signed.headers["location"] == "/app/experiments"


async def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    await browser.page("/app/experiments")
    copy = browsers()
    copy.http.cookies = httpx.Cookies(browser.http.cookies)
    assert (await copy.get("/app/experiments")).status_code == 200
    forged = await browser.post("/app/sign-out", csrf=False)
    assert forged.status_code == 403  # a sign-out form from elsewhere does nothing
    assert (await browser.get("/app/experiments")).status_code == 200
    out = await browser.post("/app/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/app/sign-in"
    assert (await browser.get("/app/experiments")).status_code == 303
    assert (await copy.get("/app/experiments")).status_code == 303


async def test_signing_in_again_ends_the_session_before(browsers: Browsers, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    browser = browsers()
    await browser.sign_in(account.admin)
    before = httpx.Cookies(browser.http.cookies)
    await browser.page("/app/account")  # a second tab's sign-in form carries the same session's token
    again = await browser.post("/app/sign-in", {"email": viewer.email, "password": viewer.password, "next": "/app/"})
    assert again.status_code == 303
    assert viewer.email in await browser.page("/app/account")
    old = browsers()
    old.http.cookies = before
    assert (await old.get("/app/account")).status_code == 303


async def test_an_expired_session_goes_back_to_sign_in_then_to_the_page_asked_for(
    browsers: Browsers, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    browser = browsers()
    await browser.sign_in(account.admin)
    await browser.page("/app/account")
    # The session's time runs out (as it would after VERSICOLOR_DASHBOARD_SESSION_TTL seconds).
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(SignInSession).where(SignInSession.user_id == account.admin.user_id).values(expires_at=utcnow())
        )
    asked = await browser.get("/app/sites")
    assert asked.status_code == 303 and asked.headers["location"] == "/app/sign-in?next=%2Fapp%2Fsites"
    form = await browser.page(asked.headers["location"])
    assert "Your session has ended" in text_of(form)
    # A form posted after the session ended does nothing, and leads to sign-in too.
    posted = await browser.post("/app/account/credentials")
    assert posted.status_code == 303 and posted.headers["location"].startswith("/app/sign-in?next=%2Fapp%2Faccount")
    signed = await browser.post(
        "/app/sign-in", {"email": account.admin.email, "password": account.admin.password, "next": "/app/sites"}
    )
    assert signed.headers["location"] == "/app/sites"


async def test_a_removed_users_session_ends_and_a_changed_role_applies_at_once(
    browsers: Browsers, factory: Factory
) -> None:
    account = await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    browser = browsers()
    await browser.sign_in(editor)
    assert "EDITOR" in await browser.page("/app/account")
    admin = browsers()
    await admin.sign_in(account.admin)
    await admin.page("/app/account")
    assert (await admin.post(f"/app/account/users/{editor.user_id}", {"role": "VIEWER"})).status_code == 303
    assert "VIEWER" in text_of(await browser.page("/app/account"))
    await admin.page("/app/account")
    removed = await admin.post(f"/app/account/users/{editor.user_id}/remove", {"confirm": "yes"})
    assert removed.status_code == 303
    assert (await browser.get("/app/account")).status_code == 303


async def test_an_email_of_several_accounts_chooses_one(browsers: Browsers, factory: Factory, runtime: Runtime) -> None:
    first = await factory.account("First")
    second = await factory.account("Second")
    async with runtime.sessions() as session, session.begin():
        await accounts.create_user(
            session=session,
            account_id=second.account_id,
            email=first.admin.email,
            password=first.admin.password,
            role=Role.VIEWER,
        )
    browser = browsers()
    await browser.get("/app/sign-in")
    fields = {"email": first.admin.email, "password": first.admin.password, "next": "/app/account"}
    asked = await browser.post("/app/sign-in", fields)
    assert asked.status_code == 200
    assert "choose one" in text_of(asked.text)
    offered = set(re.findall(r'name="account_id" value="(\d+)"', asked.text))
    assert offered == {str(first.account_id), str(second.account_id)}
    chosen = await browser.post("/app/sign-in", {**fields, "account_id": str(second.account_id)})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/app/account"
    page = text_of(await browser.page("/app/account"))
    assert "Second" in page and "VIEWER" in page

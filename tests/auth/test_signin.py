"""Signing in: argon2 never runs on the event loop, and its rules are the same for every page that signs in.

The attack this pins: each sign-in attempt used to run argon2 (tens to hundreds of milliseconds of CPU) on
the event loop, so a handful of wrong passwords a second stalled every other request of the worker.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

import httpx

from tests.auth.browser import authorize_url, form_of, register_app
from tests.factories import PASSWORD, Factory
from versicolor.auth import signin
from versicolor.auth.throttle import FailureThrottle
from versicolor.core import accounts, passwords
from versicolor.runtime import Runtime


@contextmanager
def argon2_calls_on_this_thread() -> Iterator[list[str]]:
    """The argon2 functions called on the current thread (the event loop's) while the block runs."""
    seen: list[str] = []

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_globals.get("__name__", "").startswith("argon2"):
            seen.append(f"{frame.f_globals['__name__']}.{frame.f_code.co_name}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


async def test_sign_in_attempts_never_run_argon2_on_the_event_loop(
    browser: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    fields = form_of((await browser.get(authorize_url(app))).text).fields
    loop_thread = threading.get_ident()
    with argon2_calls_on_this_thread() as on_loop:
        wrong = await browser.post(
            "/oauth/authorize",
            data={**fields, "email": account.admin.email, "password": "not the password", "action": "sign_in"},
        )
        unknown = await browser.post(
            "/oauth/authorize",
            data={**fields, "email": "nobody@example.com", "password": "not the password", "action": "sign_in"},
        )
        right = await browser.post(
            "/oauth/authorize",
            data={**fields, "email": account.admin.email, "password": account.admin.password, "action": "sign_in"},
        )
    assert threading.get_ident() == loop_thread
    assert (wrong.status_code, unknown.status_code, right.status_code) == (401, 401, 303)
    assert on_loop == [], f"argon2 ran on the event loop: {on_loop[:5]}"


async def test_making_a_user_with_a_password_hashes_it_off_the_event_loop(runtime: Runtime) -> None:
    email = f"hashed-{uuid.uuid4().hex[:10]}@example.com"
    with argon2_calls_on_this_thread() as on_loop:
        async with runtime.sessions() as session, session.begin():
            made = await accounts.create_account(session=session, name="Hashed", email=email, password=PASSWORD)
    assert on_loop == []
    assert made.admin.user.password_hash is not None
    assert await passwords.verify_password(PASSWORD, made.admin.user.password_hash)


async def test_the_sign_in_module_signs_in_throttles_and_ends_sessions(runtime: Runtime, factory: Factory) -> None:
    # The API the dashboard builds on, used directly.
    account = await factory.account()
    throttle = FailureThrottle(
        free_failures=1, backoff_ceiling=60, per_network="", redis_url=None, redis_prefix="versicolor:"
    )
    attempt = {"sessions": runtime.sessions, "throttle": throttle, "email": account.admin.email.upper()}
    wrong = await signin.attempt(**attempt, password="not the password", address="198.51.100.200")
    assert wrong.user is None and wrong.retry_after is None
    wrong = await signin.attempt(**attempt, password="not the password", address="198.51.100.200")
    assert wrong.user is None and wrong.retry_after is None
    waiting = await signin.attempt(**attempt, password=account.admin.password, address="198.51.100.200")
    assert waiting.user is None and waiting.retry_after is not None and waiting.retry_after >= 1
    elsewhere = await signin.attempt(**attempt, password=account.admin.password, address="198.51.100.201")
    assert elsewhere.user is not None and elsewhere.user.id == account.admin.user_id

    first = await signin.open_session(
        sessions=runtime.sessions, user=elsewhere.user, purpose="test", ttl=timedelta(minutes=5)
    )
    second = await signin.open_session(
        sessions=runtime.sessions, user=elsewhere.user, purpose="test", ttl=timedelta(minutes=5), ending=first
    )
    async with runtime.sessions() as session, session.begin():
        assert await signin.signed_in_user(session=session, token=first, purpose="test") is None
        assert (await signin.signed_in_user(session=session, token=second, purpose="test")) is not None
        assert await signin.signed_in_user(session=session, token=second, purpose="other") is None
    await signin.close_session(sessions=runtime.sessions, token=second)
    async with runtime.sessions() as session, session.begin():
        assert await signin.signed_in_user(session=session, token=second, purpose="test") is None


async def test_one_email_in_two_accounts_signs_in_where_its_password_opens(
    browser: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    first, second = await factory.account("First"), await factory.account("Second")
    async with runtime.sessions() as session, session.begin():
        await accounts.create_user(
            session=session,
            account_id=second.account_id,
            email=first.admin.email,
            password="another long passphrase here",
        )
    app = await register_app(runtime, first.account_id)
    fields = form_of((await browser.get(authorize_url(app))).text).fields
    # The second account's password opens the second account's user.
    signed_in = await browser.post(
        "/oauth/authorize",
        data={**fields, "email": first.admin.email, "password": "another long passphrase here", "action": "sign_in"},
    )
    assert signed_in.status_code == 303
    consent = await browser.get(signed_in.headers["location"])
    assert "approve" in form_of(consent.text).actions


async def test_the_same_password_in_two_accounts_asks_which(runtime: Runtime, factory: Factory) -> None:
    first, second = await factory.account("First Co"), await factory.account("Second Co")
    async with runtime.sessions() as session, session.begin():
        await accounts.create_user(
            session=session, account_id=second.account_id, email=first.admin.email, password=first.admin.password
        )
    throttle = FailureThrottle(free_failures=5, backoff_ceiling=60, per_network="", redis_url=None, redis_prefix="x:")
    asked = await signin.attempt(
        sessions=runtime.sessions,
        throttle=throttle,
        email=first.admin.email,
        password=first.admin.password,
        address=None,
    )
    assert asked.user is None and {c.account_name for c in asked.choices} == {"First Co", "Second Co"}
    chosen = await signin.attempt(
        sessions=runtime.sessions,
        throttle=throttle,
        email=first.admin.email,
        password=first.admin.password,
        address=None,
        account_id=second.account_id,
    )
    assert chosen.user is not None and chosen.user.account_id == second.account_id

"""Users change their password; ADMINs reset another's; new passwords are long and not common ones."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.browser import authorize_url, form_of, register_app, sign_in
from tests.factories import Factory
from versicolor.core.roles import Role

NEW = "violet otter juggles seven lanterns"


async def _signs_in(client: httpx.AsyncClient, factory: Factory, account_id: int, email: str, password: str) -> int:
    app = await register_app(factory.runtime, account_id)
    client.cookies.clear()
    fields = form_of((await client.get(authorize_url(app))).text).fields
    answer = await client.post(
        "/oauth/authorize", data={**fields, "email": email, "password": password, "action": "sign_in"}
    )
    return answer.status_code


async def test_a_user_changes_its_password_and_its_sessions_end(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    app = await register_app(factory.runtime, account.account_id)
    await sign_in(browser, authorize_url(app), viewer)  # a browser signed in with the old password
    changed = await client.put(
        "/accounts/me/password",
        headers=viewer.headers,
        json={"currentPassword": viewer.password, "newPassword": NEW},
    )
    assert changed.status_code == 204, changed.text
    page = await browser.get(authorize_url(app))
    assert "sign_in" in form_of(page.text).actions  # signed out
    assert await _signs_in(browser, factory, account.account_id, viewer.email, viewer.password) == 401
    assert await _signs_in(browser, factory, account.account_id, viewer.email, NEW) == 303


async def test_a_wrong_current_password_is_refused_then_throttled(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    statuses = []
    for _ in range(7):
        answer = await client.put(
            "/accounts/me/password",
            headers=account.headers,
            json={"currentPassword": "not my password at all", "newPassword": NEW},
        )
        statuses.append(answer.status_code)
    assert statuses[:5] == [403] * 5 and statuses[-1] == 429, statuses
    assert "retry-after" in answer.headers


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short", "at least 12"),
        ("password1234", "too easy to guess"),
        ("qwertyuiop123", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
        ("x" * 300, "at most 256"),
    ],
)
async def test_weak_passwords_are_refused_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, password: str, words: str
) -> None:
    account = await factory.account()
    changed = await client.put(
        "/accounts/me/password",
        headers=account.headers,
        json={"currentPassword": account.admin.password, "newPassword": password},
    )
    assert changed.status_code == 400, changed.text
    assert (words in changed.text and "newPassword" in changed.text) or "password" in changed.text
    invited = await client.post(
        "/accounts", headers=account.headers, json={"email": "n@example.com", "password": password}
    )
    assert invited.status_code == 400 and words in invited.text


async def test_an_admin_resets_another_users_password(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    account, other = await factory.account(), await factory.account()
    editor = await factory.member(account, Role.EDITOR)
    app = await register_app(factory.runtime, account.account_id)
    await sign_in(browser, authorize_url(app), editor)
    reset = await client.put(f"/accounts/{editor.user_id}/password", headers=account.headers, json={"password": NEW})
    assert reset.status_code == 204, reset.text
    assert "sign_in" in form_of((await browser.get(authorize_url(app))).text).actions
    assert await _signs_in(browser, factory, account.account_id, editor.email, NEW) == 303
    # Not by a non-ADMIN, not across accounts.
    refused = await client.put(
        f"/accounts/{account.admin.user_id}/password", headers=editor.headers, json={"password": NEW}
    )
    assert refused.status_code == 403
    foreign = await client.put(f"/accounts/{editor.user_id}/password", headers=other.headers, json={"password": NEW})
    assert foreign.status_code == 404

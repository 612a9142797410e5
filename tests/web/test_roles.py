"""Who may do what: an EDITOR moves experiments through their lifecycle after a confirmation; a VIEWER sees no
control, and posting one anyway is a 403 that changes nothing; a form without its token changes nothing."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.factories import Factory
from tests.tracking.fixtures import shop
from tests.web.conftest import Browsers, text_of

from versicolor.core.roles import Role


async def _status(client: httpx.AsyncClient, experiment_id: int, headers: dict[str, str]) -> str:
    answer = await client.get(f"/experiments/{experiment_id}", headers=headers)
    status: str = answer.json()["status"]
    return status


def _actions(html: str) -> list[str]:
    return re.findall(r'href="/app/experiments/\d+/status/([A-Z]+)"', html)


async def test_an_editor_pauses_and_resumes_after_confirming(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    editor = await factory.member(made.account, Role.EDITOR)
    browser = browsers()
    await browser.sign_in(editor)
    page = await browser.page(f"/app/experiments/{made.experiment_id}")
    assert _actions(page) == ["PAUSE", "STOP", "DEACTIVATE"]
    confirm = text_of(await browser.page(f"/app/experiments/{made.experiment_id}/status/PAUSE"))
    assert "Pause “Checkout button”?" in confirm and "Cancel" in confirm
    paused = await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "PAUSE"})
    assert paused.status_code == 303
    assert await _status(client, made.experiment_id, made.account.headers) == "PAUSED"
    page = await browser.page(paused.headers["location"])
    assert "Experiment paused." in text_of(page)
    assert _actions(page) == ["RESUME", "STOP", "DEACTIVATE"]
    await browser.page(f"/app/experiments/{made.experiment_id}/status/RESUME")
    resumed = await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "RESUME"})
    assert resumed.status_code == 303
    assert await _status(client, made.experiment_id, made.account.headers) == "ACTIVE"


async def test_an_editor_activates_a_draft_and_schedules_another(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory, activate=False)
    other = await shop(client, factory, account=made.account, host="other.example", activate=False)
    editor = await factory.member(made.account, Role.EDITOR)
    browser = browsers()
    await browser.sign_in(editor)
    assert _actions(await browser.page(f"/app/experiments/{made.experiment_id}")) == [
        "ACTIVATE",
        "SCHEDULE",
        "DEACTIVATE",
    ]
    await browser.page(f"/app/experiments/{made.experiment_id}/status/ACTIVATE")
    assert (
        await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "ACTIVATE"})
    ).status_code == 303
    assert await _status(client, made.experiment_id, made.account.headers) == "ACTIVE"
    schedule = await browser.page(f"/app/experiments/{other.experiment_id}/status/SCHEDULE")
    assert 'name="start" type="datetime-local"' in schedule
    no_date = await browser.post(f"/app/experiments/{other.experiment_id}/status", {"action": "SCHEDULE"})
    assert no_date.status_code == 400 and "needs a start date" in text_of(no_date.text)
    bad_date = await browser.post(
        f"/app/experiments/{other.experiment_id}/status", {"action": "SCHEDULE", "start": "next tuesday"}
    )
    assert bad_date.status_code == 400 and "is not a date and time" in text_of(bad_date.text)
    scheduled = await browser.post(
        f"/app/experiments/{other.experiment_id}/status",
        {"action": "SCHEDULE", "start": "2099-01-02T03:04", "end": "2099-02-01T00:00"},
    )
    assert scheduled.status_code == 303
    answer = (await client.get(f"/experiments/{other.experiment_id}", headers=made.account.headers)).json()
    assert answer["status"] == "SCHEDULED"
    assert "2099-01-02 03:04 UTC" in text_of(await browser.page(scheduled.headers["location"]))


async def test_an_action_the_status_does_not_allow_is_a_409_page_naming_the_status(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    confirm = await browser.get(f"/app/experiments/{made.experiment_id}/status/ACTIVATE")
    assert confirm.status_code == 409 and "whose status is ACTIVE" in text_of(confirm.text)
    await browser.page(f"/app/experiments/{made.experiment_id}")
    posted = await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "RESUME"})
    assert posted.status_code == 409 and "whose status is ACTIVE" in text_of(posted.text)
    unknown = await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "EXPLODE"})
    assert unknown.status_code == 404
    assert (await browser.get(f"/app/experiments/{made.experiment_id}/status/explode")).status_code == 404


async def test_activating_an_experiment_that_cannot_run_says_why(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    account = await factory.account()
    site = (await client.post("/sites", json={"name": "Bare"}, headers=account.headers)).json()
    experiment = (
        await client.post(
            "/experiments",
            json={"name": "Bare", "siteId": site["id"], "baseURL": "https://bare.example/", "variations": []},
            headers=account.headers,
        )
    ).json()
    browser = browsers()
    await browser.sign_in(account.admin)
    await browser.page(f"/app/experiments/{experiment['id']}/status/ACTIVATE")
    refused = await browser.post(f"/app/experiments/{experiment['id']}/status", {"action": "ACTIVATE"})
    assert refused.status_code == 409
    assert "it has no variation" in text_of(refused.text) and "no main goal" in text_of(refused.text)
    assert await _status(client, experiment["id"], account.headers) == "DRAFT"


async def test_a_viewer_sees_no_action_and_its_forged_posts_change_nothing(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    viewer = await factory.member(made.account, Role.VIEWER)
    browser = browsers()
    await browser.sign_in(viewer)
    page = await browser.page(f"/app/experiments/{made.experiment_id}")
    assert _actions(page) == []
    # The only forms it may post: refreshing the results (a read) and signing out.
    posts = re.findall(r'<form[^>]*method="post" action="([^"]+)"', page)
    assert sorted(posts) == sorted(["/app/sign-out", f"/app/experiments/{made.experiment_id}/results"])
    confirm = await browser.get(f"/app/experiments/{made.experiment_id}/status/PAUSE")
    assert confirm.status_code == 403 and "VIEWER" in text_of(confirm.text)
    forged = await browser.post(f"/app/experiments/{made.experiment_id}/status", {"action": "PAUSE"})
    assert forged.status_code == 403
    assert "does not let you change experiments" in text_of(forged.text)
    assert await _status(client, made.experiment_id, made.account.headers) == "ACTIVE"
    for path, form in (
        (f"/app/domains/{made.url_id}", {"enabled": "off"}),
        ("/app/account/users", {"email": "new@example.com", "role": "ADMIN"}),
        (f"/app/account/users/{viewer.user_id}", {"role": "ADMIN"}),
        ("/app/account/secret", {}),
    ):
        answer = await browser.post(path, form)
        assert answer.status_code == 403, path
    me = (await client.get("/accounts/me", headers=viewer.headers)).json()
    assert me["role"] == "VIEWER"


@pytest.mark.parametrize("token", [None, "", "forged-token-of-the-right-length-000000000000"])
async def test_a_form_without_its_csrf_token_changes_nothing(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient, token: str | None
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    await browser.page(f"/app/experiments/{made.experiment_id}")
    form = {"action": "PAUSE"} if token is None else {"action": "PAUSE", "csrf_token": token}
    answer = await browser.post(f"/app/experiments/{made.experiment_id}/status", form, csrf=False)
    assert answer.status_code == 403
    assert "Nothing was changed" in text_of(answer.text)
    assert await _status(client, made.experiment_id, made.account.headers) == "ACTIVE"


async def test_a_form_that_is_not_one_is_a_400_page(
    browsers: Browsers, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    browser = browsers()
    await browser.sign_in(made.account.admin)
    path = f"/app/experiments/{made.experiment_id}/status"
    as_json = await browser.http.post(path, json={"action": "PAUSE"})
    assert as_json.status_code == 400 and "application/x-www-form-urlencoded" in text_of(as_json.text)
    repeated = await browser.http.post(
        path,
        content=b"action=PAUSE&action=STOP",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400 and "more than once" in text_of(repeated.text)
    huge = await browser.http.post(
        path, content=b"a=" + b"x" * 20000, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert huge.status_code == 400
    assert await _status(client, made.experiment_id, made.account.headers) == "ACTIVE"

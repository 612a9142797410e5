"""The experiment lifecycle over HTTP: every status x every action, the launch requirements, and DELETE by status.

The expected table is written out here from docs/resources.md, independently of core/experiments/lifecycle.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make

if TYPE_CHECKING:
    from tests.factories import TestAccount

STATUSES = ["DRAFT", "SCHEDULED", "ACTIVE", "PAUSED", "STOPPED", "DEACTIVATED"]
ACTIONS = ["ACTIVATE", "PAUSE", "RESUME", "STOP", "SCHEDULE", "DEACTIVATE"]

# docs/resources.md: DRAFT->ACTIVE (ACTIVATE), DRAFT->SCHEDULED (SCHEDULE), ACTIVE->PAUSED (PAUSE)->ACTIVE (RESUME),
# ACTIVE|PAUSED->STOPPED (STOP), any->DEACTIVATED (DEACTIVATE). Everything else is a 409.
ALLOWED = {
    ("DRAFT", "ACTIVATE"): "ACTIVE",
    ("DRAFT", "SCHEDULE"): "SCHEDULED",
    ("DRAFT", "DEACTIVATE"): "DEACTIVATED",
    ("SCHEDULED", "DEACTIVATE"): "DEACTIVATED",
    ("ACTIVE", "PAUSE"): "PAUSED",
    ("ACTIVE", "STOP"): "STOPPED",
    ("ACTIVE", "DEACTIVATE"): "DEACTIVATED",
    ("PAUSED", "RESUME"): "ACTIVE",
    ("PAUSED", "STOP"): "STOPPED",
    ("PAUSED", "DEACTIVATE"): "DEACTIVATED",
    ("STOPPED", "DEACTIVATE"): "DEACTIVATED",
}
# The steps that end traffic for good set dateEnded; only the first start sets dateStarted.
STARTS = {("DRAFT", "ACTIVATE")}
ENDS = {("ACTIVE", "STOP"), ("PAUSED", "STOP"), ("ACTIVE", "DEACTIVATE"), ("PAUSED", "DEACTIVATE")}

# How to bring a fresh DRAFT experiment to each status.
PATH_TO = {
    "DRAFT": [],
    "SCHEDULED": ["SCHEDULE"],
    "ACTIVE": ["ACTIVATE"],
    "PAUSED": ["ACTIVATE", "PAUSE"],
    "STOPPED": ["ACTIVATE", "STOP"],
    "DEACTIVATED": ["DEACTIVATE"],
}


def in_a_day() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")


async def act(
    client: httpx.AsyncClient, account: TestAccount, experiment_id: int, action: str, **params: str
) -> httpx.Response:
    """PATCH the experiment with `?action=` (a start date added for SCHEDULE)."""
    if action == "SCHEDULE":
        params.setdefault("dateStart", in_a_day())
    return await client.patch(
        f"/experiments/{experiment_id}", params={"action": action, **params}, headers=account.headers
    )


async def experiment_in(client: httpx.AsyncClient, account: TestAccount, status: str) -> dict[str, Any]:
    """A launchable experiment brought to `status` through the API."""
    ready = await make.ready(client, account)
    current = ready.experiment
    for action in PATH_TO[status]:
        answer = await act(client, account, ready.id, action)
        assert answer.status_code == 200, answer.text
        current = answer.json()
    assert current["status"] == status
    return current


def parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
async def test_every_status_and_action(client: httpx.AsyncClient, factory: Factory, status: str, action: str) -> None:
    account = await factory.account()
    before = await experiment_in(client, account, status)
    answer = await act(client, account, before["id"], action)
    after = (await client.get(f"/experiments/{before['id']}", headers=account.headers)).json()
    target = ALLOWED.get((status, action))
    if target is None:
        assert answer.status_code == 409, answer.text
        assert status in answer.json()["message"]
        assert action in answer.json()["message"]
        assert after == before, "a refused transition changes nothing"
        return
    assert answer.status_code == 200, answer.text
    assert answer.json() == after
    assert after["status"] == target
    assert parse(after["dateStatusModified"]) > parse(before["dateStatusModified"])  # type: ignore[operator]
    if (status, action) in STARTS:
        assert after["dateStarted"] == after["dateStatusModified"]
    else:
        assert after["dateStarted"] == before["dateStarted"]
    if (status, action) in ENDS:
        assert after["dateEnded"] == after["dateStatusModified"]
    else:
        assert after["dateEnded"] == before["dateEnded"]


async def test_a_refusal_names_the_status_and_the_allowed_actions(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    paused = await experiment_in(client, account, "PAUSED")
    answer = await act(client, account, paused["id"], "ACTIVATE")
    assert answer.status_code == 409
    assert answer.json()["message"] == (
        "cannot ACTIVATE an experiment whose status is PAUSED; from PAUSED you can: DEACTIVATE, RESUME, STOP"
    )
    deactivated = await experiment_in(client, account, "DEACTIVATED")
    answer = await act(client, account, deactivated["id"], "RESUME")
    assert "its status can no longer change" in answer.json()["message"]


async def test_unknown_action_lists_the_allowed_ones(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    draft = await experiment_in(client, account, "DRAFT")
    answer = await act(client, account, draft["id"], "LAUNCH")
    assert answer.status_code == 400
    detail = answer.json()["details"][0]
    assert detail["field"] == "action"
    for action in ACTIONS:
        assert action in detail["message"]


async def test_schedule_keeps_its_dates(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    draft = await experiment_in(client, account, "DRAFT")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    end = start + timedelta(days=14)
    answer = await act(client, account, draft["id"], "SCHEDULE", dateStart=start.isoformat(), dateEnd=end.isoformat())
    assert answer.status_code == 200, answer.text
    scheduled = answer.json()
    assert scheduled["status"] == "SCHEDULED"
    assert parse(scheduled["dateScheduledStart"]) == start
    assert parse(scheduled["dateScheduledEnd"]) == end
    assert scheduled["dateStarted"] is None


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({}, "dateStart", "needs a start date"),
        ({"dateStart": "2001-01-01T00:00:00Z"}, "dateStart", "must be in the future"),
        ({"dateStart": "not a date"}, "dateStart", "datetime"),
        ({"dateStart": "32503680000"}, "dateStart", "a date-time string"),  # seconds since 1970: year 3000
        ({"dateStart": "2999-01-02T00:00:00Z", "dateEnd": "1.9"}, "dateEnd", "a date-time string"),
        ({"dateStart": "2999-01-01T00:00:00"}, "dateStart", "has no time zone"),
        ({"dateStart": "2999-01-02T00:00:00Z", "dateEnd": "2999-01-01T00:00:00Z"}, "dateEnd", "after dateStart"),
    ],
)
async def test_schedule_refuses_bad_dates(
    client: httpx.AsyncClient, factory: Factory, params: dict[str, str], field: str, words: str
) -> None:
    account = await factory.account()
    draft = await experiment_in(client, account, "DRAFT")
    answer = await client.patch(
        f"/experiments/{draft['id']}", params={"action": "SCHEDULE", **params}, headers=account.headers
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == field
    assert words in answer.json()["message"]
    unchanged = (await client.get(f"/experiments/{draft['id']}", headers=account.headers)).json()
    assert unchanged["status"] == "DRAFT"


@pytest.mark.parametrize("action", ["ACTIVATE", "PAUSE", "DEACTIVATE"])
async def test_dates_go_with_schedule_only(client: httpx.AsyncClient, factory: Factory, action: str) -> None:
    account = await factory.account()
    draft = await experiment_in(client, account, "DRAFT")
    answer = await act(client, account, draft["id"], action, dateStart=in_a_day())
    assert answer.status_code == 400
    assert "go with action=SCHEDULE only" in answer.json()["message"]
    answer = await client.patch(f"/experiments/{draft['id']}", params={"dateEnd": in_a_day()}, headers=account.headers)
    assert answer.status_code == 400


async def test_activate_names_everything_missing(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    bare = await make.experiment(client, account, site["id"])
    for action in ("ACTIVATE", "SCHEDULE"):
        answer = await act(client, account, bare["id"], action)
        assert answer.status_code == 409, answer.text
        message = answer.json()["message"]
        assert message.startswith(f"cannot {action} experiment {bare['id']}: ")
        assert "it has no variation" in message
        assert "it has no main goal" in message


async def test_activate_needs_the_main_goal_among_the_goals(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    other = await make.goal(client, account, ready.site["id"], name="Signup")
    patched = await client.patch(f"/experiments/{ready.id}", json={"mainGoalId": other["id"]}, headers=account.headers)
    assert patched.status_code == 200, patched.text
    answer = await act(client, account, ready.id, "ACTIVATE")
    assert answer.status_code == 409
    assert f"its main goal {other['id']} is not among its goals" in answer.json()["message"]
    # Sent together with the action, the fix is applied first and the launch goes through.
    launched = await client.patch(
        f"/experiments/{ready.id}",
        params={"action": "ACTIVATE"},
        json={"goals": [ready.goal["id"], other["id"]]},
        headers=account.headers,
    )
    assert launched.status_code == 200, launched.text
    assert launched.json()["status"] == "ACTIVE"


async def test_activate_needs_traffic_for_a_variation(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    patched = await client.patch(
        f"/experiments/{ready.id}", json={"deviations": {"origin": 1}}, headers=account.headers
    )
    assert patched.status_code == 200, patched.text
    answer = await act(client, account, ready.id, "ACTIVATE")
    assert answer.status_code == 409
    assert "send no traffic to any variation" in answer.json()["message"]


async def test_a_running_experiment_must_stay_launchable(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    active = await experiment_in(client, account, "ACTIVE")
    for body in ({"mainGoalId": None}, {"goals": []}, {"deviations": {"origin": 1}}):
        answer = await client.patch(f"/experiments/{active['id']}", json=body, headers=account.headers)
        assert answer.status_code == 409, (body, answer.text)
        assert "is ACTIVE and must stay ready to run" in answer.json()["message"]
    after = (await client.get(f"/experiments/{active['id']}", headers=account.headers)).json()
    assert after == active


@pytest.mark.parametrize("status", STATUSES)
async def test_delete_only_from_draft_or_stopped(client: httpx.AsyncClient, factory: Factory, status: str) -> None:
    account = await factory.account()
    current = await experiment_in(client, account, status)
    answer = await client.delete(f"/experiments/{current['id']}", headers=account.headers)
    fetched = await client.get(f"/experiments/{current['id']}", headers=account.headers)
    variation = await client.get(f"/variations/{current['variations'][0]}", headers=account.headers)
    if status in ("DRAFT", "STOPPED"):
        assert answer.status_code == 204, answer.text
        assert fetched.status_code == 404
        assert variation.status_code == 404, "an experiment's variations go with it"
    else:
        assert answer.status_code == 409
        assert status in answer.json()["message"]
        assert fetched.status_code == 200
        assert variation.status_code == 200


async def test_status_cannot_be_set_as_a_field(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    draft = await experiment_in(client, account, "DRAFT")
    answer = await client.patch(f"/experiments/{draft['id']}", json={"status": "ACTIVE"}, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == "status"
    assert "?action=" in answer.json()["message"]
    # Echoing the current status back (GET, edit, PUT) is fine.
    echoed = await client.patch(
        f"/experiments/{draft['id']}", json={"status": "DRAFT", "name": "Renamed"}, headers=account.headers
    )
    assert echoed.status_code == 200
    assert echoed.json()["name"] == "Renamed"


async def test_lifecycle_refusals_name_the_experiment(client: httpx.AsyncClient, factory: Factory) -> None:
    # Experiments and personalizations share these refusals (core/experiments/lifecycle.py); each names its own kind.
    account = await factory.account()
    made_site = await make.site(client, account)
    bare = await make.experiment(client, account, made_site["id"], variations=None)
    refused = await client.patch(f"/experiments/{bare['id']}?action=ACTIVATE", headers=account.headers)
    assert (refused.status_code, refused.json()["message"]) == (
        409,
        f"cannot ACTIVATE experiment {bare['id']}: it has no main goal (set mainGoalId)",
    )
    active = await experiment_in(client, account, "ACTIVE")
    path = f"/experiments/{active['id']}"
    echoed = await client.patch(path, json={"status": "DRAFT"}, headers=account.headers)
    assert echoed.status_code == 400
    assert echoed.json()["details"] == [
        {"field": "status", "message": f"is ACTIVE; change it with PATCH /experiments/{active['id']}?action=..."}
    ]
    deleted = await client.delete(path, headers=account.headers)
    assert (deleted.status_code, deleted.json()["message"]) == (
        409,
        f"experiment {active['id']} is ACTIVE: only DRAFT or STOPPED experiments can be deleted (STOP it first)",
    )


async def test_a_broken_running_experiment_can_still_be_paused_and_mended(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    active = await experiment_in(client, account, "ACTIVE")
    deleted = await client.delete(f"/goals/{active['mainGoalId']}", headers=account.headers)
    assert deleted.status_code == 204, deleted.text
    paused = await act(client, account, active["id"], "PAUSE")
    assert paused.status_code == 200, paused.text
    assert paused.json()["mainGoalId"] is None
    refused = await act(client, account, active["id"], "RESUME")
    assert refused.status_code == 409
    assert "it has no main goal" in refused.json()["message"]
    renamed = await client.patch(f"/experiments/{active['id']}", json={"name": "Mending"}, headers=account.headers)
    assert renamed.status_code == 200, renamed.text
    goal = await make.goal(client, account, active["siteId"], name="Replacement")
    mended = await client.patch(
        f"/experiments/{active['id']}",
        params={"action": "RESUME"},
        json={"goals": [goal["id"]], "mainGoalId": goal["id"]},
        headers=account.headers,
    )
    assert mended.status_code == 200, mended.text
    assert mended.json()["status"] == "ACTIVE"

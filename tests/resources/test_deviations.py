"""Deviations: what a valid split is, how it follows the variations, and the recorded history of changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make
from versicolor.core.experiments import deviations, experiments
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime


async def history(runtime: Runtime, account_id: int, experiment_id: int) -> list[tuple[dict[str, float], str]]:
    """The recorded splits of an experiment, oldest first, as the results' sample-ratio check reads them."""
    principal = Principal(account_id=account_id, user_id=None, role=Role.VIEWER)
    async with runtime.sessions() as session, session.begin():
        experiment = await experiments.get(session=session, principal=principal, experiment_id=experiment_id)
        changes = await deviations.history(session=session, experiment=experiment)
    times = [c.date_effective for c in changes]
    assert times == sorted(times)
    assert all(isinstance(t, datetime) and t.tzinfo is not None for t in times)
    return [(c.deviations, c.status) for c in changes]


async def patch(client: httpx.AsyncClient, headers: dict[str, str], experiment_id: int, body: Any) -> httpx.Response:
    return await client.patch(f"/experiments/{experiment_id}", json=body, headers=headers)


async def test_a_valid_split_is_stored_as_given(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    v = str(ready.variation["id"])
    for split in ({"origin": 0.25, v: 0.75}, {"origin": 0.3, v: 0.3}, {v: 1}, {"origin": 0, v: 0.000001}):
        answer = await patch(client, account.headers, ready.id, {"deviations": split})
        assert answer.status_code == 200, answer.text
        assert answer.json()["deviations"] == split


async def test_shares_of_thirds_add_up_within_the_tolerance(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    second = await make.variation(client, account, ready.id)
    keys = ["origin", str(ready.variation["id"]), str(second["id"])]
    thirds = dict.fromkeys(keys, 0.3333333333333334)
    assert (await patch(client, account.headers, ready.id, {"deviations": thirds})).status_code == 200
    just_over = {**thirds, "origin": 0.3333333333333334 + 2e-9}
    answer = await patch(client, account.headers, ready.id, {"deviations": just_over})
    assert answer.status_code == 400
    assert "add up to 1; they may add up to at most 1" in answer.json()["message"]


@pytest.mark.parametrize(
    ("split", "words"),
    [
        ({"origin": 0.5, "999999": 0.5}, "unknown key '999999': keys are 'origin' and the ids of the experiment's"),
        ({"original": 0.5}, "unknown key 'original'"),
        ({"origin": 1.5}, "'origin' must be from 0 to 1, got 1.5"),
        ({"origin": -0.1}, "'origin' must be from 0 to 1, got -0.1"),
        ({"origin": 0.6, "VARIATION": 0.6}, "the shares add up to 1.2; they may add up to at most 1"),
    ],
)
async def test_invalid_splits_are_refused(
    client: httpx.AsyncClient, factory: Factory, split: dict[str, float], words: str
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    sent = {key.replace("VARIATION", str(ready.variation["id"])): share for key, share in split.items()}
    answer = await patch(client, account.headers, ready.id, {"deviations": sent})
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == "deviations"
    assert words in answer.json()["message"]
    after = (await client.get(f"/experiments/{ready.id}", headers=account.headers)).json()
    assert after["deviations"] == ready.experiment["deviations"]


async def test_a_share_for_a_variation_of_no_experiment_adds_it(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    site_id = ready.site["id"]
    # Kameleoon's clients make a variation attached to nothing, then give it a share: that adds it.
    free = await make.post(client, account, "/variations", {"name": "Variation 2", "siteId": site_id})
    assert free["experimentId"] is None
    v, w = str(ready.variation["id"]), str(free["id"])
    too_much = await patch(client, account.headers, ready.id, {"deviations": {"origin": 0.5, v: 0.5, w: 0.5}})
    assert too_much.status_code == 400 and "add up to 1.5" in too_much.json()["message"], too_much.text
    unchanged = await client.get(f"/variations/{free['id']}", headers=account.headers)
    assert unchanged.json()["experimentId"] is None, "a refused split adds nothing"
    answer = await patch(client, account.headers, ready.id, {"deviations": {"origin": 0.5, v: 0.5, w: 0}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["variations"] == [ready.variation["id"], free["id"]]
    assert answer.json()["deviations"] == {"origin": 0.5, v: 0.5, w: 0}
    joined = await client.get(f"/variations/{free['id']}", headers=account.headers)
    assert joined.json()["experimentId"] == ready.id
    # A variation of another experiment, of another site or of another account stays unknown to the split,
    # and so does any variation when the body names the experiment's variations itself.
    other = await make.experiment(client, account, site_id, variations=None)
    elsewhere = await make.site(client, account, name="Elsewhere")
    stranger = await factory.account()
    strangers_site = await make.site(client, stranger)
    taken = [
        other["variations"][0],
        (await make.post(client, account, "/variations", {"name": "x", "siteId": elsewhere["id"]}))["id"],
        (await make.post(client, stranger, "/variations", {"name": "y", "siteId": strangers_site["id"]}))["id"],
    ]
    named_too = (await make.post(client, account, "/variations", {"name": "z", "siteId": site_id}))["id"]
    for key, body in [
        *((variation_id, {}) for variation_id in taken),
        (named_too, {"variations": [ready.variation["id"], free["id"]]}),
    ]:
        split = {"origin": 0.5, v: 0.5, w: 0, str(key): 0}
        refused = await patch(client, account.headers, ready.id, {**body, "deviations": split})
        assert refused.status_code == 400, refused.text
        assert f"unknown key '{key}'" in refused.json()["message"]
    assert (await client.get(f"/variations/{named_too}", headers=account.headers)).json()["experimentId"] is None
    assert (await client.get(f"/experiments/{ready.id}", headers=account.headers)).json()["variations"] == [
        ready.variation["id"],
        free["id"],
    ]


async def test_every_problem_is_named_at_once(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    answer = await patch(client, account.headers, ready.id, {"deviations": {"a": 0.1, "b": 0.1, "origin": 2}})
    assert answer.status_code == 400
    assert [d["field"] for d in answer.json()["details"]] == ["deviations"] * 3


@pytest.mark.parametrize(
    ("raw", "words"), [("NaN", "got nan"), ("Infinity", "got inf"), ("true", "must be a number, not true")]
)
async def test_non_numbers_are_refused(client: httpx.AsyncClient, factory: Factory, raw: str, words: str) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    answer = await client.patch(
        f"/experiments/{ready.id}",
        content=f'{{"deviations": {{"origin": {raw}}}}}',
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]


async def test_the_automatic_split_follows_a_drafts_variations(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    assert experiment["deviations"] == {"origin": 1.0}
    first = await make.variation(client, account, experiment["id"])
    second = await make.variation(client, account, experiment["id"])
    after = (await client.get(f"/experiments/{experiment['id']}", headers=account.headers)).json()
    assert after["deviations"] == pytest.approx({"origin": 1 / 3, str(first["id"]): 1 / 3, str(second["id"]): 1 / 3})
    # Once someone sets a split, a newcomer gets no traffic until it is given a share.
    set_split = {"origin": 0.2, str(first["id"]): 0.8}
    await patch(client, account.headers, experiment["id"], {"deviations": set_split})
    third = await make.variation(client, account, experiment["id"])
    after = (await client.get(f"/experiments/{experiment['id']}", headers=account.headers)).json()
    assert after["deviations"] == set_split
    # null returns to the automatic split.
    automatic = await patch(client, account.headers, experiment["id"], {"deviations": None})
    assert automatic.json()["deviations"] == pytest.approx(
        {key: 0.25 for key in ("origin", str(first["id"]), str(second["id"]), str(third["id"]))}
    )


async def test_a_running_split_changes_only_when_someone_changes_it(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    launched = await client.patch(f"/experiments/{ready.id}", params={"action": "ACTIVATE"}, headers=account.headers)
    split = launched.json()["deviations"]
    newcomer = await make.variation(client, account, ready.id)
    after = (await client.get(f"/experiments/{ready.id}", headers=account.headers)).json()
    assert after["variations"] == [ready.variation["id"], newcomer["id"]]
    assert after["deviations"] == split
    shared = {"origin": 0.4, str(ready.variation["id"]): 0.3, str(newcomer["id"]): 0.3}
    answer = await patch(client, account.headers, ready.id, {"deviations": shared})
    assert answer.status_code == 200 and answer.json()["deviations"] == shared


async def test_every_change_is_recorded_with_its_time_and_status(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    v = str(ready.variation["id"])
    await patch(client, account.headers, ready.id, {"name": "no change to the split"})
    await client.patch(f"/experiments/{ready.id}", params={"action": "ACTIVATE"}, headers=account.headers)
    await patch(client, account.headers, ready.id, {"deviations": {"origin": 0.1, v: 0.9}})
    await patch(client, account.headers, ready.id, {"deviations": {"origin": 0.1, v: 0.9}})  # the same: no record
    await client.patch(f"/experiments/{ready.id}", params={"action": "PAUSE"}, headers=account.headers)
    await patch(client, account.headers, ready.id, {"deviations": {"origin": 0.5, v: 0.5}})
    assert await history(runtime, account.account_id, ready.id) == [
        ({"origin": 0.5, v: 0.5}, "DRAFT"),  # made with its first variation: one split from the start
        ({"origin": 0.1, v: 0.9}, "ACTIVE"),
        ({"origin": 0.5, v: 0.5}, "PAUSED"),
    ]


async def test_a_duplicate_starts_its_own_history(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    copy = (await client.post(f"/experiments/{ready.id}/duplicate", headers=account.headers)).json()
    (twin,) = copy["variations"]
    assert await history(runtime, account.account_id, copy["id"]) == [({"origin": 0.5, str(twin): 0.5}, "DRAFT")]

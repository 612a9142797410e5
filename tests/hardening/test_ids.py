"""Ids no object can have (beyond int64, zero, negative) answer like unknown ids, on every Automation endpoint.

Such a number used to reach the database driver, overflow it, and answer 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make

TOO_BIG = 2**64  # past int64: SQLite and asyncpg both overflow on it
NOT_IDS = [TOO_BIG, 2**63, 10**30, 0, -1, -(2**63) - 1]

# Every Automation route that names an object in its path, with a body it accepts.
PATH_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/sites/{id}", None),
    ("PATCH", "/sites/{id}", {"name": "Renamed"}),
    ("PUT", "/sites/{id}", {"name": "Renamed"}),
    ("DELETE", "/sites/{id}", None),
    ("GET", "/experiments/{id}", None),
    ("PATCH", "/experiments/{id}", {"name": "Renamed"}),
    ("PATCH", "/experiments/{id}?action=ACTIVATE", None),
    ("PUT", "/experiments/{id}", {"name": "Renamed", "baseURL": "https://shop.example/"}),
    ("DELETE", "/experiments/{id}", None),
    ("POST", "/experiments/{id}/duplicate", None),
    ("POST", "/experiments/{id}/results", {}),
    ("GET", "/variations/{id}", None),
    ("PATCH", "/variations/{id}", {"name": "Renamed"}),
    ("PUT", "/variations/{id}", {"name": "Renamed"}),
    ("DELETE", "/variations/{id}", None),
    ("GET", "/goals/{id}", None),
    ("PATCH", "/goals/{id}", {"name": "Renamed"}),
    ("DELETE", "/goals/{id}", None),
    ("GET", "/segments/{id}", None),
    ("DELETE", "/segments/{id}", None),
    ("GET", "/custom-datas/{id}", None),
    ("DELETE", "/custom-datas/{id}", None),
    ("GET", "/accounts/{id}", None),
    ("PATCH", "/accounts/{id}", {"firstName": "Ann"}),
]


@pytest.mark.parametrize(("method", "path", "body"), PATH_ROUTES, ids=[f"{m} {p}" for m, p, _ in PATH_ROUTES])
async def test_path_id_no_object_can_have_is_404(
    client: httpx.AsyncClient, factory: Factory, method: str, path: str, body: dict[str, Any] | None
) -> None:
    account = await factory.account()
    for not_an_id in (TOO_BIG, 0, -1):
        answer = await client.request(method, path.format(id=not_an_id), json=body, headers=account.headers)
        assert answer.status_code == 404, answer.text
        assert answer.json()["message"].endswith(f"{not_an_id} not found")


async def test_known_bug_get_site_past_int64_is_404_not_500(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/sites/99999999999999999999", headers=account.headers)
    assert answer.status_code == 404, answer.text
    assert answer.json()["message"] == "site 99999999999999999999 not found"


# A body that names an object by id: the id is looked up like one in a path, and one no object can have is
# the same 404 as an unknown one (docs/resources.md, "Ids").
BODY_REFERENCES: list[tuple[str, str]] = [
    ("siteId", "site"),
    ("goals", "goal"),
    ("mainGoalId", "goal"),
    ("targetingSegmentId", "segment"),
    ("variations", "variation"),
]


def _reference(field: str, value: int) -> Any:
    return [value] if field in ("goals", "variations") else value


@pytest.mark.parametrize(("field", "kind"), BODY_REFERENCES)
async def test_experiment_body_reference_no_object_can_have_is_404(
    client: httpx.AsyncClient, factory: Factory, field: str, kind: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    for not_an_id in NOT_IDS:
        body = {"name": "Banner", "siteId": site["id"], "baseURL": "https://shop.example/"}
        body[field] = _reference(field, not_an_id)
        answer = await client.post("/experiments", json=body, headers=account.headers)
        assert answer.status_code == 404, answer.text
        assert answer.json()["message"] == f"{kind} {not_an_id} not found"
    listed = await client.get("/experiments", headers=account.headers)
    assert listed.json() == [], "a refused create stores nothing"


@pytest.mark.parametrize("field", ["goals", "mainGoalId", "targetingSegmentId", "variations"])
async def test_refused_experiment_patch_changes_nothing(
    client: httpx.AsyncClient, factory: Factory, field: str
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    changes = {"name": "Renamed", "tags": ["changed"], field: _reference(field, TOO_BIG)}
    for method in ("PATCH", "PUT"):
        body = {**changes, "baseURL": "https://shop.example/"} if method == "PUT" else changes
        answer = await client.request(method, f"/experiments/{ready.id}", json=body, headers=account.headers)
        assert answer.status_code == 404, answer.text
    after = await client.get(f"/experiments/{ready.id}", headers=account.headers)
    assert after.json() == ready.experiment


async def test_variation_body_references_no_object_can_have_are_404(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    for not_an_id in NOT_IDS:
        by_site = await client.post("/variations", json={"name": "V", "siteId": not_an_id}, headers=account.headers)
        assert by_site.status_code == 404, by_site.text
        assert by_site.json()["message"] == f"site {not_an_id} not found"
        joining = {"name": "V", "experimentId": not_an_id}
        by_experiment = await client.post("/variations", json=joining, headers=account.headers)
        assert by_experiment.status_code == 404, by_experiment.text
        assert by_experiment.json()["message"] == f"experiment {not_an_id} not found"
    moving = {"experimentId": TOO_BIG}
    moved = await client.patch(f"/variations/{ready.variation['id']}", json=moving, headers=account.headers)
    assert moved.status_code == 404, moved.text
    still = await client.get(f"/variations/{ready.variation['id']}", headers=account.headers)
    assert still.json()["experimentId"] == ready.id, "a refused move leaves the variation where it was"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/goals", {"name": "G", "type": "CUSTOM"}),
        (
            "/segments",
            {"name": "S", "conditionsData": {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITOR"}]}]}},
        ),
        ("/custom-datas", {"name": "C"}),
    ],
)
async def test_site_id_no_site_can_have_is_404_on_every_site_resource(
    client: httpx.AsyncClient, factory: Factory, path: str, body: dict[str, Any]
) -> None:
    account = await factory.account()
    for not_an_id in NOT_IDS:
        answer = await client.post(path, json={**body, "siteId": not_an_id}, headers=account.headers)
        assert answer.status_code == 404, answer.text
        assert answer.json()["message"] == f"site {not_an_id} not found"


async def test_echoed_ids_past_int64_are_400_naming_the_field(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    for body, field in (({"id": TOO_BIG}, "id"), ({"siteId": TOO_BIG}, "siteId")):
        answer = await client.patch(f"/experiments/{ready.id}", json=body, headers=account.headers)
        assert answer.status_code == 400, answer.text
        assert [d["field"] for d in answer.json()["details"]] == [field]
    goal_echo = await client.patch(f"/goals/{ready.goal['id']}", json={"siteId": TOO_BIG}, headers=account.headers)
    assert goal_echo.status_code == 400, goal_echo.text
    assert [d["field"] for d in goal_echo.json()["details"]] == ["siteId"]

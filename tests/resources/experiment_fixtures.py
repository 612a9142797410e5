"""Sites, goals, segments, experiments and variations made over HTTP, as a user of the API makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import TestAccount


async def post(client: httpx.AsyncClient, account: TestAccount, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` and return the created object (asserting a 201)."""
    answer = await client.post(path, json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def site(client: httpx.AsyncClient, account: TestAccount, name: str = "Shop") -> dict[str, Any]:
    """A new site of `account`."""
    return await post(client, account, "/sites", {"name": name, "url": "https://shop.example"})


async def goal(client: httpx.AsyncClient, account: TestAccount, site_id: int, name: str = "Purchase") -> dict[str, Any]:
    """A CUSTOM goal on the site."""
    return await post(client, account, "/goals", {"name": name, "siteId": site_id, "type": "CUSTOM"})


async def segment(client: httpx.AsyncClient, account: TestAccount, site_id: int, name: str = "New") -> dict[str, Any]:
    """A segment of new visitors on the site."""
    conditions = {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITOR", "include": True}]}]}
    return await post(client, account, "/segments", {"name": name, "siteId": site_id, "conditionsData": conditions})


async def experiment(client: httpx.AsyncClient, account: TestAccount, site_id: int, **fields: Any) -> dict[str, Any]:
    """A DRAFT experiment on the site; `fields` add to or override the defaults."""
    body = {"name": "Checkout button", "siteId": site_id, "baseURL": "https://shop.example/cart", **fields}
    return await post(client, account, "/experiments", body)


async def variation(
    client: httpx.AsyncClient, account: TestAccount, experiment_id: int, **fields: Any
) -> dict[str, Any]:
    """A variation that joins the experiment."""
    body = {"name": "Green button", "experimentId": experiment_id, "jsCode": "document.body.style.color='green';"}
    return await post(client, account, "/variations", {**body, **fields})


@dataclass
class Ready:
    """An experiment that can be launched, with what it is made of."""

    site: dict[str, Any]
    goal: dict[str, Any]
    experiment: dict[str, Any]
    variation: dict[str, Any]

    @property
    def id(self) -> int:
        """The experiment's id."""
        experiment_id: int = self.experiment["id"]
        return experiment_id


async def ready(client: httpx.AsyncClient, account: TestAccount) -> Ready:
    """A DRAFT experiment with one variation, a goal that is its main goal, and the automatic split."""
    made_site = await site(client, account)
    made_goal = await goal(client, account, made_site["id"])
    made = await experiment(client, account, made_site["id"], goals=[made_goal["id"]], mainGoalId=made_goal["id"])
    made_variation = await variation(client, account, made["id"])
    fresh = await client.get(f"/experiments/{made['id']}", headers=account.headers)
    return Ready(site=made_site, goal=made_goal, experiment=fresh.json(), variation=made_variation)

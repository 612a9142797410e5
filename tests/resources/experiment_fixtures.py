"""Sites, goals, segments, experiments and variations made over HTTP, as a user of the API makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import Factory, TestAccount
from tests.resources.every_field import check_every_field_filters_and_sorts
from versicolor.core.querying import Fields, Typed
from versicolor.core.roles import Role


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
    """A DRAFT experiment on the site, with no variation; `fields` add to or override the defaults.

    It names its variations (none), so it is made without the first variation a new experiment otherwise gets:
    the tests that use it add the variations they need. `variations=None` leaves them out of the body.
    """
    body = {"name": "Checkout button", "siteId": site_id, "baseURL": "https://shop.example/cart", "variations": []}
    body.update(fields)
    if body["variations"] is None:
        del body["variations"]
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
    made = await experiment(
        client, account, made_site["id"], goals=[made_goal["id"]], mainGoalId=made_goal["id"], variations=None
    )
    # Its variation is the first one it came with, given its code as a Kameleoon client does.
    answer = await client.patch(
        f"/variations/{made['variations'][0]}",
        json={"name": "Green button", "jsCode": "document.body.style.color='green';"},
        headers=account.headers,
    )
    assert answer.status_code == 200, answer.text
    made_variation: dict[str, Any] = answer.json()
    fresh = await client.get(f"/experiments/{made['id']}", headers=account.headers)
    return Ready(site=made_site, goal=made_goal, experiment=fresh.json(), variation=made_variation)


async def check_every_field(
    client: httpx.AsyncClient, factory: Factory, account: TestAccount, path: str, fields: Fields
) -> None:
    """The shared every-field check over the account's whole list, its fields shared between several viewers.

    Three requests per field would pass one token's rate limit (50 in 10 seconds) on a resource with as many
    fields as an experiment; each viewer holds a token of its own.
    """
    items = (await client.get(path, headers=account.headers)).json()
    returned = set(items[0])
    assert set(fields.by_name) <= returned, f"declared but not returned: {set(fields.by_name) - returned}"
    scalar = {k for k, v in items[0].items() if not isinstance(v, dict | list)}
    assert scalar <= set(fields.by_name), f"returned but not searchable: {scalar - set(fields.by_name)}"
    names = [name for name in fields.by_name if name != "id"]
    for start in range(0, len(names), 6):
        chunk = ["id", *names[start : start + 6]]
        part = Fields(
            {n: Typed(fields.by_name[n].column, fields.by_name[n].kind, fields.by_name[n].choices) for n in chunk}
        )
        viewer = await factory.member(account, Role.VIEWER)
        projected = [{n: item[n] for n in chunk} for item in items]
        await check_every_field_filters_and_sorts(client, viewer.headers, path, projected, part)

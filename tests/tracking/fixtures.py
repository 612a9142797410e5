"""A shop with a live experiment, made over HTTP as a user makes it, and helpers to talk to the Data API."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.factories import Factory, TestAccount
from versicolor.db.models import TrackingConversion, TrackingExposure, TrackingVisit
from versicolor.runtime import Runtime

HOST = "shop.example"
ORIGIN = f"https://{HOST}"


async def created(client: httpx.AsyncClient, account: TestAccount, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body`, asserting it was created."""
    answer = await client.post(path, json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


@dataclass
class Shop:
    """A site with an enabled host, two goals and an ACTIVE experiment with two variations."""

    account: TestAccount
    site_id: int
    code: str
    goal_id: int
    other_goal_id: int
    experiment_id: int
    variation_ids: list[int]
    url_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def events_path(self) -> str:
        """Where this site's events go."""
        return f"/data/v1/sites/{self.code}/events"

    @property
    def config_path(self) -> str:
        """Where this site's page configuration is."""
        return f"/data/v1/sites/{self.code}/config"


async def shop(
    client: httpx.AsyncClient,
    factory: Factory,
    *,
    account: TestAccount | None = None,
    host: str = HOST,
    enabled: str = "on",
    deviations: dict[str, float] | None = None,
    segment: dict[str, Any] | None = None,
    activate: bool = True,
) -> Shop:
    """A new shop; `deviations` use the keys `origin`, `v1`, `v2` for the variations made here."""
    account = account or await factory.account()
    site = await created(client, account, "/sites", {"name": "Shop", "url": f"https://{host}"})
    goal = await created(client, account, "/goals", {"name": "Purchase", "siteId": site["id"], "type": "CUSTOM"})
    other = await created(client, account, "/goals", {"name": "Signup", "siteId": site["id"], "type": "CUSTOM"})
    fields: dict[str, Any] = {"goals": [goal["id"], other["id"]], "mainGoalId": goal["id"]}
    if segment is not None:
        made_segment = await created(
            client, account, "/segments", {"name": "Targeted", "siteId": site["id"], "conditionsData": segment}
        )
        fields["targetingSegmentId"] = made_segment["id"]
    experiment = await created(
        client,
        account,
        "/experiments",
        {"name": "Checkout button", "siteId": site["id"], "baseURL": f"https://{host}/cart", **fields},
    )
    # Green is the first variation the new experiment came with, Blue one added beside it.
    (first,) = experiment["variations"]
    green = await client.patch(
        f"/variations/{first}", json={"name": "Green", "jsCode": "window.variant = 'Green';"}, headers=account.headers
    )
    assert green.status_code == 200, green.text
    blue = await created(
        client,
        account,
        "/variations",
        {"name": "Blue", "experimentId": experiment["id"], "jsCode": "window.variant = 'Blue';"},
    )
    variation_ids = [first, blue["id"]]
    if deviations is not None:
        keys = {"origin": "origin", "v1": str(variation_ids[0]), "v2": str(variation_ids[1])}
        shares = {keys[k]: v for k, v in deviations.items()}
        answer = await client.patch(
            f"/experiments/{experiment['id']}", json={"deviations": shares}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
    if activate:
        answer = await client.patch(
            f"/experiments/{experiment['id']}", params={"action": "ACTIVATE"}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
    url_id = await set_host(client, account, host, enabled)
    return Shop(
        account=account,
        site_id=site["id"],
        code=site["code"],
        goal_id=goal["id"],
        other_goal_id=other["id"],
        experiment_id=experiment["id"],
        variation_ids=variation_ids,
        url_id=url_id,
    )


async def set_host(client: httpx.AsyncClient, account: TestAccount, host: str, enabled: str) -> str:
    """Give `host` the state `enabled` in the account's Domains (a site's own host already has a Url); its id."""
    listed = await client.get("/v3/edit/urls", params={"domain": host, "limit": 500}, headers=account.headers)
    assert listed.status_code == 200, listed.text
    [url] = [url for url in listed.json()["urls"] if url["host"] == host] or [None]
    if url is None:
        made = await client.post("/v3/edit/urls", json={"host": host, "enabled": enabled}, headers=account.headers)
        assert made.status_code == 201, made.text
        return str(made.json()["url"]["id"])
    if url["enabled"] != enabled:
        changed = await client.patch(f"/v3/edit/urls/{url['id']}", json={"enabled": enabled}, headers=account.headers)
        assert changed.status_code == 200, changed.text
    return str(url["id"])


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(datetime.now(UTC).timestamp() * 1000)


def visit(visitor: str = "visitor-1", **fields: Any) -> dict[str, Any]:
    """A VISIT event with a fresh id."""
    return {
        "id": uuid.uuid4().hex,
        "type": "VISIT",
        "visitorCode": visitor,
        "visitId": f"{visitor}-visit-1",
        "timestamp": now_ms(),
        **fields,
    }


def exposure(experiment_id: int, variation_id: int, visitor: str = "visitor-1", **fields: Any) -> dict[str, Any]:
    """An EXPOSURE event with a fresh id."""
    return visit(visitor, type="EXPOSURE", experimentId=experiment_id, variationId=variation_id, **fields)


def conversion(goal_id: int, visitor: str = "visitor-1", **fields: Any) -> dict[str, Any]:
    """A CONVERSION event with a fresh id."""
    return visit(visitor, type="CONVERSION", goalId=goal_id, **fields)


def ndjson(events: list[dict[str, Any]]) -> bytes:
    """The events as an NDJSON body."""
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


async def stored(runtime: Runtime, site_id: int) -> dict[str, int]:
    """How many visits, first exposures and conversions the site has stored."""
    async with runtime.sessions() as session:
        counts = {}
        for name, model in (
            ("visits", TrackingVisit),
            ("exposures", TrackingExposure),
            ("conversions", TrackingConversion),
        ):
            counts[name] = await session.scalar(select(func.count()).select_from(model).where(model.site_id == site_id))
        return {name: int(count or 0) for name, count in counts.items()}

"""A small, hand-made shop history whose every figure can be worked out on paper (see EXPECTED notes below).

Times are relative to T, Monday 2024-05-06 10:00 UTC. The shop (tests.tracking.fixtures.shop) has the
original ("0") and two variations, v1 and v2; goals Purchase (the main goal) and Signup.

visitor arm  exposed  attributes              VISIT events          conversions
o1      0    T        DESKTOP CHROME FR new   a (T-1m), b (T+1d)    Purchase T+1h 10 (a), T+1d 20 (b)
o2      0    T+1d     MOBILE SAFARI DE old    a (T+1d-1m)           -
o3      0    T+2d     DESKTOP FIREFOX FR new  a (T+2d-1m)           Purchase T+2d-1h 40 (before exposure)
o4      0    T+8d     MOBILE CHROME US        -                     Signup T+8d+5m
a1      v1   T        DESKTOP CHROME FR new   a (T-1m)              Purchase T+10m 30, T+20m (both a)
a2      v1   T+1d     MOBILE CHROME DE old    a (T+1d-1m), b (T+3d-1m)  Signup T+1d+1m (a), Purchase T+3d 5 (b)
a3      v1   T+9d     TABLET EDGE             -                     -
b1      v2   T+2d     DESKTOP CHROME DE       a (T+2d-1m)           -

Every exposure is in visit "a" of its visitor.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.tracking.fixtures import Shop

T = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def event(kind: str, visitor: str, visit: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """One Data API event."""
    return {
        "id": uuid.uuid4().hex,
        "type": kind,
        "visitorCode": visitor,
        "visitId": f"{visitor}-{visit}",
        "timestamp": _ms(at),
        **fields,
    }


async def send(client: httpx.AsyncClient, shop: Shop, events: list[dict[str, Any]]) -> None:
    """Store events through the Data API, in batches, as a server-side SDK would."""
    for start in range(0, len(events), 1000):
        answer = await client.post(
            shop.events_path, json={"events": events[start : start + 1000]}, headers=shop.account.headers
        )
        assert answer.status_code == 202, answer.text


def _attributes(device: str, browser: str, country: str | None, new: bool | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"deviceType": device, "browser": browser}
    if country is not None:
        attributes["country"] = country
    if new is not None:
        attributes["newVisitor"] = new
    return attributes


def history(shop: Shop) -> list[dict[str, Any]]:
    """The events of the table above."""
    v1, v2 = shop.variation_ids
    purchase, signup = shop.goal_id, shop.other_goal_id
    x = shop.experiment_id

    def exposed(visitor: str, arm: int, at: datetime, **attributes: Any) -> dict[str, Any]:
        return event("EXPOSURE", visitor, "a", at, experimentId=x, variationId=arm, **attributes)

    def converted(visitor: str, visit: str, goal: int, at: datetime, revenue: float | None = None) -> dict[str, Any]:
        extra = {"revenue": revenue} if revenue is not None else {}
        return event("CONVERSION", visitor, visit, at, goalId=goal, **extra)

    return [
        exposed("o1", 0, T, **_attributes("DESKTOP", "CHROME", "FR", True)),
        event("VISIT", "o1", "a", T - MINUTE),
        event("VISIT", "o1", "b", T + DAY),
        converted("o1", "a", purchase, T + HOUR, 10),
        converted("o1", "b", purchase, T + DAY, 20),
        exposed("o2", 0, T + DAY, **_attributes("MOBILE", "SAFARI", "DE", False)),
        event("VISIT", "o2", "a", T + DAY - MINUTE),
        exposed("o3", 0, T + 2 * DAY, **_attributes("DESKTOP", "FIREFOX", "FR", True)),
        event("VISIT", "o3", "a", T + 2 * DAY - MINUTE),
        converted("o3", "a", purchase, T + 2 * DAY - HOUR, 40),
        exposed("o4", 0, T + 8 * DAY, **_attributes("MOBILE", "CHROME", "US", None)),
        converted("o4", "a", signup, T + 8 * DAY + 5 * MINUTE),
        exposed("a1", v1, T, **_attributes("DESKTOP", "CHROME", "FR", True)),
        event("VISIT", "a1", "a", T - MINUTE),
        converted("a1", "a", purchase, T + 10 * MINUTE, 30),
        converted("a1", "a", purchase, T + 20 * MINUTE),
        exposed("a2", v1, T + DAY, **_attributes("MOBILE", "CHROME", "DE", False)),
        event("VISIT", "a2", "a", T + DAY - MINUTE),
        event("VISIT", "a2", "b", T + 3 * DAY - MINUTE),
        converted("a2", "a", signup, T + DAY + MINUTE),
        converted("a2", "b", purchase, T + 3 * DAY, 5),
        exposed("a3", v1, T + 9 * DAY, **_attributes("TABLET", "EDGE", None, None)),
        exposed("b1", v2, T + 2 * DAY, **_attributes("DESKTOP", "CHROME", "DE", None)),
        event("VISIT", "b1", "a", T + 2 * DAY - MINUTE),
    ]

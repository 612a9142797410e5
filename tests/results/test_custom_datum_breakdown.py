"""Reports broken down by the value of one custom datum (`{"type": "CUSTOM_DATUM", "index": N}`), over HTTP.

The shop's site has custom datum 3 "Plan" (UNIQUE) and 4 "Tags" (LIST). Each visitor's key is the value of
datum 3 its first exposure carried:

visitor arm  first exposure's customData   later events                        key
g1      0    {"3": "gold"}                 visit a, Purchase T+1h 10            gold
g2      0    {"3": "gold", "4": ["x"]}     visits a and b (T+1d)                gold
s1      0    {"3": "silver"}               Purchase T+2h                        silver
n1      v1   {"3": 7}                      Purchase T+1h 5                      7
t1      v1   {"3": true}                   -                                    true
u1      v1   none                          a VISIT carrying {"3": "gold"}       _unknown
e1      v1   {"3": ""}                     -                                    _unknown
r1      v2   {"3": "_reference"}           Purchase T+1h                        __reference
m1      v2   {"3": "gold"} at T, sent after {"3": "silver"} at T+1d            gold
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.results.dataset import DAY, HOUR, T, event, send
from tests.results.test_results_api import general, goal, report
from tests.tracking.fixtures import Shop, created, shop

PLAN = {"type": "CUSTOM_DATUM", "index": 3}
ALL_TIME = [{"start": (T - DAY).isoformat(), "end": (T + 10 * DAY).isoformat()}]


@pytest.fixture
async def plans(client: httpx.AsyncClient, factory: Factory) -> Shop:
    made = await shop(client, factory)
    for index, name, kind in ((3, "Plan", "UNIQUE"), (4, "Tags", "LIST")):
        await created(
            client, made.account, "/custom-datas", {"name": name, "siteId": made.site_id, "index": index, "type": kind}
        )
    v1, v2 = made.variation_ids
    x, purchase = made.experiment_id, made.goal_id

    def exposed(visitor: str, arm: int, data: dict[str, Any] | None, at: Any = T) -> dict[str, Any]:
        extra = {"customData": data} if data is not None else {}
        return event("EXPOSURE", visitor, "a", at, experimentId=x, variationId=arm, **extra)

    def bought(visitor: str, at: Any, revenue: float | None = None) -> dict[str, Any]:
        extra = {"revenue": revenue} if revenue is not None else {}
        return event("CONVERSION", visitor, "a", at, goalId=purchase, **extra)

    await send(
        client,
        made,
        [
            exposed("g1", 0, {"3": "gold"}),
            event("VISIT", "g1", "a", T),
            bought("g1", T + HOUR, 10),
            exposed("g2", 0, {"3": "gold", "4": ["x"]}),
            event("VISIT", "g2", "a", T),
            event("VISIT", "g2", "b", T + DAY),
            exposed("s1", 0, {"3": "silver"}),
            bought("s1", T + 2 * HOUR),
            exposed("n1", v1, {"3": 7}),
            bought("n1", T + HOUR, 5),
            exposed("t1", v1, {"3": True}),
            exposed("u1", v1, None),
            event("VISIT", "u1", "b", T + DAY, customData={"3": "gold"}),
            exposed("e1", v1, {"3": ""}),
            exposed("r1", v2, {"3": "_reference"}),
            bought("r1", T + HOUR),
            exposed("m1", v2, {"3": "silver"}, T + DAY),
        ],
    )
    # The browser's earlier batch arrives last: m1's first exposure, and its key, move to T.
    await send(client, made, [exposed("m1", v2, {"3": "gold"}, T)])
    return made


KEYS = {"gold", "silver", "7", "true", "_unknown", "__reference"}


def _keys(data: dict[str, Any], arm: str) -> set[str]:
    return set(data["variationData"][arm]["breakdownData"]) - {"_reference"}


def _visitors(data: dict[str, Any], arm: str) -> dict[str, int]:
    """The arm's visitors per key, keys without any left out."""
    counts = {key: general(data, arm, key)["visitorCount"] for key in _keys(data, arm)}
    return {key: n for key, n in counts.items() if n}


@pytest.mark.parametrize("dates", [None, ALL_TIME], ids=["rollups", "raw-events"])
async def test_each_visitor_counts_under_its_first_exposures_value(
    client: httpx.AsyncClient, plans: Shop, dates: list[dict[str, str]] | None
) -> None:
    body: dict[str, Any] = {"visitorData": True, "breakdown": PLAN}
    if dates:
        body["dateIntervals"] = dates
    data = await report(client, plans, body)
    v1, v2 = (str(v) for v in plans.variation_ids)
    purchase = plans.goal_id
    # Every arm shows every key the report found.
    assert all(_keys(data, arm) == KEYS for arm in ("0", v1, v2))
    assert _visitors(data, "0") == {"gold": 2, "silver": 1}
    # Custom data sent only with a later visit, and an empty value, say nothing of the exposure.
    assert _visitors(data, v1) == {"7": 1, "true": 1, "_unknown": 2}
    # m1's first exposure said gold; a value that looks like a reserved key gets one more "_".
    assert _visitors(data, v2) == {"__reference": 1, "gold": 1}
    assert goal(data, "0", purchase, "gold")["conversionCount"] == 1
    assert goal(data, "0", purchase, "gold")["revenueCount"] == 10
    assert goal(data, "0", purchase, "silver")["conversionCount"] == 1
    assert goal(data, v1, purchase, "7")["revenueCount"] == 5
    assert goal(data, v2, purchase, "__reference")["conversionCount"] == 1
    # The keys share the visitors out: none is counted twice.
    for arm in ("0", v1, v2):
        total = general(data, arm)["visitorCount"]
        assert sum(general(data, arm, key)["visitorCount"] for key in _keys(data, arm)) == total


@pytest.mark.parametrize("dates", [None, ALL_TIME], ids=["rollups", "raw-events"])
async def test_per_visit_reports_break_down_the_same_way(
    client: httpx.AsyncClient, plans: Shop, dates: list[dict[str, str]] | None
) -> None:
    body: dict[str, Any] = {"visitorData": False, "breakdown": PLAN}
    if dates:
        body["dateIntervals"] = dates
    data = await report(client, plans, body)
    v1 = str(plans.variation_ids[0])
    assert _keys(data, "0") == KEYS
    assert general(data, "0", "gold")["visitCount"] == 3
    assert general(data, "0", "silver")["visitCount"] == 0  # s1 sent no VISIT event
    assert goal(data, v1, plans.goal_id, "7")["conversionCount"] == 1


async def test_the_breakdown_survives_the_stored_request(client: httpx.AsyncClient, plans: Shop) -> None:
    # The report is computed from its stored request: the index must come back from it.
    data = await report(client, plans, {"breakdown": PLAN, "bayesian": True})
    assert _keys(data, "0") == KEYS


@pytest.mark.parametrize(
    ("breakdown", "says"),
    [
        ({"type": "CUSTOM_DATUM"}, "is required with type CUSTOM_DATUM"),
        ({"type": "CUSTOM_DATUM", "index": 5}, "no custom datum at index 5; its custom data: 3 (Plan), 4 (Tags)"),
        ({"type": "CUSTOM_DATUM", "index": 4}, "only UNIQUE custom data break a report down"),
        ({"type": "CUSTOM_DATUM", "index": 1000}, "from 0 to 999"),
        ({"type": "CUSTOM_DATUM", "index": -1}, "from 0 to 999"),
        ({"type": "CUSTOM_DATUM", "index": "3"}, ""),
        ({"type": "CUSTOM_DATUM", "index": True}, ""),
        ({"type": "COUNTRY", "index": 3}, "applies only to type CUSTOM_DATUM, not COUNTRY"),
        ({"type": "CUSTOM_DATUM", "index": 3, "interval": "DAY"}, "applies only to type INTERVAL"),
    ],
)
async def test_a_breakdown_that_names_no_usable_custom_datum_is_refused(
    client: httpx.AsyncClient, plans: Shop, breakdown: dict[str, Any], says: str
) -> None:
    answer = await client.post(
        f"/experiments/{plans.experiment_id}/results", json={"breakdown": breakdown}, headers=plans.account.headers
    )
    assert answer.status_code == 400, answer.text
    details = answer.json()["details"]
    assert details[0]["field"] in {"breakdown.index", "breakdown.interval"}
    assert says in answer.json()["message"]


async def test_another_sites_custom_datum_is_not_this_sites(client: httpx.AsyncClient, plans: Shop) -> None:
    elsewhere = await created(client, plans.account, "/sites", {"name": "Elsewhere"})
    await created(client, plans.account, "/custom-datas", {"name": "Tier", "siteId": elsewhere["id"], "index": 9})
    answer = await client.post(
        f"/experiments/{plans.experiment_id}/results",
        json={"breakdown": {"type": "CUSTOM_DATUM", "index": 9}},
        headers=plans.account.headers,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == "breakdown.index"

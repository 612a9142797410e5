"""Regular expressions are checked against the documented syntax when a segment or a goal is saved, and a
pattern that stalls a backtracking engine does not stall the server (docs/patterns.md).

A segment's PAGE_URL pattern `^(a+)+$` against `'a' * 24 + '!'` held the only worker for 0.9 s.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make
from versicolor.core.segments import reading
from versicolor.core.segments.conditions import PageUrl

OUTSIDE_THE_SYNTAX = ["(?=checkout)", "(?<!x)cart", "(a)\\1", "\\p{L}+", "(?s)a.b", "a**", "[[:digit:]]"]


def _segment(pattern: str) -> dict[str, Any]:
    condition = {"targetingType": "PAGE_URL", "include": True, "matchType": "REGULAR_EXPRESSION", "value": pattern}
    return {"firstLevel": [{"conditions": [condition]}]}


@pytest.mark.parametrize("pattern", OUTSIDE_THE_SYNTAX)
async def test_a_segment_pattern_outside_the_syntax_is_a_400_and_nothing_is_stored(
    client: httpx.AsyncClient, factory: Factory, pattern: str
) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    body = {"name": "S", "siteId": site, "conditionsData": _segment(pattern)}
    answer = await client.post("/segments", json=body, headers=account.headers)
    assert answer.status_code == 400, answer.text
    [detail] = answer.json()["details"]
    assert detail["field"] == "conditionsData.firstLevel[0].conditions[0].value"
    assert "not an accepted regular expression" in detail["message"]
    assert (await client.get("/segments", headers=account.headers)).json() == []


@pytest.mark.parametrize("pattern", OUTSIDE_THE_SYNTAX)
async def test_a_goal_pattern_outside_the_syntax_is_a_400(
    client: httpx.AsyncClient, factory: Factory, pattern: str
) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    params = {"matchString": pattern, "matchType": "REGULAR_EXPRESSION"}
    answer = await client.post(
        "/goals", json={"name": "G", "siteId": site, "type": "URL", "params": params}, headers=account.headers
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == "params.matchString"


async def test_a_pattern_that_stalls_backtracking_is_saved_and_evaluated_at_once(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # Within the syntax, so it is saved; evaluated on RE2, so a long page URL costs a linear pass, not 2^n.
    account = await factory.account()
    site = await make.site(client, account)
    segment = await make.post(
        client, account, "/segments", {"name": "Stall", "siteId": site["id"], "conditionsData": _segment("^/(a+)+$")}
    )
    experiment = await make.experiment(client, account, site["id"], targetingSegmentId=segment["id"])
    assert experiment["targetingSegmentId"] == segment["id"]
    # The stored condition, read back as the Data API's evaluator reads it.
    [stored] = (await client.get(f"/segments/{segment['id']}", headers=account.headers)).json()["conditionsData"][
        "firstLevel"
    ][0]["conditions"]
    condition, _ = reading.read(stored)
    assert isinstance(condition, PageUrl)
    assert condition.match.test("/" + "a" * 50_000 + "!") is False
    assert condition.match.test("/" + "a" * 50_000) is True

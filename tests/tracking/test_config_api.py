"""`GET /data/v1/sites/{siteCode}/config`: live experiments for pages on enabled hosts, cacheable by ETag."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.tracking.fixtures import HOST, ORIGIN, Shop, created, shop
from versicolor.tracking.config import ConfigurationCache, parsed_patterns

PAGE = {"Origin": ORIGIN}


def expire(app: FastAPI, made: Shop) -> None:
    """Let the process's copy of the configuration go, as the few seconds it is kept would."""
    app.state.page_configurations.forget(made.code)


@pytest.fixture
async def live(client: httpx.AsyncClient, factory: Factory) -> Shop:
    return await shop(client, factory, deviations={"origin": 0.4, "v1": 0.3, "v2": 0.3})


async def test_the_configuration_holds_what_a_page_runs(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.get(live.config_path, headers=PAGE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    config = answer.json()
    assert config["siteCode"] == live.code
    assert config["assignment"]["hash"] == "murmur3_x86_32"
    [experiment] = config["experiments"]
    first, second = live.variation_ids
    assert experiment["id"] == live.experiment_id
    assert experiment["deviations"] == {"origin": 0.4, str(first): 0.3, str(second): 0.3}
    assert [v["id"] for v in experiment["variations"]] == [first, second]
    assert experiment["variations"][0]["jsCode"] == "window.variant = 'Green';"
    assert experiment["goals"] == [live.goal_id, live.other_goal_id]
    assert experiment["mainGoalId"] == live.goal_id
    assert [g["id"] for g in config["goals"]] == [live.goal_id, live.other_goal_id]
    assert config["goals"][0]["type"] == "CUSTOM"
    assert config["segments"] == []
    assert config["patterns"] == {}


async def test_only_active_experiments_are_in_it(client: httpx.AsyncClient, live: Shop, app: FastAPI) -> None:
    draft = await created(
        client,
        live.account,
        "/experiments",
        {"name": "Draft", "siteId": live.site_id, "baseURL": f"{ORIGIN}/", "goals": [live.goal_id]},
    )
    listed = (await client.get(live.config_path, headers=PAGE)).json()["experiments"]
    assert [e["id"] for e in listed] == [live.experiment_id]
    assert draft["id"] not in [e["id"] for e in listed]
    paused = await client.patch(
        f"/experiments/{live.experiment_id}", params={"action": "PAUSE"}, headers=live.account.headers
    )
    assert paused.status_code == 200
    expire(app, live)
    assert (await client.get(live.config_path, headers=PAGE)).json()["experiments"] == []


async def test_targeting_segments_come_with_their_conditions(client: httpx.AsyncClient, factory: Factory) -> None:
    conditions = {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITOR", "include": True}]}]}
    made = await shop(client, factory, segment=conditions)
    config = (await client.get(made.config_path, headers=PAGE)).json()
    [segment] = config["segments"]
    assert config["experiments"][0]["targetingSegmentId"] == segment["id"]
    # Served in Kameleoon's spelling, the one the page engine reads, whatever spelling it was written in.
    assert segment["conditionsData"]["firstLevel"][0]["conditions"][0] == {
        "id": 1,
        "targetingType": "NEW_VISITORS",
        "include": True,
        "visitorType": "NEW",
    }


async def test_every_regular_expression_comes_parsed_for_the_page(
    client: httpx.AsyncClient, factory: Factory, app: FastAPI
) -> None:
    url = {"targetingType": "PAGE_URL", "include": True, "matchType": "REGULAR_EXPRESSION", "url": "(?i)^/cart/\\d+"}
    cookie = {
        "targetingType": "COOKIE",
        "include": True,
        "name": "ab|cd",
        "nameMatchType": "REGULAR_EXPRESSION",
        "value": "x",
        "valueMatchType": "CONTAINS",
    }
    conditions = {"firstLevel": [{"conditions": [url, cookie], "orOperators": [True]}]}
    made = await shop(client, factory, segment=conditions)
    goal = await created(
        client,
        made.account,
        "/goals",
        {
            "name": "Thanks",
            "siteId": made.site_id,
            "type": "URL",
            "params": {"matchType": "REGULAR_EXPRESSION", "matchString": "thanks$"},
        },
    )
    changed = await client.patch(
        f"/experiments/{made.experiment_id}",
        json={"goals": [made.goal_id, goal["id"]]},
        headers=made.account.headers,
    )
    assert changed.status_code == 200, changed.text
    expire(app, made)
    config = (await client.get(made.config_path, headers=PAGE)).json()
    # The page parses no pattern: each comes as the server parsed it (docs/patterns.md), the contains match not.
    assert config["patterns"] == {
        "(?i)^/cart/\\d+": {
            "ignoreCase": True,
            "tree": ["seq", "^", 47, 99, 97, 114, 116, 47, ["rep", 1, None, ["set", 48, 57]]],
        },
        "ab|cd": {"ignoreCase": False, "tree": ["alt", ["seq", 97, 98], ["seq", 99, 100]]},
        "thanks$": {"ignoreCase": False, "tree": ["seq", 116, 104, 97, 110, 107, 115, "$"]},
    }


async def test_an_unchanged_configuration_answers_304(client: httpx.AsyncClient, live: Shop) -> None:
    first = await client.get(live.config_path, headers=PAGE)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["Cache-Control"] == "private, max-age=60"
    again = await client.get(live.config_path, headers={**PAGE, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == ORIGIN
    listed = await client.get(live.config_path, headers={**PAGE, "If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    stale = await client.get(live.config_path, headers={**PAGE, "If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == first.content


async def test_a_change_gives_a_new_etag(client: httpx.AsyncClient, live: Shop, app: FastAPI) -> None:
    etag = (await client.get(live.config_path, headers=PAGE)).headers["ETag"]
    lime = {"jsCode": "window.variant = 'Lime';"}
    changed = await client.patch(f"/variations/{live.variation_ids[0]}", json=lime, headers=live.account.headers)
    assert changed.status_code == 200, changed.text
    expire(app, live)
    answer = await client.get(live.config_path, headers={**PAGE, "If-None-Match": etag})
    assert answer.status_code == 200
    assert answer.headers["ETag"] != etag
    assert answer.json()["experiments"][0]["variations"][0]["jsCode"] == "window.variant = 'Lime';"


async def test_the_referer_stands_in_for_a_missing_origin(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.get(live.config_path, headers={"Referer": f"{ORIGIN}/products/42?ref=mail"})
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


async def test_without_a_page_host_there_is_no_configuration(client: httpx.AsyncClient, live: Shop) -> None:
    for headers in ({}, live.account.headers, {"Origin": "null"}):
        answer = await client.get(live.config_path, headers=headers)
        assert answer.status_code == 403, headers
        assert "experiments" not in answer.text
        assert "Origin" in answer.json()["message"]


async def test_origin_null_is_refused_whatever_the_referer_says(client: httpx.AsyncClient, live: Shop) -> None:
    # A sandboxed iframe or a file:// page sends Origin: null, and may still send a Referer of an enabled host.
    headers = {"Origin": "null", "Referer": f"{ORIGIN}/products/42"}
    answer = await client.get(live.config_path, headers=headers)
    assert answer.status_code == 403, answer.text
    assert "access-control-allow-origin" not in answer.headers
    assert "experiments" not in answer.text
    preflight = await client.options(live.config_path, headers={**headers, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("state", ["off", "archived"])
async def test_a_disabled_or_archived_host_gets_no_configuration(
    client: httpx.AsyncClient, factory: Factory, state: str
) -> None:
    made = await shop(client, factory, enabled="off" if state == "off" else "on")
    if state == "archived":
        archived = await client.patch(
            f"/v3/edit/urls/{made.url_id}",
            json={"archived_at": datetime.now(UTC).isoformat()},
            headers=made.account.headers,
        )
        assert archived.status_code == 200, archived.text
    answer = await client.get(made.config_path, headers=PAGE)
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "ETag" not in answer.headers
    assert HOST in answer.json()["message"]


async def test_a_host_disabled_later_is_refused_even_for_a_version_it_holds(
    client: httpx.AsyncClient, live: Shop, app: FastAPI
) -> None:
    etag = (await client.get(live.config_path, headers=PAGE)).headers["ETag"]
    disabled = await client.patch(f"/v3/edit/urls/{live.url_id}", json={"enabled": "off"}, headers=live.account.headers)
    assert disabled.status_code == 200, disabled.text
    # Each process keeps a decision for a few seconds; expire this one rather than wait.
    app.state.host_authorizer.forget(live.account.account_id)
    answer = await client.get(live.config_path, headers={**PAGE, "If-None-Match": etag})
    assert answer.status_code == 403


async def test_an_unknown_host_gets_its_url_off_and_no_configuration(client: httpx.AsyncClient, live: Shop) -> None:
    answer = await client.get(live.config_path, headers={"Origin": "https://copycat.example"})
    assert answer.status_code == 403
    urls = (await client.get("/v3/edit/urls", headers=live.account.headers)).json()["urls"]
    made = next(u for u in urls if u["host"] == "copycat.example")
    assert made["enabled"] == "off"
    assert made["installed_at"] is not None and made["first_seen_at"] is not None


async def test_a_new_subdomain_of_a_subdomain_url_is_enabled_on_first_contact(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, enabled="subdomain")
    answer = await client.get(made.config_path, headers={"Origin": "https://eu.shop.example:8443"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "https://eu.shop.example:8443"
    urls = (await client.get("/v3/edit/urls", headers=made.account.headers)).json()["urls"]
    assert {u["host"]: u["enabled"] for u in urls}["eu.shop.example"] == "on"


@pytest.mark.parametrize("code", ["nosuchsite", "nul%00code", "x" * 500])
async def test_an_unknown_site_is_not_found(client: httpx.AsyncClient, code: str) -> None:
    answer = await client.get(f"/data/v1/sites/{code}/config", headers=PAGE)
    assert answer.status_code == 404


async def test_preflight_is_answered_for_enabled_hosts_only(client: httpx.AsyncClient, live: Shop) -> None:
    asked = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"}
    allowed = await client.options(live.config_path, headers={**PAGE, **asked})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "If-None-Match" in allowed.headers["Access-Control-Allow-Headers"]
    assert int(allowed.headers["Access-Control-Max-Age"]) > 0
    refused = await client.options(live.config_path, headers={"Origin": "https://evil.example", **asked})
    assert refused.status_code == 403


async def test_a_change_reaches_pages_once_the_processes_copy_expires(
    client: httpx.AsyncClient, live: Shop, app: FastAPI
) -> None:
    now = [1000.0]
    kept = app.state.page_configurations
    app.state.page_configurations = ConfigurationCache(ttl=5, clock=lambda: now[0])
    try:
        before = (await client.get(live.config_path, headers=PAGE)).headers["ETag"]
        paused = await client.patch(
            f"/experiments/{live.experiment_id}", params={"action": "PAUSE"}, headers=live.account.headers
        )
        assert paused.status_code == 200
        now[0] += 4.9
        assert (await client.get(live.config_path, headers={**PAGE, "If-None-Match": before})).status_code == 304
        now[0] += 0.2
        after = await client.get(live.config_path, headers={**PAGE, "If-None-Match": before})
        assert after.status_code == 200 and after.json()["experiments"] == []
    finally:
        app.state.page_configurations = kept


def test_a_pattern_or_tree_stored_before_todays_rules_is_left_unparsed_not_fatal() -> None:
    old_tree = {"firstLevel": [{"conditions": [{"targetingType": "PAGE_URL", "matchType": "REGULAR_EXPRESSION"}]}]}
    goals = [
        {"matchType": "REGULAR_EXPRESSION", "matchString": "(?=a)"},
        {"matchType": "REGULAR_EXPRESSION", "matchString": "b+"},
        {"matchType": "CONTAINS", "matchString": "c"},
    ]
    assert parsed_patterns([old_tree], goals) == {"b+": {"ignoreCase": False, "tree": ["rep", 1, None, 98]}}


async def test_active_personalizations_come_with_their_code_and_segment(
    client: httpx.AsyncClient, live: Shop, app: FastAPI
) -> None:
    tree = {"firstLevel": [{"conditions": [{"targetingType": "NEW_VISITORS", "include": True}]}]}
    segment = await created(
        client, live.account, "/segments", {"name": "New", "siteId": live.site_id, "conditionsData": tree}
    )
    body = {"siteId": live.site_id, "targetingSegmentId": segment["id"], "javaScriptCode": "hi()", "cssCode": "p{}"}
    shown = await created(client, live.account, "/personalizations", {"name": "Welcome", **body})
    await created(client, live.account, "/personalizations", {"name": "Draft", **body})
    expire(app, live)
    assert (await client.get(live.config_path, headers=PAGE)).json()["personalizations"] == [], "drafts are not served"
    activated = await client.patch(
        f"/personalizations/{shown['id']}", params={"action": "ACTIVATE"}, headers=live.account.headers
    )
    assert activated.status_code == 200, activated.text
    expire(app, live)
    config = (await client.get(live.config_path, headers=PAGE)).json()
    assert config["personalizations"] == [
        {
            "id": shown["id"],
            "name": "Welcome",
            "targetingSegmentId": segment["id"],
            "javaScriptCode": "hi()",
            "cssCode": "p{}",
        }
    ]
    assert [s["id"] for s in config["segments"]] == [segment["id"]], "its segment comes with it"
    await client.patch(f"/personalizations/{shown['id']}", params={"action": "PAUSE"}, headers=live.account.headers)
    expire(app, live)
    assert (await client.get(live.config_path, headers=PAGE)).json()["personalizations"] == []

"""Experiments over HTTP: create, read, change, duplicate, delete, list; and every way a request is refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.resources import experiment_fixtures as make
from versicolor.api.automation.experiments import EXPERIMENT_FIELDS
from versicolor.core.roles import Role

FIELDS = {
    "id",
    "name",
    "key",
    "siteId",
    "baseURL",
    "type",
    "status",
    "description",
    "tags",
    "variations",
    "deviations",
    "mainGoalId",
    "targetingSegmentId",
    "commonJavaScriptCode",
    "commonCssCode",
    "dateCreated",
    "dateModified",
    "dateStarted",
    "dateEnded",
    "dateStatusModified",
    "dateScheduledStart",
    "dateScheduledEnd",
    "siteCode",
    "targetingConfiguration",
    "isArchived",
    "trackingTools",
    "schedules",
}


async def test_create_answers_every_field_with_its_default(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    created = await make.experiment(client, account, site["id"], variations=None)
    assert set(created) == FIELDS, "goals and globalScript only with optionalFields"
    assert created["siteCode"] == site["code"] and created["isArchived"] is False
    assert created["trackingTools"] == [] and created["schedules"] == [] and created["targetingConfiguration"] is None
    assert created["status"] == "DRAFT"
    assert created["type"] == "CLASSIC"
    assert created["siteId"] == site["id"]
    assert created["baseURL"] == "https://shop.example/cart"
    (first,) = created["variations"]
    assert created["tags"] == []
    assert created["deviations"] == {"origin": 0.5, str(first): 0.5}
    assert created["dateCreated"].endswith("Z")
    assert created["dateStarted"] is None and created["dateEnded"] is None
    fetched = await client.get(f"/experiments/{created['id']}", headers=account.headers)
    assert fetched.json() == created


async def test_a_new_experiment_comes_with_its_first_variation(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    created = await make.experiment(client, account, site["id"], variations=None)
    (first,) = created["variations"]
    variation = await client.get(f"/variations/{first}", headers=account.headers)
    assert variation.status_code == 200, variation.text
    shown = variation.json()
    assert (shown["name"], shown["experimentId"], shown["siteId"]) == ("Variation 1", created["id"], site["id"])
    assert shown["jsCode"] is None and shown["cssCode"] is None and shown["redirection"] is None
    # A Kameleoon client puts its code in it right away.
    coded = await client.patch(f"/variations/{first}", json={"jsCode": "go();"}, headers=account.headers)
    assert coded.status_code == 200 and coded.json()["jsCode"] == "go();", coded.text

    # Deviations given with the create follow the usual rules: the first variation has the share it is given...
    split = await make.experiment(client, account, site["id"], variations=None, deviations={"origin": 0.2})
    (other,) = split["variations"]
    assert split["deviations"] == {"origin": 0.2}, "a split that leaves it out gives it no traffic"
    given = await client.post(
        "/experiments",
        json={"name": "Given", "siteId": site["id"], "baseURL": "https://shop.example/", "deviations": {"999999": 0.5}},
        headers=account.headers,
    )
    assert given.status_code == 400 and "deviations" in given.text, "its id cannot be known before it exists"
    # ...and a create that names its variations gets those and no first variation.
    bare = await make.experiment(client, account, site["id"], variations=[])
    assert bare["variations"] == [] and bare["deviations"] == {"origin": 1.0}
    loose = await client.post("/variations", json={"name": "Loose", "siteId": site["id"]}, headers=account.headers)
    named = await make.experiment(client, account, site["id"], variations=[loose.json()["id"]])
    assert named["variations"] == [loose.json()["id"]]
    assert other not in named["variations"]


async def test_a_refused_create_leaves_no_first_variation_behind(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    refused = await client.post(
        "/experiments",
        json={"name": "Broken", "siteId": site["id"], "baseURL": "https://shop.example/", "mainGoalId": 999999},
        headers=account.headers,
    )
    assert refused.status_code == 404, refused.text
    listed = await client.get("/variations", headers=account.headers)
    assert listed.status_code == 200 and listed.json() == [], "the variation goes with the experiment's transaction"


async def test_create_with_every_field(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    goal = await make.goal(client, account, site["id"])
    segment = await make.segment(client, account, site["id"])
    answer = await client.post(
        "/experiments",
        params={"optionalFields": "goals"},
        json={
            "name": "Hero banner",
            "siteId": site["id"],
            "baseURL": "https://shop.example/",
            "type": "DEVELOPER",
            "description": "Does a bigger banner sell more?",
            "tags": ["home", "q3"],
            "goals": [goal["id"]],
            "mainGoalId": goal["id"],
            "targetingSegmentId": segment["id"],
            "commonJavaScriptCode": "window.x = 1;\r\n",
            "commonCssCode": ".hero { }",
        },
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["type"] == "DEVELOPER"
    assert created["tags"] == ["home", "q3"]
    assert created["goals"] == [goal["id"]]
    assert created["mainGoalId"] == goal["id"]
    assert created["targetingSegmentId"] == segment["id"]
    assert created["commonJavaScriptCode"] == "window.x = 1;\r\n"


async def test_goals_are_shown_only_when_asked_for(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    path = f"/experiments/{ready.id}"
    assert "goals" not in (await client.get(path, headers=account.headers)).json()
    assert (await client.get(path, params={"optionalFields": "goals"}, headers=account.headers)).json()["goals"] == [
        ready.goal["id"]
    ]
    listed = await client.get("/experiments", params={"optionalFields": "goals"}, headers=account.headers)
    assert listed.json()[0]["goals"] == [ready.goal["id"]]
    assert "goals" not in (await client.get("/experiments", headers=account.headers)).json()[0]
    searched = await client.post("/experiments/search", json={"optionalFields": ["goals"]}, headers=account.headers)
    assert searched.json()[0]["goals"] == [ready.goal["id"]]
    for where in (path, "/experiments"):
        refused = await client.get(where, params={"optionalFields": "secrets"}, headers=account.headers)
        assert refused.status_code == 400
        assert "secrets" in refused.json()["message"] and "goals" in refused.json()["message"]


@pytest.mark.parametrize("missing", ["name", "siteId", "baseURL"])
async def test_required_fields(client: httpx.AsyncClient, factory: Factory, missing: str) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    body = {"name": "A", "siteId": site["id"], "baseURL": "https://shop.example/"}
    del body[missing]
    answer = await client.post("/experiments", json=body, headers=account.headers)
    assert answer.status_code == 400
    assert answer.json()["details"] == [{"field": missing, "message": "is required"}]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("type", "SPLIT", "'CLASSIC', 'DEVELOPER', 'AI', 'MVT' or 'SDK_HYBRID'"),
        ("type", None, "cannot be null"),
        ("baseURL", "shop.example", "must be an http:// or https:// URL"),
        ("baseURL", "ftp://shop.example/", "must be an http:// or https:// URL"),
        ("name", "   ", "must be 1 to 200 characters"),
        ("name", "x" * 201, "at most 200 characters"),
        ("tags", "home", "valid list"),
        ("goals", ["one"], "valid integer"),
        ("deviations", {"origin": "half"}, "valid number"),
        ("colour", "red", "is not a known field"),
    ],
)
async def test_invalid_fields_are_named(
    client: httpx.AsyncClient, factory: Factory, field: str, value: Any, words: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    body = {"name": "A", "siteId": site["id"], "baseURL": "https://shop.example/", field: value}
    answer = await client.post("/experiments", json=body, headers=account.headers)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["details"][0]
    assert detail["field"].split(".")[0] == field
    assert words in detail["message"]


async def test_body_must_be_json(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/experiments", content="name=A", headers=account.headers)
    assert answer.status_code == 400
    assert "Content-Type: application/json" in answer.json()["message"]


async def test_another_accounts_objects_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    their = await make.ready(client, theirs)
    their_segment = await make.segment(client, theirs, their.site["id"])
    my_site = await make.site(client, mine)
    mine_exp = await make.experiment(client, mine, my_site["id"])
    body = {"name": "A", "siteId": their.site["id"], "baseURL": "https://x.example/"}
    assert (await client.post("/experiments", json=body, headers=mine.headers)).status_code == 404
    for patch, what in [
        ({"mainGoalId": their.goal["id"]}, f"goal {their.goal['id']} not found"),
        ({"goals": [their.goal["id"]]}, f"goal {their.goal['id']} not found"),
        ({"targetingSegmentId": their_segment["id"]}, f"segment {their_segment['id']} not found"),
        ({"variations": [their.variation["id"]]}, f"variation {their.variation['id']} not found"),
    ]:
        answer = await client.patch(f"/experiments/{mine_exp['id']}", json=patch, headers=mine.headers)
        assert answer.status_code == 404, (patch, answer.text)
        assert answer.json()["message"] == what
    path = f"/experiments/{their.id}"
    for method, url, body in [
        ("GET", path, None),
        ("PATCH", path, {"name": "Mine"}),
        ("PATCH", f"{path}?action=ACTIVATE", None),
        ("PUT", path, {"name": "Mine", "baseURL": "https://x.example/"}),
        ("DELETE", path, None),
        ("POST", f"{path}/duplicate", None),
    ]:
        answer = await client.request(method, url, json=body, headers=mine.headers)
        assert answer.status_code == 404, (method, url, answer.text)
        assert answer.json()["message"] == f"experiment {their.id} not found"
    assert (await client.get("/experiments", headers=mine.headers)).json()[0]["id"] == mine_exp["id"]
    assert (await client.get(path, headers=theirs.headers)).json() == their.experiment


async def test_objects_of_another_site_cannot_be_linked(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await make.site(client, account, "A"), await make.site(client, account, "B")
    goal_a = await make.goal(client, account, site_a["id"])
    segment_a = await make.segment(client, account, site_a["id"])
    experiment_a = await make.experiment(client, account, site_a["id"])
    variation_a = await make.variation(client, account, experiment_a["id"])
    orphan_a = await make.post(client, account, "/variations", {"name": "Loose", "siteId": site_a["id"]})
    experiment_b = await make.experiment(client, account, site_b["id"])
    for patch, field, what in [
        ({"mainGoalId": goal_a["id"]}, "mainGoalId", f"goal {goal_a['id']}"),
        ({"goals": [goal_a["id"]]}, "goals", f"goal {goal_a['id']}"),
        ({"targetingSegmentId": segment_a["id"]}, "targetingSegmentId", f"segment {segment_a['id']}"),
        ({"variations": [orphan_a["id"]]}, "variations", f"variation {orphan_a['id']}"),
    ]:
        answer = await client.patch(f"/experiments/{experiment_b['id']}", json=patch, headers=account.headers)
        assert answer.status_code == 400, (patch, answer.text)
        assert answer.json()["details"] == [
            {
                "field": field,
                "message": f"{what} belongs to site {site_a['id']}, not to the experiment's site {site_b['id']}",
            }
        ]
    create_b = {"name": "B", "siteId": site_b["id"], "baseURL": "https://b.example/", "goals": [goal_a["id"]]}
    assert (await client.post("/experiments", json=create_b, headers=account.headers)).status_code == 400
    # A variation that already belongs to an experiment cannot join another one.
    experiment_a2 = await make.experiment(client, account, site_a["id"])
    taken = await client.patch(
        f"/experiments/{experiment_a2['id']}", json={"variations": [variation_a["id"]]}, headers=account.headers
    )
    assert taken.status_code == 400
    assert f"belongs to experiment {experiment_a['id']}" in taken.json()["message"]


async def test_viewer_reads_and_searches_but_cannot_write(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    ready = await make.ready(client, account)
    path = f"/experiments/{ready.id}"
    assert (await client.get(path, headers=viewer.headers)).status_code == 200
    assert (await client.get("/experiments", headers=viewer.headers)).status_code == 200
    assert (await client.post("/experiments/search", json={}, headers=viewer.headers)).status_code == 200
    body = {"name": "A", "siteId": ready.site["id"], "baseURL": "https://shop.example/"}
    for method, url, sent in [
        ("POST", "/experiments", body),
        ("PATCH", path, {"name": "Viewer's"}),
        ("PATCH", f"{path}?action=ACTIVATE", None),
        ("PUT", path, body),
        ("DELETE", path, None),
        ("POST", f"{path}/duplicate", None),
    ]:
        answer = await client.request(method, url, json=sent, headers=viewer.headers)
        assert answer.status_code == 403, (method, url)
        assert "VIEWER" in answer.json()["message"]
    assert (await client.get(path, headers=account.headers)).json() == ready.experiment
    editor = await factory.member(account, Role.EDITOR)
    assert (await client.patch(f"{path}?action=ACTIVATE", headers=editor.headers)).status_code == 200


async def test_patch_changes_only_what_it_names_and_replaces_arrays(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    second = await make.goal(client, account, ready.site["id"], name="Signup")
    path = f"/experiments/{ready.id}"
    first = await client.patch(
        path,
        json={"tags": ["a", "b"], "description": "why", "goals": [ready.goal["id"], second["id"]]},
        headers=account.headers,
    )
    assert first.status_code == 200, first.text
    patched = await client.patch(
        path,
        params={"optionalFields": "goals"},
        json={"tags": ["c"], "goals": [ready.goal["id"]]},
        headers=account.headers,
    )
    result = patched.json()
    assert result["tags"] == ["c"]
    assert result["goals"] == [ready.goal["id"]]
    assert result["description"] == "why"
    assert result["name"] == ready.experiment["name"]
    assert result["variations"] == ready.experiment["variations"]
    assert result["dateModified"] > ready.experiment["dateModified"]
    cleared = await client.patch(path, json={"description": None, "mainGoalId": None}, headers=account.headers)
    assert cleared.json()["description"] is None and cleared.json()["mainGoalId"] is None
    for field in ("name", "baseURL", "tags", "goals", "variations"):
        refused = await client.patch(path, json={field: None}, headers=account.headers)
        assert refused.status_code == 400
        assert refused.json()["details"] == [{"field": field, "message": "cannot be null"}]


async def test_put_replaces_the_object_but_keeps_variations(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    path = f"/experiments/{ready.id}"
    await client.patch(path, json={"tags": ["a"], "description": "why", "type": "AI"}, headers=account.headers)
    replaced = await client.put(
        path,
        params={"optionalFields": "goals"},
        json={"name": "Fresh", "baseURL": "https://shop.example/new"},
        headers=account.headers,
    )
    assert replaced.status_code == 200, replaced.text
    result = replaced.json()
    assert result["name"] == "Fresh" and result["baseURL"] == "https://shop.example/new"
    assert result["type"] == "CLASSIC" and result["tags"] == [] and result["description"] is None
    assert result["goals"] == [] and result["mainGoalId"] is None
    assert result["variations"] == ready.experiment["variations"]
    required = await client.put(path, json={"name": "No URL"}, headers=account.headers)
    assert required.status_code == 400
    assert required.json()["details"] == [{"field": "baseURL", "message": "is required"}]


async def test_what_a_get_returns_can_be_put_back(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    path = f"/experiments/{ready.id}"
    got = (await client.get(path, params={"optionalFields": "goals"}, headers=account.headers)).json()
    put = await client.put(path, params={"optionalFields": "goals"}, json=got, headers=account.headers)
    assert put.status_code == 200, put.text
    assert {k: v for k, v in put.json().items() if k != "dateModified"} == {
        k: v for k, v in got.items() if k != "dateModified"
    }
    for field, value, words in [
        ("id", ready.id + 1000, "the path names experiment"),
        ("siteId", ready.site["id"] + 1000, "cannot move to another site"),
        ("status", "ACTIVE", "?action="),
    ]:
        answer = await client.put(path, json={**got, field: value}, headers=account.headers)
        assert answer.status_code == 400, field
        assert answer.json()["details"][0]["field"] == field
        assert words in answer.json()["message"]


async def test_variations_attach_and_detach_through_the_experiment(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    loose = [await make.post(client, account, "/variations", {"name": f"V{i}", "siteId": site["id"]}) for i in (1, 2)]
    ids = [v["id"] for v in loose]
    path = f"/experiments/{experiment['id']}"
    attached = await client.patch(path, json={"variations": ids}, headers=account.headers)
    assert attached.json()["variations"] == ids
    assert attached.json()["deviations"] == pytest.approx({"origin": 1 / 3, str(ids[0]): 1 / 3, str(ids[1]): 1 / 3})
    for variation_id in ids:
        got = await client.get(f"/variations/{variation_id}", headers=account.headers)
        assert got.json()["experimentId"] == experiment["id"]
    detached = await client.patch(path, json={"variations": [ids[1]]}, headers=account.headers)
    assert detached.json()["variations"] == [ids[1]]
    assert detached.json()["deviations"] == {"origin": 0.5, str(ids[1]): 0.5}
    assert (await client.get(f"/variations/{ids[0]}", headers=account.headers)).json()["experimentId"] is None


async def test_duplicate_copies_setup_and_variations(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    path = f"/experiments/{ready.id}"
    custom = {"origin": 0.3, str(ready.variation["id"]): 0.6}
    await client.patch(
        path, params={"action": "ACTIVATE"}, json={"deviations": custom, "tags": ["t"]}, headers=account.headers
    )
    answer = await client.post(f"{path}/duplicate", params={"optionalFields": "goals"}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    copy = answer.json()
    assert copy["id"] != ready.id
    assert copy["name"] == "Checkout button (copy)"
    assert copy["status"] == "DRAFT" and copy["dateStarted"] is None
    assert copy["goals"] == [ready.goal["id"]] and copy["mainGoalId"] == ready.goal["id"]
    assert copy["tags"] == ["t"]
    (twin_id,) = copy["variations"]
    assert twin_id != ready.variation["id"]
    assert copy["deviations"] == {"origin": 0.3, str(twin_id): 0.6}
    twin = (await client.get(f"/variations/{twin_id}", headers=account.headers)).json()
    assert twin["jsCode"] == ready.variation["jsCode"] and twin["experimentId"] == copy["id"]
    named = await client.post(f"{path}/duplicate", json={"name": "Round 2"}, headers=account.headers)
    assert named.json()["name"] == "Round 2"
    assert (
        await client.patch(f"/experiments/{copy['id']}?action=ACTIVATE", headers=account.headers)
    ).status_code == 200


async def test_common_code_is_kept_exactly_and_limited_to_256_kib(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    experiment = await make.experiment(client, account, site["id"])
    path = f"/experiments/{experiment['id']}"
    exact = "  // héllo 👋\r\n\tif (a<b && c>d) { x = '\\u0041'; }  \n\n"
    kept = await client.patch(
        path, json={"commonJavaScriptCode": exact, "commonCssCode": exact}, headers=account.headers
    )
    assert kept.json()["commonJavaScriptCode"] == exact and kept.json()["commonCssCode"] == exact
    at_limit = "a" * (256 * 1024)
    assert (await client.patch(path, json={"commonCssCode": at_limit}, headers=account.headers)).status_code == 200
    for field in ("commonJavaScriptCode", "commonCssCode"):
        over = await client.patch(path, json={field: at_limit + "é"}, headers=account.headers)
        assert over.status_code == 400
        assert over.json()["details"] == [
            {"field": field, "message": "is 262146 bytes of UTF-8; the limit is 262144 bytes (256 KiB)"}
        ]


async def test_list_filters_sorts_and_pages(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site_a, site_b = await make.site(client, account, "A"), await make.site(client, account, "B")
    made = [
        await make.experiment(client, account, site["id"], name=name)
        for site, name in [(site_a, "beta"), (site_a, "Alpha"), (site_b, "gamma")]
    ]
    await client.patch(f"/experiments/{made[0]['id']}", params={"action": "DEACTIVATE"}, headers=account.headers)

    async def names(**params: Any) -> list[str]:
        encoded = {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}
        answer = await client.get("/experiments", params=encoded, headers=account.headers)
        assert answer.status_code == 200, answer.text
        return [e["name"] for e in answer.json()]

    assert await names(filter=[{"field": "siteId", "operator": "EQUAL", "parameters": [site_a["id"]]}]) == [
        "beta",
        "Alpha",
    ]
    assert await names(filter=[{"field": "status", "operator": "EQUAL", "parameters": ["DRAFT"]}]) == ["Alpha", "gamma"]
    assert await names(filter=[{"field": "name", "operator": "CONTAINS", "parameters": ["AMM"]}]) == ["gamma"]
    assert await names(sort=[{"field": "name", "direction": "DESC"}]) == ["gamma", "beta", "Alpha"]
    assert await names(perPage="2", page="2") == ["gamma"]
    refused = await client.get(
        "/experiments",
        params={"filter": json.dumps([{"field": "tags", "operator": "EQUAL", "parameters": ["x"]}])},
        headers=account.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["message"] == "Cannot filter or sort by given field: tags"
    bad_status = await client.get(
        "/experiments",
        params={"filter": json.dumps([{"field": "status", "operator": "EQUAL", "parameters": ["RUNNING"]}])},
        headers=account.headers,
    )
    assert bad_status.status_code == 400
    searched = await client.post(
        "/experiments/search",
        json={
            "filter": [{"field": "name", "operator": "LIKE", "parameters": ["%a"]}],
            "sort": [{"field": "id", "direction": "DESC"}],
        },
        headers=account.headers,
    )
    assert [e["name"] for e in searched.json()] == ["gamma", "Alpha", "beta"]
    assert searched.headers["X-Total-Count"] == "3"


async def test_every_scalar_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    segment = await make.segment(client, account, ready.site["id"])
    await client.patch(
        f"/experiments/{ready.id}",
        params={"action": "ACTIVATE"},
        json={"description": "Bigger", "targetingSegmentId": segment["id"], "commonCssCode": "a{}", "type": "AI"},
        headers=account.headers,
    )
    other_site = await make.site(client, account, "Other")
    await make.experiment(client, account, other_site["id"], name="bare", commonJavaScriptCode="x()")
    scheduled = await make.ready(client, account)
    await client.patch(
        f"/experiments/{scheduled.id}",
        params={"action": "SCHEDULE", "dateStart": "2999-01-01T00:00:00Z", "dateEnd": "2999-02-01T00:00:00Z"},
        headers=account.headers,
    )
    assert len((await client.get("/experiments", headers=account.headers)).json()) == 3
    await make.check_every_field(client, factory, account, "/experiments", EXPERIMENT_FIELDS)

"""The list query language over HTTP, through `/sites` (the reference resource): what a client sees."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests import factories
from tests.factories import Factory
from versicolor.api.conventions import listing


async def _sites(
    client: httpx.AsyncClient, account: factories.TestAccount, names: list[str | tuple[str, str | None]]
) -> list[dict[str, Any]]:
    made = []
    for entry in names:
        # A host made of the name's letters and digits: names here hold spaces and quotes no URL may.
        host = re.sub(r"[^a-z0-9]+", "-", entry.lower()).strip("-") if isinstance(entry, str) else ""
        name, url = entry if isinstance(entry, tuple) else (entry, f"https://{host or 'site'}.example")
        answer = await client.post("/sites", json={"name": name, "url": url}, headers=account.headers)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    return made


def _q(value: Any) -> str:
    return json.dumps(value)


def _links(answer: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """rel -> the link's query parameters."""
    links = {}
    for part in answer.headers["link"].split(", "):
        target, rel = part.split("; ")
        links[rel.removeprefix('rel="').removesuffix('"')] = parse_qs(urlsplit(target.strip("<>")).query)
    return links


async def test_pages_carry_total_and_links(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["a", "b", "c", "d", "e"])
    answer = await client.get("/sites", params={"perPage": 2, "page": 2}, headers=account.headers)
    assert answer.status_code == 200
    assert [s["id"] for s in answer.json()] == [made[2]["id"], made[3]["id"]]
    assert answer.headers["x-total-count"] == "5"
    links = _links(answer)
    assert links["prev"]["page"] == ["1"] and links["next"]["page"] == ["3"]
    assert links["first"]["page"] == ["1"] and links["last"]["page"] == ["3"]
    assert links["next"]["perPage"] == ["2"]
    last = await client.get("/sites", params={"perPage": 2, "page": 3}, headers=account.headers)
    assert [s["id"] for s in last.json()] == [made[4]["id"]]
    assert "next" not in _links(last)


async def test_default_page_is_twenty_and_minus_one_is_two_hundred(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    await _sites(client, account, [f"s{i:02}" for i in range(23)])
    default = await client.get("/sites", headers=account.headers)
    assert len(default.json()) == 20 and default.headers["x-total-count"] == "23"
    everything = await client.get("/sites", params={"perPage": -1}, headers=account.headers)
    assert len(everything.json()) == 23
    assert _links(everything)["last"]["perPage"] == ["200"]


async def test_a_page_past_the_end_is_empty_not_an_error(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    await _sites(client, account, ["only"])
    answer = await client.get("/sites", params={"page": 9}, headers=account.headers)
    assert answer.status_code == 200 and answer.json() == []
    assert answer.headers["x-total-count"] == "1"
    assert _links(answer)["prev"]["page"] == ["1"]


async def test_filter_and_sort_with_id_breaking_ties(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["Shop", "shop", "Blog", "Shop"])
    answer = await client.get(
        "/sites",
        params={
            "filter": _q([{"field": "name", "operator": "CONTAINS", "parameters": ["SHO"]}]),
            "sort": _q([{"field": "name", "direction": "DESC"}]),
        },
        headers=account.headers,
    )
    assert answer.status_code == 200, answer.text
    # "shop" > "Shop" by code point; the two "Shop" keep id order.
    assert [s["id"] for s in answer.json()] == [made[1]["id"], made[0]["id"], made[3]["id"]]


async def test_equal_with_several_parameters_means_any_of(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["a", "b", "c"])
    answer = await client.get(
        "/sites",
        params={"filter": _q([{"field": "name", "operator": "EQUAL", "parameters": ["a", "c"]}])},
        headers=account.headers,
    )
    assert [s["id"] for s in answer.json()] == [made[0]["id"], made[2]["id"]]


async def test_nulls_come_first_on_asc_and_last_on_desc(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, [("x", "https://b.example"), ("y", None), ("z", "https://a.example")])
    ids = [m["id"] for m in made]
    asc = await client.get(
        "/sites", params={"sort": _q([{"field": "url", "direction": "ASC"}])}, headers=account.headers
    )
    assert [s["id"] for s in asc.json()] == [ids[1], ids[2], ids[0]]
    desc = await client.get(
        "/sites", params={"sort": _q([{"field": "url", "direction": "DESC"}])}, headers=account.headers
    )
    assert [s["id"] for s in desc.json()] == [ids[0], ids[2], ids[1]]
    missing = await client.get(
        "/sites", params={"filter": _q([{"field": "url", "operator": "IS_NULL"}])}, headers=account.headers
    )
    assert [s["id"] for s in missing.json()] == [ids[1]]


async def test_contains_treats_percent_and_underscore_literally_but_like_does_not(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["50% off", "500 off", "a_b", "axb"])
    ids = [m["id"] for m in made]

    async def names(operator: str, parameter: str) -> list[int]:
        answer = await client.get(
            "/sites",
            params={"filter": _q([{"field": "name", "operator": operator, "parameters": [parameter]}])},
            headers=account.headers,
        )
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()]

    assert await names("CONTAINS", "0%") == [ids[0]]
    assert await names("LIKE", "50%") == [ids[0], ids[1]]
    assert await names("CONTAINS", "_") == [ids[2]]
    assert await names("LIKE", "a_b") == [ids[2], ids[3]]
    assert await names("LIKE", "a\\_b") == [ids[2]]
    assert await names("LIKE", "A_B") == [ids[2], ids[3]]


async def test_search_body_gives_what_the_query_string_gives(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    await _sites(client, account, ["alpha", "beta", "gamma", "delta", "alphabet"])
    query = {
        "filter": [{"field": "name", "operator": "LIKE", "parameters": ["%a"]}],
        "sort": [{"field": "name", "direction": "ASC"}],
        "page": 1,
        "perPage": 2,
    }
    searched = await client.post("/sites/search", json=query, headers=account.headers)
    listed = await client.get(
        "/sites",
        params={"filter": _q(query["filter"]), "sort": _q(query["sort"]), "page": 1, "perPage": 2},
        headers=account.headers,
    )
    assert searched.status_code == 200, searched.text
    assert searched.json() == listed.json()
    assert [s["name"] for s in searched.json()] == ["alpha", "beta"]
    assert searched.headers["x-total-count"] == listed.headers["x-total-count"] == "4"
    # The search's next page is an ordinary GET of the collection with the same filter.
    link = searched.headers["link"].split(", ")[1]
    assert link.endswith('rel="next"')
    url = link.split(";")[0].strip("<>")
    assert urlsplit(url).path == "/sites"
    following = await client.get(url, headers=account.headers)
    assert [s["name"] for s in following.json()] == ["delta", "gamma"]


async def test_search_accepts_one_filter_object_and_an_empty_body(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["a", "b"])
    one = await client.post(
        "/sites/search",
        json={"filter": {"field": "name", "operator": "EQUAL", "parameters": ["b"]}},
        headers=account.headers,
    )
    assert [s["id"] for s in one.json()] == [made[1]["id"]]
    empty = await client.post("/sites/search", headers=account.headers)
    assert empty.status_code == 200 and len(empty.json()) == 2


async def test_lists_show_only_the_callers_account(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    await _sites(client, theirs, ["theirs"])
    everything = {"filter": _q([{"field": "id", "operator": "GREATER", "parameters": [0]}])}
    answer = await client.get("/sites", params=everything, headers=mine.headers)
    assert answer.json() == [] and answer.headers["x-total-count"] == "0"
    searched = await client.post("/sites/search", json={}, headers=mine.headers)
    assert searched.json() == []


def _filter(field: Any, operator: Any, parameters: Any = None) -> dict[str, str]:
    entry: dict[str, Any] = {"field": field, "operator": operator}
    if parameters is not None:
        entry["parameters"] = parameters
    return {"filter": _q([entry])}


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"perPage": "500"}, "perPage", "perPage must be between 1 and 200, or -1"),
        ({"perPage": "0"}, "perPage", "perPage must be between 1 and 200, or -1"),
        ({"perPage": "-2"}, "perPage", "perPage must be between 1 and 200, or -1"),
        ({"perPage": "ten"}, "perPage", "perPage must be between 1 and 200, or -1"),
        ({"page": "0"}, "page", "page must be a whole number from 1"),
        ({"page": "x"}, "page", "page must be a whole number from 1"),
        ({"filter": '[{"field": '}, "filter", "filter is not valid JSON"),
        ({"filter": '"name"'}, "filter", "filter must be a JSON array"),
        ({"sort": "name"}, "sort", "sort is not valid JSON"),
        (_filter("secret", "EQUAL", ["x"]), "filter[0].field", "Cannot filter or sort by given field: secret"),
        (
            _filter("domainNames", "EQUAL", ["x"]),
            "filter[0].field",
            "Cannot filter or sort by given field: domainNames",
        ),
        (_filter("accountId", "EQUAL", [1]), "filter[0].field", "Cannot filter or sort by given field: accountId"),
        (_filter("id", "EQUAL", ["abc"]), "filter[0].parameters[0]", "'abc' is not a number for field id"),
        (_filter("id", "EQUAL", [1.5]), "filter[0].parameters[0]", "1.5 is not a whole number for field id"),
        (_filter("id", "EQUAL", [2**63]), "filter[0].parameters[0]", "out of range for field id"),
        (_filter("id", "BETWEEN", [1]), "filter[0].parameters", "BETWEEN needs two parameters"),
        (_filter("id", "BETWEEN", [5, 1]), "filter[0].parameters", "BETWEEN takes the lower bound first"),
        (_filter("id", "LESS", [1, 2]), "filter[0].parameters", "LESS needs exactly one parameter"),
        (_filter("id", "EQUAL", []), "filter[0].parameters", "EQUAL needs at least one parameter"),
        (_filter("id", "EQUAL", "5"), "filter[0].parameters", "parameters must be a JSON array"),
        (_filter("url", "IS_NULL", ["x"]), "filter[0].parameters", "IS_NULL takes no parameters"),
        (_filter("id", "ABOUT", [1]), "filter[0].operator", "unknown operator 'ABOUT'; use one of EQUAL, NOT_EQUAL"),
        (_filter("id", "LIKE", ["1%"]), "filter[0].operator", "operator LIKE does not apply to field id"),
        (_filter("name", "EQUAL", [5]), "filter[0].parameters[0]", "5 is not a string for field name"),
        (_filter("name", "EQUAL", ["a\x00b"]), "filter[0].parameters[0]", "characters text cannot hold"),
        (_filter("dateCreated", "GREATER", ["yesterday"]), "filter[0].parameters[0]", "not an ISO-8601 date-time"),
        (
            {"filter": _q([{"field": "id", "operator": "EQUAL", "parameter": [1]}])},
            "filter[0]",
            "unknown key 'parameter'",
        ),
        ({"sort": _q([{"field": "name", "direction": "UP"}])}, "sort[0].direction", "direction must be ASC or DESC"),
        (
            {"sort": _q([{"field": "clientSecret"}])},
            "sort[0].field",
            "Cannot filter or sort by given field: clientSecret",
        ),
        ({"optionalFields": "goals"}, "optionalFields", "unknown optional field 'goals'"),
    ],
)
async def test_malformed_list_queries_are_400s_naming_the_parameter(
    client: httpx.AsyncClient, factory: Factory, params: dict[str, str], field: str, fragment: str
) -> None:
    account = await factory.account()
    answer = await client.get("/sites", params=params, headers=account.headers)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["status"] == 400 and body["error"] == "Bad Request"
    assert fragment in body["message"], body
    assert body["details"][0]["field"] == field


async def test_unknown_field_names_the_searchable_ones(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/sites", params=_filter("nme", "EQUAL", ["x"]), headers=account.headers)
    assert answer.json()["message"] == "Cannot filter or sort by given field: nme"
    assert answer.json()["details"][0]["message"] == "searchable fields: code, dateCreated, id, name, url"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([1, 2], "the search body must be a JSON object"),
        ({"filters": []}, "unknown key 'filters' in the search body"),
        ({"perPage": 201}, "perPage must be between 1 and 200, or -1"),
        ({"page": "2x"}, "page must be a whole number"),
        ({"filter": [{"field": "id", "operator": "BETWEEN", "parameters": [1, 2, 3]}]}, "BETWEEN needs two parameters"),
        ({"filter": ["name"]}, "filter[0] must be an object"),
        ({"optionalFields": 3}, "optionalFields must be a list"),
    ],
)
async def test_malformed_search_bodies_are_400s(
    client: httpx.AsyncClient, factory: Factory, body: Any, fragment: str
) -> None:
    account = await factory.account()
    answer = await client.post("/sites/search", json=body, headers=account.headers)
    assert answer.status_code == 400, answer.text
    assert fragment in answer.json()["message"]


async def test_a_hostile_filter_value_is_only_data(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = await _sites(client, account, ["x'); DROP TABLE sites; --"])
    answer = await client.get(
        "/sites", params=_filter("name", "EQUAL", ["x'); DROP TABLE sites; --"]), headers=account.headers
    )
    assert [s["id"] for s in answer.json()] == [made[0]["id"]]
    assert (await client.get("/sites", headers=account.headers)).status_code == 200


def _listings(app: FastAPI) -> list[str]:
    paths = {
        route.path
        for route in app.routes
        if isinstance(route, APIRoute) and "GET" in route.methods and listing.answers_pages(route)
    }
    return sorted(paths)


@pytest.mark.parametrize("name", ["page", "perPage"])
async def test_an_empty_page_or_per_page_is_a_400_naming_it_on_every_listing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, name: str
) -> None:
    # Leaving a parameter out asks for its default; `?page=` is a value, and not a whole number.
    account = await factory.account()
    paths = _listings(app)
    assert "/sites" in paths and "/experiments" in paths, paths
    for path in paths:
        answer = await client.get(f"{path}?{name}=", headers=account.headers)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["details"][0]["field"] == name, (path, answer.text)
    searched = await client.post("/sites/search", json={name: ""}, headers=account.headers)
    assert searched.status_code == 400, searched.text
    assert searched.json()["details"][0]["field"] == name

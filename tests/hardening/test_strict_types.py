"""JSON's types are taken as they are: `true` is not a number, `1` is not `true`, `"5"` or `1.9` no date-time.

Pydantic's lax defaults stored `{"index": true}` as index 1. Every body field of every Automation and v3 route
is tried here (the fields are read from the routes' own body models, so a field added later is tried too),
and so are the values the core checks by hand (deviations, goal params, conditions, search bodies, events).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from tests.factories import Factory, TestAccount
from tests.resources import experiment_fixtures as make
from versicolor.app import create_app
from versicolor.settings import Settings

V3_ID = "0123456789abcdef01234567"

# A JSON type, and values of other JSON types that used to be read as it.
WRONG_VALUES: dict[str, list[Any]] = {
    "integer": [True, False, "5", 1.5],
    "number": [True, "1.5"],
    "boolean": [1, 0, "true"],
    # Seconds since 1970 (lax pydantic took them): a number, as JSON or as text, is not a date-time.
    "date-time": [1.9, 1714564800, "1714564800", True],
}


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        return _resolve(branches[0], defs)
    return schema


def _wrong_bodies(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Iterator[tuple[Any, str]]:
    """Values that put a wrong JSON type somewhere under `schema`, each with the JSON type it should have been."""
    schema = _resolve(schema, defs)
    kind = "date-time" if schema.get("format") == "date-time" else schema.get("type")
    if kind in WRONG_VALUES:
        for wrong in WRONG_VALUES[kind]:
            yield wrong, kind
    elif kind == "array" and "items" in schema and depth < 4:
        for wrong, expected in _wrong_bodies(schema["items"], defs, depth + 1):
            yield [wrong], expected
    elif kind == "object" and depth < 4:
        for name, child in schema.get("properties", {}).items():
            for wrong, expected in _wrong_bodies(child, defs, depth + 1):
                yield {name: wrong}, expected
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for wrong, expected in _wrong_bodies(extra, defs, depth + 1):
                yield {"someKey": wrong}, expected


def _cases() -> list[tuple[str, str, str, Any, str]]:
    """(method, path, top-level field, body, expected type) for every typed field of every route's body model."""
    app: FastAPI = create_app(Settings(database_url="sqlite:///unused.db"))
    cases = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        schema = TypeAdapter(route.body_field.field_info.annotation).json_schema(by_alias=True)
        defs = schema.get("$defs", {})
        for method in sorted(route.methods):
            for body, expected in _wrong_bodies(schema, defs):
                if isinstance(body, dict) and len(body) == 1:
                    (field,) = body
                    cases.append((method, route.path, field, body, expected))
    return cases


# Documented exceptions: the public service's own example sends "referenceVariationId": "0", and Kameleoon's
# clients send deviations' shares as numeric strings ("0.5", docs/resources.md).
SPELLED_AS_DIGITS = {("referenceVariationId", "'5'"), ("deviations", "{'someKey': '1.5'}")}

CASES = [case for case in _cases() if (case[2], repr(case[3][case[2]])) not in SPELLED_AS_DIGITS]


def test_every_body_route_has_typed_fields_to_try() -> None:
    # The walk above must keep finding the fields the issue named; if it found none, the test below could not fail.
    tried = {(path, field) for _, path, field, _, _ in CASES}
    for wanted in [
        ("/custom-datas", "index"),
        ("/variations", "color"),
        ("/goals", "siteId"),
        ("/experiments", "goals"),
        ("/experiments/{experiment_id}/results", "goalsIds"),
        ("/v3/edit/urls", "unlisted"),
        ("/v3/edit/urls", "archived_at"),
        ("/v3/edit/url_groups/{url_group_id}", "archived_at"),
        ("/experiments/{experiment_id}", "dateScheduledStart"),
        ("/experiments/{experiment_id}/results", "dateIntervals"),
    ]:
        assert wanted in tried, wanted
    assert len(CASES) > 100


def _headers(account: TestAccount, path: str) -> dict[str, str]:
    return {"X-Account-Secret": account.account_secret} if path.startswith("/v3/") else account.headers


def _path(template: str, site_id: int) -> str:
    return (
        template.replace("{url_id}", V3_ID)
        .replace("{url_group_id}", V3_ID)
        .replace("{site_id}", str(site_id))
        .replace("{", "")
        .replace("}", "")
        .replace("experiment_id", "1")
        .replace("variation_id", "1")
        .replace("goal_id", "1")
        .replace("segment_id", "1")
        .replace("custom_data_id", "1")
        .replace("user_id", "1")
    )


def _fields_named(answer: httpx.Response) -> list[str]:
    error = answer.json()
    if "details" in error:
        return [detail["field"] for detail in error["details"]]
    return [message.split(":", 1)[0] for message in error["messages"]]


ROUTES = sorted({(method, path) for method, path, _, _, _ in CASES})


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_a_value_of_the_wrong_json_type_is_a_400_naming_its_field(
    client: httpx.AsyncClient, factory: Factory, method: str, template: str
) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    misread = []
    for sent, (_, _, field, body, expected) in enumerate(c for c in CASES if c[:2] == (method, template)):
        if sent and sent % 40 == 0:
            account.admin.token = await factory.token(account.admin)  # a token's rate limit window is 50 calls
        answer = await client.request(method, _path(template, site), json=body, headers=_headers(account, template))
        named = _fields_named(answer) if answer.status_code == 400 else []
        if not any(name == field or name.startswith((f"{field}.", f"{field}[")) for name in named):
            misread.append(f"{body} ({expected}): {answer.status_code} {answer.text[:200]}")
    assert not misread, "\n".join(misread)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("index", True, "index: must be a whole number, not true"),
        ("index", "5", "index: Input should be a valid integer"),
        ("siteId", True, "siteId: must be a whole number, not true"),
    ],
)
async def test_the_message_says_what_was_wrong(
    client: httpx.AsyncClient, factory: Factory, field: str, value: Any, words: str
) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    body = {"name": "Plan", "siteId": site, field: value}
    answer = await client.post("/custom-datas", json=body, headers=account.headers)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]


async def test_nothing_is_stored_from_a_misread_body(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    answer = await client.post(
        "/custom-datas", json={"name": "Plan", "siteId": site, "index": True}, headers=account.headers
    )
    assert answer.status_code == 400
    listed = await client.get("/custom-datas", headers=account.headers)
    assert listed.json() == []


# Values the core reads by hand (their schema field is an open object or array).
HAND_READ: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/experiments", {"baseURL": "https://shop.example/", "deviations": {"origin": True}}, "deviations"),
    ("POST", "/goals", {"type": "PAGE_VIEWS", "params": {"pageViews": True}}, "params.pageViews"),
    ("POST", "/goals", {"type": "TIME_SPENT", "params": {"timeSeconds": True}}, "params.timeSeconds"),
    ("POST", "/goals", {"type": "SCROLL", "params": {"scrollValue": True}}, "params.scrollValue"),
    ("POST", "/sites/search", {"page": True}, "page"),
    ("POST", "/sites/search", {"perPage": True}, "perPage"),
    ("POST", "/sites/search", {"filter": [{"field": "id", "operator": "EQUAL", "parameters": [True]}]}, "filter"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), HAND_READ, ids=[c[3] + " " + c[1] for c in HAND_READ])
async def test_values_the_core_reads_by_hand_are_strict_too(
    client: httpx.AsyncClient, factory: Factory, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    account = await factory.account()
    site = (await make.site(client, account))["id"]
    full = body if path.endswith("/search") else {"name": "N", "siteId": site, **body}
    answer = await client.request(method, path, json=full, headers=account.headers)
    assert answer.status_code == 400, answer.text
    assert any(name.startswith(field) for name in _fields_named(answer)), answer.text

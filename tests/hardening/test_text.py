"""Text the database cannot store (NUL, lone surrogates) is a 400 naming where it was, on both backends.

PostgreSQL refused a NUL with a 500 where SQLite stored it; a lone surrogate failed to encode on both.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.resources import experiment_fixtures as make

NUL = "\\u0000"  # as JSON escapes, written into raw bodies: the client libraries refuse to encode a lone surrogate
LONE_HIGH = "\\ud800"
LONE_LOW = "\\udc00"


async def _post_raw(client: httpx.AsyncClient, account: TestAccount, path: str, body: str) -> httpx.Response:
    headers = {**account.headers, "Content-Type": "application/json"}
    return await client.post(path, content=body.encode(), headers=headers)


def _refused(answer: httpx.Response, field: str, words: str) -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["details"][0]["field"] == field, error
    assert words in error["message"], error


# (path, a JSON body with a {} where the bad text goes, the field named, whether the body needs a site id)
BODIES: list[tuple[str, str, str]] = [
    ("/sites", '{{"name": "a{}b"}}', "name"),
    ("/sites", '{{"name": "ok", "domainNames": ["shop.example", "x{}"]}}', "domainNames[1]"),
    ("/goals", '{{"name": "G{}", "siteId": SITE, "type": "CUSTOM"}}', "name"),
    ("/goals", '{{"name": "G", "siteId": SITE, "type": "CUSTOM", "description": "{}"}}', "description"),
    ("/goals", '{{"name": "G", "siteId": SITE, "type": "CUSTOM", "tags": ["{}"]}}', "tags[0]"),
    (
        "/goals",
        '{{"name": "G", "siteId": SITE, "type": "URL", "params": {{"matchString": "{}", "matchType": "CONTAINS"}}}}',
        "params.matchString",
    ),
    (
        "/segments",
        '{{"name": "S", "siteId": SITE, "conditionsData": {{"firstLevel": [{{"conditions": '
        '[{{"targetingType": "PAGE_URL", "matchType": "CONTAINS", "value": "{}"}}]}}]}}}}',
        "conditionsData.firstLevel[0].conditions[0].value",
    ),
    ("/custom-datas", '{{"name": "{}", "siteId": SITE}}', "name"),
    ("/experiments", '{{"name": "{}", "siteId": SITE, "baseURL": "https://shop.example/"}}', "name"),
    ("/experiments", '{{"name": "E", "siteId": SITE, "baseURL": "https://shop.example/{}"}}', "baseURL"),
    ("/experiments", '{{"name": "E", "siteId": SITE, "baseURL": "https://a.b", "description": "{}"}}', "description"),
    ("/variations", '{{"name": "V{}", "siteId": SITE}}', "name"),
    (
        "/variations",
        '{{"name": "V", "siteId": SITE, "redirection": {{"type": "GLOBAL_REDIRECTION", "url": "{}"}}}}',
        "redirection.url",
    ),
    ("/accounts", '{{"email": "a{}@example.com"}}', "email"),
    (
        "/sites/search",
        '{{"filter": [{{"field": "name", "operator": "EQUAL", "parameters": ["{}"]}}]}}',
        "filter[0].parameters[0]",
    ),
    ("/v3/edit/urls", '{{"host": "shop{}.example"}}', "host"),
]


@pytest.mark.parametrize(("path", "template", "field"), BODIES, ids=[f"{p} {f}" for p, _, f in BODIES])
async def test_unstorable_text_in_a_body_is_400_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, path: str, template: str, field: str
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    headers = {"X-Account-Secret": account.account_secret} if path.startswith("/v3") else account.headers
    for bad, words in ((NUL, "NUL character"), (LONE_HIGH, "unpaired surrogate"), (LONE_LOW, "unpaired surrogate")):
        body = template.format(bad).replace("SITE", str(site["id"]))
        answer = await client.post(path, content=body.encode(), headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text
        error = answer.json()
        if path.startswith("/v3"):
            assert error["messages"][0].startswith(f"{field}: ") and words in error["messages"][0], error
        else:
            assert error["details"][0]["field"] == field and words in error["message"], error
    sites = await client.get("/sites", headers=account.headers)
    assert [s["id"] for s in sites.json()] == [site["id"]], "nothing refused was stored"


async def test_unstorable_text_in_a_key_is_400_naming_the_key(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    body = f'{{"name": "G", "siteId": {site["id"]}, "type": "CUSTOM", "params": {{"a{NUL}": 1}}}}'
    _refused(await _post_raw(client, account, "/goals", body), 'params["a\\u0000"]', "the name contains a NUL")


async def test_unstorable_text_in_a_patch_changes_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ready = await make.ready(client, account)
    headers = {**account.headers, "Content-Type": "application/json"}
    body = f'{{"name": "Renamed", "description": "x{NUL}"}}'
    answer = await client.patch(f"/experiments/{ready.id}", content=body.encode(), headers=headers)
    _refused(answer, "description", "NUL character")
    assert (await client.get(f"/experiments/{ready.id}", headers=account.headers)).json() == ready.experiment


async def test_text_that_only_looks_like_an_escape_is_stored(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    # An escaped backslash before u0000, and a surrogate pair (an emoji, as ensure_ascii encoders send it).
    answer = await _post_raw(client, account, "/sites", '{"name": "C:\\\\u0000 \\ud83d\\ude00"}')
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "C:\\u0000 \U0001f600"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (
            "/sites?filter=%5B%7B%22field%22%3A%22name%22%2C%22operator%22%3A%22EQUAL%22%2C%22parameters%22%3A%5B%22%00%22%5D%7D%5D",
            "filter",
        ),
        ("/results?dataCode=%00", "dataCode"),
        ("/sites?x%00=1", '"x\\u0000"'),
        ("/v3/edit/urls?domain=ex%00.com", "domain"),
    ],
)
async def test_nul_in_the_query_is_400_naming_the_parameter(
    client: httpx.AsyncClient, factory: Factory, path: str, field: str
) -> None:
    account = await factory.account()
    headers = {"X-Account-Secret": account.account_secret} if path.startswith("/v3") else account.headers
    answer = await client.get(path, headers=headers)
    assert answer.status_code == 400, answer.text
    if path.startswith("/v3"):
        assert answer.json()["messages"][0].startswith(f"{field}: "), answer.text
    else:
        _refused(answer, field, "NUL character")


async def test_nul_in_a_path_segment_is_400(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/sites/byCode/abc%00defgh", headers=account.headers)
    _refused(answer, "code", "NUL character")


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/goals", {"name": "G", "type": "URL", "params": {"matchString": _nested(300), "matchType": "CONTAINS"}}),
        ("/segments", {"name": "S", "conditionsData": {"firstLevel": _nested(300)}}),
    ],
)
async def test_free_form_json_nested_deeply_is_400(
    client: httpx.AsyncClient, factory: Factory, path: str, body: dict[str, Any]
) -> None:
    account = await factory.account()
    site = await make.site(client, account)
    answer = await client.post(path, json={**body, "siteId": site["id"]}, headers=account.headers)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    "query",
    [
        {"sort": '[{"field": "\\ud800"}]'},
        {"filter": '[{"field": "x\\udc00", "operator": "EQUAL", "parameters": [1]}]'},
    ],
    ids=["sort", "filter"],
)
async def test_an_error_quoting_a_lone_surrogate_is_still_sent(
    client: httpx.AsyncClient, factory: Factory, query: dict[str, str]
) -> None:
    account = await factory.account()
    answer = await client.get("/sites", params=query, headers=account.headers)
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert message.startswith("Cannot filter or sort by given field: "), message
    assert "\\ud800" in message or "x\\udc00" in message, "the surrogate is shown as its escape"

"""Chameleon's Edit API v3 as public client code calls it, call for call, against a real server process.

Sources replayed (read, not copied; the requests are rebuilt here from what each one sends):

- PostHog's Chameleon data source: PostHog/posthog,
  products/warehouse_sources/backend/temporal/data_imports/sources/chameleon/chameleon.py
  (`validate_credentials`: `GET <root>` with `X-Account-Secret` and `Accept: application/json`, 200 = valid,
  401/403 = invalid; `_iter_pages`: `?limit=500`, then `before=<cursor.before>` until a page is empty, the
  cursor is absent, or it repeats).
- Chameleon's older public API docs: chamaeleonidae/api, docs/concepts/authentication.md (the secret checked
  at the root, as a header or as `?account_secret=`) and docs/apis/domains.md (create a Url, update it with
  `POST /v3/edit/urls/:id`, list with `domain`, `limit`, `before`, retrieve one).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestAccount
from tests.server import Server
from versicolor.core.roles import Role

pytestmark = pytest.mark.server

PAGE = 500  # PostHog's page size: "Chameleon caps `limit` at 500"


def _posthog_headers(account_secret: str) -> dict[str, str]:
    return {"X-Account-Secret": account_secret, "Accept": "application/json"}


def _posthog_validate(root: str, account_secret: str) -> tuple[bool, str | None]:
    """What PostHog's `validate_credentials` concludes from the root's answer."""
    answer = httpx.get(root, headers=_posthog_headers(account_secret), timeout=10)
    if answer.status_code == 200:
        return True, None
    if answer.status_code in (401, 403):
        return False, "Invalid Chameleon account secret"
    return False, f"status {answer.status_code}"


def _posthog_pages(url: str, data_key: str, account_secret: str) -> list[list[dict[str, Any]]]:
    """PostHog's `_iter_pages`: every page of a v3 list, walked by `cursor.before`."""
    pages = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": PAGE}
        if before:
            params["before"] = before
        answer = httpx.get(url, params=params, headers=_posthog_headers(account_secret), timeout=60)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        rows = data.get(data_key, [])
        next_before = (data.get("cursor") or {}).get("before")
        pages.append(rows)
        if not rows or not next_before or next_before == before:
            return pages
        before = next_before


def test_posthog_validates_a_secret_at_the_root(versicolor: Server, account: TestAccount) -> None:
    root = versicolor.base_url
    assert _posthog_validate(root, account.account_secret) == (True, None)
    answer = httpx.get(root, headers=_posthog_headers(account.account_secret))
    assert answer.json() == {"account": {"id": str(account.account_id)}}
    assert answer.headers["content-type"] == "application/json"
    assert _posthog_validate(root, "not-the-secret") == (False, "Invalid Chameleon account secret")
    assert _posthog_validate(root, "") == (False, "Invalid Chameleon account secret"), "a blank secret is a wrong one"


def test_the_documented_secret_checks_header_and_parameter(versicolor: Server, account: TestAccount) -> None:
    root = versicolor.base_url
    by_header = httpx.get(root, headers={"X-Account-Secret": account.account_secret})
    by_parameter = httpx.get(root, params={"account_secret": account.account_secret})
    assert by_header.status_code == by_parameter.status_code == 200
    assert by_header.json() == by_parameter.json() == {"account": {"id": str(account.account_id)}}
    wrong = httpx.get(root, params={"account_secret": "wrong"})
    assert wrong.status_code == 403
    assert wrong.json() == {"code": 403, "messages": [wrong.json()["messages"][0]]}
    assert "account secret" in wrong.json()["messages"][0]
    twice = httpx.get(root, params={"account_secret": account.account_secret}, headers={"X-Account-Secret": "other"})
    assert twice.status_code == 400 and twice.json()["code"] == 400, "two secrets that disagree: which one?"


def test_browsers_still_get_the_front_page(versicolor: Server, account: TestAccount) -> None:
    page = httpx.get(versicolor.base_url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/app/"' in page.text and 'href="/docs"' in page.text
    with_token = httpx.get(versicolor.base_url, headers=account.headers)
    assert with_token.headers["content-type"].startswith("text/html"), "a bearer token is not an account secret"


def test_posthog_pages_the_domains_list_to_the_end(versicolor: Server, account: TestAccount) -> None:
    base = f"{versicolor.base_url}/v3"
    made = []
    for number in range(3):
        answer = httpx.post(
            f"{base}/edit/urls",
            json={"host": f"app{number}.posthog-walk.example"},
            headers=_posthog_headers(account.account_secret),
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["url"]["id"])
    pages = _posthog_pages(f"{base}/edit/urls", "urls", account.account_secret)
    seen = [row["id"] for page in pages for row in page]
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert seen == sorted(made, reverse=True), "newest first, as PostHog's sort_mode=desc expects"
    group = httpx.post(
        f"{base}/edit/url_groups", json={"name": "Staging"}, headers=_posthog_headers(account.account_secret)
    )
    groups = _posthog_pages(f"{base}/edit/url_groups", "url_groups", account.account_secret)
    group_ids = [g["id"] for page in groups for g in page]
    assert group_ids[0] == group.json()["url_group"]["id"] and len(group_ids) == 2, "ours, then the Default one"


def test_the_older_docs_create_update_list_and_retrieve_a_url(versicolor: Server, account: TestAccount) -> None:
    base = f"{versicolor.base_url}/v3/edit/urls"
    headers = {"X-Account-Secret": account.account_secret, "Content-Type": "application/json"}
    created = httpx.post(base, json={"host": "app.docs-example.com", "enabled": "on"}, headers=headers)
    assert created.status_code == 201
    url = created.json()["url"]
    assert (url["host"], url["domain"], url["enabled"]) == ("app.docs-example.com", "docs-example.com", "on")
    updated = httpx.post(f"{base}/{url['id']}", json={"enabled": "off", "unlisted": True}, headers=headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["url"]["enabled"] == "off" and updated.json()["url"]["unlisted"] is True
    listed = httpx.get(base, params={"domain": "docs-example.com", "limit": 50}, headers=headers)
    assert [u["id"] for u in listed.json()["urls"]] == [url["id"]]
    assert listed.json()["cursor"]["limit"] == 50
    shown = httpx.get(f"{base}/{url['id']}", headers=headers)
    assert shown.json() == {"url": updated.json()["url"]}


def test_enabled_as_a_boolean_is_on_or_off(versicolor: Server, account: TestAccount) -> None:
    base = f"{versicolor.base_url}/v3/edit/urls"
    headers = {"X-Account-Secret": account.account_secret}
    created = httpx.post(base, json={"host": "bool.example.org", "enabled": False}, headers=headers)
    assert created.status_code == 201 and created.json()["url"]["enabled"] == "off"
    url_id = created.json()["url"]["id"]
    turned_on = httpx.post(f"{base}/{url_id}", json={"enabled": True}, headers=headers)
    assert turned_on.json()["url"]["enabled"] == "on"
    batch = httpx.post(f"{base}/batch", json={"ids": [url_id], "enabled": False}, headers=headers)
    assert [u["enabled"] for u in batch.json()["urls"]] == ["off"]


async def test_posting_to_a_url_refuses_what_the_other_verbs_refuse(
    versicolor: Server, account: TestAccount, factory: Factory
) -> None:
    other = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    headers = {"X-Account-Secret": account.account_secret}
    async with httpx.AsyncClient(base_url=versicolor.base_url) as http:
        url = (await http.post("/v3/edit/urls", json={"host": "refusals.example.net"}, headers=headers)).json()["url"]
        path = f"/v3/edit/urls/{url['id']}"
        for body, word in [({"enabled": "yes"}, "enabled"), ({"enabled": 1}, "enabled"), ({"colour": "red"}, "colour")]:
            refused = await http.post(path, json=body, headers=headers)
            assert refused.status_code == 400 and word in " ".join(refused.json()["messages"]), refused.text
        off = {"enabled": "off"}
        assert (await http.post("/v3/edit/urls/5c4950c34733cc0004d5bfd7", json=off, headers=headers)).status_code == 404
        theirs = await http.post(path, json=off, headers={"X-Account-Secret": other.account_secret})
        assert theirs.status_code == 404, "another account's Url is not there"
        assert (await http.post(path, json=off, headers=viewer.headers)).status_code == 403
        assert (await http.post(path, json=off)).status_code == 401
        assert (await http.post(path, json=off, headers={"X-Account-Secret": "no"})).status_code == 403
        shown = (await http.get(path, headers=headers)).json()["url"]
        assert shown["enabled"] == "on", "nothing changed"

"""`/v3/edit/url_groups` over HTTP: Environments, the Default Environment, and archiving with their Urls."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.v3.edit_api import ISO_Z, UNKNOWN_ID, create, create_group, messages, secret
from tests.factories import Factory
from versicolor.core.roles import Role

GROUP_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "archived_at",
    "name",
    "description",
    "short_name",
    "style_short_name_color",
}


async def test_create_shows_every_field_with_the_colour_in_upper_case(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    group = await create_group(
        client,
        account,
        name="Test QA #1",
        description="Pre-production for our QA team",
        short_name="Q1",
        style_short_name_color="e7ad5a",
    )
    assert set(group) == GROUP_FIELDS
    assert (group["name"], group["description"], group["short_name"], group["style_short_name_color"]) == (
        "Test QA #1",
        "Pre-production for our QA team",
        "Q1",
        "E7AD5A",
    )
    assert group["archived_at"] is None and ISO_Z.fullmatch(group["created_at"])
    shown = await client.get(f"/v3/edit/url_groups/{group['id']}", headers=secret(account))
    assert shown.json() == {"url_group": group}
    minimal = await create_group(client, account, name="Staging")
    assert minimal["description"] is None and minimal["short_name"] is None
    assert minimal["style_short_name_color"] is None


async def test_the_list_answers_url_groups_and_urls_with_the_default_environment_oldest(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    staging = await create_group(client, account, name="Staging", short_name="ST")
    production = await create_group(client, account, name="Production", short_name="PR")
    body = (await client.get("/v3/edit/url_groups", headers=secret(account))).json()
    assert set(body) == {"url_groups", "urls", "cursor"}
    assert body["urls"] == body["url_groups"], "`urls` repeats the list, as the Edit API v3's example prints it"
    names = [g["name"] for g in body["url_groups"]]
    assert names == ["Production", "Staging", "Default"]
    assert [g["id"] for g in body["url_groups"][:2]] == [production["id"], staging["id"]]
    assert body["cursor"] == {"limit": 50, "before": None}
    page = (await client.get("/v3/edit/url_groups?limit=2", headers=secret(account))).json()
    assert page["cursor"] == {"limit": 2, "before": staging["id"]}
    rest = (await client.get(f"/v3/edit/url_groups?before={staging['id']}", headers=secret(account))).json()
    assert [g["name"] for g in rest["url_groups"]] == ["Default"]
    again = (await client.get("/v3/edit/url_groups", headers=secret(account))).json()
    assert again["url_groups"][-1]["id"] == body["url_groups"][-1]["id"], "one Default Environment per account"


async def test_the_default_environment_can_be_renamed_but_not_archived(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    default = (await client.get("/v3/edit/url_groups", headers=secret(account))).json()["url_groups"][-1]
    path = f"/v3/edit/url_groups/{default['id']}"
    for body in (
        {"archived_at": "2024-05-01T12:00:00Z"},
        {"archived_at": "Wed, 01 May 2024 14:00:00 +0200", "urls_action_on_archive": "archive"},
    ):
        refused = await client.patch(path, json=body, headers=secret(account))
        assert refused.status_code == 409 and "Default Environment cannot be archived" in messages(refused)
    renamed = await client.put(path, json={"name": "Everything", "short_name": "ALL"}, headers=secret(account))
    assert renamed.status_code == 200 and renamed.json()["url_group"]["name"] == "Everything"
    assert renamed.json()["url_group"]["archived_at"] is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "name: is required"),
        ({"name": ""}, "name: must be 1 to 200"),
        ({"name": "   "}, "name: must be 1 to 200"),
        ({"name": "x" * 201}, "name: must be 1 to 200"),
        ({"name": 5}, "name: "),
        ({"name": "QA", "short_name": ""}, "short_name: must be 1 to 3 characters"),
        ({"name": "QA", "short_name": "QA12"}, "short_name: must be 1 to 3 characters"),
        ({"name": "QA", "short_name": 1}, "short_name: "),
        ({"name": "QA", "style_short_name_color": "#E7AD5A"}, "without the leading '#'"),
        ({"name": "QA", "style_short_name_color": "E7AD5"}, "style_short_name_color: must be 6 hex digits"),
        ({"name": "QA", "style_short_name_color": "E7AD5AA"}, "style_short_name_color: must be 6 hex digits"),
        ({"name": "QA", "style_short_name_color": "GGGGGG"}, "style_short_name_color: must be 6 hex digits"),
        ({"name": "QA", "style_short_name_color": 123456}, "style_short_name_color: "),
        ({"name": "QA", "description": "x" * 2001}, "description: must be at most 2000"),
        ({"name": "QA", "colour": "E7AD5A"}, "colour"),
    ],
)
async def test_bad_environments_are_a_400_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], says: str
) -> None:
    account = await factory.account()
    answer = await client.post("/v3/edit/url_groups", json=body, headers=secret(account))
    assert answer.status_code == 400
    assert says in messages(answer)


@pytest.mark.parametrize("short_name", ["P", "PR", "PRD"])
async def test_short_names_of_one_to_three_characters(
    client: httpx.AsyncClient, factory: Factory, short_name: str
) -> None:
    account = await factory.account()
    assert (await create_group(client, account, name="Production", short_name=short_name))["short_name"] == short_name


async def test_update_changes_only_what_it_names_and_can_clear_optional_fields(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    group = await create_group(
        client, account, name="QA", description="d", short_name="Q1", style_short_name_color="ABCDEF"
    )
    path = f"/v3/edit/url_groups/{group['id']}"
    same = (await client.patch(path, json={"name": "QA"}, headers=secret(account))).json()["url_group"]
    assert same == group, "nothing changed, updated_at stays"
    patched = (await client.patch(path, json={"style_short_name_color": "6d95c0"}, headers=secret(account))).json()
    assert patched["url_group"]["style_short_name_color"] == "6D95C0" and patched["url_group"]["name"] == "QA"
    assert patched["url_group"]["updated_at"] > group["updated_at"]
    cleared = await client.put(
        path, json={"description": None, "short_name": None, "style_short_name_color": None}, headers=secret(account)
    )
    assert cleared.json()["url_group"]["description"] is None and cleared.json()["url_group"]["short_name"] is None
    no_name = await client.patch(path, json={"name": None}, headers=secret(account))
    assert no_name.status_code == 400 and messages(no_name) == "name: cannot be null"
    bad_colour = await client.patch(path, json={"style_short_name_color": "#FFFFFF"}, headers=secret(account))
    assert bad_colour.status_code == 400


async def test_archiving_with_archive_archives_the_environments_urls(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    qa = await create_group(client, account, name="QA")
    other = await create_group(client, account, name="Other")
    in_qa = [await create(client, account, host=f"{n}.example.com", url_group_id=qa["id"]) for n in ("a", "b")]
    already = await create(
        client, account, host="c.example.com", url_group_id=qa["id"], archived_at="2020-01-01T00:00:00Z"
    )
    elsewhere = await create(client, account, host="d.example.com", url_group_id=other["id"])
    in_default = await create(client, account, host="e.example.com")
    answer = await client.patch(
        f"/v3/edit/url_groups/{qa['id']}",
        json={"archived_at": "2024-05-01T14:00:00+02:00", "urls_action_on_archive": "archive"},
        headers=secret(account),
    )
    assert answer.status_code == 200 and answer.json()["url_group"]["archived_at"] == "2024-05-01T12:00:00.000Z"
    for url in in_qa:
        now = (await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))).json()["url"]
        assert (now["archived_at"], now["unlisted"]) == ("2024-05-01T12:00:00.000Z", True)
    kept = (await client.get(f"/v3/edit/urls/{already['id']}", headers=secret(account))).json()["url"]
    assert kept["archived_at"] == "2020-01-01T00:00:00.000Z", "an earlier archive time stays"
    for url in (elsewhere, in_default):
        assert (await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))).json()["url"] == url


@pytest.mark.parametrize("action", [None, "ignore"])
async def test_archiving_with_ignore_leaves_the_urls(
    client: httpx.AsyncClient, factory: Factory, action: str | None
) -> None:
    account = await factory.account()
    qa = await create_group(client, account, name="QA")
    url = await create(client, account, host="a.example.com", url_group_id=qa["id"])
    body: dict[str, Any] = {"archived_at": "2024-05-01T12:00:00Z"}
    if action is not None:
        body["urls_action_on_archive"] = action
    answer = await client.put(f"/v3/edit/url_groups/{qa['id']}", json=body, headers=secret(account))
    assert answer.status_code == 200 and answer.json()["url_group"]["archived_at"] is not None
    assert (await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))).json()["url"] == url
    unarchived = await client.patch(
        f"/v3/edit/url_groups/{qa['id']}", json={"archived_at": None}, headers=secret(account)
    )
    assert unarchived.json()["url_group"]["archived_at"] is None


@pytest.mark.parametrize("action", ["delete", "ARCHIVE", "", 1, None, True])
async def test_a_bad_urls_action_on_archive_lists_the_allowed_ones_and_changes_nothing(
    client: httpx.AsyncClient, factory: Factory, action: object
) -> None:
    account = await factory.account()
    qa = await create_group(client, account, name="QA")
    url = await create(client, account, host="a.example.com", url_group_id=qa["id"])
    answer = await client.patch(
        f"/v3/edit/url_groups/{qa['id']}",
        json={"archived_at": "2024-05-01T12:00:00Z", "urls_action_on_archive": action},
        headers=secret(account),
    )
    assert answer.status_code == 400
    assert messages(answer).startswith("urls_action_on_archive: must be one of ignore, archive")
    assert (await client.get(f"/v3/edit/url_groups/{qa['id']}", headers=secret(account))).json()["url_group"] == qa
    assert (await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))).json()["url"] == url


@pytest.mark.parametrize("given", ["tomorrow", "2024-02-30", True, [], 1.9, 1714564800, "1714564800"])
async def test_a_bad_archived_at_is_a_400(client: httpx.AsyncClient, factory: Factory, given: object) -> None:
    account = await factory.account()
    qa = await create_group(client, account, name="QA")
    answer = await client.patch(f"/v3/edit/url_groups/{qa['id']}", json={"archived_at": given}, headers=secret(account))
    assert answer.status_code == 400 and messages(answer).startswith("archived_at: ")


async def test_another_accounts_environment_is_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    group = await create_group(client, theirs, name="Theirs")
    path = f"/v3/edit/url_groups/{group['id']}"
    for method, body in [("GET", None), ("PUT", {"name": "Mine"}), ("PATCH", {"archived_at": "2024-05-01T00:00:00Z"})]:
        answer = await client.request(method, path, json=body, headers=secret(mine))
        assert answer.status_code == 404 and group["id"] in messages(answer)
    unknown = await client.get(f"/v3/edit/url_groups/{UNKNOWN_ID}", headers=secret(mine))
    assert unknown.status_code == 404
    malformed = await client.get("/v3/edit/url_groups/staging", headers=secret(mine))
    assert malformed.status_code == 400 and messages(malformed).startswith("id: ")
    assert (await client.get(path, headers=secret(theirs))).json()["url_group"] == group
    listed = (await client.get("/v3/edit/url_groups", headers=secret(mine))).json()["url_groups"]
    assert [g["name"] for g in listed] == ["Default"]


async def test_a_viewer_reads_environments_but_cannot_change_them(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    group = await create_group(client, account, name="QA")
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.get("/v3/edit/url_groups", headers=viewer.headers)).status_code == 200
    assert (await client.get(f"/v3/edit/url_groups/{group['id']}", headers=viewer.headers)).status_code == 200
    for method, path in [
        ("POST", "/v3/edit/url_groups"),
        ("PUT", f"/v3/edit/url_groups/{group['id']}"),
        ("PATCH", f"/v3/edit/url_groups/{group['id']}"),
    ]:
        answer = await client.request(method, path, json={"name": "x"}, headers=viewer.headers)
        assert answer.status_code == 403, (method, path)


@pytest.mark.parametrize("limit", ["0", "501"])
async def test_the_list_checks_its_paging_parameters(client: httpx.AsyncClient, factory: Factory, limit: str) -> None:
    account = await factory.account()
    bad_limit = await client.get("/v3/edit/url_groups", params={"limit": limit}, headers=secret(account))
    assert bad_limit.status_code == 400 and messages(bad_limit).startswith("limit: ")
    bad_before = await client.get("/v3/edit/url_groups", params={"before": "soon"}, headers=secret(account))
    assert bad_before.status_code == 400 and messages(bad_before).startswith("before: ")
    bad_after = await client.get("/v3/edit/url_groups", params={"after": "later"}, headers=secret(account))
    assert bad_after.status_code == 400 and messages(bad_after).startswith("after: ")

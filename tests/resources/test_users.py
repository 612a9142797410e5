"""`/accounts` over HTTP: the account's users, invitations and role changes by ADMINs, the last ADMIN kept."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Factory
from tests.resources.every_field import check_every_field_filters_and_sorts
from versicolor.api.automation.users import USER_FIELDS
from versicolor.core.roles import Role


async def _invite(client: httpx.AsyncClient, account: factories.TestAccount, **fields: Any) -> dict[str, Any]:
    body = {"email": f"someone-{uuid.uuid4().hex[:10]}@example.com", **fields}
    answer = await client.post("/accounts", json=body, headers=account.headers)
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user


def _fields_at_fault(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [d["field"] for d in answer.json()["details"]]


async def test_list_and_read_the_accounts_users(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    editor = await factory.member(account, Role.EDITOR)
    listed = await client.get("/accounts", params={"perPage": 2}, headers=viewer.headers)
    assert listed.status_code == 200, listed.text
    assert listed.headers["x-total-count"] == "3" and 'rel="next"' in listed.headers["link"]
    assert [u["id"] for u in listed.json()] == [account.admin.user_id, viewer.user_id]
    one = (await client.get(f"/accounts/{editor.user_id}", headers=viewer.headers)).json()
    assert set(one) == {"id", "email", "firstName", "lastName", "role", "dateCreated"}
    assert one["email"] == editor.email and one["role"] == "EDITOR" and one["dateCreated"].endswith("Z")
    me = await client.get("/accounts/me", headers=editor.headers)  # still the caller, not a user called "me"
    assert me.status_code == 200 and me.json()["id"] == editor.user_id


async def test_another_accounts_users_are_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    path = f"/accounts/{theirs.admin.user_id}"
    assert (await client.get(path, headers=mine.headers)).status_code == 404
    patched = await client.patch(path, json={"role": "VIEWER"}, headers=mine.headers)
    assert patched.status_code == 404
    assert [u["id"] for u in (await client.get("/accounts", headers=mine.headers)).json()] == [mine.admin.user_id]
    assert (await client.get(path, headers=theirs.headers)).json()["role"] == "ADMIN"
    assert (await client.get("/accounts/99999999999999999999", headers=mine.headers)).status_code == 404


async def test_an_admin_invites_a_user_who_can_then_call_the_api(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        "/accounts",
        json={"email": "New.Person@Example.com", "role": "EDITOR", "firstName": "New", "lastName": "Person"},
        headers=account.headers,
    )
    assert answer.status_code == 201, answer.text
    invited = answer.json()
    assert invited["email"] == "new.person@example.com" and invited["role"] == "EDITOR"
    assert invited["firstName"] == "New" and invited["lastName"] == "Person"
    assert set(invited) == {"id", "email", "firstName", "lastName", "role", "dateCreated", "clientId", "clientSecret"}
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": invited["clientId"],
            "client_secret": invited["clientSecret"],
        },
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = (await client.get("/accounts/me", headers=headers)).json()
    assert me["id"] == invited["id"] and me["clientId"] == invited["clientId"]
    assert (await client.post("/sites", json={"name": "by editor"}, headers=headers)).status_code == 201
    shown_later = (await client.get(f"/accounts/{invited['id']}", headers=account.headers)).json()
    assert "clientSecret" not in shown_later and invited["clientSecret"] not in json.dumps(shown_later)


async def test_an_invitation_defaults_to_viewer(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    invited = await _invite(client, account, password="a long enough password")
    assert invited["role"] == "VIEWER" and invited["firstName"] is None
    assert "password" not in json.dumps(invited).lower()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "email", "is required"),
        ({"email": "not-an-email"}, "email", "not an email address"),
        ({"email": "x@example.com", "role": "OWNER"}, "role", "'ADMIN', 'EDITOR' or 'VIEWER'"),
        ({"email": "x@example.com", "password": "short"}, "password", "at least 12"),
        ({"email": "x@example.com", "firstName": "x" * 201}, "firstName", "at most 200"),
        ({"email": "x@example.com", "team": "growth"}, "team", "not a known field"),
    ],
)
async def test_bad_invitations_name_the_field(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str, words: str
) -> None:
    account = await factory.account()
    answer = await client.post("/accounts", json=body, headers=account.headers)
    assert _fields_at_fault(answer) == [field]
    assert words in answer.json()["message"]
    assert (await client.get("/accounts", headers=account.headers)).headers["x-total-count"] == "1"


async def test_an_email_already_in_the_account_is_a_conflict(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post("/accounts", json={"email": account.admin.email.upper()}, headers=account.headers)
    assert answer.status_code == 409 and "already exists in this account" in answer.json()["message"]


async def test_inviting_tells_nothing_of_other_accounts_emails(client: httpx.AsyncClient, factory: Factory) -> None:
    # The attack: an ADMIN probing which emails have users elsewhere (it used to get a 409 for them).
    account, other = await factory.account(), await factory.account()
    elsewhere = await client.post("/accounts", json={"email": other.admin.email.upper()}, headers=account.headers)
    fresh = await client.post(
        "/accounts", json={"email": f"fresh-{other.account_id}@example.com"}, headers=account.headers
    )
    assert elsewhere.status_code == fresh.status_code == 201, elsewhere.text
    assert sorted(elsewhere.json()) == sorted(fresh.json())
    assert elsewhere.json()["email"] == other.admin.email
    # Two users now: each account sees only its own.
    theirs = await client.get("/accounts", headers=other.headers)
    assert [user["email"] for user in theirs.json()] == [other.admin.email]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
async def test_only_admins_manage_users(client: httpx.AsyncClient, factory: Factory, role: Role) -> None:
    account = await factory.account()
    member = await factory.member(account, role)
    invited = await client.post("/accounts", json={"email": "nope@example.com"}, headers=member.headers)
    assert invited.status_code == 403 and "admin" in invited.json()["message"]
    for target in (member.user_id, account.admin.user_id):
        patched = await client.patch(f"/accounts/{target}", json={"role": "ADMIN"}, headers=member.headers)
        assert patched.status_code == 403
    assert (await client.get(f"/accounts/{member.user_id}", headers=member.headers)).json()["role"] == role.value
    assert (await client.get("/accounts", headers=member.headers)).status_code == 200


async def test_an_admin_renames_and_changes_roles_with_immediate_effect(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.post("/sites", json={"name": "x"}, headers=viewer.headers)).status_code == 403
    patched = await client.patch(
        f"/accounts/{viewer.user_id}",
        json={"role": "EDITOR", "firstName": "  Ada ", "lastName": "Lovelace"},
        headers=account.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["role"] == "EDITOR" and patched.json()["firstName"] == "Ada"
    assert (await client.post("/sites", json={"name": "x"}, headers=viewer.headers)).status_code == 201
    renamed = await client.patch(f"/accounts/{viewer.user_id}", json={"lastName": None}, headers=account.headers)
    assert renamed.json()["lastName"] is None and renamed.json()["firstName"] == "Ada"
    assert renamed.json()["role"] == "EDITOR"
    wrong = await client.patch(f"/accounts/{viewer.user_id}", json={"role": "ROOT"}, headers=account.headers)
    assert _fields_at_fault(wrong) == ["role"] and "VIEWER" in wrong.json()["message"]
    email = await client.patch(f"/accounts/{viewer.user_id}", json={"email": "x@example.com"}, headers=account.headers)
    assert _fields_at_fault(email) == ["email"]


async def test_the_last_admin_cannot_be_demoted(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    path = f"/accounts/{account.admin.user_id}"
    refused = await client.patch(path, json={"role": "EDITOR"}, headers=account.headers)
    assert refused.status_code == 409 and "last ADMIN" in refused.json()["message"]
    assert (await client.get(path, headers=account.headers)).json()["role"] == "ADMIN"
    second = await factory.member(account, Role.ADMIN)
    demoted = await client.patch(path, json={"role": "VIEWER"}, headers=second.headers)
    assert demoted.status_code == 200 and demoted.json()["role"] == "VIEWER"
    alone = await client.patch(f"/accounts/{second.user_id}", json={"role": "EDITOR"}, headers=second.headers)
    assert alone.status_code == 409
    still_admin = await client.patch(f"/accounts/{second.user_id}", json={"role": "ADMIN"}, headers=second.headers)
    assert still_admin.status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    second = await factory.member(account, Role.ADMIN)
    answers = await asyncio.gather(
        client.patch(f"/accounts/{second.user_id}", json={"role": "EDITOR"}, headers=account.headers),
        client.patch(f"/accounts/{account.admin.user_id}", json={"role": "EDITOR"}, headers=second.headers),
    )
    assert sorted(a.status_code for a in answers) in ([200, 409], [200, 403])
    roles = [u["role"] for u in (await client.get("/accounts", headers=account.headers)).json()]
    assert roles.count("ADMIN") == 1


async def test_every_returned_field_filters_and_sorts(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    tag = uuid.uuid4().hex[:8]
    await _invite(client, account, email=f"zed-{tag}@example.com", firstName="Zed", role="EDITOR")
    await _invite(client, account, email=f"amy-{tag}@example.com", firstName="amy", lastName="Pond")
    items = (await client.get("/accounts", headers=account.headers)).json()
    await check_every_field_filters_and_sorts(client, account.headers, "/accounts", items, USER_FIELDS)
    searched = await client.post(
        "/accounts/search",
        json={
            "filter": [{"field": "email", "operator": "CONTAINS", "parameters": ["@EXAMPLE"]}],
            "sort": [{"field": "email"}],
            "perPage": 2,
        },
        headers=account.headers,
    )
    assert [u["email"] for u in searched.json()][:1] == [min(i["email"] for i in items)]
    secret = await client.get(
        "/accounts",
        params={"filter": json.dumps([{"field": "passwordHash", "operator": "IS_NULL"}])},
        headers=account.headers,
    )
    assert secret.status_code == 400
    assert secret.json()["message"] == "Cannot filter or sort by given field: passwordHash"

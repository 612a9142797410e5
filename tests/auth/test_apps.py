"""Partner applications: `versicolor apps create`, and `/applications` for an account's ADMINs."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.auth.browser import code_for, register_app
from tests.factories import Factory
from tests.server import invoke_cli
from versicolor.core.roles import Role


async def test_admins_list_and_read_their_accounts_applications_without_secrets(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    mine, theirs = await factory.account(), await factory.account()
    first = await register_app(factory.runtime, mine.account_id, ["https://a.example/cb", "http://localhost:9/cb"])
    second = await register_app(factory.runtime, mine.account_id, name="Second")
    foreign = await register_app(factory.runtime, theirs.account_id)
    listed = await client.get("/applications", headers=mine.headers)
    assert listed.status_code == 200
    assert [(a["id"], a["clientId"]) for a in listed.json()] == [
        (first.id, first.client_id),
        (second.id, second.client_id),
    ]
    assert listed.json()[0]["redirectUris"] == ["https://a.example/cb", "http://localhost:9/cb"]
    assert listed.json()[0]["dateCreated"].endswith("Z")
    assert first.client_secret not in listed.text and "secret" not in listed.text.lower()
    one = await client.get(f"/applications/{first.id}", headers=mine.headers)
    assert one.status_code == 200 and one.json()["name"] == "Partner"
    for method in ("GET", "DELETE"):
        assert (await client.request(method, f"/applications/{foreign.id}", headers=mine.headers)).status_code == 404
    assert (await client.get(f"/applications/{foreign.id}", headers=theirs.headers)).status_code == 200


async def test_editors_and_viewers_may_not_see_or_delete_applications(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    for role in (Role.EDITOR, Role.VIEWER):
        member = await factory.member(account, role)
        for method, path in (
            ("GET", "/applications"),
            ("GET", f"/applications/{app.id}"),
            ("DELETE", f"/applications/{app.id}"),
        ):
            answer = await client.request(method, path, headers=member.headers)
            assert answer.status_code == 403, (role, method, path)
            assert "admin" in answer.json()["message"]


async def test_deleting_an_application_revokes_every_token_it_was_given(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, factory: Factory
) -> None:
    owner, user = await factory.account(), await factory.account()
    app = await register_app(factory.runtime, owner.account_id)
    code = await code_for(browser, app, user.admin)
    tokens = (
        await client.post(
            "/oauth/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris[0]},
            auth=app.basic,
        )
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/accounts/me", headers=bearer)).json()["email"] == user.admin.email
    assert (await client.delete(f"/applications/{app.id}", headers=owner.headers)).status_code == 204
    assert (await client.get("/accounts/me", headers=bearer)).status_code == 403
    refreshed = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=app.basic
    )
    assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_client"
    assert (await client.get(f"/applications/{app.id}", headers=owner.headers)).status_code == 404
    assert (await client.delete(f"/applications/{app.id}", headers=owner.headers)).status_code == 404


def test_apps_create_prints_the_credentials_once(database_url: str) -> None:
    account = json.loads(
        invoke_cli(
            [
                "accounts",
                "create",
                "--name",
                "Apps",
                "--email",
                "apps-owner@example.com",
                "--json",
                "--database-url",
                database_url,
            ]
        ).stdout
    )
    done = invoke_cli(
        [
            "apps",
            "create",
            "--account-id",
            str(account["accountId"]),
            "--name",
            "Dashboards",
            "--redirect-uri",
            "https://dash.example/oauth/callback",
            "--redirect-uri",
            "http://127.0.0.1:8765/callback",
            "--json",
            "--database-url",
            database_url,
        ]
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["name"] == "Dashboards" and created["accountId"] == account["accountId"]
    assert created["redirectUris"] == ["https://dash.example/oauth/callback", "http://127.0.0.1:8765/callback"]
    assert len(created["clientId"]) == 32 and len(created["clientSecret"]) >= 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--account-id", "999999", "--name", "X", "--redirect-uri", "https://x.example/cb"],
            "account 999999 not found",
        ),
        (["--account-id", "{account}", "--name", "X", "--redirect-uri", "http://x.example/cb"], "https://"),
        (["--account-id", "{account}", "--name", "X", "--redirect-uri", "https://x.example/cb#frag"], "fragment"),
        (["--account-id", "{account}", "--name", "X", "--redirect-uri", "not a url"], "redirect_uri"),
        (["--account-id", "{account}", "--name", " ", "--redirect-uri", "https://x.example/cb"], "name"),
    ],
)
def test_apps_create_refuses_bad_input_in_one_line(database_url: str, args: list[str], message: str) -> None:
    email = f"apps-{abs(hash(tuple(args)))}@example.com"
    account = json.loads(
        invoke_cli(
            ["accounts", "create", "--name", "A", "--email", email, "--json", "--database-url", database_url]
        ).stdout
    )
    args = [arg.replace("{account}", str(account["accountId"])) for arg in args]
    done = invoke_cli(["apps", "create", *args, "--database-url", database_url])
    assert done.returncode == 1
    assert message in done.stderr.replace("\n", " ") and "Traceback" not in done.stderr


async def test_applications_take_the_list_language(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for name in ("Gamma", "Alpha", "Beta"):
        await register_app(factory.runtime, account.account_id, name=name)
    by_name = await client.get(
        "/applications",
        params={"sort": json.dumps([{"field": "name", "direction": "DESC"}]), "perPage": 2},
        headers=account.headers,
    )
    assert by_name.status_code == 200, by_name.text
    assert [a["name"] for a in by_name.json()] == ["Gamma", "Beta"]
    assert by_name.headers["x-total-count"] == "3" and 'rel="next"' in by_name.headers["link"]
    searched = await client.post(
        "/applications/search",
        json={"filter": [{"field": "name", "operator": "CONTAINS", "parameters": ["ph"]}]},
        headers=account.headers,
    )
    assert [a["name"] for a in searched.json()] == ["Alpha"]
    secret = await client.get(
        "/applications",
        params={"filter": json.dumps([{"field": "clientSecret", "operator": "EQUAL", "parameters": ["x"]}])},
        headers=account.headers,
    )
    assert secret.status_code == 400 and "Cannot filter or sort by given field: clientSecret" in secret.text
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.post("/applications/search", json={}, headers=viewer.headers)).status_code == 403

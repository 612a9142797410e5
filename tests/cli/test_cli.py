"""The commands beside the server, as a user runs them; the first as a real process (what it prints is all its
stdout holds), the others through the same entry point in this process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.server import invoke_cli, run_cli, serve


def test_accounts_create_json_prints_exactly_one_object_with_the_credentials(database_url: str) -> None:
    done = run_cli(
        [
            "accounts",
            "create",
            "--name",
            "Acme",
            "--email",
            "Owner@Acme.example",
            "--json",
            "--database-url",
            database_url,
        ]
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert {"accountId", "userId", "email", "clientId", "clientSecret", "accountSecret"} <= set(created)
    assert created["email"] == "owner@acme.example"

    user = invoke_cli(
        [
            "users",
            "create",
            "--account-id",
            str(created["accountId"]),
            "--email",
            "ed@acme.example",
            "--role",
            "EDITOR",
            "--json",
            "--database-url",
            database_url,
        ]
    )
    assert user.returncode == 0, user.stderr
    member = json.loads(user.stdout)
    assert member["role"] == "EDITOR" and "accountSecret" not in member
    assert member["accountId"] == created["accountId"]


def test_duplicate_email_is_one_line_and_non_zero(database_url: str) -> None:
    email, url = "dup@acme.example", ["--database-url", database_url]
    made = invoke_cli(["accounts", "create", "--name", "Dup", "--email", email, "--json", *url])
    assert made.returncode == 0, made.stderr
    # An email is unique within an account (another account may have a user with it).
    args = ["users", "create", "--account-id", str(json.loads(made.stdout)["accountId"]), "--email", email, *url]
    again = invoke_cli(args)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_reset_credentials_of_an_email_in_several_accounts_needs_the_account_named(database_url: str) -> None:
    email, url = "twice@acme.example", ["--database-url", database_url]
    accounts = []
    for name in ("First", "Second"):
        made = invoke_cli(["accounts", "create", "--name", name, "--email", email, "--json", *url])
        assert made.returncode == 0, made.stderr
        accounts.append(json.loads(made.stdout))
    first, second = accounts

    ambiguous = invoke_cli(["accounts", "reset-credentials", "--email", email, "--json", *url])
    assert ambiguous.returncode == 1 and ambiguous.stdout == ""
    assert f"several accounts ({first['accountId']}, {second['accountId']})" in ambiguous.stderr
    assert "--account-id" in ambiguous.stderr
    elsewhere = invoke_cli(["accounts", "reset-credentials", "--email", email, "--account-id", "999999999", *url])
    assert elsewhere.returncode == 1 and "in account 999999999" in elsewhere.stderr

    chosen = invoke_cli(
        ["accounts", "reset-credentials", "--email", email, "--account-id", str(second["accountId"]), "--json", *url]
    )
    assert chosen.returncode == 0, chosen.stderr
    issued = json.loads(chosen.stdout)
    assert (issued["accountId"], issued["clientId"]) == (second["accountId"], second["clientId"])
    assert issued["clientSecret"] != second["clientSecret"]


def test_unknown_account_for_users_create_is_refused(database_url: str) -> None:
    done = invoke_cli(
        ["users", "create", "--account-id", "999999", "--email", "x@y.example", "--database-url", database_url]
    )
    assert done.returncode == 1 and "account 999999 not found" in done.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    done = invoke_cli(["db", "upgrade", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
    assert done.returncode == 1
    assert "cannot use the database" in done.stderr and "Traceback" not in done.stderr


def test_unsupported_database_url_is_refused() -> None:
    done = invoke_cli(["db", "upgrade", "--database-url", "mysql://root@localhost/x"])
    assert done.returncode == 1
    assert "unsupported database" in done.stderr and "Traceback" not in done.stderr


def test_bad_email_is_refused(tmp_path: Path) -> None:
    done = invoke_cli(
        ["accounts", "create", "--name", "X", "--email", "not-an-email", "--database-url", f"sqlite:///{tmp_path}/x.db"]
    )
    assert done.returncode == 1 and "is not an email address" in done.stderr


def test_db_upgrade_on_a_fresh_file(tmp_path: Path) -> None:
    done = invoke_cli(["db", "upgrade", "--database-url", f"sqlite:///{tmp_path}/fresh.db"])
    assert done.returncode == 0, done.stderr
    assert "database is at revision" in done.stderr


def test_first_serve_on_an_empty_database_prints_credentials_that_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/first.db"
    with serve(["--database-url", url], log_dir=tmp_path) as server:
        output = server.output()
        assert "First start" in output
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in output.splitlines() if line.startswith("export ")
        )
        assert exports["VERSICOLOR_URL"] == server.base_url
        token = httpx.post(
            f"{server.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": exports["VERSICOLOR_CLIENT_ID"],
                "client_secret": exports["VERSICOLOR_CLIENT_SECRET"],
            },
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        site = httpx.post(f"{server.base_url}/sites", json={"name": "Shop"}, headers=headers)
        assert site.status_code == 201
        assert [s["name"] for s in httpx.get(f"{server.base_url}/sites", headers=headers).json()] == ["Shop"]
    # The second start finds the account and prints no secrets.
    with serve(["--database-url", url], log_dir=tmp_path) as server:
        assert "First start" not in server.output()

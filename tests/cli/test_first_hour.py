"""The first hour's command line: version, help that reads well, pasteable first-start lines, lost secrets,
passwords that never need a flag, and the port of `make serve`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.server import CLI, free_port, invoke_cli, run_cli, serve
from versicolor import __version__
from versicolor.core import accounts
from versicolor.runtime import Runtime

ROOT = Path(__file__).parent.parent.parent
# Typer's own placeholders (`<bool>`, `<str>`, `<int range>`, lower-cased choices) on an option's line.
TYPER_PLACEHOLDER = re.compile(r"^\s+--\S+.*<(bool|str|int|float|int range|[a-z_|]+)>", re.MULTILINE)


def _commands(args: list[str]) -> list[list[str]]:
    """Every command path under `args`, from the help's command list."""
    done = invoke_cli([*args, "--help"])
    assert done.returncode == 0, done.stderr
    if "Commands:" not in done.stdout:
        return [args]
    names = [line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.startswith("  ")]
    found = [args] if args else []
    for name in names:
        found += _commands([*args, name])
    return found


def test_version_is_the_packages() -> None:
    done = run_cli(["--version"])
    assert done.returncode == 0 and done.stdout.strip() == f"versicolor {__version__}"


def test_help_shows_real_placeholders_and_the_apis_values() -> None:
    commands = _commands([])
    assert (
        ["sync", "plan"] in commands
        and ["users", "create"] in commands
        and ["accounts", "reset-credentials"] in commands
    )
    for command in commands:
        help_text = invoke_cli([*command, "--help"]).stdout
        assert TYPER_PLACEHOLDER.findall(help_text) == [], f"{' '.join(command)}:\n{help_text}"
    users = invoke_cli(["users", "create", "--help"]).stdout
    assert "--role ADMIN|EDITOR|VIEWER" in users
    assert "--email EMAIL" in users and "--json " in users


def test_usage_errors_exit_64_so_that_2_keeps_its_meaning() -> None:
    done = run_cli(["sync", "plan"])  # the process's exit code
    assert done.returncode == 64 and "Missing argument 'DIR'" in done.stderr
    assert invoke_cli(["no-such-command"]).returncode == 64


def test_json_uses_the_apis_field_names(database_url: str) -> None:
    done = invoke_cli(
        [
            "apps",
            "create",
            "--account-id",
            "1",
            "--name",
            "Partner",
            "--redirect-uri",
            "https://p.example/cb",
            "--json",
            "--database-url",
            database_url,
        ]
    )
    if done.returncode != 0:  # no account 1 in this run's database yet
        created = json.loads(
            invoke_cli(
                [
                    "accounts",
                    "create",
                    "--name",
                    "A",
                    "--email",
                    "a@apps.example",
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
                str(created["accountId"]),
                "--name",
                "Partner",
                "--redirect-uri",
                "https://p.example/cb",
                "--json",
                "--database-url",
                database_url,
            ]
        )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"id", "accountId", "name", "clientId", "clientSecret", "redirectUris"}


async def test_passwords_come_from_stdin_or_a_prompt_and_the_flag_warns(database_url: str, runtime: Runtime) -> None:
    piped = invoke_cli(
        [
            "accounts",
            "create",
            "--name",
            "P",
            "--email",
            "piped@pw.example",
            "--password-stdin",
            "--json",
            "--database-url",
            database_url,
        ],
        input_text="a long enough password\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert "warning" not in piped.stderr
    async with runtime.sessions() as session:
        user = await accounts.authenticate_user(
            session=session, email="piped@pw.example", password="a long enough password"
        )
    assert user is not None
    flagged = invoke_cli(
        [
            "users",
            "create",
            "--account-id",
            str(json.loads(piped.stdout)["accountId"]),
            "--email",
            "f@pw.example",
            "--password",
            "another long password",
            "--database-url",
            database_url,
        ]
    )
    assert flagged.returncode == 0 and "--password shows the password to other users" in flagged.stderr
    asked = invoke_cli(
        [
            "accounts",
            "create",
            "--name",
            "Q",
            "--email",
            "asked@pw.example",
            "--ask-password",
            "--database-url",
            database_url,
        ]
    )
    assert asked.returncode == 1 and "--ask-password needs a terminal" in asked.stderr
    both = invoke_cli(
        [
            "accounts",
            "create",
            "--name",
            "Q",
            "--email",
            "both@pw.example",
            "--ask-password",
            "--password-stdin",
            "--database-url",
            database_url,
        ]
    )
    assert both.returncode == 1 and "one way only" in both.stderr


def test_a_lost_secret_is_reissued_from_the_machine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lost.db"
    with serve(["--database-url", url], log_dir=tmp_path) as server:
        output = server.output()
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in output.splitlines() if line.startswith("export ")
        )
        assert set(exports) == {"VERSICOLOR_URL", "VERSICOLOR_CLIENT_ID", "VERSICOLOR_CLIENT_SECRET"}
        assert "reset-credentials --email admin@example.com" in output
        reset = invoke_cli(
            [
                "accounts",
                "reset-credentials",
                "--email",
                "admin@example.com",
                "--url",
                server.base_url,
                "--database-url",
                url,
            ]
        )
        assert reset.returncode == 0, reset.stderr
        fresh = dict(
            line.removeprefix("export ").split("=", 1)
            for line in reset.stdout.splitlines()
            if line.startswith("export ")
        )
        assert fresh["VERSICOLOR_CLIENT_ID"] == exports["VERSICOLOR_CLIENT_ID"]
        assert fresh["VERSICOLOR_CLIENT_SECRET"] != exports["VERSICOLOR_CLIENT_SECRET"]

        def token(secret: str) -> int:
            return httpx.post(
                f"{server.base_url}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": fresh["VERSICOLOR_CLIENT_ID"],
                    "client_secret": secret,
                },
            ).status_code

        assert token(fresh["VERSICOLOR_CLIENT_SECRET"]) == 200
        assert token(exports["VERSICOLOR_CLIENT_SECRET"]) == 401
    unknown = invoke_cli(["accounts", "reset-credentials", "--email", "nobody@x.example", "--database-url", url])
    assert unknown.returncode == 1 and "no user with email" in unknown.stderr


def test_serve_takes_its_port_from_the_environment_and_make_from_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "VERSICOLOR_PORT": str(port), "VERSICOLOR_DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen([*CLI, "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=15)
    dry_run = subprocess.run(["make", "-n", "serve", "PORT=9123"], cwd=ROOT, capture_output=True, text=True)
    if dry_run.returncode != 0 and "not found" in dry_run.stderr:
        pytest.fail("make is needed to check the Makefile")
    assert "versicolor serve --port 9123" in dry_run.stdout

"""Keys rotate without downtime: partner application secrets and the access tokens' signing key, old and new
accepted during a documented overlap; the signing keys are sealed at rest with VERSICOLOR_SECRET_KEY."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.fernet import Fernet

from tests.auth.browser import register_app
from tests.factories import Factory
from tests.server import invoke_cli, serve
from versicolor.core.roles import Role


def _token_form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": "none", "client_id": client_id, "client_secret": secret}


async def test_a_rotated_application_secret_works_beside_the_new_one_until_the_overlap_ends(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    rotated = await client.post(
        f"/applications/{app.id}/secret", headers=account.headers, json={"overlapSeconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    assert "no-store" in rotated.headers["cache-control"]
    new = rotated.json()["clientSecret"]
    assert new != app.client_secret and rotated.json()["previousSecretExpiresAt"].endswith("Z")
    # Both authenticate (the grant is then refused for its own reason, not the client's).
    for secret in (app.client_secret, new):
        answer = await client.post("/oauth/token", data=_token_form(app.client_id, secret))
        assert answer.json()["error"] == "invalid_grant", answer.text
    # Rotating again with no overlap: only the newest works.
    newest = (
        await client.post(f"/applications/{app.id}/secret", headers=account.headers, json={"overlapSeconds": 0})
    ).json()["clientSecret"]
    for secret, error in ((app.client_secret, "invalid_client"), (new, "invalid_client"), (newest, "invalid_grant")):
        assert (await client.post("/oauth/token", data=_token_form(app.client_id, secret))).json()["error"] == error


async def test_only_an_admin_with_the_accounts_own_credentials_rotates_an_application_secret(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account, other = await factory.account(), await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    editor = await factory.member(account, Role.EDITOR)
    assert (await client.post(f"/applications/{app.id}/secret", headers=editor.headers)).status_code == 403
    assert (await client.post(f"/applications/{app.id}/secret", headers=other.headers)).status_code == 404


def _token(http: httpx.Client, credentials: dict[str, str]) -> str:
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["clientId"],
            "client_secret": credentials["clientSecret"],
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.mark.server
def test_the_signing_key_rotates_while_the_server_runs_and_is_sealed_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    url = f"sqlite:///{path}"
    sealing = {"VERSICOLOR_SECRET_KEY": Fernet.generate_key().decode()}
    email = f"k-{uuid.uuid4().hex[:6]}@example.com"
    created = invoke_cli(
        ["accounts", "create", "--name", "K", "--email", email, "--json", "--database-url", url], env=sealing
    )
    assert created.returncode == 0, created.stderr
    credentials = json.loads(created.stdout)
    # Nothing readable at rest: every stored key is sealed.
    with sqlite3.connect(path) as db:
        stored = [
            row[0] for row in db.execute("SELECT secret FROM signing_keys UNION ALL SELECT value FROM server_secrets")
        ]
    assert stored and all(value.startswith("fernet:") for value in stored)
    # Without the key (or with another one) the service refuses to start, saying why.
    refused = invoke_cli(
        ["db", "upgrade", "--database-url", url], env={"VERSICOLOR_SECRET_KEY": Fernet.generate_key().decode()}
    )
    assert refused.returncode != 0 and "VERSICOLOR_SECRET_KEY" in refused.stderr and "Traceback" not in refused.stderr

    env = {**sealing, "VERSICOLOR_AUTH_SYNC_INTERVAL": "0.2"}
    with (
        serve(["--database-url", url], log_dir=tmp_path, env=env) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        before = _token(http, credentials)
        old_kid = jwt.get_unverified_header(before)["kid"]
        rotated = invoke_cli(["keys", "rotate", "--overlap", "0", "--json", "--database-url", url], env=env)
        assert rotated.returncode == 0, rotated.stderr
        new_kid = json.loads(rotated.stdout)["kid"]
        assert new_kid != old_kid
        # Until the new key signs (10 s later, once every worker knows it), old tokens and new ones work.
        me = http.get("/accounts/me", headers={"Authorization": f"Bearer {before}"})
        assert me.status_code == 200, me.text
        time.sleep(10.5)
        after = _token(http, credentials)
        assert jwt.get_unverified_header(after)["kid"] == new_kid
        assert http.get("/accounts/me", headers={"Authorization": f"Bearer {after}"}).status_code == 200
        # With no overlap, the old key retired as the new one started: its tokens are refused.
        old = http.get("/accounts/me", headers={"Authorization": f"Bearer {before}"})
        assert old.status_code == 401 and "retired" in old.json()["message"]
    log = server.output()
    assert "VERSICOLOR_SECRET_KEY is not set" not in log


@pytest.mark.parametrize("overlap", [-1, 30 * 86_400 + 1, 270845425578052226339037507485696])
async def test_an_overlap_beyond_thirty_days_or_below_zero_is_a_400_naming_it(
    client: httpx.AsyncClient, factory: Factory, overlap: int
) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    answer = await client.post(
        f"/applications/{app.id}/secret", headers=account.headers, json={"overlapSeconds": overlap}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["details"][0]["field"] == "overlapSeconds"
    # Nothing changed: the secret still authenticates.
    token = await client.post("/oauth/token", data=_token_form(app.client_id, app.client_secret))
    assert token.json()["error"] == "invalid_grant"

"""A real OAuth client library (Authlib) drives both flows against a running `versicolor serve`.

The browser's part is played the way a browser plays it: load the authorization page, read its form, post
the sign-in and the approval with the page's hidden fields and cookie, follow the redirects.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError

from tests.auth.browser import form_of, query_of
from tests.auth.certificates import self_signed
from tests.server import Server, invoke_cli, serve

PASSWORD = "a long enough password"
CALLBACK = "http://127.0.0.1:8765/callback"


@dataclass
class Deployment:
    """A running server, an account with its admin's credentials, and a registered partner app."""

    server: Server
    verify: ssl.SSLContext | bool
    email: str
    client_id: str
    client_secret: str
    app: dict[str, Any]

    def http(self) -> httpx.Client:
        """A plain HTTP client of the server (a browser, or curl)."""
        return httpx.Client(base_url=self.server.base_url, verify=self.verify)

    def oauth(self, client_id: str, client_secret: str, **kwargs: Any) -> OAuth2Client:
        """An Authlib client of the server."""
        return OAuth2Client(client_id, client_secret, base_url=self.server.base_url, verify=self.verify, **kwargs)


def _cli_json(args: list[str], database_url: str) -> dict[str, Any]:
    done = invoke_cli([*args, "--json", "--database-url", database_url])
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@contextmanager
def deployment(
    database_url: str, tmp_path: Path, *args: str, tls: bool = False, env: dict[str, str] | None = None
) -> Iterator[Deployment]:
    """An account and a partner app made with the CLI, then `versicolor serve` over them."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    account = _cli_json(
        ["accounts", "create", "--name", "Black box", "--email", email, "--password", PASSWORD], database_url
    )
    app = _cli_json(
        [
            "apps",
            "create",
            "--account-id",
            str(account["accountId"]),
            "--name",
            "Dashboards",
            "--redirect-uri",
            CALLBACK,
        ],
        database_url,
    )
    serve_args = ["--database-url", database_url, *args]
    verify: ssl.SSLContext | bool = True
    if tls:
        cert, key = self_signed(tmp_path)
        serve_args += ["--tls-cert", str(cert), "--tls-key", str(key)]
        verify = ssl.create_default_context(cafile=str(cert))
    with serve(serve_args, log_dir=tmp_path, scheme="https" if tls else "http", env=env) as server:
        yield Deployment(server, verify, email, account["clientId"], account["clientSecret"], app)


def _browser_approves(deployment: Deployment, authorization_url: str) -> str:
    """Sign in and approve as a browser would; returns the callback URL the browser is sent to."""
    with deployment.http() as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        form = form_of(page.text)
        signed_in = browser.post(
            "/oauth/authorize",
            data={**form.fields, "email": deployment.email, "password": PASSWORD, "action": "sign_in"},
        )
        assert signed_in.status_code == 303, signed_in.text
        consent = browser.get(signed_in.headers["location"])
        assert "Dashboards" in consent.text
        approved = browser.post("/oauth/authorize", data={**form_of(consent.text).fields, "action": "approve"})
        assert approved.status_code == 302, approved.text
        location: str = approved.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return location


def _both_flows(deployment: Deployment) -> None:
    base = deployment.server.base_url
    # Client credentials, with the secret in HTTP Basic (Authlib's default) and in the form.
    for method in ("client_secret_basic", "client_secret_post"):
        with deployment.oauth(
            deployment.client_id, deployment.client_secret, token_endpoint_auth_method=method
        ) as client:
            token = client.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")
            assert token["token_type"] == "Bearer" and "refresh_token" not in token
            assert client.get("/accounts/me").json()["email"] == deployment.email
            client.revoke_token(f"{base}/oauth/revoke", token=token["access_token"], token_type_hint="access_token")
            assert client.get("/accounts/me").status_code == 403

    # Authorization code with PKCE, then refresh.
    app = deployment.app
    with deployment.oauth(
        app["clientId"], app["clientSecret"], redirect_uri=CALLBACK, code_challenge_method="S256"
    ) as partner:
        verifier = generate_token(64)
        url, state = partner.create_authorization_url(
            f"{base}/oauth/authorize", code_verifier=verifier, scope="read write"
        )
        callback = _browser_approves(deployment, url)
        assert query_of(callback)["state"] == state
        first = partner.fetch_token(f"{base}/oauth/token", authorization_response=callback, code_verifier=verifier)
        assert first["refresh_token"] and first["expires_in"] == 7200
        me = partner.get("/accounts/me")
        assert me.status_code == 200 and me.json()["email"] == deployment.email
        assert first["scope"] == "read write"
        # The partner's token cannot mint anything that would outlive it: credentials, secrets, users.
        for path, body in (
            ("/accounts/me/credentials", None),
            ("/accounts/me/account-secret", None),
            ("/accounts", {"email": f"mallory-{uuid.uuid4().hex[:6]}@example.com", "role": "ADMIN"}),
        ):
            minted = partner.post(path, json=body)
            assert minted.status_code == 403, (path, minted.text)
            assert "Secret" not in minted.text
        second = partner.refresh_token(f"{base}/oauth/token", refresh_token=first["refresh_token"])
        assert second["refresh_token"] != first["refresh_token"]
        assert partner.get("/accounts/me").status_code == 200
        # Replaying the rotated-out refresh token revokes the chain, the current tokens included.
        with pytest.raises(OAuthError, match="invalid_grant"):
            partner.refresh_token(f"{base}/oauth/token", refresh_token=first["refresh_token"])
        assert partner.get("/accounts/me").status_code == 403
        with pytest.raises(OAuthError, match="invalid_grant"):
            partner.refresh_token(f"{base}/oauth/token", refresh_token=second["refresh_token"])

        # A denial comes back as access_denied; Authlib reports it.
        with deployment.http() as browser:
            url, _ = partner.create_authorization_url(f"{base}/oauth/authorize", code_verifier=generate_token(64))
            page = browser.get(url)
            denied = browser.post("/oauth/authorize", data={**form_of(page.text).fields, "action": "deny"})
        assert query_of(denied.headers["location"])["error"] == "access_denied"


@pytest.mark.server
def test_authlib_drives_both_flows_against_a_running_server(database_url: str, tmp_path: Path) -> None:
    with deployment(database_url, tmp_path) as running:
        _both_flows(running)


@pytest.mark.server
def test_authlib_drives_both_flows_over_tls_with_redis(
    database_url: str, redis_url: str, redis_keys: str, tmp_path: Path
) -> None:
    env = {"VERSICOLOR_REDIS_PREFIX": redis_keys}
    with deployment(database_url, tmp_path, "--redis-url", redis_url, tls=True, env=env) as running:
        assert running.server.base_url.startswith("https://")
        _both_flows(running)

"""`POST /oauth/token`: the client credentials grant, client authentication, and every malformed request."""

from __future__ import annotations

import base64

import httpx
import jwt
import pytest

from tests.auth.browser import register_app
from tests.auth.conftest import ClientAt
from tests.factories import Factory
from versicolor.runtime import Runtime


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _assert_oauth_error(answer: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert answer.status_code == status, answer.text
    body: dict[str, str] = answer.json()
    assert body["error"] == error, body
    assert body["error_description"]
    assert "access_token" not in body
    assert answer.headers["cache-control"] == "no-store"
    return body


async def test_client_credentials_in_the_form_gives_a_bearer_token_and_no_refresh_token(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    answer = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert "refresh_token" not in body
    assert answer.headers["cache-control"] == "no-store"
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS512"
    claims = jwt.decode(body["access_token"], runtime.signing_key, algorithms=["HS512"])
    assert claims["sub"] == str(account.admin.user_id) and claims["aid"] == account.account_id
    assert {"jti", "iat", "exp"} <= set(claims) and claims["exp"] - claims["iat"] == 7200


async def test_client_credentials_with_http_basic(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(account.admin.client_id, account.admin.client_secret),
    )
    assert answer.status_code == 200, answer.text
    me = await client.get("/accounts/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert me.json()["email"] == account.admin.email


async def test_wrong_secret_and_unknown_client_get_the_same_401(client_at: ClientAt, factory: Factory) -> None:
    account = await factory.account()
    async with client_at() as http:
        wrong = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": account.admin.client_id, "client_secret": "x"},
        )
        unknown = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}
        )
    assert _assert_oauth_error(wrong, 401, "invalid_client") == _assert_oauth_error(unknown, 401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header",
    [
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer abc",
        "Digest username=x",
    ],
)
async def test_malformed_basic_authentication_is_invalid_client(client_at: ClientAt, header: str) -> None:
    async with client_at() as http:
        answer = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": header}
        )
    _assert_oauth_error(answer, 401, "invalid_client")


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "client_credentials"},
        {"grant_type": "client_credentials", "client_id": "abc"},
        {"grant_type": "client_credentials", "client_secret": "abc"},
        {"grant_type": "client_credentials", "client_id": "", "client_secret": "abc"},
    ],
)
async def test_missing_client_authentication_is_invalid_client(client_at: ClientAt, data: dict[str, str]) -> None:
    async with client_at() as http:
        answer = await http.post("/oauth/token", data=data)
    _assert_oauth_error(answer, 401, "invalid_client")


async def test_basic_and_form_secret_together_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    member = account.admin
    both = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": member.client_secret},
        headers=_basic(member.client_id, member.client_secret),
    )
    assert "one way" in _assert_oauth_error(both, 400, "invalid_request")["error_description"]
    other_id = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "someone-else"},
        headers=_basic(member.client_id, member.client_secret),
    )
    _assert_oauth_error(other_id, 400, "invalid_request")


async def test_json_body_is_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": account.admin.client_id,
            "client_secret": account.admin.client_secret,
        },
    )
    body = _assert_oauth_error(answer, 400, "invalid_request")
    assert "application/x-www-form-urlencoded" in body["error_description"]


@pytest.mark.parametrize(
    ("content", "content_type", "names"),
    [
        (b"grant_type=client_credentials", None, "no Content-Type"),
        (b"grant_type=client_credentials", "text/plain", "text/plain"),
        (b"grant_type=client_credentials", "multipart/form-data; boundary=x", "multipart/form-data"),
        (b"grant_type=client_credentials&grant_type=refresh_token", "application/x-www-form-urlencoded", "grant_type"),
        (b"grant_type=client_credentials&client_id=a&client_id=b", "application/x-www-form-urlencoded", "client_id"),
        (b"grant_type=client%ff", "application/x-www-form-urlencoded", "UTF-8"),
        (b"client_id=" + b"a" * 5000, "application/x-www-form-urlencoded", "client_id is over"),
        (b"&".join(b"p%d=1" % i for i in range(40)), "application/x-www-form-urlencoded", "more than 32"),
    ],
)
async def test_malformed_bodies_are_invalid_request_naming_the_problem(
    client: httpx.AsyncClient, content: bytes, content_type: str | None, names: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await client.post("/oauth/token", content=content, headers=headers)
    assert names in _assert_oauth_error(answer, 400, "invalid_request")["error_description"]


async def test_a_body_over_16_kib_is_invalid_request_with_a_413(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = await client.post("/oauth/token", content=b"x=" + b"a" * 20_000, headers=headers)
    assert "16 KiB (16384 bytes)" in _assert_oauth_error(answer, 413, "invalid_request")["error_description"]


async def test_parameters_in_the_url_are_refused(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.post(
        f"/oauth/token?client_secret={account.admin.client_secret}",
        data={"grant_type": "client_credentials", "client_id": account.admin.client_id},
    )
    assert "not in the URL" in _assert_oauth_error(answer, 400, "invalid_request")["error_description"]


async def test_missing_and_unsupported_grant_types(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    credentials = {"client_id": account.admin.client_id, "client_secret": account.admin.client_secret}
    missing = await client.post("/oauth/token", data=credentials)
    assert "grant_type is required" in _assert_oauth_error(missing, 400, "invalid_request")["error_description"]
    for grant_type in ("password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", ""):
        answer = await client.post("/oauth/token", data={**credentials, "grant_type": grant_type})
        expected = "invalid_request" if grant_type == "" else "unsupported_grant_type"
        _assert_oauth_error(answer, 400, expected)


async def test_each_grant_is_for_its_kind_of_client(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    app = await register_app(factory.runtime, account.account_id)
    partner = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=app.basic)
    assert "authorization_code" in _assert_oauth_error(partner, 400, "unauthorized_client")["error_description"]
    own = httpx.BasicAuth(account.admin.client_id, account.admin.client_secret)
    for data in (
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": app.redirect_uris[0]},
        {"grant_type": "refresh_token", "refresh_token": "x"},
    ):
        answer = await client.post("/oauth/token", data=data, auth=own)
        _assert_oauth_error(answer, 400, "unauthorized_client")


async def test_get_is_not_the_token_endpoint(client: httpx.AsyncClient) -> None:
    answer = await client.get("/oauth/token")
    assert answer.status_code == 405


async def test_access_token_lifetime_is_configurable(factory: Factory, runtime: Runtime) -> None:
    from dataclasses import replace

    from versicolor.app import create_app

    short = replace(runtime, settings=runtime.settings.model_copy(update={"access_token_ttl": 600}))
    transport = httpx.ASGITransport(app=create_app(runtime=short), client=("127.0.0.1", 1))
    account = await factory.account()
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        answer = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": account.admin.client_id,
                "client_secret": account.admin.client_secret,
            },
        )
    assert answer.json()["expires_in"] == 600
    claims = jwt.decode(answer.json()["access_token"], runtime.signing_key, algorithms=["HS512"])
    assert claims["exp"] - claims["iat"] == 600

"""Every API call needs a valid bearer token: 401 with WWW-Authenticate otherwise."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.factories import Factory
from versicolor.runtime import Runtime


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic abc", "Bearer a b", "bearer not-a-jwt", "Bearer eyJhbGciOi.truncated"],
)
async def test_missing_or_malformed_token_is_a_401(client: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    answer = await client.get("/sites", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["status"] == 401


async def test_forged_expired_and_alg_none_tokens_are_refused(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    now = int(time.time())
    claims = {"sub": str(account.admin.user_id), "aid": account.account_id, "jti": "x", "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, "not-the-key", algorithm="HS512")
    expired = jwt.encode({**claims, "iat": now - 7200, "exp": now - 60}, runtime.signing_key, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    hs256 = jwt.encode(claims, runtime.signing_key, algorithm="HS256")
    for token in (forged, expired, unsigned, hs256):
        answer = await client.get("/sites", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
    expired_answer = await client.get("/sites", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in expired_answer.json()["message"]


async def test_token_of_another_account_claim_is_refused(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    mine, theirs = await factory.account(), await factory.account()
    now = int(time.time())
    claims = {"sub": str(mine.admin.user_id), "aid": theirs.account_id, "jti": "y", "iat": now, "exp": now + 60}
    crossed = jwt.encode(claims, runtime.signing_key, algorithm="HS512")
    answer = await client.get("/sites", headers={"Authorization": f"Bearer {crossed}"})
    assert answer.status_code == 403


async def test_client_credentials_token_works(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/accounts/me", headers=account.headers)
    assert answer.status_code == 200
    me = answer.json()
    assert me["email"] == account.admin.email
    assert me["clientId"] == account.admin.client_id
    assert "clientSecret" not in me and account.admin.client_secret not in answer.text


async def test_truncated_and_tampered_real_tokens_are_401(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    token = account.admin.token
    header, payload, signature = token.split(".")
    other = await factory.account()
    swapped = f"{header}.{other.admin.token.split('.')[1]}.{signature}"  # someone else's claims, my signature
    for broken in (token[:-5], token[: len(token) // 2], f"{header}.{payload}", f"{header}.{payload}.", swapped):
        answer = await client.get("/accounts/me", headers={"Authorization": f"Bearer {broken}"})
        assert answer.status_code == 401, broken
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_revoked_is_403_not_401(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    revoked = await client.post(
        "/oauth/revoke",
        data={"token": account.admin.token},
        auth=(account.admin.client_id, account.admin.client_secret),
    )
    assert revoked.status_code == 200
    answer = await client.get("/sites", headers=account.headers)
    assert answer.status_code == 403 and "revoked" in answer.json()["message"]
    assert "www-authenticate" not in answer.headers

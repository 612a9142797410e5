"""A public Postman collection of Kameleoon's Automation API, run request by request with only `baseUrl` changed.

Source (read, not copied; the requests are rebuilt here from the collection's items): api-evangelist/kameleoon,
collections/kameleoon.postman_collection.json ("Kameleoon Automation API", `{{baseUrl}}` =
https://api.kameleoon.com; collections/kameleoon-experiments-api.postman_collection.json, -oauth-api and
-personalizations-api hold the same requests split by folder). Its five requests:

- OAuth, "Request an OAuth 2.0 access token": `POST /oauth/token`, `Content-Type:
  application/x-www-form-urlencoded`, `Accept: application/json`, a form with six enabled fields (`grant_type`,
  `client_id`, `client_secret`, `code`, `redirect_uri`, `refresh_token`). Run for client credentials with the
  fields it does not use left at the collection's placeholders, and for an authorization code with every field.
- OAuth, "Request an OAuth 2.0 authorization code": `GET /oauth/authorize` with `client_id`, `redirect_uri`,
  `response_type` and `scope`; documented as a 302 to `redirect_uri` carrying the code (after the user's consent).
- Experiments, "List experiments" (`GET /experiments`) and "Create an experiment" (`POST /experiments`, a raw JSON
  object), and Personalizations, "List personalizations" (`GET /personalizations`): `Accept: application/json`,
  the collection's bearer auth with `{{bearerToken}}`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.auth.browser import approve, register_app
from tests.compat.conftest import bearer
from tests.factories import TestAccount
from tests.server import Server
from versicolor.runtime import Runtime

pytestmark = pytest.mark.server

ACCEPT = {"Accept": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **ACCEPT}


async def _collection_requests(http: httpx.AsyncClient, token: str, site_id: int) -> None:
    """The collection's Experiments and Personalizations folders, in order, with `{{bearerToken}}`."""
    auth = {**ACCEPT, "Authorization": f"Bearer {token}"}
    listed = await http.get("/experiments", headers=auth)
    assert listed.status_code == 200, listed.text
    before = len(listed.json())
    created = await http.post(
        "/experiments",
        json={"name": "From Postman", "siteId": site_id, "baseURL": "https://shop.example/"},
        headers={**auth, "Content-Type": "application/json"},
    )
    assert created.status_code == 201 and created.json()["name"] == "From Postman", created.text
    assert len((await http.get("/experiments", headers=auth)).json()) == before + 1
    personalizations = await http.get("/personalizations", headers=auth)
    assert personalizations.status_code == 200 and personalizations.json() == [], personalizations.text


async def test_the_collection_with_client_credentials(kameleoon: tuple[httpx.AsyncClient, TestAccount]) -> None:
    http, account = kameleoon
    site = (await http.post("/sites", json={"name": "Shop"}, headers=await bearer(http, account))).json()
    form = {
        "grant_type": "client_credentials",
        "client_id": account.admin.client_id,
        "client_secret": account.admin.client_secret,
        "code": "<string>",
        "redirect_uri": "<uri>",
        "refresh_token": "<string>",
    }
    answer = await http.post("/oauth/token", content=urlencode(form), headers=FORM)
    assert answer.status_code == 200, answer.text
    await _collection_requests(http, answer.json()["access_token"], site["id"])


async def test_the_collection_with_an_authorization_code(
    versicolor: Server, runtime: Runtime, account: TestAccount
) -> None:
    app = await register_app(runtime, account.account_id)
    async with httpx.AsyncClient(base_url=versicolor.base_url, timeout=60) as http:
        site = (await http.post("/sites", json={"name": "Shop"}, headers=await bearer(http, account))).json()
        # "Request an OAuth 2.0 authorization code", opened in the user's browser: they sign in and approve.
        query = {
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uris[0],
            "response_type": "code",
            "scope": "read write",
        }
        location = await approve(http, "/oauth/authorize?" + urlencode(query), account.admin)
        assert location.startswith(app.redirect_uris[0]), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        # "Request an OAuth 2.0 access token" with every field of the collection.
        form = {
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code": code,
            "redirect_uri": app.redirect_uris[0],
            "refresh_token": "<string>",
        }
        answer = await http.post("/oauth/token", content=urlencode(form), headers=FORM)
        assert answer.status_code == 200, answer.text
        await _collection_requests(http, answer.json()["access_token"], site["id"])

"""Edits over the v3 API reach the host decisions this process has cached at once, not only after the TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.v3.edit_api import create, create_group, secret
from tests.factories import Factory
from versicolor.app import create_app
from versicolor.core.domains.authorization import HostAuthorizer, Reason
from versicolor.runtime import Runtime


@pytest.fixture
def authorizer() -> HostAuthorizer:
    """A cache whose entries would outlive the test: only an explicit drop can refresh them."""
    return HostAuthorizer(ttl=3600)


@pytest.fixture
async def http(runtime: Runtime, authorizer: HostAuthorizer) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose process cache is `authorizer`."""
    app = create_app(runtime=runtime)
    app.state.host_authorizer = authorizer
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


async def decide(runtime: Runtime, authorizer: HostAuthorizer, account_id: int, host: str) -> Reason:
    async with runtime.sessions() as session, session.begin():
        return (await authorizer.authorize(session=session, account_id=account_id, host=host)).reason


async def test_url_edits_reach_the_cache_at_once(
    http: httpx.AsyncClient, runtime: Runtime, factory: Factory, authorizer: HostAuthorizer
) -> None:
    account = await factory.account()
    url = await create(http, account, host="app.example.com")
    assert await decide(runtime, authorizer, account.account_id, "app.example.com") is Reason.ON
    await http.patch(f"/v3/edit/urls/{url['id']}", json={"enabled": "off"}, headers=secret(account))
    assert await decide(runtime, authorizer, account.account_id, "app.example.com") is Reason.OFF
    await http.post(
        "/v3/edit/urls/batch", json={"ids": [url["id"]], "archived_at": "2024-05-01T00:00:00Z"}, headers=secret(account)
    )
    assert await decide(runtime, authorizer, account.account_id, "app.example.com") is Reason.ARCHIVED


async def test_archiving_an_environment_with_its_urls_reaches_the_cache_at_once(
    http: httpx.AsyncClient, runtime: Runtime, factory: Factory, authorizer: HostAuthorizer
) -> None:
    account = await factory.account()
    qa = await create_group(http, account, name="QA")
    await create(http, account, host="qa.example.com", url_group_id=qa["id"])
    assert await decide(runtime, authorizer, account.account_id, "qa.example.com") is Reason.ON
    answer = await http.patch(
        f"/v3/edit/url_groups/{qa['id']}",
        json={"archived_at": "2024-05-01T00:00:00Z", "urls_action_on_archive": "archive"},
        headers=secret(account),
    )
    assert answer.status_code == 200
    assert await decide(runtime, authorizer, account.account_id, "qa.example.com") is Reason.ARCHIVED

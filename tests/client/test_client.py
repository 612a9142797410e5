"""`versicolor.client` against a real server: tokens, paging, cursors, typed errors."""

from __future__ import annotations

import pytest

from tests.client.conftest import QUICK, connect
from tests.factories import Factory, TestAccount
from tests.server import Server
from versicolor.client import BadRequest, Conflict, NotFound, Versicolor, where
from versicolor.core import goals
from versicolor.core.domains import urls as core_urls
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime


def _principal(account: TestAccount) -> Principal:
    return Principal(user_id=account.admin.user_id, account_id=account.account_id, role=Role.ADMIN)


async def test_paging_visits_every_one_of_450_goals_once(
    api_server: Server, account: TestAccount, runtime: Runtime
) -> None:
    with connect(api_server, account) as vc:
        site = vc.sites.create(name="Shop")
        async with runtime.sessions() as session, session.begin():
            for number in range(450):
                await goals.create(
                    session=session,
                    principal=_principal(account),
                    site_id=site.id,
                    fields={"name": f"Goal {number:03}", "type": "CUSTOM"},
                )
        before = sum(vc.transport.sent.values())
        found = list(vc.goals.list(filter=[where("siteId", "EQUAL", site.id)]))
        assert sorted(g.name for g in found) == [f"Goal {n:03}" for n in range(450)]
        assert len({g.id for g in found}) == 450
        assert sum(vc.transport.sent.values()) - before == 3, "200 + 200 + 50"
        small = list(vc.goals.list(filter=[where("siteId", "EQUAL", site.id)], per_page=100))
        assert [g.id for g in small] == [g.id for g in found]


async def test_the_cursor_visits_every_one_of_1200_urls_once(
    api_server: Server, account: TestAccount, runtime: Runtime
) -> None:
    async with runtime.sessions() as session, session.begin():
        for number in range(1200):
            await core_urls.create(
                session=session, principal=_principal(account), host=f"h{number}.cursor.example", enabled="on"
            )
    with connect(api_server, account) as vc:
        before = vc.transport.sent["GET"]
        hosts = [url.host for url in vc.urls.list(domain="cursor.example")]
        assert len(hosts) == len(set(hosts)) == 1200
        assert vc.transport.sent["GET"] - before == 3, "500 + 500 + 200"
        assert [u.host for u in vc.urls.list(domain="cursor.example", limit=50)] == hosts


async def test_errors_are_typed_and_carry_the_servers_words(api_server: Server, account: TestAccount) -> None:
    with connect(api_server, account) as vc:
        site = vc.sites.create(name="Shop")
        with pytest.raises(BadRequest) as bad:
            vc.goals.create(name="x", site_id=site.id, type="URL", params={"matchType": "CONTAINS"})
        assert bad.value.status == 400
        assert [e.field for e in bad.value.errors] == ["params.matchString"]
        assert bad.value.request_id and "params.matchString" in str(bad.value)
        with pytest.raises(NotFound) as missing:
            vc.experiments.get(999_999_999)
        assert "experiment 999999999 not found" in missing.value.message
        experiment = vc.experiments.create(name="E", site_id=site.id, base_url="https://shop.example/")
        with pytest.raises(Conflict) as conflict:
            vc.experiments.pause(experiment.id)
        assert "DRAFT" in conflict.value.message


async def test_a_token_is_fetched_once_and_kept(api_server: Server, account: TestAccount) -> None:
    with connect(api_server, account) as vc:
        vc.sites.create(name="Shop")
        list(vc.sites.list())
        list(vc.experiments.list())
        assert vc.transport.sent["POST"] == 2, "one token, one site"


async def test_typed_models_keep_the_fields_they_do_not_know(api_server: Server, account: TestAccount) -> None:
    with connect(api_server, account) as vc:
        site = vc.sites.create(name="Shop")
        assert site.model_extra and "snippet" in site.model_extra
        assert site.raw()["snippet"] == site.model_extra["snippet"]
        experiment = vc.experiments.create(
            {"commonJavaScriptCode": "go()"}, name="E", site_id=site.id, base_url="https://shop.example/", key="e"
        )
        assert experiment.common_javascript_code == "go()" and experiment.key == "e"
        assert experiment.raw()["baseURL"] == "https://shop.example/"


def test_a_server_that_is_not_there_is_a_connection_failure_after_retries() -> None:
    from tests.server import free_port
    from versicolor.client import ConnectionFailed, RetryPolicy

    waits: list[float] = []
    vc = Versicolor(
        f"http://127.0.0.1:{free_port()}",
        client_id="x",
        client_secret="y",
        retry=RetryPolicy(attempts=3, base=0.01, cap=0.02),
        on_wait=lambda reason, seconds: waits.append(seconds),
    )
    with pytest.raises(ConnectionFailed) as failed:
        list(vc.sites.list())
    assert "cannot reach" in str(failed.value) and "3 attempts" in str(failed.value)
    assert len(waits) == 2
    vc.close()


async def test_wrong_credentials_say_what_to_do(api_server: Server, account: TestAccount, factory: Factory) -> None:
    from versicolor.client import AuthenticationFailed

    vc = Versicolor(api_server.base_url, client_id=account.admin.client_id, client_secret="wrong")
    with pytest.raises(AuthenticationFailed) as refused:
        list(vc.sites.list())
    assert "versicolor login" in str(refused.value) and account.admin.client_id in str(refused.value)
    vc.close()


async def test_the_token_is_renewed_before_it_expires(api_server: Server, account: TestAccount) -> None:
    from versicolor.client import Credentials, Transport
    from versicolor.client.auth import RENEW_BEFORE
    from versicolor.settings import Settings

    lifetime = Settings.model_fields["access_token_ttl"].default  # the server's, as its answers say
    now = [1000.0]
    transport = Transport(
        api_server.base_url,
        credentials=Credentials(account.admin.client_id, account.admin.client_secret),
        retry=QUICK,
        clock=lambda: now[0],
    )
    with Versicolor(api_server.base_url, transport=transport) as vc:
        first = transport.token()
        assert transport.sent["POST"] == 1
        now[0] += lifetime - RENEW_BEFORE - 1
        list(vc.sites.list())
        assert transport.sent["POST"] == 1 and transport.token() == first, "still fresh: kept"
        now[0] += 2
        list(vc.sites.list())
        assert transport.sent["POST"] == 2, "due within five minutes of expiring: renewed before the request"
        renewed = transport.token()
        assert renewed != first


async def test_a_revoked_token_is_replaced_once_and_the_request_goes_through(
    api_server: Server, account: TestAccount
) -> None:
    import httpx

    with connect(api_server, account) as vc:
        vc.sites.create(name="Shop")
        revoked = vc.transport.token()
        async with httpx.AsyncClient(base_url=api_server.base_url) as http:
            answer = await http.post(
                "/oauth/revoke",
                data={
                    "token": revoked,
                    "client_id": account.admin.client_id,
                    "client_secret": account.admin.client_secret,
                },
            )
        assert answer.status_code == 200, answer.text
        before = vc.transport.sent.copy()
        assert [s.name for s in vc.sites.list()] == ["Shop"]
        sent = vc.transport.sent - before
        assert sent == {"GET": 2, "POST": 1}, "refused with 401, one new token, the same GET again"
        assert vc.transport.token() != revoked


async def test_a_client_whose_secret_was_rotated_while_it_ran_is_told_so(
    api_server: Server, account: TestAccount
) -> None:
    import httpx

    from versicolor.client import AuthenticationFailed

    with connect(api_server, account) as vc:
        list(vc.sites.list())
        async with httpx.AsyncClient(base_url=api_server.base_url) as http:
            rotated = await http.post(
                "/accounts/me/credentials", headers={"Authorization": f"Bearer {account.admin.token}"}
            )
        assert rotated.status_code in (200, 201), rotated.text
        # Its kept token is refused (403, revoked by the rotation); the new token it asks for is refused too.
        with pytest.raises(AuthenticationFailed) as refused:
            list(vc.sites.list())
        assert refused.value.status == 401
        assert "The secret may have been rotated" in refused.value.message

"""The client's retries against real servers: a tiny rate limit, injected 5xx and cut connections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import QUICK, connect
from tests.client.faults import Faults, proxy
from tests.factories import TestAccount
from tests.server import Server, serve
from versicolor.client import ConnectionFailed, RateLimited, RetryPolicy, ServerError, Versicolor


@pytest.fixture(scope="module")
def limited_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that admits 4 requests per token in any 2 seconds."""
    log_dir: Path = tmp_path_factory.mktemp("limited")
    with serve(["--database-url", database_url], log_dir=log_dir, env={"VERSICOLOR_RATE_LIMITS": "4/2s"}) as server:
        yield server


async def test_a_tiny_rate_limit_makes_the_client_wait_not_fail(limited_server: Server, account: TestAccount) -> None:
    waits: list[tuple[str, float]] = []
    with connect(limited_server, account, on_wait=lambda reason, s: waits.append((reason, s))) as vc:
        site = vc.sites.create(name="Shop")
        started = time.monotonic()
        for number in range(12):
            vc.goals.create(name=f"G{number}", site_id=site.id, type="CUSTOM")
        elapsed = time.monotonic() - started
        assert len(list(vc.goals.list())) == 12
    assert waits and all("429" in reason for reason, _ in waits)
    # 13 writes at 4 per 2 s take at least 4 s; every wait followed the server's Retry-After (1-2 s).
    assert elapsed >= 3.5
    assert all(0.5 <= seconds <= 2.6 for _, seconds in waits)


async def test_v3_waits_by_its_headers_too(limited_server: Server, account: TestAccount) -> None:
    waits: list[float] = []
    with connect(limited_server, account, on_wait=lambda reason, s: waits.append(s)) as vc:
        created = [vc.urls.create(f"h{n}.limits.example") for n in range(7)]
        assert len({u.id for u in created}) == 7
    assert waits


async def test_a_429_storm_past_the_budget_raises_rate_limited(limited_server: Server, account: TestAccount) -> None:
    with connect(limited_server, account, retry=RetryPolicy(rate_limit_budget=0.0)) as vc:
        with pytest.raises(RateLimited) as limited:
            for _ in range(10):
                list(vc.sites.list())
        assert limited.value.status == 429 and limited.value.retry_after is not None
        assert "rate limit exceeded" in limited.value.message


async def test_5xx_and_cut_connections_are_retried_for_reads(api_server: Server, account: TestAccount) -> None:
    faults = Faults(plan=[503, 502, "cut-before", 504, None], only="/sites")
    with proxy(api_server.base_url, faults) as url:
        vc = Versicolor(url, client_id=account.admin.client_id, client_secret=account.admin.client_secret, retry=QUICK)
        assert list(vc.sites.list()) == []
        assert faults.seen.count("GET /sites?page=1&perPage=200") == 5
        vc.close()


async def test_a_write_cut_after_it_was_sent_is_not_sent_again(api_server: Server, account: TestAccount) -> None:
    faults = Faults(plan=["cut-after"], only="/sites")
    with proxy(api_server.base_url, faults) as url:
        vc = Versicolor(url, client_id=account.admin.client_id, client_secret=account.admin.client_secret, retry=QUICK)
        with pytest.raises(ConnectionFailed) as cut:
            vc.sites.create(name="Shop")
        assert "was not sent again" in str(cut.value)
        # It did reach the server once: exactly one site exists.
        assert [s.name for s in vc.sites.list()] == ["Shop"]
        vc.close()


async def test_a_write_is_not_repeated_after_a_cut_or_a_5xx_it_may_have_caused(
    api_server: Server, account: TestAccount
) -> None:
    # A connection cut before an answer looks the same to the client whether the request arrived or not.
    faults = Faults(plan=["cut-before", 503], only="/sites")
    with proxy(api_server.base_url, faults) as url:
        vc = Versicolor(url, client_id=account.admin.client_id, client_secret=account.admin.client_secret, retry=QUICK)
        with pytest.raises(ConnectionFailed):
            vc.sites.create(name="Shop")
        with pytest.raises(ServerError) as failed:
            vc.sites.create(name="Shop")
        assert failed.value.status == 503 and failed.value.message == "injected fault"
        assert [s for s in faults.seen if s.endswith("/sites")] == ["POST /sites", "POST /sites"]
        assert list(vc.sites.list()) == []
        vc.close()


async def test_persistent_5xx_gives_up_after_the_attempts(api_server: Server, account: TestAccount) -> None:
    faults = Faults(plan=[503] * 10, only="/sites")
    with proxy(api_server.base_url, faults) as url:
        vc = Versicolor(url, client_id=account.admin.client_id, client_secret=account.admin.client_secret, retry=QUICK)
        with pytest.raises(ServerError) as failed:
            list(vc.sites.list())
        assert failed.value.status == 503 and len(faults.seen) >= QUICK.attempts
        vc.close()

"""Clients for the OAuth tests: a browser with its own cookies, and callers from addresses of their own."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis

_addresses = itertools.count(1)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on this machine: it keeps cookies and does not follow redirects by itself."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


ClientAt = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(app: FastAPI) -> ClientAt:
    """Clients from a remote address of their own (over HTTPS), so that their failures are counted apart."""

    @asynccontextmanager
    async def make(address: str | None = None, scheme: str = "https") -> AsyncIterator[httpx.AsyncClient]:
        address = address or f"198.51.100.{next(_addresses) % 250 + 1}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://api.example") as http:
            yield http

    return make


def unique_address() -> str:
    """A documentation-range address no other test uses in this run."""
    n = next(_addresses)
    return f"203.0.113.{n % 250 + 1}" if n < 250 else f"2001:db8::{n:x}"


@pytest.fixture
def redis_keys(redis_url: str, redis_prefix: str) -> Iterator[str]:
    """A Redis key prefix for one test (VERSICOLOR_REDIS_PREFIX); every key under it is deleted afterwards."""
    prefix = f"{redis_prefix}{uuid.uuid4().hex[:8]}:"
    yield prefix
    redis = Redis.from_url(redis_url)
    try:
        for key in redis.scan_iter(match=f"{prefix}*"):
            redis.delete(key)
    finally:
        redis.close()

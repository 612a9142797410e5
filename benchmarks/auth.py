"""Authentication: requests/s of an authenticated GET /accounts/me beside an unauthenticated GET /healthz.

Real `versicolor serve` processes (one worker each, one SQLite file) answer a minimal keep-alive HTTP/1.1
client over a few connections to 127.0.0.1, so that the client's own cost stays small beside the server's:

- `memory`: the token gate's state in memory only;
- `Redis`: Redis configured; once warm, the gate listens there (auth/fanout.py) and its checks ask Redis
  nothing (a gate that is not listening GETs the journal head on every check, as all did before);
- `memory+ratelimit`: as `memory` with the per-token rate limiter on (set out of reach), for reference.

The first two run with the rate limiter off (VERSICOLOR_RATE_LIMITS empty) so that only authentication
differs from /healthz. The servers run side by side and take turns, round after round, each round a fixed
number of requests, so that a change in the machine's load hits every figure alike; a figure is the median.

The ratio of the two endpoints also contains what /accounts/me does besides authenticating (routing,
its dependency, the response model), so authentication is also isolated in this process, on the same database
and settings, in CPU time with as many concurrent requests as the load has connections:

- the app alone (ASGI calls, no HTTP server): /healthz, /accounts/me, and /accounts/me with the caller already
  checked (the route exactly as served, minus authentication: token, gate, role);
- the token check alone (signature, then the gate) on a warm gate.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from redis import Redis
from tests.server import run_cli, serve

from versicolor.api import security
from versicolor.app import create_app
from versicolor.auth import tokens
from versicolor.auth.gate import TokenGate, UserSnapshot
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime
from versicolor.settings import Settings

CONNECTIONS = 8
REQUESTS = 4000  # per round, endpoint and server
ROUNDS = 5
CHECKS = 20_000
APP_REQUESTS = 8_000  # per in-process round and path
REDIS_URL = os.environ.get("VERSICOLOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Setup:
    """One server configuration under test, and what was measured of it."""

    label: str
    redis_url: str | None = None
    rate_limits: str = ""
    prefix: str = field(default_factory=lambda: f"vcbench:{uuid.uuid4().hex[:8]}:")
    port: int = 0
    token: str = ""
    healthz: list[float] = field(default_factory=list)
    me: list[float] = field(default_factory=list)


async def _connection(port: int, request: bytes, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"expected 200, got {head.decode(errors='replace')}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
    finally:
        writer.close()


def _rate(port: int, path: str, headers: dict[str, str]) -> float:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    per_connection = REQUESTS // CONNECTIONS

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, request, per_connection) for _ in range(CONNECTIONS)))
        return per_connection * CONNECTIONS / (time.perf_counter() - started)

    return asyncio.run(run())


def _token(base_url: str, credentials: dict[str, str]) -> str:
    answer = httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["clientId"], credentials["clientSecret"]),
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


@contextmanager
def _serving(setup: Setup, database_url: str, credentials: dict[str, str], folder: Path) -> Iterator[None]:
    env = {
        "VERSICOLOR_DATABASE_URL": database_url,
        "VERSICOLOR_LOG_LEVEL": "warning",
        "VERSICOLOR_RATE_LIMITS": setup.rate_limits,
        "VERSICOLOR_REDIS_PREFIX": setup.prefix,
        # Only the Redis head (or a change made by the process itself) makes a worker read the journal.
        "VERSICOLOR_AUTH_SYNC_INTERVAL": "60",
    }
    args = ["--workers", "1"] + (["--redis-url", setup.redis_url] if setup.redis_url else [])
    try:
        with serve(args, log_dir=folder, env=env) as server:
            setup.port = int(server.base_url.rsplit(":", 1)[1])
            setup.token = _token(server.base_url, credentials)
            yield
    finally:
        if setup.redis_url:
            redis = Redis.from_url(setup.redis_url)
            for key in redis.scan_iter(match=f"{setup.prefix}*"):
                redis.delete(key)
            redis.close()


@dataclass
class InProcess:
    """CPU microseconds per request of the app alone, and of the token check alone."""

    healthz: float
    me: float
    me_checked: float  # /accounts/me with the caller already checked: the route minus authentication
    check: float  # a token check as done (a known token's signature is not verified again)
    cold_check: float  # verifying the signature every time


async def _app_cost(runtime: Runtime, token: str) -> tuple[float, float, float]:
    app = create_app(runtime=runtime)
    gate = TokenGate.for_runtime(runtime)
    app.state.token_gate = gate
    user = await _warm(gate, token)
    checked = (Principal(account_id=user.account_id, user_id=user.id, role=Role(user.role)), user)
    bearer = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"expected 200, got {message['status']}")

    async def requests(path: str, headers: list[tuple[bytes, bytes]], extra: dict[str, object]) -> None:
        for _ in range(APP_REQUESTS // CONNECTIONS):
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
                "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}, **extra,
            }  # fmt: skip
            await app(scope, receive, send)  # type: ignore[arg-type]

    cases = {
        "healthz": ("/healthz", [(b"host", b"127.0.0.1")], {}),
        "me": ("/accounts/me", bearer, {}),
        "me_checked": ("/accounts/me", bearer, {security.CHECKED_CALLER: checked}),
    }
    costs: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for round_ in range(ROUNDS + 1):
            for name, case in cases.items():
                started = time.process_time()
                await asyncio.gather(*(requests(*case) for _ in range(CONNECTIONS)))
                if round_:
                    costs[name].append((time.process_time() - started) / APP_REQUESTS * 1e6)
    finally:
        await gate.close()
    return tuple(statistics.median(costs[name]) for name in cases)  # type: ignore[return-value]


async def _warm(gate: TokenGate, token: str) -> UserSnapshot:
    """Check `token` once, and wait until the gate listens on Redis if it has Redis."""
    _, user = await gate.check(token)
    for _ in range(500):
        if gate.fanout is None or gate.fanout.listening:
            return user
        await asyncio.sleep(0.01)
    raise RuntimeError("the token gate did not start listening on Redis")


async def _in_process(settings: Settings, token: str) -> InProcess:
    """The app and the token check in this process, on a warm gate, as concurrently as the load."""
    runtime = await Runtime.start(settings, migrate_first=False)
    try:
        healthz, me, me_checked = await _app_cost(runtime, token)
        gate = TokenGate.for_runtime(runtime)
        await _warm(gate, token)

        async def checks(verify_every_time: bool) -> None:
            for _ in range(CHECKS // CONNECTIONS):
                if verify_every_time:
                    await gate.admit(tokens.verify(keyring=runtime.keyring, token=token))
                else:
                    await gate.check(token)

        costs = []
        try:
            for verify_every_time in (False, True):
                started = time.process_time()
                await asyncio.gather(*(checks(verify_every_time) for _ in range(CONNECTIONS)))
                costs.append((time.process_time() - started) / (CHECKS // CONNECTIONS * CONNECTIONS) * 1e6)
        finally:
            await gate.close()
        return InProcess(healthz=healthz, me=me, me_checked=me_checked, check=costs[0], cold_check=costs[1])
    finally:
        await runtime.close()


def _report(setup: Setup, database_url: str) -> None:
    healthz, me = statistics.median(setup.healthz), statistics.median(setup.me)
    settings = Settings(
        database_url=database_url,
        redis_url=setup.redis_url,
        redis_prefix=setup.prefix,
        auth_sync_interval=60,
        rate_limits=setup.rate_limits,
    )
    cost = asyncio.run(_in_process(settings, setup.token))
    per_request = 1e6 / me
    auth = cost.me - cost.me_checked
    label = setup.label
    print(f"  {label:<16} baseline GET /healthz (no auth): {healthz:>7,.0f} requests/s")
    print(
        f"  {label:<16} GET /accounts/me (bearer):       {me:>7,.0f} requests/s "
        f"(ratio {me / healthz:.2f}: {1 - me / healthz:.0%} fewer)"
    )
    print(
        f"  {label:<16} in-process, app only (µs CPU):   /healthz {cost.healthz:.1f}, /accounts/me {cost.me:.1f}, "
        f"of which authentication {auth:.1f} (the route with the caller already checked: {cost.me_checked:.1f})"
    )
    print(
        f"  {label:<16} token check (verify + gate):     {cost.check:>7.1f} µs CPU = {cost.check / per_request:.1%} of "
        f"one /accounts/me request ({per_request:.0f} µs); {cost.cold_check:.1f} µs verifying the signature every time"
    )


def main() -> None:
    """Print requests/s of /accounts/me beside /healthz, memory and Redis, and the token check's cost."""
    print(
        f"one worker per server, SQLite, {CONNECTIONS} keep-alive connections, "
        f"median of {ROUNDS} rounds of {REQUESTS:,} requests"
    )
    setups = [
        Setup("memory"),
        Setup("Redis", redis_url=REDIS_URL),
        Setup("memory+ratelimit", rate_limits="1000000/1s"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database_url = f"sqlite:///{folder / 'auth.db'}"
        done = run_cli(
            ["accounts", "create", "--name", "Bench", "--email", "bench@example.com", "--json"],
            env={"VERSICOLOR_DATABASE_URL": database_url},
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        credentials = json.loads(done.stdout)
        with ExitStack() as servers:
            for setup in setups:
                servers.enter_context(_serving(setup, database_url, credentials, folder))
            for round_ in range(ROUNDS + 1):  # the first round warms up
                for setup in setups:
                    healthz = _rate(setup.port, "/healthz", {})
                    me = _rate(setup.port, "/accounts/me", {"Authorization": f"Bearer {setup.token}"})
                    if round_:
                        setup.healthz.append(healthz)
                        setup.me.append(me)
            for setup in setups:
                _report(setup, database_url)


if __name__ == "__main__":
    main()

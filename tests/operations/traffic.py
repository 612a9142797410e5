"""Mixed traffic from many concurrent clients against one or more servers: reads, writes, events and results.

Shared by the load test (tests/operations/test_load.py), which asserts on what the clients were told, and the
load benchmark (benchmarks/load.py), which prints the throughput and latencies. Everything is made over HTTP
with an account's API credentials, so both can run it against any server.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

HOST = "load.example"
ORIGIN = f"https://{HOST}"
EXPERIMENTS = 4
# What a client does, and how often (out of the sum of the weights).
MIX = {
    "read": 30,  # GET /experiments/{id}
    "list": 10,  # GET /experiments?perPage=20
    "write": 12,  # PATCH /experiments/{id}
    "create": 3,  # POST /goals
    "events": 30,  # a page's batch of events (POST /data/v1/sites/{code}/events)
    "config": 10,  # a page's configuration (GET /data/v1/sites/{code}/config)
    "results": 5,  # POST /experiments/{id}/results, then GET /results?dataCode=
}

# What an action got: per request it made, its kind and the answer.
Answers = list[tuple[str, httpx.Response]]


@dataclass
class Shop:
    """What the traffic works on: a site with ACTIVE experiments and the tokens clients take turns with."""

    code: str
    site_id: int
    goal_id: int
    experiments: dict[int, list[int]]  # experiment id -> its variation ids
    tokens: list[str]


@dataclass
class Outcome:
    """One request: what it was, where it went, its status (0: no answer) and how long it took."""

    kind: str
    server: str
    status: int
    seconds: float
    error: str = ""


@dataclass
class Record:
    """Every request of a run, and how long the run lasted."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def statuses(self) -> Counter[int]:
        """How many answers of each status (0: the request got no answer)."""
        return Counter(o.status for o in self.outcomes)

    def throughput(self) -> float:
        """Requests answered per second."""
        return sum(1 for o in self.outcomes if o.status) / self.seconds

    def percentile(self, share: float) -> float:
        """The latency, in milliseconds, under which `share` of the answered requests fell."""
        ordered = sorted(o.seconds for o in self.outcomes if o.status)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    def median(self) -> float:
        """The median latency, in milliseconds."""
        return statistics.median(o.seconds for o in self.outcomes if o.status) * 1000

    def by_kind(self) -> dict[str, tuple[int, float]]:
        """Per kind of request: how many were answered, and their median latency in milliseconds."""
        kinds: dict[str, list[float]] = {}
        for outcome in self.outcomes:
            if outcome.status:
                kinds.setdefault(outcome.kind, []).append(outcome.seconds)
        return {kind: (len(times), statistics.median(times) * 1000) for kind, times in sorted(kinds.items())}


def token(http: httpx.Client, client_id: str, client_secret: str) -> str:
    """A new access token for the credentials (client credentials grant)."""
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
    )
    assert answer.status_code == 200, answer.text
    issued: str = answer.json()["access_token"]
    return issued


def prepare(base_url: str, client_id: str, client_secret: str, *, tokens: int = 8) -> Shop:
    """Over HTTP: a site whose host pages may use, a goal, ACTIVE experiments of two variations, and tokens."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        issued = [token(http, client_id, client_secret) for _ in range(tokens)]
        http.headers["Authorization"] = f"Bearer {issued[0]}"

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = http.post(path, json=body)
            assert answer.status_code == 201, answer.text
            created: dict[str, Any] = answer.json()
            return created

        site = post("/sites", {"name": "Load", "url": f"https://{HOST}"})
        goal = post("/goals", {"name": "Purchase", "siteId": site["id"], "type": "CUSTOM"})
        experiments = {}
        for n in range(EXPERIMENTS):
            body = {
                "name": f"Load {n}",
                "siteId": site["id"],
                "baseURL": f"https://{HOST}/",
                "goals": [goal["id"]],
                "mainGoalId": goal["id"],
            }
            experiment = post("/experiments", body)
            # The first variation it came with, and a second one.
            variations = [
                *experiment["variations"],
                post("/variations", {"name": "V2", "experimentId": experiment["id"]})["id"],
            ]
            activated = http.patch(f"/experiments/{experiment['id']}", params={"action": "ACTIVATE"})
            assert activated.status_code == 200, activated.text
            experiments[experiment["id"]] = variations
        enabled = http.post("/v3/edit/urls", json={"host": HOST, "enabled": "on"})
        assert enabled.status_code in (201, 409), enabled.text
    return Shop(code=site["code"], site_id=site["id"], goal_id=goal["id"], experiments=experiments, tokens=issued)


def _described(exc: BaseException) -> str:
    """The exception and what caused it, down to the socket's error: httpx's ReadError('') alone does not say
    whether the peer reset the connection or this side closed it."""
    chain = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 6:
        chain.append(repr(current))
        current = current.__cause__ or current.__context__
    return " <- ".join(chain)


class Clients:
    """`count` clients, each sending one request after another to a server drawn at random, until the end."""

    def __init__(self, servers: list[str], shop: Shop, *, count: int, variant: int = 20) -> None:
        self.servers = servers
        self.shop = shop
        self.count = count
        self.variant = variant  # which sequence of random choices the clients make
        self.record = Record()
        # A pool of its own per client, as each browser or script has: httpcore's (1.0.9) may close a connection
        # it has just handed to a waiting request, which then fails with ReadError (encode/httpcore#1110), when
        # requests wait for connections in one pool. A client sends one request at a time: none ever waits.
        # (One pool without a cap or an expiry also avoided it, but its idle connections cost the clients'
        # process so much that the benchmark measured a quarter of the throughput.)
        # An idle connection is dropped after 2 s, well before the servers' keep-alive timeout ends it.
        limits = httpx.Limits(max_keepalive_connections=len(servers), keepalive_expiry=2)
        tls = ssl.create_default_context()  # made once: each client would otherwise load the certificates again
        self.http = [httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60), verify=tls) for _ in range(count)]

    async def run(self, seconds: float) -> Record:
        """Send for `seconds`; then wait for the requests in flight. Returns every outcome."""
        started = time.perf_counter()
        deadline = started + seconds
        try:
            await asyncio.gather(*(self._client(n, deadline) for n in range(self.count)))
        finally:
            for http in self.http:
                await http.aclose()
        self.record.seconds = time.perf_counter() - started
        return self.record

    async def _client(self, number: int, deadline: float) -> None:
        rng = random.Random(self.variant * 1000 + number)
        kinds, weights = list(MIX), list(MIX.values())
        http = self.http[number]
        actions: dict[str, Callable[[httpx.AsyncClient, str, random.Random], Awaitable[Answers]]] = {
            "read": self._read,
            "list": self._list,
            "write": self._write,
            "create": self._create,
            "events": self._events,
            "config": self._config,
            "results": self._results,
        }
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            server = rng.choice(self.servers)
            started = time.perf_counter()
            try:
                answers = await actions[kind](http, server, rng)
            except httpx.HTTPError as exc:
                self.record.outcomes.append(Outcome(kind, server, 0, time.perf_counter() - started, _described(exc)))
                continue
            # A two-step action (results) is one outcome per request; each took its share of the time.
            took = (time.perf_counter() - started) / len(answers)
            for step, answer in answers:
                error = answer.text[:300] if answer.status_code >= 400 else ""
                self.record.outcomes.append(Outcome(step, server, answer.status_code, took, error))

    def _auth(self, rng: random.Random) -> dict[str, str]:
        return {"Authorization": f"Bearer {rng.choice(self.shop.tokens)}"}

    def _experiment(self, rng: random.Random) -> int:
        return rng.choice(list(self.shop.experiments))

    async def _read(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        url = f"{server}/experiments/{self._experiment(rng)}"
        return [("read", await http.get(url, headers=self._auth(rng)))]

    async def _list(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        where = [{"field": "siteId", "operator": "EQUAL", "parameters": [self.shop.site_id]}]
        params = {"perPage": "20", "filter": json.dumps(where)}
        return [("list", await http.get(f"{server}/experiments", params=params, headers=self._auth(rng)))]

    async def _write(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        url = f"{server}/experiments/{self._experiment(rng)}"
        body = {"description": f"changed {uuid.uuid4().hex[:8]}"}
        return [("write", await http.patch(url, json=body, headers=self._auth(rng)))]

    async def _create(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        body = {"name": f"Goal {uuid.uuid4().hex[:8]}", "siteId": self.shop.site_id, "type": "CUSTOM"}
        return [("create", await http.post(f"{server}/goals", json=body, headers=self._auth(rng)))]

    async def _events(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        now = int(time.time() * 1000)
        events: list[dict[str, Any]] = []
        for _ in range(2):
            visitor = uuid.uuid4().hex[:16]
            experiment = self._experiment(rng)
            common = {"visitorCode": visitor, "visitId": f"{visitor}-1"}
            events += [
                {"id": uuid.uuid4().hex, "type": "VISIT", "timestamp": now, **common},
                {
                    "id": uuid.uuid4().hex,
                    "type": "EXPOSURE",
                    "timestamp": now + 1,
                    "experimentId": experiment,
                    "variationId": rng.choice([0, *self.shop.experiments[experiment]]),
                    **common,
                },
                {
                    "id": uuid.uuid4().hex,
                    "type": "CONVERSION",
                    "timestamp": now + 2,
                    "goalId": self.shop.goal_id,
                    **common,
                },
            ]
        url = f"{server}/data/v1/sites/{self.shop.code}/events"
        headers = {"Origin": ORIGIN, "Content-Type": "text/plain"}
        return [("events", await http.post(url, json={"events": events}, headers=headers))]

    async def _config(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        url = f"{server}/data/v1/sites/{self.shop.code}/config"
        return [("config", await http.get(url, headers={"Origin": ORIGIN}))]

    async def _results(self, http: httpx.AsyncClient, server: str, rng: random.Random) -> Answers:
        asked = await http.post(
            f"{server}/experiments/{self._experiment(rng)}/results", json={}, headers=self._auth(rng)
        )
        if asked.status_code != 200:
            return [("results", asked)]
        # Read back on the other server, if there is one: the report is the database's, not a process's.
        other = rng.choice([s for s in self.servers if s != server] or [server])
        code = asked.json()["dataCode"]
        fetched = await http.get(f"{other}/results", params={"dataCode": code}, headers=self._auth(rng))
        return [("results", asked), ("results", fetched)]

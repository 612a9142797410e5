"""Sign-in floods: how long other requests wait while wrong passwords arrive, beside the same server idle.

A real `versicolor serve` (one worker, SQLite) answers `GET /healthz` from one client, one request at a time,
first alone (the baseline), then while a flood of sign-in attempts with wrong passwords runs beside it
(`FLOOD` clients posting to the authorization page, each from its own address, as fast as answered). argon2
runs in its own thread pool, so the event loop keeps answering; what the health check still pays is the CPU
the hashes take from it on a shared machine. The rounds alternate, so that a change of the machine's load hits
both figures alike; each figure is the median of its rounds.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from tests.auth.browser import form_of
from tests.server import run_cli, serve

FLOOD = 4
PROBES = 150  # health checks per round
ROUNDS = 3


def _register(url: str) -> tuple[str, str]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    created = run_cli(["accounts", "create", "--name", "Bench", "--email", email, "--json", "--database-url", url])
    assert created.returncode == 0, created.stderr
    account_id = json.loads(created.stdout)["accountId"]
    made = run_cli(
        [
            "apps",
            "create",
            "--account-id",
            str(account_id),
            "--name",
            "Bench",
            "--redirect-uri",
            "https://partner.example/cb",
            "--json",
            "--database-url",
            url,
        ]
    )
    assert made.returncode == 0, made.stderr
    return email, json.loads(made.stdout)["clientId"]


def _probe(base_url: str) -> list[float]:
    waits = []
    with httpx.Client(base_url=base_url) as http:
        for _ in range(PROBES):
            started = time.perf_counter()
            http.get("/healthz")
            waits.append((time.perf_counter() - started) * 1000)
    return waits


def _flood(base_url: str, email: str, client_id: str, stop: threading.Event, attempts: list[int]) -> None:
    page = f"/oauth/authorize?client_id={client_id}&response_type=code&redirect_uri=https://partner.example/cb"
    with httpx.Client(base_url=base_url, timeout=60) as http:
        fields = form_of(http.get(page).text).fields
        while not stop.is_set():
            http.post(
                "/oauth/authorize", data={**fields, "email": email, "password": "wrong " * 3, "action": "sign_in"}
            )
            attempts[0] += 1


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'signin.db'}"
        email, client_id = _register(url)
        # Sign-ins are throttled per network: this benchmark measures the stall, not the throttle.
        env = {"VERSICOLOR_AUTH_FAILURES_BEFORE_BACKOFF": "1000000", "VERSICOLOR_AUTH_FAILURES_PER_ADDRESS": ""}
        with serve(["--database-url", url], log_dir=Path(folder), env=env) as server:
            alone: list[float] = []
            flooded: list[float] = []
            p99_alone: list[float] = []
            p99_flooded: list[float] = []
            attempts = [0]
            flood_seconds = 0.0
            for _ in range(ROUNDS):
                waits = _probe(server.base_url)
                alone.append(statistics.median(waits))
                p99_alone.append(statistics.quantiles(waits, n=100)[98])
                stop = threading.Event()
                flood = [
                    threading.Thread(target=_flood, args=(server.base_url, email, client_id, stop, attempts))
                    for _ in range(FLOOD)
                ]
                for thread in flood:
                    thread.start()
                time.sleep(1.0)  # the flood is under way
                started = time.perf_counter()
                waits = _probe(server.base_url)
                flood_seconds += time.perf_counter() - started
                stop.set()
                for thread in flood:
                    thread.join()
                flooded.append(statistics.median(waits))
                p99_flooded.append(statistics.quantiles(waits, n=100)[98])
    hasher = PasswordHasher()
    stored = hasher.hash("correct horse battery staple")
    verifications = []
    for _ in range(5):
        started = time.perf_counter()
        hasher.verify(stored, "correct horse battery staple")
        verifications.append((time.perf_counter() - started) * 1000)
    rate = attempts[0] / max(flood_seconds, 1e-9)
    print(f"GET /healthz, one at a time, {PROBES} per round, {ROUNDS} rounds (median of rounds):")
    print(
        f"  alone (baseline):            median {statistics.median(alone):7.1f} ms   "
        f"p99 {statistics.median(p99_alone):7.1f} ms"
    )
    print(
        f"  beside {FLOOD} sign-in flooders:  median {statistics.median(flooded):7.1f} ms   "
        f"p99 {statistics.median(p99_flooded):7.1f} ms"
    )
    print(f"  sign-in attempts answered meanwhile: {attempts[0]} (about {rate:.1f}/s)")
    print(
        f"  one argon2 verification, this run: {statistics.median(verifications):.0f} ms of wall time "
        "(what each attempt held the event loop for when argon2 ran on it)"
    )

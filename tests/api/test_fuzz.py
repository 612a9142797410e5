"""The fuzz stage: schemathesis runs all its checks over the whole API document against a real server.

Every operation of /openapi.json is tested (examples, coverage, fuzzing and stateful phases) by
`schemathesis run` with every check (tests/api/schemathesis.toml says which it does not hold yet): no 5xx;
every answer's status, content type, headers and body as documented; invalid input refused with a 4xx;
authentication enforced; a method a path does not take answered 405 with `Allow`; created objects readable and
deleted ones gone; and object-level authorization between two accounts (what one account made or listed is a
404 for the other). Zero failures are allowed.

Bounded so that it fits the suite: at most VERSICOLOR_FUZZ_EXAMPLES cases per operation and phase (default 8)
and VERSICOLOR_FUZZ_SECONDS for the whole run (default 90); the seed is VERSICOLOR_FUZZ_SEED (default fixed,
so that a run can be reproduced; set another to explore). The fixed seed is one per backend: the suite's two
legs draw different cases, rather than the same cases twice, in 90 s each where one seed took 150 s on both.
Traffic goes to 127.0.0.1 only. The server runs without per-caller rate limits, which a fuzzer would spend in
seconds (429s are documented everywhere they can happen, and tests/conventions covers them).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx

from tests.conftest import BACKEND
from tests.factories import Factory
from tests.server import serve

CONFIG = Path(__file__).with_name("schemathesis.toml")
OUTPUT = Path(__file__).resolve().parents[2] / "build" / "fuzz" / "schemathesis.txt"
EXAMPLES = int(os.environ.get("VERSICOLOR_FUZZ_EXAMPLES", "8"))
SECONDS = int(os.environ.get("VERSICOLOR_FUZZ_SECONDS", "90"))
SEED = int(os.environ.get("VERSICOLOR_FUZZ_SEED", "20261208" if BACKEND == "postgresql" else "20261207"))
# What the server may take per caller while fuzzed: no limits (an empty policy is none).
UNLIMITED = {
    "VERSICOLOR_RATE_LIMITS": "",
    "VERSICOLOR_ANONYMOUS_RATE_LIMITS": "",
    "VERSICOLOR_DATA_RATE_LIMITS": "",
    "VERSICOLOR_PAGE_EVENTS_PER_ADDRESS": "",
    "VERSICOLOR_PAGE_EVENTS_PER_SITE": "",
    "VERSICOLOR_NEW_HOSTS_PER_SITE": "",
}
_ANSWERED = re.compile(r'"[A-Z]+ [^"]*HTTP/1\.1" \d{3}')


async def test_the_api_holds_under_the_fuzzer(database_url: str, tmp_path: Path, factory: Factory) -> None:
    accounts = {"alice": await factory.account("Alice's shop"), "bob": await factory.account("Bob's shop")}
    with serve(["--database-url", database_url], log_dir=tmp_path, env=UNLIMITED) as server:
        auth = []
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            for name, account in accounts.items():
                form = {
                    "grant_type": "client_credentials",
                    "client_id": account.admin.client_id,
                    "client_secret": account.admin.client_secret,
                }
                token = (await http.post("/oauth/token", data=form)).json()["access_token"]
                auth.append({"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]})
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(json.dumps({"auth": auth}))
        reports = tmp_path / "reports"
        started = time.monotonic()
        run = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.base_url}/openapi.json",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(EXAMPLES),
                "--max-time",
                str(SECONDS),
                "--seed",
                str(SEED),
                # One worker: Python 3.11's parser keeps one recursion counter per process, and two threads that
                # parse at once (Hypothesis reads the source of its lambdas) crash it with "AST constructor
                # recursion depth mismatch".
                "--workers",
                "1",
                "--report",
                "junit",
                "--report-dir",
                str(reports),
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=SECONDS + 120,
            env={**os.environ, "VERSICOLOR_FUZZ_AUTH": str(auth_file)},
        )
        elapsed = time.monotonic() - started
        requests = len(_ANSWERED.findall(server.output()))
    junit = next(reports.glob("junit*.xml"))
    operations = len(ElementTree.parse(junit).getroot().findall(".//testcase"))
    summary = f"schemathesis: {operations} operations, {requests} requests in {elapsed:.0f} s (seed {SEED})"
    print(summary)
    # The whole report, for when it fails: the assertion shows its end.
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(f"{summary}\n{run.stdout}\n{run.stderr}")
    assert run.returncode == 0, f"{summary} (all of it in {OUTPUT})\n{run.stdout[-15000:]}\n{run.stderr[-3000:]}"
    assert operations >= 80, summary

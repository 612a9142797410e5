"""versicolor sync: plan and apply of a folder of 50 experiments x 3 variations, wall time and requests.

A real `versicolor serve` process (one worker, SQLite, no rate limit) and the sync library in this process
(`sync plan`/`apply` as a command add the process start, measured too). Figures: a first apply that creates
everything; a plan of the unchanged folder (target: at most 2 s and one list request per kind of object); an
apply with nothing to do; an apply after changing 6 objects (target: one write per changed object).
Baselines from the same run: the same reads sent bare with httpx (no planning), the same number of writes sent
bare (PATCHes of one goal's name), and `versicolor --version` for the command's start-up.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from tests.server import CLI, run_cli, serve
from tests.sync.folders import write_site

from versicolor.client import Versicolor
from versicolor.sync import apply, folder, plan, remote

EXPERIMENTS = 50
VARIATIONS = 3
ROUNDS = 5


def _requests(counter: Counter[str]) -> str:
    return f"{sum(counter.values())} requests ({', '.join(f'{k} {v}' for k, v in sorted(counter.items()))})"


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        database = f"sqlite:///{root / 'bench.db'}"
        with serve(["--database-url", database], log_dir=root, env={"VERSICOLOR_RATE_LIMITS": ""}) as server:
            made = run_cli(
                [
                    *("accounts", "create", "--name", "Bench", "--json", "--database-url", database),
                    *("--email", f"sync-{uuid.uuid4().hex[:8]}@example.com"),
                ]
            )
            account = json.loads(made.stdout)
            client = Versicolor(server.base_url, client_id=account["clientId"], client_secret=account["clientSecret"])
            site = client.sites.create(name="Bench shop")
            path = write_site(root / "site", site.code, experiments=EXPERIMENTS, variations=VARIATIONS)
            _run(client, server.base_url, path, site.code, account)
            client.close()


def _measure(client: Versicolor, work: object) -> tuple[float, Counter[str], object]:
    before = client.transport.sent.copy()
    started = time.perf_counter()
    result = work()  # type: ignore[operator]
    return time.perf_counter() - started, client.transport.sent - before, result


def _plan(client: Versicolor, path: Path, code: str) -> plan.Plan:
    return plan.make(folder.read(path), remote.read(client, code))


def _apply(client: Versicolor, path: Path, code: str) -> int:
    current = remote.read(client, code)
    return apply.run(client, plan.make(folder.read(path), current), current)


def _run(client: Versicolor, base_url: str, path: Path, code: str, account: dict[str, str]) -> None:
    client.transport.token()  # the token is fetched once, outside every figure
    objects = 3 + EXPERIMENTS * (1 + VARIATIONS)
    print(f"folder: {EXPERIMENTS} experiments x {VARIATIONS} variations, 2 goals, 1 segment ({objects} objects)")

    seconds, sent, first = _measure(client, lambda: _plan(client, path, code))
    print(f"plan, empty site      {seconds:6.2f} s  {_requests(sent)}  -> {len(first.changes)} changes")  # type: ignore[attr-defined]
    seconds, sent, writes = _measure(client, lambda: _apply(client, path, code))
    print(f"apply, all created    {seconds:6.2f} s  {_requests(sent)}  writes {writes} for {objects} objects")

    samples, sent = [], Counter[str]()
    for _ in range(ROUNDS):
        seconds, sent, unchanged = _measure(client, lambda: _plan(client, path, code))
        assert unchanged.empty  # type: ignore[attr-defined]
        samples.append(seconds)
    print(f"plan, unchanged       {_median(samples):6.2f} s  {_requests(sent)}  (median of {ROUNDS}; target <= 2 s)")
    seconds, sent, writes = _measure(client, lambda: _apply(client, path, code))
    print(f"apply, unchanged      {seconds:6.2f} s  {_requests(sent)}  writes {writes}")

    # Six changed objects: five variations' code and one experiment's name.
    for number in range(5):
        (path / f"experiments/exp-{number:03}/v1.js").write_text(f"document.title = 'changed {number}';\n")
    manifest = path / "experiments/exp-010/experiment.yaml"
    manifest.write_text(manifest.read_text().replace("name: Experiment 10", "name: Experiment ten"))
    seconds, sent, changed = _measure(client, lambda: _plan(client, path, code))
    print(f"plan, 6 changed       {seconds:6.2f} s  {_requests(sent)}  -> {len(changed.changes)} changes")  # type: ignore[attr-defined]
    seconds, sent, writes = _measure(client, lambda: _apply(client, path, code))
    print(f"apply, 6 changed      {seconds:6.2f} s  {_requests(sent)}  writes {writes} (target: 6)")

    # Baselines: the same reads and as many writes, sent bare.
    headers = {"Authorization": f"Bearer {client.transport.token()}"}
    site_id = client.sites.by_code(code).id
    of_site = json.dumps([{"field": "siteId", "operator": "EQUAL", "parameters": [site_id]}])
    with httpx.Client(base_url=base_url, headers=headers) as http:
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            http.get(f"/sites/byCode/{code}").raise_for_status()
            for resource, extra in (
                ("goals", {}),
                ("segments", {}),
                ("experiments", {"optionalFields": "goals"}),
                ("variations", {}),
            ):
                http.get(f"/{resource}", params={"filter": of_site, "perPage": 200, **extra}).raise_for_status()
            samples.append(time.perf_counter() - started)
        print(f"baseline: the 5 reads bare      {_median(samples):6.2f} s  (median of {ROUNDS})")
        # A goal without a key, which the folder does not manage, takes the bare writes.
        goal_id = client.goals.create(name="Baseline", site_id=site_id, type="CUSTOM").id
        started = time.perf_counter()
        for number in range(objects):
            http.patch(f"/goals/{goal_id}", json={"description": f"bench {number}"}).raise_for_status()
        print(f"baseline: {objects} PATCHes bare     {time.perf_counter() - started:6.2f} s")

    # The command, as a process: start-up included.
    env = {
        "VERSICOLOR_URL": base_url,
        "VERSICOLOR_CLIENT_ID": account["clientId"],
        "VERSICOLOR_CLIENT_SECRET": account["clientSecret"],
        "XDG_CONFIG_HOME": str(path.parent),
    }
    samples, baseline = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        done = subprocess.run(
            [*CLI, "sync", "plan", str(path), "--detailed-exitcode"], env={**_environ(), **env}, capture_output=True
        )
        samples.append(time.perf_counter() - started)
        assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr)
        started = time.perf_counter()
        subprocess.run([*CLI, "--version"], capture_output=True, check=True)
        baseline.append(time.perf_counter() - started)
    print(f"`versicolor sync plan` (process) {_median(samples):6.2f} s")
    print(f"baseline: `versicolor --version`  {_median(baseline):6.2f} s (the process start-up alone)")


def _environ() -> dict[str, str]:
    return dict(os.environ)


if __name__ == "__main__":
    main()
    sys.exit(0)

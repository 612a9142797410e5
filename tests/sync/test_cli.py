"""`versicolor sync` as a user runs it: exit codes, errors named by file and line, cuts and restarts."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import QUICK
from tests.client.faults import Faults, proxy
from tests.factories import TestAccount
from tests.server import Server, invoke_cli, serve
from tests.sync.folders import write_site
from versicolor.client import ConnectionFailed, Versicolor
from versicolor.sync import apply, folder, plan, remote


def _env(url: str, account: TestAccount, home: Path) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(home),
        "VERSICOLOR_URL": url,
        "VERSICOLOR_CLIENT_ID": account.admin.client_id,
        "VERSICOLOR_CLIENT_SECRET": account.admin.client_secret,
    }


def _client(url: str, account: TestAccount) -> Versicolor:
    return Versicolor(url, client_id=account.admin.client_id, client_secret=account.admin.client_secret, retry=QUICK)


def _site(url: str, account: TestAccount) -> str:
    with _client(url, account) as vc:
        return vc.sites.create(name="Shop").code


async def test_plan_exit_codes_then_apply_twice(api_server: Server, account: TestAccount, tmp_path: Path) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    root = write_site(tmp_path / "site", _site(api_server.base_url, account), experiments=2)
    done = invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env)
    assert done.returncode == 2, done.stderr
    assert "+ create experiment exp-000" in done.stdout and "+ create variation exp-001/v2" in done.stdout
    done = invoke_cli(["sync", "apply", str(root), "--json"], env=env)
    assert done.returncode == 0, done.stderr
    applied = json.loads(done.stdout)
    assert applied["applied"] == 11 and applied["writes"] == 11, "3 + 2 x (1 + 3) objects, one write each"
    again = invoke_cli(["sync", "apply", str(root)], env=env)
    assert again.returncode == 0 and "nothing to change" in again.stdout
    done = invoke_cli(["sync", "plan", str(root), "--detailed-exitcode", "--json"], env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["changes"] == []

    # A code change shows as a diff; removing an experiment needs --prune to delete it.
    (root / "experiments/exp-000/v1.js").write_text("document.title = 'changed';\n")
    (root / "experiments/exp-001/experiment.yaml").unlink()
    for leftover in (root / "experiments/exp-001").iterdir():
        leftover.unlink()
    (root / "experiments/exp-001").rmdir()
    done = invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env)
    assert done.returncode == 2
    assert "-document.title = 'experiment 0 variation 1';" in done.stdout
    assert "+document.title = 'changed';" in done.stdout
    assert "--prune deletes them" in done.stdout and "experiment exp-001" in done.stdout
    done = invoke_cli(["sync", "apply", str(root), "--prune", "--json"], env=env)
    assert done.returncode == 0, done.stderr
    assert {(c["action"], c["kind"], c["key"]) for c in json.loads(done.stdout)["changes"]} == {
        ("update", "variation", "v1"),
        ("delete", "experiment", "exp-001"),
    }
    assert invoke_cli(["sync", "plan", str(root), "--prune", "--detailed-exitcode"], env=env).returncode == 0


async def test_an_invalid_folder_is_refused_whole_before_any_request(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", _site(api_server.base_url, account), experiments=2)
    (root / "goals.yaml").write_text("purchase:\n  name: Purchase\n  type: CUSTOMER\n  tags: oops\n")
    manifest = root / "experiments/exp-000/experiment.yaml"
    manifest.write_text(manifest.read_text().replace("jsFile: v1.js", "jsFile: missing.js") + "deviations: {v9: 2}\n")
    (root / "experiments/exp-001/experiment.yaml").write_text("name: [unclosed\n")
    (root / "experiments/Bad Key").mkdir()
    faults = Faults()
    with proxy(api_server.base_url, faults) as url:
        done = invoke_cli(["sync", "apply", str(root)], env=_env(url, account, tmp_path))
    assert done.returncode == 1
    assert faults.seen == [], "no request before the folder is valid"
    err = done.stderr
    assert "goals.yaml:3: type must be one of CLICK, URL" in err
    assert "goals.yaml:4: tags must be a list of text" in err
    assert "experiments/exp-000/experiment.yaml:" in err and "missing.js does not exist" in err
    assert "'v9' is not a variation of this experiment" in err
    assert "experiments/exp-000/experiment.yaml:3: goals: there is no goal 'cart' in goals.yaml" in err
    assert "experiments/exp-001/experiment.yaml:2: is not valid YAML" in err
    assert "experiments/Bad Key: folder name 'Bad Key' is not a key" in err
    assert "Traceback" not in err


async def test_references_the_site_does_not_have_and_a_folder_for_another_site(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    code = _site(api_server.base_url, account)
    root = write_site(tmp_path / "site", code, experiments=1)
    (root / "goals.yaml").unlink()  # goals are not managed: references must name goals the site has
    done = invoke_cli(["sync", "plan", str(root)], env=env)
    assert done.returncode == 1
    assert "experiments/exp-000/experiment.yaml:3: goals: the site has no goal with key 'cart'" in done.stderr
    assert "experiments/exp-000/experiment.yaml:4: mainGoal: the site has no goal with key 'purchase'" in done.stderr
    done = invoke_cli(["sync", "plan", str(root), "--site", "someother"], env=env)
    assert done.returncode == 1 and f"site.yaml:1: this folder describes site '{code}', not 'someother'" in done.stderr
    (root / "site.yaml").write_text("site: notmysite\n")
    done = invoke_cli(["sync", "plan", str(root), "--json"], env=env)
    assert done.returncode == 1 and "this account has no site with code 'notmysite'" in done.stderr
    assert json.loads(done.stdout)["problems"][0]["file"] == "site.yaml"


async def test_the_servers_400s_are_shown_with_their_field(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", _site(api_server.base_url, account), experiments=1)
    (root / "goals.yaml").write_text(
        "purchase:\n  name: Purchase\n  type: CUSTOM\n"
        "cart:\n  name: Cart\n  type: URL\n  params: {matchType: CONTAINS}\n"
    )
    done = invoke_cli(["sync", "apply", str(root)], env=_env(api_server.base_url, account, tmp_path))
    assert done.returncode == 1
    assert "400 Bad Request: params.matchString" in done.stderr
    assert "stopped after 1 of" in done.stderr and "run apply again to finish" in done.stderr


async def test_a_write_whose_answer_was_lost_is_finished_by_the_next_run(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    code = _site(api_server.base_url, account)
    root = write_site(tmp_path / "site", code, experiments=3)
    # The 6th write reaches the server, which commits it, but the answer never comes back.
    faults = Faults()
    with proxy(api_server.base_url, faults) as url, _client(url, account) as vc:
        found = folder.read(root)
        current = remote.read(vc, code)
        made = plan.make(found, current)
        faults.plan = [None] * 5 + ["cut-after"]
        faults.seen.clear()
        with pytest.raises(ConnectionFailed):
            apply.run(vc, made, current)
    done = invoke_cli(["sync", "apply", str(root), "--json"], env=_env(api_server.base_url, account, tmp_path))
    assert done.returncode == 0, done.stderr
    with _client(api_server.base_url, account) as vc:
        assert plan.make(folder.read(root), remote.read(vc, code)).empty
        experiments = [e for e in vc.experiments.list() if e.site_id == remote.read(vc, code).site.id]
        assert sorted(e.key for e in experiments) == ["exp-000", "exp-001", "exp-002"], "no experiment twice"
        variations = [v for v in vc.variations.list() if v.experiment_id in {e.id for e in experiments}]
        assert len(variations) == 9 and all(v.key for v in variations)
        assert not [v for v in vc.variations.list() if v.experiment_id is None], "no variation left without one"


async def test_a_server_killed_mid_apply_is_finished_by_running_it_again(
    database_url: str, account: TestAccount, tmp_path: Path
) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    with serve(["--database-url", database_url], log_dir=log_dir, env={"VERSICOLOR_RATE_LIMITS": ""}) as first:
        port = int(first.base_url.rsplit(":", 1)[1])
        code = _site(first.base_url, account)
        root = write_site(tmp_path / "site", code, experiments=4)
        with _client(first.base_url, account) as vc:
            current = remote.read(vc, code)
            made = plan.make(folder.read(root), current)
            seen = 0

            def kill_after_some(_change: plan.Change) -> None:
                nonlocal seen
                seen += 1
                if seen == 6:
                    first.process.send_signal(signal.SIGKILL)
                    first.process.wait()

            with pytest.raises(ConnectionFailed):
                apply.run(vc, made, current, on_change=kill_after_some)
    with serve(
        ["--database-url", database_url], log_dir=log_dir, env={"VERSICOLOR_RATE_LIMITS": ""}, port=port
    ) as again:
        env = _env(again.base_url, account, tmp_path)
        done = invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env)
        assert done.returncode == 2, "the first run left work to do"
        done = invoke_cli(["sync", "apply", str(root)], env=env)
        assert done.returncode == 0, done.stderr
        assert invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env).returncode == 0


async def test_pull_writes_a_folder_that_plans_nothing(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    code = _site(api_server.base_url, account)
    root = write_site(tmp_path / "site", code, experiments=2)
    assert invoke_cli(["sync", "apply", str(root)], env=env).returncode == 0
    done = invoke_cli(["sync", "pull", code, str(tmp_path / "pulled"), "--json"], env=env)
    assert done.returncode == 0, done.stderr
    pulled = json.loads(done.stdout)
    assert (pulled["goals"], pulled["segments"], pulled["experiments"], pulled["variations"]) == (2, 1, 2, 6)
    assert pulled["keysGiven"] == []
    assert invoke_cli(["sync", "plan", str(tmp_path / "pulled"), "--detailed-exitcode"], env=env).returncode == 0
    again = invoke_cli(["sync", "pull", code, str(tmp_path / "pulled")], env=env)
    assert again.returncode == 1 and "is not empty" in again.stderr
    assert invoke_cli(["sync", "pull", code, str(tmp_path / "pulled"), "--force"], env=env).returncode == 0


async def test_a_429_storm_during_apply_is_waited_out(database_url: str, account: TestAccount, tmp_path: Path) -> None:
    with serve(["--database-url", database_url], log_dir=tmp_path, env={"VERSICOLOR_RATE_LIMITS": "4/2s"}) as server:
        env = _env(server.base_url, account, tmp_path)
        root = write_site(tmp_path / "site", _site(server.base_url, account), experiments=2)
        # About twenty requests at four per two seconds: most of them meet a 429 first.
        done = invoke_cli(["sync", "apply", str(root), "--json"], env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["writes"] == 11
        assert "rate limited by the server (429); waiting" in done.stderr
        again = invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr


async def test_a_rotated_secret_stops_sync_with_a_clear_message(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    root = write_site(tmp_path / "site", _site(api_server.base_url, account), experiments=1)
    async with httpx.AsyncClient(base_url=api_server.base_url) as http:
        rotated = await http.post(
            "/accounts/me/credentials", headers={"Authorization": f"Bearer {account.admin.token}"}
        )
    assert rotated.status_code in (200, 201), rotated.text
    done = invoke_cli(["sync", "apply", str(root)], env=env)
    assert done.returncode == 3
    assert f"the server refused client id '{account.admin.client_id}'" in done.stderr
    assert "The secret may have been rotated" in done.stderr and "Traceback" not in done.stderr


async def test_a_5xx_in_the_middle_of_apply_stops_it_and_the_next_run_finishes(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", _site(api_server.base_url, account), experiments=2)
    # The goals' list passes; the second goal's creation meets a 503 (a write is never sent twice on a 5xx).
    faults = Faults(plan=[None, None, 503], only="/goals")
    with proxy(api_server.base_url, faults) as url:
        done = invoke_cli(["sync", "apply", str(root)], env=_env(url, account, tmp_path))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "503" in done.stderr and "Traceback" not in done.stderr
    assert [s for s in faults.seen if s.startswith("POST /goals")] == ["POST /goals", "POST /goals"]
    env = _env(api_server.base_url, account, tmp_path)
    assert invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env).returncode == 2
    again = invoke_cli(["sync", "apply", str(root), "--json"], env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["writes"] == 10, "everything but the goal the first run made"
    assert invoke_cli(["sync", "plan", str(root), "--detailed-exitcode"], env=env).returncode == 0

"""The commands over HTTP, run through the console script's entry point against a real server (a process of its
own, reached over HTTP); what only a process shows (which modules it loads) in a real one."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client.conftest import account, api_server
from tests.client.faults import Faults, proxy
from tests.factories import Factory, TestAccount
from tests.results.dataset import send
from tests.results.test_results_api import report
from tests.results.test_winner import traffic
from tests.server import Server, invoke_cli, run_cli, serve
from tests.tracking.fixtures import shop

__all__ = ["account", "api_server"]


def _env(server_url: str, account: TestAccount, home: Path, **extra: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(home),
        "VERSICOLOR_URL": server_url,
        "VERSICOLOR_CLIENT_ID": account.admin.client_id,
        "VERSICOLOR_CLIENT_SECRET": account.admin.client_secret,
        **extra,
    }


def _vc(args: list[str], env: dict[str, str], **options: object) -> tuple[int, object, str]:
    done = invoke_cli(args, env=env, **options)  # type: ignore[arg-type]
    try:
        parsed: object = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        parsed = done.stdout
    return done.returncode, parsed, done.stderr


@pytest.fixture
def site(api_server: Server, account: TestAccount) -> Iterator[dict[str, int]]:
    """A site with a goal, and a DRAFT experiment with one variation, made over HTTP."""
    headers = {"Authorization": f"Bearer {account.admin.token}"}
    with httpx.Client(base_url=api_server.base_url, headers=headers) as http:
        site_id = http.post("/sites", json={"name": "Shop", "url": "https://shop.example"}).json()["id"]
        goal = http.post("/goals", json={"name": "Buy", "siteId": site_id, "type": "CUSTOM"}).json()["id"]
        made = http.post(
            "/experiments",
            json={
                "name": "Button",
                "siteId": site_id,
                "baseURL": "https://shop.example/",
                "goals": [goal],
                "mainGoalId": goal,
            },
        ).json()
        # Its variation is the first one it came with.
        http.patch(f"/variations/{made['variations'][0]}", json={"name": "Blue"}).raise_for_status()
        yield {"site": site_id, "goal": goal, "experiment": made["id"]}


async def test_login_keeps_a_profile_only_its_owner_reads(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    code, body, err = _vc(
        [
            "login",
            "--url",
            api_server.base_url,
            "--client-id",
            account.admin.client_id,
            "--client-secret-stdin",
            "--json",
        ],
        env,
        input_text=account.admin.client_secret + "\n",
    )
    assert code == 0, err
    assert isinstance(body, dict) and body["email"] == account.admin.email and body["profile"] == "default"
    profile = tmp_path / "versicolor" / "credentials"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700
    assert account.admin.client_secret in profile.read_text()
    code, body, err = _vc(["experiments", "list", "--json"], env)
    assert code == 0 and body == [], err
    # The environment wins over the profile.
    code, _, err = _vc(["experiments", "list"], {**env, "VERSICOLOR_CLIENT_SECRET": "rotated-away"})
    assert code == 3 and "The secret may have been rotated" in err
    # A wrong secret at login is refused and nothing is saved.
    code, _, err = _vc(
        [
            "login",
            "--url",
            api_server.base_url,
            "--client-id",
            account.admin.client_id,
            "--client-secret-stdin",
            "--profile",
            "bad",
        ],
        env,
        input_text="wrong\n",
    )
    assert code == 3 and "[bad]" not in profile.read_text()
    code, _, err = _vc(["login", "--url", api_server.base_url, "--client-id", "x"], env)
    assert code == 1 and "--client-secret-stdin" in err


async def test_experiments_commands_speak_the_apis_json_and_exit_codes(
    api_server: Server, account: TestAccount, site: dict[str, int], tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    experiment = site["experiment"]
    code, listed, err = _vc(["experiments", "list", "--site", str(site["site"]), "--json"], env)
    assert code == 0, err
    assert isinstance(listed, list) and [e["id"] for e in listed] == [experiment]
    assert {"siteId", "baseURL", "mainGoalId", "dateCreated"} <= set(listed[0])
    code, shown, _ = _vc(["experiments", "show", str(experiment), "--json"], env)
    assert isinstance(shown, dict) and shown["goals"] == [site["goal"]]
    code, text, _ = _vc(["experiments", "show", str(experiment)], env)
    assert code == 0 and "Blue" in str(text) and "Original" in str(text)
    for command, status in (("activate", "ACTIVE"), ("pause", "PAUSED"), ("resume", "ACTIVE"), ("stop", "STOPPED")):
        code, changed, err = _vc(["experiments", command, str(experiment), "--json"], env)
        assert code == 0 and isinstance(changed, dict) and changed["status"] == status, err
    code, error, err = _vc(["experiments", "activate", str(experiment), "--json"], env)
    assert code == 1 and "409 Conflict" in err and "STOPPED" in err and "request id" in err
    assert isinstance(error, dict) and error["error"]["status"] == 409 and error["error"]["requestId"]
    code, _, err = _vc(["experiments", "show", "999999999"], env)
    assert code == 1 and "404 Not Found: experiment 999999999 not found" in err
    code, text, _ = _vc(["experiments", "list", "--status", "STOPPED"], env)
    assert code == 0 and "Button" in str(text)


async def test_results_show_a_table_per_goal_and_the_winner_line(
    api_server: Server, account: TestAccount, site: dict[str, int], tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    code, report, err = _vc(["results", str(site["experiment"]), "--json"], env)
    assert code == 0, err
    assert isinstance(report, dict) and report["status"] == "READY" and "variationData" in report["data"]
    for method in ("frequentist", "bayesian", "sequential"):
        code, text, err = _vc(["results", str(site["experiment"]), "--method", method], env)
        assert code == 0, err
        assert f"Goal {site['goal']} 'Buy' (main goal)" in str(text)
        assert "Original (0)" in str(text) and "reference" in str(text) and "No winner yet" in str(text)
    code, _, err = _vc(["results", str(site["experiment"]), "--goal", "999999999"], env)
    assert code != 0 and ("goalsIds" in err or "999999999" in err)
    code, _, err = _vc(["results", str(site["experiment"]), "--method", "magic"], env)
    assert code == 64


async def test_urls_are_listed_enabled_and_disabled_by_host(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    code, created, err = _vc(["urls", "enable", "app.urls.example", "--json"], env)
    assert code == 0 and isinstance(created, dict) and created["url"]["enabled"] == "on", err
    code, changed, _ = _vc(["urls", "disable", "app.urls.example", "--json"], env)
    assert isinstance(changed, dict) and changed["url"]["enabled"] == "off"
    url_id = changed["url"]["id"]
    code, changed, _ = _vc(["urls", "enable", url_id, "--subdomains", "--json"], env)
    assert isinstance(changed, dict) and changed["url"]["enabled"] == "subdomain"
    code, listed, _ = _vc(["urls", "list", "--domain", "urls.example", "--json"], env)
    assert isinstance(listed, list) and [u["host"] for u in listed] == ["app.urls.example"]
    assert {"url_group_id", "created_at"} <= set(listed[0]), "v3 objects keep v3's own field names"
    code, _, err = _vc(["urls", "disable", "nowhere.urls.example"], env)
    assert code == 1 and "nothing to disable" in err
    code, _, err = _vc(["urls", "enable", "not a host!"], env)
    assert code == 1 and "400" in err


async def test_a_rotated_secret_is_a_clear_401(api_server: Server, account: TestAccount, tmp_path: Path) -> None:
    env = _env(api_server.base_url, account, tmp_path)
    assert _vc(["experiments", "list"], env)[0] == 0
    async with httpx.AsyncClient() as http:
        rotated = await http.post(
            f"{api_server.base_url}/accounts/me/credentials", headers={"Authorization": f"Bearer {account.admin.token}"}
        )
    assert rotated.status_code in (200, 201), rotated.text
    code, error, err = _vc(["experiments", "list", "--json"], env)
    assert code == 3
    assert f"the server refused client id '{account.admin.client_id}'" in err and "versicolor login" in err
    assert isinstance(error, dict) and error["error"]["status"] == 401


async def test_no_server_or_no_credentials_say_what_to_do(tmp_path: Path) -> None:
    code, _, err = _vc(["experiments", "list"], {"XDG_CONFIG_HOME": str(tmp_path)})
    assert code == 3 and "versicolor login" in err
    code, _, err = _vc(["urls", "list"], {"XDG_CONFIG_HOME": str(tmp_path), "VERSICOLOR_URL": "http://127.0.0.1:9"})
    assert code == 3 and "no API credentials for http://127.0.0.1:9" in err


async def test_a_429_storm_is_waited_out_with_a_word_on_stderr(
    database_url: str, account: TestAccount, site: dict[str, int], tmp_path: Path
) -> None:
    with serve(["--database-url", database_url], log_dir=tmp_path, env={"VERSICOLOR_RATE_LIMITS": "1/2s"}) as server:
        env = _env(server.base_url, account, tmp_path)
        # `show` reads the experiment, then its variations: at one request per 2 s, the second waits.
        code, body, err = _vc(["experiments", "show", str(site["experiment"]), "--json"], env)
        assert code == 0 and isinstance(body, dict) and body["id"] == site["experiment"], err
        assert "rate limited by the server (429); waiting" in err


async def test_5xx_are_retried_and_a_server_that_stays_down_is_exit_4(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    faults = Faults(plan=[503, 502, 504], only="/experiments")
    with proxy(api_server.base_url, faults) as url:
        code, body, err = _vc(["experiments", "list", "--json"], _env(url, account, tmp_path))
        assert code == 0 and body == [], err
        assert err.count("the server answered 50") == 3
    faults = Faults(plan=[503] * 20, only="/experiments")
    with proxy(api_server.base_url, faults) as url:
        code, _, err = _vc(["experiments", "list"], _env(url, account, tmp_path), timeout=120)
        assert code == 4 and "503" in err
    code, _, err = _vc(["experiments", "list"], _env("http://127.0.0.1:9", account, tmp_path), timeout=120)
    assert code == 4 and "cannot reach" in err
    assert "Traceback" not in err


def test_the_remote_commands_never_load_the_server() -> None:
    # Run the way a user's laptop runs them: only the client side of the package is needed.
    done = run_cli(["experiments", "list"], env={"VERSICOLOR_URL": "", "XDG_CONFIG_HOME": os.devnull})
    assert done.returncode == 3 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("method", "body", "interval"),
    [
        ("frequentist", {"bayesian": True}, "confidenceInterval"),
        ("bayesian", {"bayesian": True}, "credibleInterval"),
        ("sequential", {"bayesian": True, "sequentialTesting": True}, "confidenceInterval"),
    ],
)
async def test_results_of_an_experiment_with_visitors_show_its_figures_and_winner(
    api_server: Server,
    client: httpx.AsyncClient,
    factory: Factory,
    tmp_path: Path,
    method: str,
    body: dict[str, object],
    interval: str,
) -> None:
    made = await shop(client, factory, deviations={"origin": 0.5, "v1": 0.25, "v2": 0.25})
    green, blue = made.variation_ids
    await send(
        client,
        made,
        traffic(made, 0, 400, 40, "o") + traffic(made, green, 200, 50, "a") + traffic(made, blue, 200, 28, "b"),
    )
    env = _env(api_server.base_url, made.account, tmp_path)
    code, text, err = _vc(["results", str(made.experiment_id), "--method", method, "--goal", str(made.goal_id)], env)
    assert code == 0, err
    lines = str(text).splitlines()
    # The CLI shows visitors: it asks per visitor, which a request leaving visitorData out would not be.
    data = await report(client, made, {**body, "visitorData": True, "goalsIds": [made.goal_id]})

    def figures(arm: int) -> dict[str, Any]:
        found: dict[str, Any] = data["variationData"][str(arm)]["breakdownData"]["_reference"]["generalData"][
            "goalsData"
        ][str(made.goal_id)]
        return found

    def row(name: str) -> list[str]:
        (found,) = [line for line in lines if line.startswith(name + " (")]
        return found.split()

    assert f"Goal {made.goal_id} 'Purchase' (main goal)" in str(text)
    assert row("Original")[2:5] == ["400", "40", "10.00%"] and row("Original")[-1] == "reference"
    shown = row("Green")
    assert shown[2:5] == ["200", "50", "25.00%"]
    bounds = figures(green)[interval]
    assert shown[5:8] == [
        f"{figures(green)['improvementRate']:+.1f}%",
        f"[{bounds['lower']:+.1f}%,",
        f"{bounds['upper']:+.1f}%]",
    ]
    assert shown[8] == f"{figures(green)['chanceToBeatReference']:.1f}%"
    # Each method judges by its own measure: the chance to win, or the (always-valid, if sequential) reliability.
    sure = figures(green)["chanceToBeatReference"] if method == "bayesian" else figures(green)["reliability"]
    assert shown[-1] == ("better" if sure >= 95 else "inconclusive")
    assert row("Blue")[2:5] == ["200", "28", "14.00%"] and row("Blue")[-1] == "inconclusive"
    if data["winner"] is not None:
        assert data["winner"]["variationId"] == str(green)
        assert f"Winner: Green ({green}) on goal {made.goal_id}: +150.0% (reliability" in str(text)
    else:
        assert f"No winner yet: {data['winnerReasonMessage']}" in str(text)
    assert method != "frequentist" or data["winner"] is not None

"""docs/getting-started.md works as written: its shell blocks, pasted in order into one bash against a real
server (with the `export` lines that server printed), end with a winner, and its page runs the experiment in
Chromium and its dashboard names the winner.

A block after `<!-- guide-test: skip ... -->` is not run: it is the server's own terminal, or a placeholder
the reader fills in. The guide's page port, 8081, becomes a free one, so that runs do not collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from pathlib import Path

from playwright.async_api import Page, expect

from tests.server import free_port, serve

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDE = ROOT / "docs" / "getting-started.md"
BLOCK = re.compile(r"(<!-- guide-test: skip[^>]*-->\n)?```sh\n(.*?)```", re.DOTALL)
PAGE_PORT = "8081"
DONE = "guide-test-state"


def guide_script() -> str:
    """The blocks a reader pastes, in order, as one bash script."""
    blocks = [code for skip, code in BLOCK.findall(GUIDE.read_text()) if not skip]
    assert len(blocks) > 10, "the guide's shell blocks were not found"
    return "\n".join(blocks)


def test_every_shell_block_is_run_or_says_why_not() -> None:
    text = GUIDE.read_text()
    fences = re.findall(r"^```(\w*)$", text, re.MULTILINE)
    assert set(fences) <= {"sh", "text", ""}, f"a block the test neither runs nor knows: {fences}"
    assert text.count("```sh") == len(BLOCK.findall(text))
    assert PAGE_PORT in guide_script()


async def test_the_guide_walks_from_a_fresh_server_to_a_winner(tmp_path: Path, page: Page) -> None:
    workdir = tmp_path / "clone"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")  # `. .venv/bin/activate` at the top of the clone
    page_port = str(free_port())
    database = f"sqlite:///{tmp_path}/versicolor.db"
    with serve(["--database-url", database], log_dir=tmp_path, ready_timeout=180) as server:  # a loaded machine
        exports = [line for line in server.output().splitlines() if line.startswith("export ")]
        assert len(exports) == 3, server.output()
        script = "\n".join(
            [
                "set -euo pipefail",
                *exports,
                guide_script().replace(PAGE_PORT, page_port),
                f'echo "{DONE} $EXPERIMENT_ID $VARIATION_ID"',
                "wait",  # the page server the guide started in the background, until the test ends it
            ]
        )
        env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
        exported = [line.removeprefix("export ").split("=")[0] for line in exports]
        for name in ("VIRTUAL_ENV", "VERSICOLOR_PROFILE", *exported):  # only what the reader pasted counts
            env.pop(name, None)
        bash = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # one process group with the page server, ended below
        )
        try:
            output = await asyncio.wait_for(_read_until_done(bash), timeout=300)
            assert DONE in output, f"the guide stopped (exit {bash.returncode}):\n{output}"
            experiment_id, variation_id = output.split(DONE)[1].split()[:2]

            assert "Logged in to" in output and "profile 'default' saved" in output
            assert re.search(r"\blocalhost +on\b", output), output
            assert f"Winner: Green ({variation_id})" in output, output
            winner = json.loads(next(line for line in output.splitlines() if line.startswith('{"variationId"')))
            assert winner["variationId"] == variation_id and winner["reliability"] >= 95

            await page.goto(f"http://localhost:{page_port}/")
            shown = await page.wait_for_function(  # the variation as a string: "0", the original, is truthy
                f"() => window.versicolor?.getVariation?.({experiment_id}) != null"
                f" && String(window.versicolor.getVariation({experiment_id}))"
            )
            button = await page.text_content("#buy")
            if await shown.json_value() == variation_id:
                assert button == "Buy now, free delivery"
            else:
                assert await shown.json_value() == "0" and button == "Buy"

            password = re.search(r"password (\S+)", server.output())
            assert password, server.output()
            await page.goto(f"{server.base_url}/app/")
            await page.get_by_label("Email").fill("admin@example.com")
            await page.get_by_label("Password").fill(password[1])
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.locator("main")).to_contain_text("Buy button")
            await page.get_by_role("link", name="Buy button").click()
            # the page reloads itself until its report is computed
            await expect(page.locator("main")).to_contain_text("Winner: Green,", timeout=60_000)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(bash.pid, signal.SIGTERM)
            await bash.wait()


async def _read_until_done(bash: asyncio.subprocess.Process) -> str:
    """What bash printed up to the guide's end (or its exit)."""
    assert bash.stdout is not None
    lines = []
    async for line in bash.stdout:
        lines.append(line.decode())
        if line.startswith(DONE.encode()):
            break
    return "".join(lines)

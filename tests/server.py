"""Run the `versicolor` command: a real `versicolor serve` process for tests whose behaviour crosses processes,
a command as a real process (`run_cli`) for tests of what the process does, or a command in this process
(`invoke_cli`) for tests of what the command does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from click.testing import CliRunner

CLI = [sys.executable, "-m", "versicolor"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server: its address and what it printed so far."""

    base_url: str
    process: subprocess.Popen[str]
    log_path: Path

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr."""
        return self.log_path.read_text()


def run_cli(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `versicolor ARGS` to completion (with `input_text` on its standard input, else none)."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=input_text if input_text is not None else "",
    )


def invoke_cli(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `versicolor ARGS` in this process through the console script's entry point (`versicolor.cli.main`), and
    answer as `run_cli` does: the exit code, stdout and stderr (a traceback there, exit code 1, if it raises).

    What the command does is the same as in a process of its own, without the seconds a new interpreter spends
    importing. It runs in a thread of its own, since the server's commands start an event loop (`asyncio.run`),
    with `env` set in os.environ and `input_text` (else nothing) on its standard input until it returns."""
    done: list[subprocess.CompletedProcess[str]] = []

    def command() -> None:
        with _INVOKING, CliRunner().isolation(input=input_text or "", env=env) as (stdout, stderr, _):
            # Imported here the first time, so that its consoles see standard output as a process's pipe (no
            # terminal, lines as long as their content), even under `pytest -s` on a terminal.
            from versicolor.cli import main

            argv, sys.argv = sys.argv, ["versicolor", *args]
            try:
                main()
                code = 0
            except SystemExit as exit:  # what the interpreter does with it, as the process would
                if exit.code is None or isinstance(exit.code, int):
                    code = exit.code or 0
                else:
                    print(exit.code, file=sys.stderr)
                    code = 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.argv = argv
                sys.stdout.flush()
                sys.stderr.flush()
            done.append(
                subprocess.CompletedProcess(
                    ["versicolor", *args], code, stdout.getvalue().decode(), stderr.getvalue().decode()
                )
            )

    thread = threading.Thread(target=command, name=f"versicolor {' '.join(args[:2])}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise subprocess.TimeoutExpired(["versicolor", *args], timeout)
    return done[0]


_INVOKING = threading.Lock()  # one command at a time: each swaps the process's sys.stdout, stdin and environment


@contextmanager
def serve(
    args: Sequence[str],
    *,
    log_dir: Path,
    env: dict[str, str] | None = None,
    scheme: str = "http",
    ready_timeout: float = 180,
    port: int | None = None,
) -> Iterator[Server]:
    """Start `versicolor serve ARGS` on a free port (or `port`), wait until /healthz answers, stop it afterwards."""
    port = port or free_port()
    log_path = log_dir / f"serve-{port}-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    server = Server(base_url=f"{scheme}://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.output()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", verify=False, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer within {ready_timeout}s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Start a real `versicolor serve` process for tests whose behaviour crosses processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

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

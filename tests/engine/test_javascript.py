"""The engine's JavaScript under Node's built-in test runner: the shared vectors and the regex matcher, on the
server's parsed patterns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent / "js"


def test_the_engines_javascript_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to test the page engine: run scripts/bootstrap (or apt-get install nodejs)")
    files = sorted(str(path) for path in TESTS.glob("*.test.mjs"))
    # The tests ask this interpreter for the server's parsed patterns (js/parsed_patterns.py).
    environment = {**os.environ, "VERSICOLOR_PYTHON": sys.executable}
    ran = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=300, env=environment)
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-2000:]
    assert "# fail 0" in ran.stdout and "# pass 0" not in ran.stdout

"""Installs are reproducible: what runs is exactly what uv.lock pins, and a lock that disagrees with
pyproject.toml stops the set-up with what to run."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"


def uv(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), *args, "--python", "python3"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_SYSTEM_CERTS": "1"},
    )


def test_every_installed_distribution_is_the_locked_version() -> None:
    # The lock is universal: a package may have one version per Python range (numpy for 3.11 and for 3.12+).
    locked: dict[str, set[str]] = {}
    for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]:
        locked.setdefault(package["name"], set()).add(package.get("version", ""))
    installed = {
        dist.metadata["Name"].lower().replace("_", "-"): dist.version for dist in importlib.metadata.distributions()
    }
    differing = {
        name: (version, sorted(locked[name]))
        for name, version in installed.items()
        if name in locked and name != "versicolor" and version not in locked[name]
    }
    unlocked = sorted(set(installed) - set(locked) - {"pip", "setuptools"})
    assert not differing, f"installed (left) is not what uv.lock pins (right): {differing}"
    assert not unlocked, f"installed but not in uv.lock: {unlocked}"
    assert installed["fastapi"] in locked["fastapi"]


def test_the_environment_needs_no_change_to_match_the_lock() -> None:
    result = uv("sync", "--locked", "--extra", "dev", "--dry-run")
    assert result.returncode == 0, result.stderr
    changes = [line for line in result.stderr.splitlines() if line.lstrip().startswith(("+ ", "- "))]
    # The project itself may be listed as reinstalled in place (an editable install); nothing else may move.
    assert [line for line in changes if "versicolor" not in line] == [], result.stderr


def test_a_dependency_added_to_pyproject_without_locking_is_refused_by_the_set_up(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    assert uv("lock", "--check", cwd=tmp_path).returncode == 0, "the committed lock matches pyproject.toml"
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [\n", 'dependencies = [\n    "six>=1.16",\n', 1))
    result = uv("lock", "--check", cwd=tmp_path)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr, result.stderr


def test_the_set_up_names_the_command_that_fixes_a_stale_lock(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.db", "__pycache__", ".*_cache")
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [\n", 'dependencies = [\n    "six>=1.16",\n', 1))
    result = subprocess.run(["bash", "scripts/bootstrap"], cwd=project, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "make lock" in result.stderr
    assert not (project / ".venv").exists(), "nothing was installed from a lock that does not match"

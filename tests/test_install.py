"""Installable next to a researcher's own stack (issue 18, item 5): the package metadata
accepts an older torch, and the book's tooling is not a runtime dependency."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_metadata_resolves_against_an_older_torch(tmp_path):
    """``uv pip compile`` of the project with torch < 2.6 (metadata only, nothing
    installed); skipped when the package index cannot be reached."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    constraints = tmp_path / "older.txt"
    constraints.write_text("torch<2.6\ntorchvision<0.21\n")
    command = [uv, "pip", "compile", str(ROOT / "pyproject.toml"), "-c", str(constraints)]
    command += ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode and "No solution found" not in done.stderr:
        pytest.skip(f"the package index is not reachable: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    pinned = dict(line.split("==") for line in done.stdout.splitlines() if line.startswith("torch"))
    assert pinned["torch"].startswith("2.5") and pinned["torchvision"].startswith("0.20")


def test_the_book_tooling_is_a_default_group_not_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(project["project"]["dependencies"])
    for tool in ("jupyter-book", "papermill", "seaborn", "selenium"):
        assert tool not in runtime
    assert {"book", "dev"} <= set(project["tool"]["uv"]["default-groups"])
    assert not any("==" in d for d in project["project"]["dependencies"])  # nothing exact

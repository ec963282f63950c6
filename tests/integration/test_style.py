"""The code base stays ruff-clean and mypy-clean (rules in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed in CI (pip install -e '.[test]')")
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def test_ruff_clean() -> None:
    targets = [p for p in ("src", "tests", "scripts", "bench", "app.py") if (ROOT / p).exists()]
    proc = subprocess.run(
        [_tool("ruff"), "check", *targets],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean() -> None:
    """mypy over src/valgus with the settings in pyproject.toml ([tool.mypy])."""
    proc = subprocess.run(
        [_tool("mypy"), "--no-incremental"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]

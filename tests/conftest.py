"""Shared fixtures: the default book built once per test session with the real engines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_zhpress(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "zhpress", *args],
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the default book (content/ and styles/) in a temporary folder."""
    root = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copytree(ROOT / "styles", root / "styles")
    return root


@pytest.fixture(scope="session")
def built(default_project: Path) -> Path:
    """Every profile of the default book built into dist/ by the real command."""
    result = run_zhpress("build", "-C", str(default_project), "--quiet")
    assert result.returncode == 0, result.stderr
    return default_project / "dist"

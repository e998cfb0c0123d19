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


#: Test modules that build whole books with the real engines (or start browsers, servers, clusters).
SLOW_MODULES = {
    "test_new", "test_serve", "test_watch", "test_cover", "test_cluster", "test_build_all", "test_interrupted",
    "test_chunked", "test_cjk_print", "test_security", "test_validation", "test_errors", "test_hostile",
    "test_fallback_face",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests, so that `nox -s tests -- -m "not slow"` gives a quick loop."""
    for item in items:
        module = item.module.__name__.rpartition(".")[2] if item.module else ""
        in_e2e = ".e2e." in f".{item.module.__name__}." if item.module else False
        if in_e2e or module in SLOW_MODULES or {"built", "default_project", "rich"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)

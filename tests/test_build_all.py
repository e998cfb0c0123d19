"""`zhpress build-all`: every book project under a folder, all editions, one failing book stopping no
other, a summary, and the exit status of the worst outcome (2 bad input, 1 a render failure)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pdf.test_chunked import make_project
from zhpress.cli import find_projects

ZHPRESS = Path(sys.executable).parent / "zhpress"


@pytest.fixture
def shelf(tmp_path: Path) -> Path:
    """Two good books (one nested a level down), one broken book.toml, and folders never searched."""
    make_project(tmp_path / "alpha", [300, 400])
    make_project(tmp_path / "series" / "beta", [350, 300])
    (tmp_path / "series" / "beta" / "content" / "book.toml").write_text(
        '[book]\nid = "beta"\ntitle = "第二本"\ndate = "2022-05-10"\n', "utf-8")
    make_project(tmp_path / "broken", [300])
    (tmp_path / "broken" / "content" / "book.toml").write_text('[book\nid = "broken"\n', "utf-8")
    for skipped in ("alpha/dist/old", ".hidden/book", "series/.zhpress-cache/x"):
        (tmp_path / skipped / "content").mkdir(parents=True)
        (tmp_path / skipped / "content" / "book.toml").write_text('[book]\ntitle = "不应构建"\n', "utf-8")
    return tmp_path


def test_projects_are_found_and_outputs_caches_and_hidden_folders_skipped(shelf: Path) -> None:
    assert find_projects([shelf]) == [shelf / "alpha", shelf / "broken", shelf / "series" / "beta"]
    assert find_projects([shelf / "alpha", shelf]) == find_projects([shelf]), "each project once"


def test_a_broken_book_stops_no_other_and_sets_the_exit_status(shelf: Path) -> None:
    env = {**os.environ, "COLUMNS": "250"}
    result = subprocess.run([str(ZHPRESS), "build-all", str(shelf), "-j", "1"], capture_output=True, text=True,
                            timeout=900, env=env)
    assert result.returncode == 2, result.stderr
    for book, folder in (("chunks", shelf / "alpha"), ("beta", shelf / "series" / "beta")):
        built = sorted(p.name for p in (folder / "dist").iterdir() if p.suffix in (".pdf", ".epub"))
        assert f"{book}-print.pdf" in built and f"{book}-ebook.epub" in built and len(built) == 9, built
    assert not (shelf / "broken" / "dist").exists(), "bad input writes nothing"
    assert not (shelf / "alpha" / "dist" / "old" / "dist").exists()
    summary = result.stderr[result.stderr.index("2 of 3 books built"):]
    assert "built" in summary.split(str(shelf / "alpha"))[1].splitlines()[0]
    assert "exit 2" in summary.split(str(shelf / "broken"))[1].splitlines()[0]
    assert "book.toml" in summary
    again = subprocess.run([str(ZHPRESS), "build-all", "-C", str(shelf / "alpha"), "-C", str(shelf / "series"), "-j", "1", "-q"],
                           capture_output=True, text=True, timeout=900, env=env)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 books built" in again.stderr

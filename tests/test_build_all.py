"""`zhpress build-all`: every book project under a folder, all editions, the books at once sharing the
render slots, one failing book stopping no other, a summary, and the exit status of the worst outcome (2
bad input, 1 a render failure)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pdf.test_chunked import make_project
from tests.test_validation import terminated_cleanly, wait_until
from zhpress import workers
from zhpress.shelf import BookResult, build_books, find_projects

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


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".pdf", ".epub")}


def test_a_broken_book_stops_no_other_and_sets_the_exit_status(shelf: Path, tmp_path: Path) -> None:
    """The books at once (-j 2: each in its own process), each file the bytes of a plain build of that book;
    then one after another (-j 1)."""
    env = {**os.environ, "COLUMNS": "250"}
    result = subprocess.run([str(ZHPRESS), "build-all", str(shelf), "-j", "2"], capture_output=True, text=True,
                            timeout=900, env=env)
    assert result.returncode == 2, result.stderr
    for book, folder in (("chunks", shelf / "alpha"), ("beta", shelf / "series" / "beta")):
        built = sorted(p.name for p in (folder / "dist").iterdir() if p.suffix in (".pdf", ".epub"))
        assert f"{book}-print.pdf" in built and f"{book}-ebook.epub" in built and len(built) == 9, built
        assert f"✓ {book}-print.pdf" in result.stderr, "each book's own lines are printed"
    plain = subprocess.run([str(ZHPRESS), "build", "-C", str(shelf / "alpha"), "-o", str(tmp_path / "plain"), "-q"],
                           capture_output=True, text=True, timeout=900, env=env)
    assert plain.returncode == 0, plain.stderr
    assert outputs(shelf / "alpha" / "dist") == outputs(tmp_path / "plain")
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


def books(root: Path, names: list[str]) -> list[Path]:
    """Folders that look like book projects to `build_books`, the first the longest (it starts first)."""
    folders = []
    for number, name in enumerate(names):
        (root / name / "content").mkdir(parents=True)
        (root / name / "content" / "a.txt").write_text("字" * (1000 * (len(names) - number)), "utf-8")
        folders.append(root / name)
    return folders


def test_books_run_at_once_no_more_than_the_slots(tmp_path: Path) -> None:
    """Five books, two slots: two run at once, never three; the results come back in the books' order."""
    log = tmp_path / "log"

    def build_one(folder: Path) -> tuple[int, str, str]:
        with log.open("a") as out:
            out.write(f"{time.monotonic()} 1\n")
        time.sleep(0.5)
        with log.open("a") as out:
            out.write(f"{time.monotonic()} -1\n")
        return (0 if folder.name != "c" else 1), f"did {folder.name}", f"output of {folder.name}\n"

    folders = books(tmp_path, ["a", "b", "c", "d", "e"])
    told: list[str] = []
    results = build_books(sorted(folders, reverse=True), 2, build_one, lambda r: told.append(r.folder.name))
    assert [(r.folder.name, r.status, r.note, r.output) for r in results] == [
        (name, 0 if name != "c" else 1, f"did {name}", f"output of {name}\n") for name in "edcba"]
    assert sorted(told) == list("abcde")
    running = peak = 0
    for line in sorted(log.read_text().splitlines(), key=lambda line: float(line.split()[0])):
        running += int(line.split()[1])
        peak = max(peak, running)
    assert peak == 2
    assert workers.slots() is None, "the slots end with the build"


def test_a_book_process_that_dies_gives_back_its_slots(tmp_path: Path) -> None:
    """A book process killed while it holds a render slot beyond its own: the book fails, and both slots
    are free again for the books after it."""
    free: list[int] = []

    def build_one(folder: Path) -> tuple[int, str, str]:
        if folder.name == "dies":
            assert workers.slots() is not None and workers.slots().take()  # type: ignore[union-attr]
            os.kill(os.getpid(), signal.SIGKILL)
        return 0, "built", ""

    def done(result: BookResult) -> None:
        free.append(workers.slots().free())  # type: ignore[union-attr]

    dies, after = books(tmp_path, ["dies", "after"])
    results = build_books([dies], 2, build_one, done)
    assert results[0].status == 1 and "stopped" in results[0].note
    assert free == [2]
    results = build_books([dies, after], 1, build_one, done)
    assert [r.status for r in results] == [1, 0], "the book after it ran on the slot it gave back"


def test_chunked_books_at_once_give_the_bytes_of_a_plain_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two books rendered in chunks, at once: their chunks and editions take the shared slots (processes
    forked from each book's), and each file is the plain build's."""
    from zhpress import cli
    from zhpress.pdf import schedule

    monkeypatch.setattr(schedule, "MIN_CHUNKED_ARTICLES", 2)  # small books rendered in chunks, as long ones are
    alpha = make_project(tmp_path / "shelf" / "alpha", [400, 500, 400])
    beta = make_project(tmp_path / "shelf" / "beta", [300, 300, 350])
    (beta / "content" / "book.toml").write_text('[book]\nid = "beta"\ntitle = "第二本"\ndate = "2022-05-10"\n', "utf-8")
    assert cli.main(["build", "-C", str(alpha), "-j", "2", "-q", "-o", str(tmp_path / "alpha")]) == 0
    assert cli.main(["build", "-C", str(beta), "-j", "2", "-q", "-o", str(tmp_path / "beta")]) == 0
    for folder in (alpha, beta):
        (folder / ".zhpress-cache").rename(folder.with_name(folder.name + "-cache"))
    assert cli.main(["build-all", str(tmp_path / "shelf"), "-j", "2", "-q"]) == 0
    assert len(list((alpha / ".zhpress-cache" / "pdf").glob("*.pdf"))) >= 3 * 3, "the print editions were chunked"
    assert outputs(alpha / "dist") == outputs(tmp_path / "alpha")
    assert outputs(beta / "dist") == outputs(tmp_path / "beta")


def test_sigterm_stops_every_book_process_and_leaves_no_temporary_folder(shelf: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen([str(ZHPRESS), "build-all", str(shelf), "-j", "2", "--no-cache"], env={**os.environ, "TMPDIR": str(scratch)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert wait_until(lambda: any(scratch.iterdir()) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.3)  # into the renders
    proc.send_signal(signal.SIGTERM)
    terminated_cleanly(proc, scratch)

"""Interrupted and concurrent builds: outputs appear under their final names only when complete; a killed
build leaves the previous files intact and its leftovers are removed by the next build; builds into one
folder take turns; one profile's failure leaves the others' outputs in place."""

from __future__ import annotations

import fcntl
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.robust_support import BOOK_ID, WIDE, build, make_project, no_traceback, seed_dist, snapshot
from zhpress.validate import check_epub_bytes

DEFAULT_ID = "dangqi-shanghai"
PREVIOUS_PDF = b"%PDF-1.7\n% the previous print edition\n"


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    """`zhpress build` started in the background, stderr readable line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "zhpress", "build", "-C", str(root), *args],
        cwd=ROOT,
        env={**os.environ, **WIDE},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Lines:
    """Collects a process's stderr lines in a thread, so a test can wait for one without blocking."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.event = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with self.event:
                self.lines.append(line)
                self.event.notify_all()
        with self.event:
            self.lines.append("")  # end of stream
            self.event.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> bool:
        """Whether a line containing `text` arrived before the stream ended (or the time ran out)."""
        with self.event:
            return self.event.wait_for(lambda: any(text in line for line in self.lines) or "" in self.lines, timeout) and any(
                text in line for line in self.lines
            )

    def text(self) -> str:
        self.thread.join(timeout=60)
        return "".join(self.lines)


def parts(dist: Path) -> list[str]:
    """Temporary files of unfinished writes in `dist`."""
    return sorted(p.name for p in dist.iterdir() if ".part-" in p.name)


@pytest.fixture
def default_book(tmp_path: Path) -> Path:
    """A private copy of the default book, with a previous print edition in dist/."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "styles", tmp_path / "styles")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / f"{DEFAULT_ID}-print.pdf").write_bytes(PREVIOUS_PDF)
    return tmp_path


def test_sigkill_while_rendering_keeps_the_previous_file(default_book: Path) -> None:
    dist = default_book / "dist"
    proc = start(default_book, "print")
    lines = Lines(proc)
    assert lines.wait_for("building print"), lines.text()
    time.sleep(0.5)  # well inside the render of the default book
    assert proc.poll() is None, "the build ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines.text()
    assert (dist / f"{DEFAULT_ID}-print.pdf").read_bytes() == PREVIOUS_PDF
    assert sorted(p.name for p in dist.iterdir() if not p.name.startswith(".")) == [f"{DEFAULT_ID}-print.pdf"]
    assert parts(dist) == []


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For a child process: files it writes may not grow past `limit` bytes; a write past it fails as on a
    full disk (Python ignores SIGXFSZ, so the write returns EFBIG instead of the process being killed)."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_files


def test_a_killed_builds_half_written_file_is_removed_by_the_next_build(default_book: Path) -> None:
    """What SIGKILL in the middle of writing leaves: the previous output intact, the first half of the new
    one in `.{name}.part-{pid}` of a process that is gone. The next build removes it. (A writer can no longer
    be made to block on a FIFO put at its temporary name: see test_security.py.)"""
    dist = default_book / "dist"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    first = build(default_book, "ebook")
    assert first.returncode == 0, first.stderr
    whole = (dist / f"{DEFAULT_ID}-ebook.epub").read_bytes()
    previous = b"PK previous ebook"
    (dist / f"{DEFAULT_ID}-ebook.epub").write_bytes(previous)
    left = dist / f".{DEFAULT_ID}-ebook.epub.part-{int(dead.stdout)}"
    left.write_bytes(whole[: len(whole) // 2])
    assert parts(dist) == [left.name]

    again = build(default_book, "print")  # the next build, of another profile, removes what the dead one left
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    assert parts(dist) == []
    assert (dist / f"{DEFAULT_ID}-ebook.epub").read_bytes() == previous


def test_a_full_disk_is_one_line_naming_the_file(default_book: Path) -> None:
    """A write that fails (the file-size limit stands in for a full disk: the same failing write) ends the
    build with one line naming the output, exit 2, the previous file intact and no temporary file left."""
    dist = default_book / "dist"
    before = snapshot(dist)
    result = subprocess.run(
        [sys.executable, "-m", "zhpress", "build", "ebook", "--no-cache", "-C", str(default_book)],
        cwd=ROOT, env={**os.environ, **WIDE, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True,
        preexec_fn=_file_size_limit(8192), timeout=300, check=False,
    )
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    # The first write past the limit is named: the output, or a file the build draws on its way (the cover).
    assert re.search(r"/\S+: cannot write: File too large", message), message
    assert "None" not in message
    after = {name: data for name, data in snapshot(dist).items() if name != ".zhpress.lock"}
    assert after == before and parts(dist) == []


def test_a_running_builds_temporary_file_is_left_alone(tmp_path: Path) -> None:
    """Only leftovers of dead processes are removed: a live process's `.part` file is not touched."""
    root = make_project(tmp_path)
    dist = root / "dist"
    dist.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = dist / f".{BOOK_ID}-print.pdf.part-{sleeper.pid}"
        live.write_bytes(b"being written")
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        stale = dist / f".{BOOK_ID}-ebook.epub.part-{int(dead.stdout)}"
        stale.write_bytes(b"left by a killed build")
        result = build(root, "ebook")
        assert result.returncode == 0, result.stderr
        assert live.read_bytes() == b"being written" and not stale.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_two_builds_at_once_both_finish_with_valid_outputs(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    first, second = start(root, "ebook"), start(root, "ebook")
    results = [(p, *p.communicate(timeout=300)) for p in (first, second)]
    for proc, _out, err in results:
        assert "Traceback" not in err
        assert proc.returncode == 0, err
    dist = root / "dist"
    check_epub_bytes((dist / f"{BOOK_ID}-ebook.epub").read_bytes(), "ebook")
    assert parts(dist) == []


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    """While another build holds the output folder, a build says so and waits; it writes only after."""
    root = make_project(tmp_path)
    dist = root / "dist"
    dist.mkdir()
    with open(dist / ".zhpress.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # stands for a build in progress
        proc = start(root, "ebook")
        lines = Lines(proc)
        assert lines.wait_for("waiting"), lines.text()
        assert proc.poll() is None
        assert not (dist / f"{BOOK_ID}-ebook.epub").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
        proc.wait(timeout=300)
    assert proc.returncode == 0, lines.text()
    check_epub_bytes((dist / f"{BOOK_ID}-ebook.epub").read_bytes(), "ebook")


FAILING_PRINT_TEMPLATE = '{% set x = 1 // 0 %}<html><body>{{ meta.title }}</body></html>\n'


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_profile_failing_keeps_the_others(tmp_path: Path, jobs: str) -> None:
    """The print template fails while rendering (not a syntax error): the ebook is still built, the previous
    print file stays as it was, and the summary says which was built and which was not; the failure is the
    book's template, so exit 2 and the template's file and line."""
    root = make_project(tmp_path, templates={"pdf/book.html": FAILING_PRINT_TEMPLATE})
    before = seed_dist(root)
    result = build(root, "ebook", "print", "-j", jobs)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    summary = " ".join(result.stderr.split())
    assert "built: ebook; failed: print" in summary and "ZeroDivisionError" in summary
    assert "styles/templates/pdf/book.html:1" in summary
    after = snapshot(root / "dist")
    assert after[f"{BOOK_ID}-print.pdf"] == before[f"{BOOK_ID}-print.pdf"]
    assert after[f"{BOOK_ID}-ebook.epub"] != before[f"{BOOK_ID}-ebook.epub"]
    check_epub_bytes(after[f"{BOOK_ID}-ebook.epub"], "ebook")
    assert parts(root / "dist") == []

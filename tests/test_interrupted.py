"""Interrupted and concurrent builds: outputs appear under their final names only when complete; a killed
build leaves the previous files intact and its leftovers are removed by the next build; builds into one
folder take turns; one profile's failure leaves the others' outputs in place."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
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
            return self.event.wait_for(lambda: any(text in l for l in self.lines) or "" in self.lines, timeout) and any(
                text in l for l in self.lines
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


def test_sigkill_while_writing_keeps_the_previous_file_and_the_next_build_cleans_up(default_book: Path) -> None:
    """The kill lands in the middle of writing the output: its temporary file is made a FIFO (after the
    build's own clean-up ran), so the writer blocks with half the PDF written; then SIGKILL."""
    dist = default_book / "dist"
    proc = start(default_book, "print")
    lines = Lines(proc)
    assert lines.wait_for("building print"), lines.text()
    fifo = dist / f".{DEFAULT_ID}-print.pdf.part-{proc.pid}"
    os.mkfifo(fifo)
    received = bytearray()
    got_some, killed = threading.Event(), threading.Event()

    def read_some() -> None:
        with open(fifo, "rb") as handle:  # blocks until the build opens its temporary file
            received.extend(handle.read(4096))
            got_some.set()
            killed.wait(timeout=60)  # keep the pipe open so the writer stays blocked until it is killed

    reader = threading.Thread(target=read_some, daemon=True)
    reader.start()
    got_some.wait(timeout=180)
    assert received.startswith(b"%PDF"), lines.text()  # the build was writing its PDF ...
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)  # ... and dies mid-write
    proc.wait()
    killed.set()
    reader.join(timeout=60)
    lines.text()
    assert (dist / f"{DEFAULT_ID}-print.pdf").read_bytes() == PREVIOUS_PDF
    assert parts(dist) == [fifo.name]  # a killed build cannot clean up after itself

    result = build(default_book, "ebook")  # the next build removes what the dead one left
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert parts(dist) == []
    assert (dist / f"{DEFAULT_ID}-print.pdf").read_bytes() == PREVIOUS_PDF
    check_epub_bytes((dist / f"{DEFAULT_ID}-ebook.epub").read_bytes(), "ebook")


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
    print file stays as it was, and the summary says which was built and which was not."""
    root = make_project(tmp_path, templates={"pdf/book.html": FAILING_PRINT_TEMPLATE})
    before = seed_dist(root)
    result = build(root, "ebook", "print", "-j", jobs)
    no_traceback(result)
    assert result.returncode == 1, result.stderr
    summary = " ".join(result.stderr.split())
    assert "built: ebook; failed: print" in summary and "ZeroDivisionError" in summary
    after = snapshot(root / "dist")
    assert after[f"{BOOK_ID}-print.pdf"] == before[f"{BOOK_ID}-print.pdf"]
    assert after[f"{BOOK_ID}-ebook.epub"] != before[f"{BOOK_ID}-ebook.epub"]
    check_epub_bytes(after[f"{BOOK_ID}-ebook.epub"], "ebook")
    assert parts(root / "dist") == []

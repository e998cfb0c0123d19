"""`zhpress build --watch`: a rebuild after each save, and a valid file under the final name at every moment."""

from __future__ import annotations

import io
import queue
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pikepdf

from tests.conftest import run_zhpress
from zhpress.validate import check_epub_bytes

WAIT = 180.0  # seconds: the longest any step may take on a busy machine


def lines_of(stream: io.TextIOBase) -> queue.Queue[str]:
    """The lines a child prints, read in a thread so the test can wait for them with a timeout."""
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            found.put(line)

    threading.Thread(target=read, daemon=True).start()
    return found


def valid_epub(data: bytes) -> str:
    """The text of the EPUB's first article; fails unless the archive is whole and well formed."""
    check_epub_bytes(data, "watched.epub")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return archive.read("EPUB/a1.xhtml").decode("utf-8")


def valid_pdf(data: bytes) -> int:
    """The PDF's page count; fails unless qpdf's parser reads it whole."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def test_watch_rebuilds_after_a_save_and_a_valid_file_is_there_all_the_time(tmp_path: Path) -> None:
    root = tmp_path / "book"
    assert run_zhpress("new", str(root), "--template", "blank").returncode == 0
    epub, pdf = root / "dist" / "book-ebook.epub", root / "dist" / "book-print.pdf"
    process = subprocess.Popen(
        [sys.executable, "-m", "zhpress", "build", "ebook", "print", "-C", str(root), "-j", "1", "--watch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    messages = lines_of(process.stderr)  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + WAIT
        while not (epub.exists() and pdf.exists()):
            assert process.poll() is None, "the watcher ended"
            assert time.monotonic() < deadline, "the first build did not finish"
            time.sleep(0.1)
        first_pdf = pdf.read_bytes()
        assert "从这里开始写作" in valid_epub(epub.read_bytes()) and valid_pdf(first_pdf) > 0
        seen: list[str] = []
        while not any("watching" in line for line in seen):  # the watcher is ready for the edit
            seen.append(messages.get(timeout=WAIT))

        manuscript = root / "content" / "01.md"
        manuscript.write_text(manuscript.read_text("utf-8") + "\n新写的一段：河湾村的秋天来了。\n", "utf-8")

        polls = 0
        deadline = time.monotonic() + WAIT
        while True:
            # Each poll reads both files under their final names: each must be complete and valid.
            text = valid_epub(epub.read_bytes())
            pdf_bytes = pdf.read_bytes()
            valid_pdf(pdf_bytes)
            polls += 1
            if "河湾村的秋天来了" in text and pdf_bytes != first_pdf:
                break
            assert process.poll() is None, "the watcher ended"
            assert time.monotonic() < deadline, f"no rebuild after {polls} polls"
            time.sleep(0.02)
        assert polls > 1, "the files were read while the rebuild ran"
        assert not list((root / "dist").glob(".*.part-*")), "no temporary file is left"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0

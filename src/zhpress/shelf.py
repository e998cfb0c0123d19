"""`zhpress build-all`: every book project under some folders, as one pool of work.

Each book builds in a process forked for it, as many books at once as there are render slots (`-j`); the
books' further editions and renders share those slots (`workers.Slots`), so a long book's editions and
chunks take every slot the short books leave free, and on a cluster
every book's jobs go to the same scheduler. A book's failure, even its process's death, ends only that
book. The command line (`zhpress.cli`) shows the progress and prints each book's output when it is done.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from . import workers
from .errors import InputError

#: Folders never searched for book projects: outputs, caches, hidden folders.
_NOT_PROJECTS = {"dist", ".zhpress-cache"}


def find_projects(roots: list[Path]) -> list[Path]:
    """Every book project (a folder with content/book.toml) at or under `roots`, sorted, each once; the
    search does not enter a project, its outputs, caches, hidden folders or links to folders."""
    found: dict[Path, None] = {}
    for root in roots:
        if not root.is_dir():
            raise InputError("no such folder", path=root)
        for folder, dirnames, _files in os.walk(root):
            here = Path(folder)
            if (here / "content" / "book.toml").is_file():
                found.setdefault(here.resolve())
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _NOT_PROJECTS)
    return sorted(found)


@dataclass
class BookResult:
    """What became of one book: its exit status, a one-line note, and what its build printed."""

    folder: Path
    status: int
    note: str
    output: str = ""


#: A book's build in its own process: (exit status, note, what it printed).
BuildOne = Callable[[Path], "tuple[int, str, str]"]


def manuscript_bytes(folder: Path) -> int:
    """The size of a book's manuscripts (its content/ files, links not followed): longest books start first."""
    total = 0
    content = folder / "content"
    if content.is_symlink():  # not followed here: the build checks where it leads
        return 0
    try:
        for entry in os.scandir(content):
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    except OSError:  # the book's own build says what is wrong with it
        pass
    return total


def build_books(projects: list[Path], slots: int, build_one: BuildOne,
                on_done: Callable[[BookResult], None]) -> list[BookResult]:
    """Build every book in a process of its own, the longest first, while a slot is free; `on_done` is told
    of each as it ends. The results are in the order of `projects`."""
    with workers.shared_slots(slots) as shared:
        results = _build_all(projects, shared, build_one, on_done)
    return [results[folder] for folder in projects]


def _build_all(projects: list[Path], shared: workers.Slots, build_one: BuildOne,
               on_done: Callable[[BookResult], None]) -> dict[Path, BookResult]:
    context = multiprocessing.get_context("fork")
    waiting = sorted(projects, key=manuscript_bytes, reverse=True)
    running: dict[Any, tuple[Any, Path, Any]] = {}
    results: dict[Path, BookResult] = {}
    try:
        while waiting or running:
            while waiting and shared.take():  # the book's own slot, held for it here
                folder = waiting.pop(0)
                held = context.Value("i", 0)  # the further slots it holds, should it die holding them
                shared.held = held
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_book_process, args=(build_one, folder, send))
                with workers.forking():
                    process.start()
                shared.held = None
                send.close()
                running[receive] = (process, folder, held)
            ready: list[Any] = wait([*running, shared.fileno()] if waiting else list(running))
            for connection in ready:
                if isinstance(connection, int):  # a slot may be free
                    continue
                process, folder, held = running.pop(connection)
                try:
                    status, note, output = connection.recv()
                except EOFError:
                    status, note, output = 1, "its build process stopped without a result", ""
                connection.close()
                process.join()
                if process.exitcode not in (0, None) and status == 0:
                    status, note = 1, f"its build process ended with exit code {process.exitcode}"
                shared.give(1 + max(0, held.value))
                results[folder] = BookResult(folder, status, note, output)
                on_done(results[folder])
    except BaseException:  # Ctrl-C or SIGTERM: every book process stops with its workers and temporary folders
        for process, _folder, _held in running.values():
            process.terminate()
        for process, _folder, _held in running.values():
            process.join(10)
            if process.exitcode is None:
                process.kill()
                process.join()
        raise
    return results


def _book_process(build_one: BuildOne, folder: Path, send: Any) -> None:
    """A book process's whole life: build the book, send back what became of it."""
    workers.die_with_parent()
    try:
        result = build_one(folder)
    except BaseException as exc:  # noqa: BLE001 (one book's surprise is that book's failure)
        result = (1, f"internal error: {type(exc).__name__}: {exc}", "")
    send.send(result)
    send.close()

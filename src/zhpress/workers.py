"""The build's worker processes, forked as soon as the command line is read.

A PDF build spends about a second importing WeasyPrint. Forking the workers before zhpress loads its own
modules and reads the book lets that import run on another core while this process does its part; an
EPUB-only build sends them away unused. Standard library only: importing this module must cost nothing
(each worker imports `zhpress.pdf.engine` and WeasyPrint once it is forked).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import Terminated

_pool: ProcessPoolExecutor | None = None
_size = 0
_events: Any = None  # a queue made before the fork: workers report progress through it
_scratch: dict[str, int] = {}  # temporary folders of the build, with the process that made each
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _interrupted(signum: int, frame: Any) -> None:
    """The build's own process on its first SIGINT or SIGTERM: later ones are ignored while it cleans up
    (a bounded wait), and the build unwinds as from Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def handle_signals() -> dict[int, Any]:
    """In the command's process: SIGINT and SIGTERM end the build through its clean-up (exit 130, 143).
    Returns the handlers they replace."""
    return {signum: signal.signal(signum, _interrupted) for signum in (signal.SIGINT, signal.SIGTERM)}


def restore_signals(handlers: dict[int, Any]) -> None:
    """Put back the handlers `handle_signals` replaced."""
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def interrupted_status(exc: BaseException) -> int:
    """Say that the build was stopped, on stderr; the exit status: 143 for SIGTERM, 130 for Ctrl-C."""
    terminated = isinstance(exc, Terminated)
    sys.stderr.write("terminated\n" if terminated else "interrupted\n")
    return 143 if terminated else 130


def _worker_terminated(signum: int, frame: Any) -> None:
    """A worker told to stop: its own render processes and temporary folders go with it, quietly."""
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)
    remove_scratch()
    os._exit(128 + signum)


@contextmanager
def forking() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while processes are forked: a child takes them only once it has set its
    own handlers (`die_with_parent`), so a Ctrl-C during the fork prints no traceback from it."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder for this build, removed when done; on an interrupt it is removed by
    `remove_scratch` once the workers that may still write into it have stopped."""
    path = tempfile.mkdtemp(prefix=prefix)
    _scratch[path] = os.getpid()
    try:
        yield Path(path)
    except KeyboardInterrupt:
        raise
    except BaseException:
        remove_scratch(path)
        raise
    else:
        shutil.rmtree(path, ignore_errors=True)
        _scratch.pop(path, None)


def remove_scratch(only: str | None = None) -> None:
    """Remove the temporary folders this process made (`only`: just that one)."""
    for path, pid in list(_scratch.items()):
        if pid == os.getpid() and only in (None, path):
            shutil.rmtree(path, ignore_errors=True)
            del _scratch[path]


def events() -> Any:
    """The progress queue the command line reads (made on first use, before any worker is forked)."""
    global _events
    if _events is None:
        _events = multiprocessing.get_context("fork").SimpleQueue()
    return _events


def report(*event: object) -> None:
    """Tell the command line about progress (from any process of the build)."""
    if _events is not None:
        _events.put(event)


def die_with_parent() -> None:
    """Worker start-up: ask the kernel to kill this process when its parent dies, so that a build killed
    mid-way leaves no worker behind that could still rename a file into place (Linux; elsewhere a no-op).
    Ctrl-C is the build's to handle (a worker ignores it); SIGTERM ends the worker with its temporary
    folders."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    parent = os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _import_renderer() -> None:
    """Worker start-up: WeasyPrint, before any work arrives (the engine needs no configuration models: a
    single-pass render needs only strings)."""
    die_with_parent()
    from .pdf import engine  # here, in the worker: this module is imported before the early fork, so it stays light

    engine.import_weasyprint()


def start(jobs: int) -> None:
    """Fork `jobs` workers now; they import the renderer while the caller goes on."""
    global _pool, _size
    if _pool is not None:
        return
    events()
    with forking():
        _pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_import_renderer)
        _size = jobs
        for _ in range(jobs):  # make the processes now, not at the first real task
            _pool.submit(int)


def start_early(argv: list[str]) -> None:
    """For `zhpress build`, fork the workers before the command line module is imported: a glance at the
    arguments gives their number (one per named profile, at most one per core). Anything unusual (`-j`,
    help, `--watch`, whose builds run in their own processes) is left to the command line."""
    if not argv or argv[0] != "build":
        return
    profiles = 0
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-C", "-o"):
            next(args, None)
        elif arg.startswith(("-j", "--jobs", "-h", "--help", "--watch")):
            return
        elif not arg.startswith("-"):
            profiles += 1
    cores = os.cpu_count() or 1
    start(min(cores, profiles or cores))


def started() -> bool:
    """Whether workers were started and not yet taken or discarded."""
    return _pool is not None


def take(jobs: int) -> ProcessPoolExecutor:
    """The started pool if it has at least `jobs` workers, else a new one of that size."""
    global _pool
    if _pool is not None and _size >= jobs:
        pool, _pool = _pool, None
        return pool
    discard()
    start(jobs)
    return take(jobs)


def discard() -> None:
    """Stop the started workers without waiting for their imports (nothing of theirs is needed)."""
    global _pool
    if _pool is None:
        return
    stop(_pool)
    _pool = None


def stop(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now (SIGTERM: each removes its temporary folders), whatever they are doing;
    one that does not end within 10 s is killed. Then this process's own temporary folders go."""
    processes = list((pool._processes or {}).values())  # the executor has no public way to stop at once
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
        if process.exitcode is None:
            process.kill()
            process.join()
    remove_scratch()

"""The build's processes: how the build and its workers take SIGINT and SIGTERM, the temporary folders
removed with them, the progress queue, and the rules of forking (`forking`, `die_with_parent`). Standard
library only: importing this module must cost nothing (the render workers are forked just after it,
`zhpress.pdf.pool`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import Terminated

_events: Any = None  # a queue made before the fork: workers report progress through it
_label = ""  # a build-all book process's book, before the name in each event it reports
_slots: Slots | None = None  # build-all's render slots, shared by all its book processes
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
    """A worker told to stop: its own processes (told to stop in turn, so that theirs go too) and temporary
    folders go with it, quietly."""
    processes = multiprocessing.active_children()
    for child in processes:
        child.terminate()
    for child in processes:
        child.join(5)
        if child.exitcode is None:
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


class Events:
    """Progress events from any process of the build to the command line: a pipe whose writes never block.
    Nobody reads it when no progress is shown (a quiet build, no terminal, a warm build process's builds
    one after another), so an event that does not fit is dropped rather than stopping the build."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def put(self, event: tuple[object, ...]) -> None:
        data = pickle.dumps(event)
        frame = len(data).to_bytes(4, "big") + data
        if len(frame) > select.PIPE_BUF:  # only a write this small is whole or nothing
            return
        try:
            os.write(self._write, frame)
        except BlockingIOError:
            pass

    def empty(self) -> bool:
        return not select.select([self._read], [], [], 0)[0]

    def get(self) -> Any:
        """The next event (waits for one)."""
        size = int.from_bytes(self._exactly(4), "big")
        return pickle.loads(self._exactly(size))  # noqa: S301 (written by this build's own processes)

    def drain(self) -> None:
        """Forget the events nobody read."""
        while not self.empty():
            self.get()

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = os.read(self._read, count - len(data))
            if not chunk:
                raise EOFError("the progress pipe was closed")
            data += chunk
        return data


def events() -> Events:
    """The progress pipe the command line reads (made on first use, before any worker is forked)."""
    global _events
    if _events is None:
        _events = Events()
    return _events


def report(kind: str, name: str, *values: object) -> None:
    """Tell the command line about progress (from any process of the build): an event of `kind` for the
    profile `name` (after the book's label in a build-all book process, `set_label`)."""
    if _events is not None:
        _events.put((kind, _label + name, *values))


def set_label(label: str) -> None:
    """In a build-all book process: what goes before each profile's name in its progress events."""
    global _label
    _label = label


class Slots:
    """Render slots shared by forked processes, as make's jobserver shares its jobs: a pipe holding one byte
    per free slot. Each of `build-all`'s book processes holds one slot (taken for it by the command line,
    which gives it back when the process ends, however it ends); a book's renders beyond its first take one
    each, non-blocking, and give it back when done. So the books' jobs together run at most `count` at a
    time, and a book left alone gets every slot the others freed."""

    def __init__(self, count: int) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.write(self._write, b"+" * max(0, count))
        self.held: Any = None  # a book process's count of slots taken (a shared Value the command line reads)

    def take(self) -> bool:
        """One free slot, if there is one now."""
        try:
            taken = os.read(self._read, 1)
        except BlockingIOError:
            return False
        if taken:
            self._count(1)
        return bool(taken)

    def give(self, count: int = 1) -> None:
        """Free `count` slots."""
        if count > 0:
            os.write(self._write, b"+" * count)
            self._count(-count)

    def _count(self, change: int) -> None:
        if self.held is not None:
            with self.held.get_lock():  # the book's profile processes share its count
                self.held.value += change

    def free(self) -> int:
        """How many slots are free now."""
        import fcntl
        import termios

        return int.from_bytes(fcntl.ioctl(self._read, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)

    def fileno(self) -> int:
        """Readable when a slot may be free (for `multiprocessing.connection.wait`)."""
        return self._read

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)


@contextmanager
def shared_slots(count: int) -> Iterator[Slots]:
    """Render slots for the book processes forked while this lasts (build-all) to share."""
    global _slots
    _slots = Slots(count)
    try:
        yield _slots
    finally:
        _slots.close()
        _slots = None


def slots() -> Slots | None:
    """The shared render slots of a build-all book process; None in any other build."""
    return _slots


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

"""The output folder: checked before a build, locked while it writes, cleared of parts killed builds left,
and written into atomically (a file is complete or absent, never half written)."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import files
from .errors import InputError

LOCK_NAME = ".zhpress.lock"


def check_output_folder(out_dir: Path, *, explicit: bool) -> None:
    """The output folder is used as given: a symbolic link named `dist` is refused unless `-o` names it
    (a book could ship one leading to another book's outputs); something else in its place is refused."""
    if not explicit and os.path.islink(out_dir):
        raise InputError(
            "the output folder is a symbolic link; zhpress writes only into a folder named on purpose",
            path=out_dir,
            hint="remove the link, or name the folder with -o to write there anyway",
        )
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise InputError("cannot write to the output folder: not a folder", path=out_dir, hint="choose another folder with -o")


@contextmanager
def output_lock(out_dir: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Serialize builds into one output folder: a second build waits for the first to finish."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(out_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        handle = os.fdopen(fd, "r+b")
    except OSError as exc:
        raise InputError(
            f"cannot write to the output folder: {exc.strerror}", path=out_dir, hint="choose another folder with -o"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if on_wait:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_PART = re.compile(r"^\..+\.(?:epub|pdf|conversion\.tsv|conversion\.html)\.part-(\d+)$")


def remove_stale_parts(out_dir: Path) -> list[Path]:
    """Delete `.NAME.part-PID` files left by builds that were killed (their process is gone): only regular
    files of the user's own by the names zhpress gives them, never anything else found there."""
    removed: list[Path] = []
    if not out_dir.is_dir():
        return removed
    for path in out_dir.iterdir():
        match = _PART.match(path.name)
        if not match or not _ours(path):
            continue
        pid = int(match[1])
        alive = pid != os.getpid() and _pid_alive(pid)
        if not alive:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _ours(path: Path) -> bool:
    """A regular file with one name, owned by the user: what zhpress writes (never a link, FIFO or folder)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def part_path(target: Path) -> Path:
    """The temporary name a build writes before renaming into place."""
    return target.with_name(f".{target.name}.part-{os.getpid()}")


def write_output(target: Path, data: bytes) -> None:
    """Write `data` under the build's temporary name beside `target` (created afresh: never a file, link or
    FIFO someone put there), synced, then renamed into place. A failure (a full disk, an unwritable
    folder) is one user error naming `target`."""
    tmp = part_path(target)
    try:
        try:
            files.write_atomic(target, data, mode=None, temp=tmp, durable=True)
        except FileExistsError:
            if not _ours(tmp):
                raise InputError(
                    f"something that zhpress did not write is in the way of its temporary file {tmp.name}",
                    path=target.parent,
                    hint="remove it, or choose another folder with -o",
                ) from None
            tmp.unlink()  # this process's own leftover (a process of the same number that was killed)
            files.write_atomic(target, data, mode=None, temp=tmp, durable=True)
    except OSError as exc:
        raise InputError(
            f"cannot write: {exc.strerror or exc}", path=target, hint="free some space or choose another folder with -o"
        ) from None

"""Files a build touches: the book's own, opened only as regular files inside the book and read once; the
outputs and caches, written atomically; cache folders that belong to the user; cache entries signed.

A book project is untrusted input. `read_confined` resolves a path, refuses what leads outside the folder it
must stay in (with the same words whether or not the outside file exists), refuses anything that is not a
regular file (FIFOs, devices, sockets, directories) before opening it, refuses files with more than one
name (a hard link may be a file from outside the book), opens without following a last symbolic link and
without blocking, and checks the open file again (`fstat`, and on Linux where the descriptor really leads).
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import logging
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError, RenderError

log = logging.getLogger("zhpress")

MiB = 1024 * 1024
#: The largest file zhpress reads of each kind (a limit on what a book can make a build hold in memory).
LIMITS: dict[str, int] = {
    "manuscript": 64 * MiB,
    "book configuration": 16 * MiB,
    "stylesheet": 8 * MiB,
    "template": 2 * MiB,
    "image": 256 * MiB,
    "font": 256 * MiB,
    "cache entry": 2048 * MiB,
}

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def is_inside(path: str | Path, folder: str | Path) -> bool:
    """Whether the real path `path` is `folder` or below it (both already resolved)."""
    path, folder = str(path), str(folder).rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


class _Folders:
    """The real paths of the folders resolved inside `resolving` (None outside it)."""

    def __init__(self) -> None:
        self.real: dict[str, str] | None = None


_folders = _Folders()


@contextmanager
def resolving() -> Iterator[None]:
    """Inside, `real_path` resolves each folder once, for reading many files of a few folders (a book's
    manuscripts: 0.15 s of a rebuild at 1000 of them). A folder changed into a link meanwhile is still caught
    where it matters: `read_confined` checks where the opened descriptor really leads."""
    if _folders.real is not None:
        yield
        return
    _folders.real = {}
    try:
        yield
    finally:
        _folders.real = None


def real_path(path: str | Path) -> str:
    """`os.path.realpath(path)`; inside `resolving`, a name that is not a symbolic link is its folder's
    real path (resolved once) and the name."""
    folders = _folders.real
    text = os.fspath(path)
    parent, name = os.path.split(text)
    if folders is None or not parent or name in ("", ".", ".."):
        return os.path.realpath(text)
    try:
        if stat.S_ISLNK(os.lstat(text).st_mode):
            return os.path.realpath(text)
    except OSError:
        return os.path.realpath(text)
    real = folders.get(parent)
    if real is None:
        real = folders[parent] = os.path.realpath(parent)
    return os.path.join(real, name)


def read_confined(
    path: Path,
    within: Path | Sequence[Path],
    *,
    what: str,
    limit: int | None = None,
    error: type[InputError] = InputError,
    folder_name: str | None = None,
    missing_hint: str | None = None,
) -> bytes:
    """The bytes of `path`, a regular file inside one of `within` (after resolving every symbolic link),
    no larger than `limit` (default: `LIMITS[what]`). Anything else is `error` naming `path` as given.

    Long because each refusal (outside, not regular, linked, changed while opened) is a step of its own that must stay in this order."""
    roots = [within] if isinstance(within, Path) else list(within)
    limit = LIMITS.get(what, 64 * MiB) if limit is None else limit
    real = real_path(path)
    if not any(is_inside(real, real_path(root)) for root in roots):
        shown = folder_name or f"{roots[0].name}/"
        raise error(
            f"the {what} leads outside {shown} (through a symbolic link or '..')",
            path=path,
            hint=f"zhpress reads only files inside the book; copy the file into {shown}",
        )
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise error(f"{what} not found", path=path, hint=missing_hint) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error("a loop of symbolic links", path=path) from None
        raise error(f"cannot read the {what}: {exc.strerror}", path=path) from None
    _check_regular(info, path, what, limit, error)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symbolic link since it was resolved
            raise error(f"the {what} changed while it was opened (now a symbolic link)", path=path) from None
        raise error(f"cannot read the {what}: {exc.strerror}", path=path) from None
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise error(f"the {what} changed while it was opened", path=path)
        _check_regular(opened, path, what, limit, error)
        where = _fd_path(fd)
        if where is not None and not any(is_inside(where, real_path(root)) for root in roots):
            raise error(f"the {what} changed while it was opened (it now leads outside)", path=path)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise error(_too_large(what, limit), path=path)
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", path=path) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _fd_path(fd: int) -> str | None:
    """Where an open descriptor leads (Linux), to catch a folder swapped for a link during the open."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def _too_large(what: str, limit: int) -> str:
    return f"the {what} is larger than {limit // MiB} MiB, the most zhpress reads for one"


def _check_regular(info: os.stat_result, path: Path, what: str, limit: int, error: type[InputError]) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise error(f"the {what} is {_kind(info.st_mode)}, not a regular file", path=path)
    if info.st_nlink > 1:
        raise error(
            f"the {what} has {info.st_nlink} names (hard links); zhpress reads only files with one name, "
            "since another name may be a file outside the book",
            path=path,
            hint="copy the file instead of linking it",
        )
    if info.st_size > limit:
        raise error(_too_large(what, limit), path=path)


# --- read once --------------------------------------------------------------------------------------------

# While a build runs: the bytes of every stylesheet and template read, by real path, so that what was
# checked is what is used (in the build's own process and, through `remembered`, in its workers).
_once: dict[str, bytes] | None = None


@contextmanager
def reading_once(known: dict[str, bytes] | None = None) -> Iterator[None]:
    """Within the block, `read_once` gives the same bytes for a path every time it is asked."""
    global _once
    saved = _once
    _once = dict(known or {}) if saved is None else saved
    if known and saved is not None:
        saved.update(known)
    try:
        yield
    finally:
        _once = saved


def remembered() -> dict[str, bytes]:
    """What `read_once` has read so far in this build (to hand to a worker process)."""
    return dict(_once or {})


# Bytes already read for a path, given to the code that parses them (`given`): a manuscript is hashed for
# the read cache and parsed from the same bytes, never read a second time.
_given: dict[str, bytes] = {}


@contextmanager
def given(path: Path, data: bytes) -> Iterator[None]:
    """Within the block, `read_once(path)` gives `data` without reading the file."""
    key = real_path(path)
    _given[key] = data
    try:
        yield
    finally:
        _given.pop(key, None)


def read_once(path: Path, within: Path | Sequence[Path], *, what: str, **options: object) -> bytes:
    """`read_confined`, remembered for the rest of the build (see `reading_once`), or the bytes `given`."""
    if _given:
        known = _given.get(real_path(path))
        if known is not None:
            return known
    if _once is None:
        return read_confined(path, within, what=what, **options)  # type: ignore[arg-type]
    key = real_path(path)
    if key not in _once:
        _once[key] = read_confined(path, within, what=what, **options)  # type: ignore[arg-type]
    return _once[key]


def decode_utf8(data: bytes, path: Path, *, what: str) -> str:
    """UTF-8 text (a BOM allowed) or a user error naming the line and byte of the first bad sequence."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"the {what} is not UTF-8 (byte {exc.start} cannot be read)", path=path, line=line,
            hint="save the file as UTF-8",
        ) from None


# --- writing ----------------------------------------------------------------------------------------------


def stamp(path: str | Path, *, follow: bool = True) -> tuple[int, int, int] | None:
    """What says a file is unchanged since it was last seen (inode, size, time), or None when it is gone."""
    try:
        info = os.stat(path, follow_symlinks=follow)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def write_atomic(path: Path, data: bytes, *, mode: int | None = 0o644, temp: Path | None = None,
                 durable: bool = False) -> None:
    """Write `data` under a temporary name beside `path` (a fresh unique one, or `temp` created afresh:
    never a file, link or FIFO someone put there), then rename it into place; `durable` syncs it to disk
    first. An OSError names `path`."""
    if temp is None:
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    else:
        tmp = str(temp)
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            if durable:
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_text_once(path: Path, text: str) -> None:
    """`text` into `path` atomically unless the file already holds it (generated files several builds share)."""
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text.encode("utf-8"))


# --- cache folders and signed entries ---------------------------------------------------------------------

#: A book's own cache folder, under its root (`read/`, `pdf/`, `images/`, `cover/`).
PROJECT_CACHE = ".zhpress-cache"


def user_cache_dir(name: str | None = None) -> Path:
    """The user's own cache folder for zhpress (XDG_CACHE_HOME, else ~/.cache), or its subfolder `name`."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "zhpress"
    return base / name if name else base


def writable_cache_dir(name: str, what: str) -> Path:
    """A writable folder for generated files zhpress can always remake (the user's cache folder `name`,
    else one in the system's temporary folder); RenderError naming `what` when there is none."""
    for folder in (user_cache_dir(name), Path(tempfile.gettempdir()) / f"zhpress-{name}"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise RenderError(f"no writable cache directory for {what}")


_warned: set[str] = set()


def _warn_once(message: str, *args: object) -> None:
    text = message % args
    if text not in _warned:
        _warned.add(text)
        log.warning("%s", text)


def own_folder(folder: Path, *, base: Path | None = None) -> Path | None:
    """`folder` as a cache folder of the user's own: created 0700 (every level below `base`, default its
    parent), each level a real folder (no symbolic link) owned by the user, and writable. None, with a
    warning, when it is not: the build then goes on without that cache."""
    base = base if base is not None else folder.parent
    try:
        rel = folder.relative_to(base)
    except ValueError:
        base, rel = folder.parent, Path(folder.name)
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        step = base
        for part in rel.parts:
            step = step / part
            try:
                os.mkdir(step, 0o700)
            except FileExistsError:
                pass
            info = os.lstat(step)
            if stat.S_ISLNK(info.st_mode):
                raise _NotOwn(f"{step} is a symbolic link")
            if not stat.S_ISDIR(info.st_mode):
                raise _NotOwn(f"{step} is not a folder")
            if info.st_uid != os.geteuid():
                raise _NotOwn(f"{step} belongs to another user")
            if stat.S_IMODE(info.st_mode) & 0o077:
                os.chmod(step, 0o700)
        probe, name = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(probe)
        os.unlink(name)
    except _NotOwn as exc:
        _warn_once("%s: building without this cache (%s)", folder, exc)
        return None
    except OSError as exc:
        _warn_once("%s: building without this cache (cannot write it: %s)", folder, exc.strerror or exc)
        return None
    return folder


class _NotOwn(Exception):
    """A cache folder that is not the user's own."""


KEY_BYTES = 32
_key: bytes | None = None


def signing_key() -> bytes | None:
    """The user's secret for signing cache entries (`user_cache_dir()/key`, 0600, made on first use). An
    entry a project brings with it, made on another account or machine, fails its check and is not used."""
    global _key
    if _key is not None:
        return _key
    folder = user_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        pass
    path = folder / "key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        fd = None
    except OSError as exc:
        _warn_once("%s: cannot make the key that signs cache entries (%s); building without caches", path, exc.strerror)
        return None
    if fd is not None:
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(KEY_BYTES))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
                raise OSError(errno.EPERM, "not a private file of this user")
            key = handle.read(KEY_BYTES + 1)
    except OSError as exc:
        _warn_once("%s: the key that signs cache entries cannot be used (%s); building without caches", path, exc.strerror)
        return None
    if len(key) != KEY_BYTES:
        _warn_once("%s: the key that signs cache entries is damaged; remove it", path)
        return None
    _key = key
    return key


_MAGIC = b"zhpress-signed-1 "


def sign(data: bytes, key: bytes) -> bytes:
    """`data` with its HMAC-SHA256 under `key` in front."""
    return _MAGIC + hmac.new(key, data, hashlib.sha256).hexdigest().encode() + b"\n" + data


def verified(blob: bytes, key: bytes) -> bytes | None:
    """The data of a signed blob, or None when its signature is not the user's."""
    head, sep, data = blob.partition(b"\n")
    if not sep or not head.startswith(_MAGIC):
        return None
    expected = hmac.new(key, data, hashlib.sha256).hexdigest().encode()
    return data if hmac.compare_digest(head[len(_MAGIC) :], expected) else None

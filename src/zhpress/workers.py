"""The build's worker processes, forked as soon as the command line is read.

A PDF build spends about a second importing WeasyPrint. Forking the workers before zhpress loads its own
modules and reads the book lets that import run on another core while this process does its part; an
EPUB-only build sends them away unused. Standard library only: importing this module must cost nothing.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_pool: ProcessPoolExecutor | None = None
_size = 0
_events: Any = None  # a queue made before the fork: workers report progress through it


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
    mid-way leaves no worker behind that could still rename a file into place (Linux; elsewhere a no-op)."""
    import ctypes
    import os
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _import_renderer() -> None:
    """Worker start-up: the PDF engine, the justification hook and the render job, before any work arrives
    (without zhpress's configuration models: a single-pass render needs only strings)."""
    die_with_parent()
    import_weasyprint()

    from .pdf import chunked, justify, writer  # noqa: F401


def import_weasyprint() -> None:
    """Import WeasyPrint with its libraries looked up in one reading of ldconfig's list.

    WeasyPrint tries several names for each library it loads; cffi asks `ctypes.util.find_library` about
    each, and on Linux every name it does not know runs ldconfig, then the compiler and the linker (about
    15 ms a name, 0.3 s of the 0.9 s import on Debian, on the critical path of every PDF build). Here the
    list is read once; a name missing from it is looked up the usual way when LD_LIBRARY_PATH is set (the
    linker's search could then find more), else it is missing. Should the import fail all the same, it is
    retried with the usual lookup."""
    import sys

    if "weasyprint" in sys.modules:
        return
    import ctypes.util

    usual = ctypes.util.find_library
    known = _ldconfig_names()
    if known is None:
        import weasyprint

        return

    def find_library(name: str) -> str | None:
        found = known(name)
        if found is None and os.environ.get("LD_LIBRARY_PATH"):
            return usual(name)
        return found

    ctypes.util.find_library = find_library
    try:
        import weasyprint
    except (ImportError, OSError):
        for module in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[module]
        ctypes.util.find_library = usual
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = usual


def _ldconfig_names() -> Any:
    """A lookup of library names in ldconfig's list as `ctypes.util` does it on Linux (same pattern, same
    ABI), or None when the list cannot be read here."""
    import re
    import struct
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        listing = subprocess.run(
            ["/sbin/ldconfig", "-p"], capture_output=True, env={"LC_ALL": "C", "LANG": "C"}, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    abi = {
        "x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64",
    }.get(machine, "libc6")

    def lookup(name: str) -> str | None:
        found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
        return os.fsdecode(found.group(1)) if found else None

    return lookup


def start(jobs: int) -> None:
    """Fork `jobs` workers now; they import the renderer while the caller goes on."""
    global _pool, _size
    if _pool is not None:
        return
    events()
    _pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_import_renderer)
    _size = jobs
    for _ in range(jobs):  # make the processes now, not at the first real task
        _pool.submit(int)


def start_early(argv: list[str]) -> None:
    """For `zhpress build`, fork the workers before the command line module is imported: a glance at the
    arguments gives their number (one per named profile, at most one per core). Anything unusual (`-j`,
    help) is left to the command line, which starts them after parsing."""
    if not argv or argv[0] != "build":
        return
    profiles = 0
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-C", "-o"):
            next(args, None)
        elif arg.startswith(("-j", "--jobs", "-h", "--help")):
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
    processes = list((_pool._processes or {}).values())  # the executor has no public way to stop at once
    _pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    _pool = None

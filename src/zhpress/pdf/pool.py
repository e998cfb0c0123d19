"""The build's render workers, forked as soon as the command line is read.

A PDF build spends about a second importing WeasyPrint. Forking the workers before zhpress loads its own
modules and reads the book lets that import run on another core while this process does its part; they
render single-pass books and drawn covers, and an EPUB-only build sends them away unused. Standard library
and `zhpress.workers` only: this module is imported before the fork and must cost nothing.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from ..workers import die_with_parent, events, forking, remove_scratch


class _Started:
    """The workers started and not yet taken or discarded, and how many they are."""

    pool: ProcessPoolExecutor | None = None
    size = 0


def _import_renderer() -> None:
    """Worker start-up: the PDF engine and WeasyPrint, before any work arrives (no configuration models: a
    single-pass render needs only strings)."""
    die_with_parent()
    from . import engine  # here, in the worker: imported before the fork it would delay the fork

    engine.import_weasyprint()


def start(jobs: int) -> None:
    """Fork `jobs` workers now; they import the renderer while the caller goes on."""
    if _Started.pool is not None:
        return
    events()
    with forking():
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_import_renderer)
        _Started.pool, _Started.size = pool, jobs
        for _ in range(jobs):  # make the processes now, not at the first real task
            pool.submit(int)


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
    return _Started.pool is not None


def take(jobs: int) -> ProcessPoolExecutor:
    """The started pool if it has at least `jobs` workers, else a new one of that size."""
    pool = _Started.pool
    if pool is not None and _Started.size >= jobs:
        _Started.pool = None
        return pool
    discard()
    start(jobs)
    return take(jobs)


def discard() -> None:
    """Stop the started workers without waiting for their imports (nothing of theirs is needed)."""
    if _Started.pool is None:
        return
    stop(_Started.pool)
    _Started.pool = None


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

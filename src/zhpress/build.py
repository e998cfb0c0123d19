"""The build sequence: read every input and check it, then per profile convert, render, write, validate,
and move the result into the output folder atomically.

User errors are found before anything is written (exit 2, output folder untouched); a failure while
rendering one profile leaves the other profiles' outputs and that profile's previous output in place.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Any

from . import files, memo, render, workers
from .config import Profile, Project
from .convert import get_converter
from .convert.edition import conversion_settings, edition_book
from .cover import cover_plan, is_cover_profile
from .editions import Job, edition
from .errors import InputError, RenderError, ZhpressError
from .inputs import check_book_folders, check_inputs
from .model import Book
from .output import check_output_folder, output_lock, remove_stale_parts, write_output
from .pdf import pool as render_workers
from .read.book import read_book

log = logging.getLogger("zhpress")

@dataclass
class Outcome:
    """What became of one profile in a build."""

    profile: str
    outputs: list[Path] = field(default_factory=list)
    error: ZhpressError | None = None
    seconds: float = 0.0
    files: list[tuple[Path, bytes]] = field(default_factory=list)
    pages: int | None = None
    conversion: str | None = None  # the conversion report's one-line summary, for the build output
    layout: list[Any] | None = None  # a print edition's pages as laid out (`zhpress.pagelist`), for its EPUBs

    @property
    def ok(self) -> bool:
        return self.error is None


def build_date(project: Project, book: Book) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set; else the book's date; else a fixed date derived from the content."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except ValueError as exc:
            raise InputError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from exc
    if book.meta.date:
        parts = [int(p) for p in book.meta.date.split("-")] + [1, 1]
        return dt.datetime(parts[0], parts[1], parts[2], tzinfo=dt.UTC)
    digest = hashlib.sha256(repr(book.to_json()).encode()).digest()
    days = int.from_bytes(digest[:4], "big") % (365 * 20)
    return dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=days)


def build_profile(
    project: Project, profile: Profile, edition_book: Book, report: object, out_dir: Path, date: dt.datetime,
    *, jobs: int = 1, cache: bool = True, render_pool: Any = None, cover: Any = None, executor: Any = None,
    layouts: dict[str, list[Any]] | None = None,
) -> Outcome:
    """Build one edition for `out_dir`: the outcome carries its files, complete and checked, for
    `write_outcome`. A long PDF is rendered in chunks by `jobs` processes, reusing cached chunks unless
    `cache` is False; a print edition also gets its cover spread when `cover` (a `CoverPlan`) has a paper,
    an EPUB its cover image."""
    start = time.perf_counter()
    convert = get_converter(conversion_settings(project, profile)).convert
    job = Job(project, profile, edition_book, date, convert, out_dir, cache=cache, jobs=jobs,
              render_pool=render_pool, executor=executor, cover=cover, layouts=layouts)  # fmt: skip
    built = edition(profile).build(job)
    outcome = Outcome(profile.name, files=built.files, pages=built.pages, layout=built.layout)
    if profile.conversion:
        stem = job.target.with_suffix("").name
        html_path = job.target.with_name(f"{stem}.conversion.html")
        outcome.files.append((job.target.with_name(f"{stem}.conversion.tsv"), report.to_tsv().encode("utf-8")))  # type: ignore[attr-defined]
        html = report.to_html(title=f"{edition_book.meta.title} · {profile.name}", lang=profile.language)  # type: ignore[attr-defined]
        outcome.files.append((html_path, html.encode("utf-8")))
        outcome.conversion = f"{profile.name}: {report.summary()}: {html_path}"  # type: ignore[attr-defined]
    outcome.seconds = time.perf_counter() - start  # the files are written by the process that holds the lock
    return outcome


def write_outcome(outcome: Outcome) -> Outcome:
    """Move a built profile's files into place (each atomically); called in the process holding the lock,
    so a worker never renames anything into the output folder."""
    for path, payload in outcome.files:
        write_output(path, payload)
        outcome.outputs.append(path)
    outcome.files = []
    return outcome


@dataclass
class BuildRequest:
    """What the command line asked for."""

    project: Project
    profiles: list[Profile]
    out_dir: Path
    jobs: int = 1
    cache: bool = True  # reuse rendered PDF chunks from PROJECT/.zhpress-cache (`--no-cache` turns it off)
    out_explicit: bool = True  # named with -o (a symbolic link is then followed; `dist` never is)
    reads: dict[str, bytes] = field(default_factory=dict)  # the checked stylesheets and templates, for workers
    cover: bool = False  # `--cover`: a print cover spread even without a [cover] table
    cover_plan: Any = None  # the resolved cover settings, set by `prepare`
    executor: Any = None  # where a long PDF's chunks render (`zhpress.pdf.executor`); None: forked workers


def prepare(request: BuildRequest) -> tuple[dict[str, Book], dict[str, object], dt.datetime]:
    """Read and check every input; raises InputError before anything is written."""
    for kind in {id(k): k for k in map(edition, request.profiles)}.values():
        kind.check_engine()  # before any work: an unsupported engine would fail only after reading
    check_output_folder(request.out_dir, explicit=request.out_explicit)
    check_book_folders(request.project)
    book = read_book(request.project, cache=request.cache)
    editions: dict[str, Book] = {}
    reports: dict[str, object] = {}
    converted: dict[object, tuple[Book, object]] = {}
    for profile in request.profiles:
        editions[profile.name], reports[profile.name] = edition_book(request.project, profile, book, converted)
    check_inputs(request.project, request.profiles, editions)
    request.reads = files.remembered()
    request.cover_plan = cover_plan(
        request.project, forced=request.cover, spine=any(is_cover_profile(p) for p in request.profiles)
    )
    return editions, reports, build_date(request.project, book)


def run_build(
    request: BuildRequest,
    *,
    on_start: Callable[[Profile], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> list[Outcome]:
    """Check all input, then build each profile; one profile's failure does not stop the others.

    When a PDF is asked for, the worker processes are forked first, so that they import WeasyPrint
    while this process reads and checks the inputs."""
    # A warm build process (`zhpress.warm`) builds its profiles itself, one after another, so that what
    # they make stays in its memory for the next build (`zhpress.memo`); one worker renders single passes.
    # A build-all book process forks each profile when one of the books' shared slots is free.
    warm = memo.enabled()
    slotted = workers.slots() is not None and not warm and request.executor is None
    jobs = 1 if warm else max(1, min(request.jobs, len(request.profiles)))
    in_workers = any(edition(p).renders_in_workers for p in request.profiles)
    pool = render_workers.take(jobs) if in_workers and not slotted else None
    render.compiled_templates = request.cache
    try:
        with files.reading_once():  # what was checked is what is used
            editions, reports, date = prepare(request)
            if not in_workers:  # the workers started early draw an EPUB cover not drawn before; else they go
                pool = render_workers.take(1) if render_workers.started() and _engine_needed(request, editions, date) else None
                render_workers.discard()
            with output_lock(request.out_dir, on_wait):
                remove_stale_parts(request.out_dir)
                if request.executor is not None:  # a cluster's client is this process's: profiles one by one
                    request.executor.check([p.font_family for p in request.profiles if edition(p).renders_in_workers])
                if slotted:
                    return _build_slotted(request, editions, reports, date, on_start, on_done)
                if pool is not None and in_workers and request.executor is None and not warm \
                        and not _one_pass(request, editions, date):
                    return _build_parallel(request, pool, editions, reports, date, on_start, on_done)
                return _build_serial(request, pool, editions, reports, date, on_start, on_done)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers stop now, not after their renders
        if pool is not None:
            render_workers.stop(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _build_serial(
    request: BuildRequest,
    pool: Any,
    editions: dict[str, Book],
    reports: dict[str, object],
    date: dt.datetime,
    on_start: Callable[[Profile], None] | None,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    """Profiles one by one in this process, each laid-out edition before those that follow its layout."""
    outcomes: dict[str, Outcome] = {}
    layouts: dict[str, list[Any]] = {}  # print layouts made by this build, for its EPUBs' page lists
    for profile in _layouts_first(request):
        if on_start:
            on_start(profile)
        outcome = _write(_build_one(request, profile, editions, reports, date, render_pool=pool, layouts=layouts))
        if outcome.layout is not None:
            layouts[profile.name] = outcome.layout
        outcomes[profile.name] = outcome
        if on_done:
            on_done(outcome)
    return [outcomes[p.name] for p in request.profiles]


def _followed(request: BuildRequest) -> dict[str, str]:
    """The profiles of this build whose layout another of them follows: follower -> followed."""
    names = {p.name for p in request.profiles}
    found = {p.name: edition(p).layout_from(request.project, p) for p in request.profiles}
    return {name: source for name, source in found.items() if source is not None and source in names}


def _followers(profiles: list[Profile], waiting: dict[str, str], built: str) -> list[Profile]:
    """The profiles of `profiles` that waited for `built`'s layout (taken out of `waiting`): they may start."""
    ready = [p for p in profiles if waiting.get(p.name) == built]
    for profile in ready:
        del waiting[profile.name]
    return ready


def _layouts_first(request: BuildRequest) -> list[Profile]:
    """The profiles in build order: each edition another follows (a print edition) before its followers."""
    followed = set(_followed(request).values())
    return sorted(request.profiles, key=lambda p: p.name not in followed)


def _job(request: BuildRequest, profile: Profile, editions: dict[str, Book], date: dt.datetime) -> Job:
    convert = get_converter(conversion_settings(request.project, profile)).convert
    return Job(request.project, profile, editions[profile.name], date, convert, request.out_dir,
               cache=request.cache, cover=request.cover_plan)  # fmt: skip


def _engine_needed(request: BuildRequest, editions: dict[str, Book], date: dt.datetime) -> bool:
    """Whether an edition of this build starts the rendering engine (an EPUB cover image not given or cached)."""
    return any(edition(p).needs_engine(_job(request, p, editions, date)) for p in request.profiles)


def _one_pass(request: BuildRequest, editions: dict[str, Book], date: dt.datetime) -> bool:
    """A build of one single-pass PDF: it runs here and only WeasyPrint's render goes to the worker, which
    then needs no more than WeasyPrint loaded (the render starts sooner than a whole profile could)."""
    if len(request.profiles) != 1 or not edition(request.profiles[0]).renders_in_workers:
        return False
    return edition(request.profiles[0]).single_pass(_job(request, request.profiles[0], editions, date))


def _build_one(
    request: BuildRequest, profile: Profile, editions: dict[str, Book], reports: dict[str, object], date: dt.datetime,
    *, render_pool: Any = None, layouts: dict[str, list[Any]] | None = None,
) -> Outcome:
    """One profile; any failure becomes the outcome's error instead of stopping the build. The stylesheets
    and templates are the bytes the build checked (`request.reads`), also in a worker process."""
    render.compiled_templates = request.cache
    try:
        # Cores left over by the profiles built at once go to each PDF's chunk workers.
        # A warm build's profiles, one after another, and a build-all book's, whose renders take the books'
        # shared slots, use all of them.
        whole = memo.enabled() or workers.slots() is not None
        chunk_jobs = request.jobs if whole else max(1, request.jobs // max(1, min(request.jobs, len(request.profiles))))
        with files.reading_once(request.reads):
            return build_profile(
                request.project, profile, editions[profile.name], reports[profile.name], request.out_dir, date,
                jobs=chunk_jobs, cache=request.cache, render_pool=render_pool, cover=request.cover_plan,
                executor=request.executor, layouts=layouts,
            )
    except ZhpressError as exc:
        return Outcome(profile.name, error=exc)
    except OSError as exc:
        if exc.errno not in _FULL:
            log.debug("profile %s failed", profile.name, exc_info=True)
            return Outcome(profile.name, error=RenderError(f"rendering failed: {type(exc).__name__}: {exc}"))
        # a full disk (or a file-size limit) while rendering: one line naming the file, as for an output
        where = exc.filename or tempfile.gettempdir()
        return Outcome(profile.name, error=InputError(f"cannot write: {exc.strerror}", path=where, hint="free some space"))
    except Exception as exc:  # a render failure of one profile must not stop the others
        log.debug("profile %s failed", profile.name, exc_info=True)
        return Outcome(profile.name, error=RenderError(f"rendering failed: {type(exc).__name__}: {exc}"))


#: The errors of a write that found no room: full disk, file-size limit, quota.
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _write(outcome: Outcome) -> Outcome:
    """`write_outcome`, with a failure to write recorded as the profile's error."""
    try:
        return write_outcome(outcome)
    except ZhpressError as exc:
        outcome.error = exc
    except OSError as exc:
        outcome.error = InputError(f"cannot write: {exc.strerror}", path=exc.filename)
    outcome.files = []
    return outcome


def _build_parallel(
    request: BuildRequest,
    pool: Any,
    editions: dict[str, Book],
    reports: dict[str, object],
    date: dt.datetime,
    on_start: Callable[[Profile], None] | None,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    """Profiles in the worker processes; those rendered in workers (PDF) first: they take longest, so the
    others (EPUB) fill the gaps."""
    order = sorted(request.profiles, key=lambda p: not edition(p).renders_in_workers)
    waiting = _followed(request)  # an edition that follows another's layout starts once that one is built
    results: dict[str, Outcome] = {}
    layouts: dict[str, list[Any]] = {}
    futures = {}
    for profile in order:
        if on_start:
            on_start(profile)
        if profile.name not in waiting:
            futures[pool.submit(_build_one, request, profile, editions, reports, date)] = profile
    while futures:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        for future in done:
            del futures[future]
            outcome = _write(future.result())
            results[outcome.profile] = outcome
            if outcome.layout is not None:
                layouts[outcome.profile] = outcome.layout
            for profile in _followers(order, waiting, outcome.profile):
                futures[pool.submit(_build_one, request, profile, editions, reports, date, layouts=dict(layouts))] = profile
            if on_done:
                on_done(outcome)
    return [results[p.name] for p in request.profiles]


def _build_slotted(
    request: BuildRequest,
    editions: dict[str, Book],
    reports: dict[str, object],
    date: dt.datetime,
    on_start: Callable[[Profile], None] | None,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    """A build-all book process's profiles, PDF first: one after another here, on the book's own slot (what
    one profile loads, the next finds loaded), and each further one in a process forked from this one when
    one of the books' shared slots is free (`workers.Slots`); an edition that follows another's layout
    once that one is built."""
    shared = workers.slots()
    assert shared is not None
    waiting = _followed(request)
    todo = [p for p in sorted(request.profiles, key=lambda p: _longest_first(request, p, editions, date)) if p.name not in waiting]
    results: dict[str, Outcome] = {}
    layouts: dict[str, list[Any]] = {}
    running: dict[Any, tuple[Any, Profile]] = {}  # the forked profiles, each on a shared slot

    def finished(profile: Profile, outcome: Outcome) -> None:
        outcome = _write(outcome)
        results[profile.name] = outcome
        if outcome.layout is not None:
            layouts[profile.name] = outcome.layout
        todo.extend(_followers(request.profiles, waiting, profile.name))
        if on_done:
            on_done(outcome)

    def collect(block: bool) -> None:
        ready: list[Any] = mp_wait(list(running), None if block else 0)
        for connection in ready:
            process, profile = running.pop(connection)
            outcome = _forked_outcome(connection, process, profile)
            shared.give()
            finished(profile, outcome)

    try:
        while todo or running:
            while len(todo) > 1 and shared.take():
                if on_start:
                    on_start(todo[0])
                connection, process = _fork_profile(request, todo[0], editions, reports, date, layouts)
                running[connection] = (process, todo.pop(0))
            if todo:
                profile = todo.pop(0)
                if on_start:
                    on_start(profile)
                finished(profile, _build_one(request, profile, editions, reports, date, layouts=layouts))
            collect(block=not todo and bool(running))
    finally:
        for process, _profile in running.values():
            process.kill()
            process.join()
        shared.give(len(running))
    return [results[p.name] for p in request.profiles]


def _longest_first(request: BuildRequest, profile: Profile, editions: dict[str, Book], date: dt.datetime) -> tuple[bool, bool]:
    """The order a book process starts its profiles in: PDFs rendered in one pass (one long job that no
    other slot can share), then those rendered in chunks (which take any slot that frees), then EPUBs."""
    kind = edition(profile)
    return not kind.renders_in_workers, kind.renders_in_workers and not kind.single_pass(_job(request, profile, editions, date))


def _fork_profile(request: BuildRequest, profile: Profile, editions: dict[str, Book], reports: dict[str, object],
                  date: dt.datetime, layouts: dict[str, list[Any]]) -> tuple[Any, Any]:
    """A process forked to build one profile: the end of the pipe its outcome comes back on, and the process."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_profile_process, args=(request, profile, editions, reports, date, dict(layouts), send))
    with workers.forking():
        process.start()
    send.close()
    return receive, process


def _forked_outcome(connection: Any, process: Any, profile: Profile) -> Outcome:
    """What a forked profile build sent back, once it has ended."""
    try:
        outcome: Outcome = connection.recv()
    except EOFError:
        outcome = Outcome(profile.name, error=RenderError(f"the build of {profile.name} stopped without a result"))
    connection.close()
    process.join()
    return outcome


def _profile_process(request: BuildRequest, profile: Profile, editions: dict[str, Book], reports: dict[str, object],
                     date: dt.datetime, layouts: dict[str, list[Any]], send: Any) -> None:
    """A forked profile build's whole life: build it, send back its outcome."""
    workers.die_with_parent()
    try:
        send.send(_build_one(request, profile, editions, reports, date, layouts=layouts))
    finally:
        send.close()

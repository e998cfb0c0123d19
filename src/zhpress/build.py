"""The build sequence: read every input and check it, then per profile convert, render, write, validate,
and move the result into the output folder atomically.

User errors are found before anything is written (exit 2, output folder untouched); a failure while
rendering one profile leaves the other profiles' outputs and that profile's previous output in place.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import InputError, ManuscriptError, RenderError, ZhpressError
from .model import Article, Book, BookMeta, Creator
from .project import Profile, Project

log = logging.getLogger("zhpress")

LOCK_NAME = ".zhpress.lock"


@dataclass
class Outcome:
    """What became of one profile in a build."""

    profile: str
    outputs: list[Path] = field(default_factory=list)
    error: ZhpressError | None = None
    seconds: float = 0.0
    files: list[tuple[Path, bytes]] = field(default_factory=list)
    pages: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def warn_unsettled_titles(config: Path | None, articles: tuple[Article, ...]) -> None:
    """One warning for the whole book naming every article whose kicker the reader could not tell from its
    headline (fused with no mark), and the book.toml keys that settle them."""
    pending = [a for a in articles if a.unsettled_title]
    if pending:
        names = ", ".join(f"{a.source} (id {a.id})" for a in pending)
        log.warning(
            "%s: %d article(s) may have a kicker fused into the headline with no mark between them, so the whole "
            "block is the headline: %s; state `kicker` and `headline` in their [[articles]] entries to split them",
            config or "book.toml", len(pending), names,
        )


def read_book(project: Project, *, cache: bool = False) -> Book:
    """Read and normalize every manuscript of the project into one Book (in the source script). With
    `cache`, manuscripts unchanged since an earlier build are taken from PROJECT/.zhpress-cache/read."""
    from .pdf.chunked import CACHE_DIR
    from .read import read_manuscript
    from .read.cache import ReadCache

    store = ReadCache(project.root / CACHE_DIR / "read") if cache else None

    def read(path: Path, **arguments: Any) -> Article:
        return store.read(path, read_manuscript, **arguments) if store is not None else read_manuscript(path, **arguments)

    articles = tuple(
        read(src.path, article_id=src.id, source=src.source, title=src.title or None) for src in project.articles
    )
    if store is not None:
        store.save()
    seen: dict[str, str] = {}
    for src, article in zip(project.articles, articles, strict=True):
        if article.id in seen:
            raise ManuscriptError(
                f"article id {article.id!r} is already used by {seen[article.id]}",
                path=src.path,
                hint="give the articles different ids (front matter `id`, or `id` in book.toml's [[articles]])",
            )
        seen[article.id] = article.source
    warn_unsettled_titles(project.config_path, articles)
    cfg = project.config.book
    creators = tuple(Creator(n, "aut") for n in cfg.authors) + tuple(Creator(n, "edt") for n in cfg.editors)
    meta = BookMeta(
        id=project.book_id,
        title=cfg.title,
        subtitle=cfg.subtitle,
        creators=creators,
        publisher=cfg.publisher,
        date=cfg.date,
        rights=cfg.rights,
        description=cfg.description,
        subjects=tuple(cfg.subjects),
        language=cfg.language,
        isbn=cfg.isbn,
        edition=cfg.edition,
        printing=cfg.printing,
        price=cfg.price,
    )
    return Book(meta, articles)


def build_date(project: Project, book: Book) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set; else the book's date; else a fixed date derived from the content."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
        except ValueError as exc:
            raise InputError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from exc
    if book.meta.date:
        parts = [int(p) for p in book.meta.date.split("-")] + [1, 1]
        return dt.datetime(parts[0], parts[1], parts[2], tzinfo=dt.timezone.utc)
    digest = hashlib.sha256(repr(book.to_json()).encode()).digest()
    days = int.from_bytes(digest[:4], "big") % (365 * 20)
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=days)


def conversion_settings(project: Project, profile: Profile):  # type: ignore[no-untyped-def]
    """The conversion stage's settings for a profile."""
    from .convert import ConversionSettings

    return ConversionSettings(
        config=profile.conversion,  # type: ignore[arg-type]
        quotes=profile.quotes,
        protected=tuple(project.config.conversion.protected),
        overrides=profile.overrides,
    )


def edition_book(
    project: Project, profile: Profile, book: Book, converted: dict[object, tuple[Book, object]] | None = None
) -> tuple[Book, object]:
    """The book as this edition prints it: converted, with the edition's language and identifier.
    `converted` remembers conversions by their settings, so editions that share them (ebook-tw and
    print-tw) convert the book once."""
    from .convert import convert_book

    settings = conversion_settings(project, profile)
    if converted is None or settings not in converted:
        result = convert_book(book, settings)
        if converted is None:
            converted = {}
        converted[settings] = result
    converted_book, report = converted[settings]
    identifier = project.config.book.identifiers.get(profile.name)
    meta = replace(converted_book.meta, language=profile.language, identifier=identifier)
    return replace(converted_book, meta=meta), report


def output_name(project: Project, profile: Profile) -> str:
    """`{book-id}-{profile}.{epub|pdf}`."""
    return f"{project.book_id}-{profile.name}.{profile.format}"


def check_inputs(project: Project, profiles: list[Profile], editions: dict[str, Book]) -> None:
    """Everything a build reads, checked before anything is written: templates, stylesheets, fonts, glyphs."""
    from . import fonts, stylesheets
    from .render import Renderer

    roots = [project.content_dir, project.styles_dir]
    for profile in profiles:
        renderer = Renderer(project, profile, convert=lambda s: s)
        names = ["_article.html", "edition.css.j2"]
        if profile.format == "epub":
            names += [f"epub/{n}.xhtml" for n in ("cover", "title", "article", "colophon", "nav")]
            names += ["epub/typography.css.j2", "epub/fonts.css.j2"]
        else:
            names += ["pdf/book.html"]
        renderer.check_templates(names)
        for name, css in renderer.stylesheets():
            if name.startswith("base-"):  # zhpress's own sheets: only the syntax is worth a look
                stylesheets.check_syntax(css, name, project.styles_dir)
            else:
                stylesheets.check_stylesheet(
                    css, name, project.styles_dir, roots, self_contained=profile.format == "epub"
                )
        try:
            face = fonts.require_font(profile.font_family, profile=profile.name)
        except InputError as exc:
            if exc.path is None and project.config_path is not None:
                exc.path = str(project.config_path)
                exc.line = _profile_key_line(project, profile.name, "font_family")
            raise
        fonts.check_coverage(face, profile, editions[profile.name])


def _profile_key_line(project: Project, profile: str, key: str) -> int | None:
    """The line of `[profiles.NAME]`'s key in book.toml, when the book sets it."""
    from .project import _line_of_key

    if project.config_path is None or profile not in project.config.profiles:
        return None
    if getattr(project.config.profiles[profile], key, None) is None:
        return None
    return _line_of_key(project.config_path.read_text("utf-8-sig"), ("profiles", profile, key))


@contextmanager
def output_lock(out_dir: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Serialize builds into one output folder: a second build waits for the first to finish."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK_NAME, "a+b")  # noqa: SIM115 (closed by the with below)
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


_PART = re.compile(r"^\..+\.part-(\d+)$")


def remove_stale_parts(out_dir: Path) -> list[Path]:
    """Delete `.NAME.part-PID` files left by builds that were killed (their process is gone)."""
    removed = []
    if not out_dir.is_dir():
        return removed
    for path in out_dir.iterdir():
        match = _PART.match(path.name)
        if not match:
            continue
        pid = int(match[1])
        alive = pid != os.getpid() and _pid_alive(pid)
        if not alive:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


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


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` under a temporary name beside `target`, then rename it into place."""
    tmp = part_path(target)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def build_profile(
    project: Project, profile: Profile, edition: Book, report: object, out_dir: Path, date: dt.datetime,
    *, jobs: int = 1, cache: bool = True, render_pool: Any = None, executor: Any = None,
) -> Outcome:
    """Build one edition for `out_dir`: the outcome carries its files, complete and checked, for
    `write_outcome`. A long PDF is rendered in chunks by `jobs` processes, reusing cached chunks unless
    `cache` is False."""
    from .convert import get_converter
    from .render import Renderer

    start = time.perf_counter()
    outcome = Outcome(profile.name)
    converter = get_converter(conversion_settings(project, profile))
    target = out_dir / output_name(project, profile)
    if profile.format == "epub":
        from .epub import build_epub
        from .validate import check_epub_bytes

        data = build_epub(edition, Renderer(project, profile, convert=converter.convert), date)
        check_epub_bytes(data, target.name)
    else:
        from .pdf.writer import build_pdf
        from .validate import check_pdf_bytes

        from . import workers
        from .pdf.chunked import CHUNK_ARTICLES

        chunks = -(-len(edition.articles) // CHUNK_ARTICLES)

        def on_chunk(kind: str, index: int, from_cache: bool, pages: int) -> None:
            if kind == "body":  # the long part; front matter and folio pieces take a moment at the end
                workers.report("chunk", profile.name, pages, chunks)

        data, outcome.pages = build_pdf(
            project, profile, edition, date, converter.convert, jobs=jobs, cache=cache, on_chunk=on_chunk,
            render_pool=render_pool, executor=executor,
        )
        check_pdf_bytes(data, target.name, profile)
    files = [(target, data)]
    if profile.conversion:
        stem = target.with_suffix("").name
        files.append((target.with_name(f"{stem}.conversion.tsv"), report.to_tsv().encode("utf-8")))  # type: ignore[attr-defined]
        html = report.to_html(title=f"{edition.meta.title} · {profile.name}", lang=profile.language)  # type: ignore[attr-defined]
        files.append((target.with_name(f"{stem}.conversion.html"), html.encode("utf-8")))
    outcome.files = files  # written by the process that holds the output folder's lock
    outcome.seconds = time.perf_counter() - start
    return outcome


def write_outcome(outcome: Outcome) -> Outcome:
    """Move a built profile's files into place (each atomically); called in the process holding the lock,
    so a worker never renames anything into the output folder."""
    for path, payload in outcome.files:
        write_atomic(path, payload)
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
    executor: Any = None  # where a long PDF's chunks render (`zhpress.pdf.executor`); None: forked workers


def prepare(request: BuildRequest) -> tuple[dict[str, Book], dict[str, object], dt.datetime]:
    """Read and check every input; raises InputError before anything is written."""
    if any(profile.format == "pdf" for profile in request.profiles):
        from .pdf.justify import check_engine_version

        check_engine_version()  # before any work: an unsupported engine would fail only after reading
    book = read_book(request.project, cache=request.cache)
    editions: dict[str, Book] = {}
    reports: dict[str, object] = {}
    converted: dict[object, tuple[Book, object]] = {}
    for profile in request.profiles:
        editions[profile.name], reports[profile.name] = edition_book(request.project, profile, book, converted)
    check_inputs(request.project, request.profiles, editions)
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
    from . import workers

    jobs = max(1, min(request.jobs, len(request.profiles)))
    if any(p.format == "pdf" for p in request.profiles):
        pool = workers.take(jobs)
    else:
        workers.discard()
        pool = None
    try:
        editions, reports, date = prepare(request)
        with output_lock(request.out_dir, on_wait):
            remove_stale_parts(request.out_dir)
            if request.executor is not None:  # a cluster's client is this process's: profiles one by one
                request.executor.check([p.font_family for p in request.profiles if p.format == "pdf"])
            if pool is not None and request.executor is None and not _renders_in_one_pass(request, editions):
                return _build_parallel(request, pool, editions, reports, date, on_start, on_done)
            outcomes: list[Outcome] = []
            for profile in request.profiles:
                if on_start:
                    on_start(profile)
                outcome = _write(_build_one(request, profile, editions, reports, date, render_pool=pool))
                outcomes.append(outcome)
                if on_done:
                    on_done(outcome)
            return outcomes
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _renders_in_one_pass(request: BuildRequest, editions: dict[str, Book]) -> bool:
    """A build of one single-pass PDF: it runs here and only WeasyPrint's render goes to the worker, which
    then needs no more than WeasyPrint loaded (the render starts sooner than a whole profile could)."""
    from .pdf.chunked import chunking_applies

    if len(request.profiles) != 1 or request.profiles[0].format != "pdf":
        return False
    profile = request.profiles[0]
    return not chunking_applies(request.project, profile, editions[profile.name])


def _build_one(
    request: BuildRequest, profile: Profile, editions: dict[str, Book], reports: dict[str, object], date: dt.datetime,
    *, render_pool: Any = None,
) -> Outcome:
    """One profile; any failure becomes the outcome's error instead of stopping the build."""
    try:
        # Cores left over by the profiles built at once go to each PDF's chunk workers.
        chunk_jobs = max(1, request.jobs // max(1, min(request.jobs, len(request.profiles))))
        return build_profile(
            request.project, profile, editions[profile.name], reports[profile.name], request.out_dir, date,
            jobs=chunk_jobs, cache=request.cache, render_pool=render_pool, executor=request.executor,
        )
    except ZhpressError as exc:
        return Outcome(profile.name, error=exc)
    except Exception as exc:  # a render failure of one profile must not stop the others
        log.debug("profile %s failed", profile.name, exc_info=True)
        return Outcome(profile.name, error=RenderError(f"rendering failed: {type(exc).__name__}: {exc}"))


def _write(outcome: Outcome) -> Outcome:
    """`write_outcome`, with a failure to write recorded as the profile's error."""
    try:
        return write_outcome(outcome)
    except OSError as exc:
        outcome.error = RenderError(f"cannot write {exc.filename}: {exc.strerror}")
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
    """Profiles in the worker processes; PDF profiles first: they take longest, so the EPUBs fill the gaps."""
    from concurrent.futures import as_completed

    order = sorted(request.profiles, key=lambda p: p.format != "pdf")
    results: dict[str, Outcome] = {}
    futures = {}
    for profile in order:
        if on_start:
            on_start(profile)
        futures[pool.submit(_build_one, request, profile, editions, reports, date)] = profile
    for future in as_completed(futures):
        outcome = _write(future.result())
        results[outcome.profile] = outcome
        if on_done:
            on_done(outcome)
    return [results[p.name] for p in request.profiles]

"""The build sequence: read every input and check it, then per profile convert, render, write, validate,
and move the result into the output folder atomically.

User errors are found before anything is written (exit 2, output folder untouched); a failure while
rendering one profile leaves the other profiles' outputs and that profile's previous output in place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .cover import cover_plan, is_cover_profile
from .errors import InputError, ManuscriptError, RenderError, ZhpressError
from .model import Article, Book, BookMeta, Creator, Part
from .project import Profile, Project, check_id

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
    conversion: str | None = None  # the conversion report's one-line summary, for the build output
    page_list: list[Any] | None = None  # a print edition's pages as laid out (`zhpress.pagelist`), for its EPUBs

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
    from . import files
    from .pdf.chunked import CACHE_DIR
    from .read import read_manuscript
    from .read.cache import ReadCache

    store = ReadCache(project.root / CACHE_DIR / "read", base=project.root) if cache else None
    if store is not None and not store.usable:
        store = None

    def read(path: Path, **arguments: Any) -> Article:
        data = files.read_confined(
            path, project.content_dir, what="manuscript", error=ManuscriptError, folder_name="content/",
            missing_hint="check the file name in book.toml",
        )
        if store is not None:
            return store.read(path, read_manuscript, data=data, **arguments)
        with files.given(path, data):
            return read_manuscript(path, **arguments)

    articles = tuple(
        read(src.path, article_id=src.id, source=src.source, title=src.title or None, **({"role": src.role} if src.role else {}))
        for src in project.articles
    )
    articles = tuple(
        replace(a, role=None if src.role == "chapter" else src.role) if src.role else a
        for src, a in zip(project.articles, articles, strict=True)
    )
    if store is not None:
        store.save()
    articles = tuple(
        dataclasses.replace(article, running_head=src.running_head) if src.running_head else article
        for src, article in zip(project.articles, articles, strict=True)
    )
    seen: dict[str, str] = {}
    for src, article in zip(project.articles, articles, strict=True):
        try:
            check_id(article.id)
        except ValueError as exc:  # an id from a front matter (book.toml's are checked when it is loaded)
            shown = article.id if len(article.id) <= 40 else article.id[:40] + "…"
            raise ManuscriptError(f"article id {shown!r} {exc}", path=src.path, hint="change the front matter's `id`") from None
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
    return Book(meta, *_book_order(project, articles))


def _book_order(project: Project, articles: tuple[Article, ...]) -> tuple[tuple[Article, ...], tuple[Part, ...]]:
    """Articles in reading order (front matter, chapters, back matter, each as listed) and the book's parts,
    whose articles must be chapters that follow one another."""
    from .model import BACK_ROLES, FRONT_ROLES

    def rank(article: Article) -> int:
        return 0 if article.role in FRONT_ROLES else 2 if article.role in BACK_ROLES else 1

    ordered = tuple(sorted(articles, key=rank))
    index = {a.id: i for i, a in enumerate(ordered)}
    parts: list[Part] = []
    seen: dict[str, str] = {}
    for number, part in enumerate(project.config.parts):
        line = _parts_line(project, number)
        for article_id in part.articles:
            if article_id not in index:
                raise InputError(
                    f"part {part.title!r} names the article {article_id!r}, which the book does not have",
                    path=project.config_path, line=line, hint=f"the articles are {', '.join(index)}",
                )
            if article_id in seen:
                raise InputError(f"article {article_id!r} is in two parts ({seen[article_id]!r} and {part.title!r})",
                                 path=project.config_path, line=line)  # fmt: skip
            if ordered[index[article_id]].role is not None:
                raise InputError(f"part {part.title!r}: article {article_id!r} is {ordered[index[article_id]].role}, not a chapter",
                                 path=project.config_path, line=line)  # fmt: skip
            seen[article_id] = part.title
        positions = [index[a] for a in part.articles]
        if positions != list(range(positions[0], positions[0] + len(positions))) if positions else True:
            raise InputError(
                f"part {part.title!r}: its articles must follow one another in the book's reading order",
                path=project.config_path, line=line, hint="list them in [[parts]] as they are listed in [[articles]]",
            )
        parts.append(Part(part.title, tuple(part.articles)))
    return ordered, tuple(parts)


def _parts_line(project: Project, number: int) -> int | None:
    from .project import _line_of_key

    if project.config_path is None:
        return None
    return _line_of_key(project.config_path.read_text("utf-8-sig"), ("parts", number, "title"))


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


def conversion_settings(project: Project, profile: Profile) -> Any:
    """The conversion stage's settings for a profile."""
    from .convert import ConversionSettings

    return ConversionSettings(
        config=profile.conversion,  # type: ignore[arg-type]
        quotes=profile.quotes,
        protected=tuple(project.config.conversion.protected),
        overrides=profile.overrides,
        verbatim=tuple(project.config.conversion.verbatim),
        vocabulary=profile.vocabulary,
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
    from . import fonts, images, stylesheets
    from .render import Renderer

    for book in {id(b): b for b in editions.values()}.values():
        images.book_images(project, book)

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
        if profile.emphasis == "kai":  # emphasis set in a Kai face: the face must be there, never a fallback
            from .render import kai_family

            try:
                fonts.require_font(kai_family(profile.language), profile=profile.name)
            except InputError as exc:
                exc.path = str(project.config_path) if project.config_path else None
                exc.line = _profile_key_line(project, profile.name, "emphasis")
                raise
        fonts.check_coverage(face, profile, editions[profile.name])
        if profile.page is not None and profile.page.pdf_variant.startswith("pdf/x"):
            images.check_print_resolution(project, profile, editions[profile.name])


def _profile_key_line(project: Project, profile: str, key: str) -> int | None:
    """The line of `[profiles.NAME]`'s key in book.toml, when the book sets it."""
    from .project import _line_of_key

    if project.config_path is None or profile not in project.config.profiles:
        return None
    if getattr(project.config.profiles[profile], key, None) is None:
        return None
    return _line_of_key(project.config_path.read_text("utf-8-sig"), ("profiles", profile, key))


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


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` under a temporary name beside `target` (created afresh: never a file, link or FIFO
    someone put there), then rename it into place. A failure (a full disk, an unwritable folder) is one
    user error naming `target`."""
    tmp = part_path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    created = False
    try:
        try:
            fd = os.open(tmp, flags, 0o644)
        except FileExistsError:
            if not _ours(tmp):
                raise InputError(
                    f"something that zhpress did not write is in the way of its temporary file {tmp.name}",
                    path=target.parent,
                    hint="remove it, or choose another folder with -o",
                ) from None
            tmp.unlink()  # this process's own leftover (a process of the same number that was killed)
            fd = os.open(tmp, flags, 0o644)
        created = True
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        created = False
    except OSError as exc:
        raise InputError(
            f"cannot write: {exc.strerror or exc}", path=target, hint="free some space or choose another folder with -o"
        ) from None
    finally:
        if created:
            tmp.unlink(missing_ok=True)


def build_profile(
    project: Project, profile: Profile, edition: Book, report: object, out_dir: Path, date: dt.datetime,
    *, jobs: int = 1, cache: bool = True, render_pool: Any = None, cover: Any = None, executor: Any = None,
    layouts: dict[str, list[Any]] | None = None,
) -> Outcome:
    """Build one edition for `out_dir`: the outcome carries its files, complete and checked, for
    `write_outcome`. A long PDF is rendered in chunks by `jobs` processes, reusing cached chunks unless
    `cache` is False; a print edition also gets its cover spread when `cover` (a `CoverPlan`) has a paper,
    an EPUB its cover image."""
    from .convert import get_converter
    from .render import Renderer

    start = time.perf_counter()
    outcome = Outcome(profile.name)
    converter = get_converter(conversion_settings(project, profile))
    target = out_dir / output_name(project, profile)
    if profile.format == "epub":
        from .cover import front_image_for_epub
        from .epub import build_epub
        from .validate import check_epub_bytes

        renderer = Renderer(project, profile, convert=converter.convert)
        from .pagelist import print_pages

        image = front_image_for_epub(project, profile, edition, renderer, cover, cache=cache, render_pool=render_pool)
        pages = print_pages(project, profile, edition, date, cache=cache, render_pool=render_pool, jobs=jobs,
                            executor=executor, given=layouts)  # fmt: skip
        data = build_epub(edition, renderer, date, cover=image, pages=pages)
        check_epub_bytes(data, target.name)
    else:
        from . import workers
        from .pdf.chunked import CHUNK_ARTICLES
        from .pdf.writer import build_pdf
        from .validate import check_pdf_bytes

        chunks = -(-len(edition.articles) // CHUNK_ARTICLES)

        def on_chunk(kind: str, index: int, from_cache: bool, pages: int) -> None:
            if kind == "body":  # the long part; front matter and folio pieces take a moment at the end
                workers.report("chunk", profile.name, pages, chunks)

        data, outcome.pages = build_pdf(
            project, profile, edition, date, converter.convert, jobs=jobs, cache=cache, on_chunk=on_chunk,
            render_pool=render_pool, executor=executor, on_pages=lambda pages: setattr(outcome, "page_list", pages),
        )
        check_pdf_bytes(data, target.name, profile)
    files = [(target, data)]
    if profile.format == "pdf" and cover is not None and cover.paper is not None and is_cover_profile(profile):
        from .pdf.cover import build_cover_pdf, cover_name

        assert outcome.pages is not None
        spread = build_cover_pdf(
            project, profile, edition, cover, outcome.pages, date, converter.convert, render_pool=render_pool
        )
        files.append((out_dir / cover_name(project, profile), spread))
    if profile.conversion:
        stem = target.with_suffix("").name
        files.append((target.with_name(f"{stem}.conversion.tsv"), report.to_tsv().encode("utf-8")))  # type: ignore[attr-defined]
        html = report.to_html(title=f"{edition.meta.title} · {profile.name}", lang=profile.language)  # type: ignore[attr-defined]
        files.append((target.with_name(f"{stem}.conversion.html"), html.encode("utf-8")))
        outcome.conversion = f"{profile.name}: {report.summary()}: {target.with_name(f'{stem}.conversion.html')}"  # type: ignore[attr-defined]
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
    out_explicit: bool = True  # named with -o (a symbolic link is then followed; `dist` never is)
    reads: dict[str, bytes] = field(default_factory=dict)  # the checked stylesheets and templates, for workers
    cover: bool = False  # `--cover`: a print cover spread even without a [cover] table
    cover_plan: Any = None  # the resolved cover settings, set by `prepare`
    executor: Any = None  # where a long PDF's chunks render (`zhpress.pdf.executor`); None: forked workers


def prepare(request: BuildRequest) -> tuple[dict[str, Book], dict[str, object], dt.datetime]:
    """Read and check every input; raises InputError before anything is written."""
    from . import files

    if any(profile.format == "pdf" for profile in request.profiles):
        from .pdf.justify import check_engine_version

        check_engine_version()  # before any work: an unsupported engine would fail only after reading
    check_output_folder(request.out_dir, explicit=request.out_explicit)
    check_book_folders(request.project)
    book = read_book(request.project, cache=request.cache)
    editions: dict[str, Book] = {}
    reports: dict[str, object] = {}
    converted: dict[object, tuple[Book, object]] = {}
    for profile in request.profiles:
        editions[profile.name], reports[profile.name] = edition_book(request.project, profile, book, converted)
    check_inputs(request.project, request.profiles, editions)
    from .pagelist import check

    check(request.project, request.profiles)  # a page list names a print edition of the same text
    request.reads = files.remembered()
    request.cover_plan = cover_plan(
        request.project, forced=request.cover, spine=any(is_cover_profile(p) for p in request.profiles)
    )
    return editions, reports, build_date(request.project, book)


def check_book_folders(project: Project) -> None:
    """content/, styles/ and styles/templates/ are the book's own folders: none may lead outside it."""
    from . import files

    root = os.path.realpath(project.root)
    for folder in (project.content_dir, project.styles_dir, project.styles_dir / "templates"):
        if os.path.lexists(folder) and not files.is_inside(os.path.realpath(folder), root):
            raise InputError(
                "this folder of the book leads outside it (a symbolic link)", path=folder,
                hint="zhpress reads only files inside the book; copy the files into the book",
            )


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
    from . import files, workers

    jobs = max(1, min(request.jobs, len(request.profiles)))
    pdf = any(p.format == "pdf" for p in request.profiles)
    pool = workers.take(jobs) if pdf else None
    from . import render

    render.compiled_templates = request.cache
    try:
        with files.reading_once():  # what was checked is what is used
            editions, reports, date = prepare(request)
            if not pdf:  # the workers started early draw an EPUB cover not drawn before; else they go
                pool = workers.take(1) if workers.started() and _covers_to_draw(request, editions) else None
                workers.discard()
            with output_lock(request.out_dir, on_wait):
                remove_stale_parts(request.out_dir)
                if request.executor is not None:  # a cluster's client is this process's: profiles one by one
                    request.executor.check([p.font_family for p in request.profiles if p.format == "pdf"])
                if pool is not None and pdf and request.executor is None and not _renders_in_one_pass(request, editions):
                    return _build_parallel(request, pool, editions, reports, date, on_start, on_done)
                outcomes: dict[str, Outcome] = {}
                layouts: dict[str, list[Any]] = {}  # print layouts made by this build, for its EPUBs' page lists
                for profile in _print_first(request):
                    if on_start:
                        on_start(profile)
                    outcome = _write(_build_one(request, profile, editions, reports, date, render_pool=pool, layouts=layouts))
                    if outcome.page_list is not None:
                        layouts[profile.name] = outcome.page_list
                    outcomes[profile.name] = outcome
                    if on_done:
                        on_done(outcome)
                return [outcomes[p.name] for p in request.profiles]
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers stop now, not after their renders
        if pool is not None:
            workers.stop(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _print_first(request: BuildRequest) -> list[Profile]:
    """The profiles in build order: each print edition before the EPUBs whose page lists come from it."""
    from .pagelist import print_profile_for

    needed = {p.name for e in request.profiles if (p := print_profile_for(request.project, e)) is not None}
    return sorted(request.profiles, key=lambda p: p.name not in needed)


def _covers_to_draw(request: BuildRequest, editions: dict[str, Book]) -> bool:
    """Whether an EPUB of this build needs its cover image drawn (not given, not cached)."""
    from .convert import get_converter
    from .cover import epub_cover_to_draw
    from .render import Renderer

    if not request.cache:
        return True
    for profile in request.profiles:
        convert = get_converter(conversion_settings(request.project, profile)).convert
        renderer = Renderer(request.project, profile, convert=convert)
        if epub_cover_to_draw(request.project, editions[profile.name], renderer, request.cover_plan):
            return True
    return False


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
    *, render_pool: Any = None, layouts: dict[str, list[Any]] | None = None,
) -> Outcome:
    """One profile; any failure becomes the outcome's error instead of stopping the build. The stylesheets
    and templates are the bytes the build checked (`request.reads`), also in a worker process."""
    from . import files, render

    render.compiled_templates = request.cache
    try:
        # Cores left over by the profiles built at once go to each PDF's chunk workers.
        chunk_jobs = max(1, request.jobs // max(1, min(request.jobs, len(request.profiles))))
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
    """Profiles in the worker processes; PDF profiles first: they take longest, so the EPUBs fill the gaps."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from .pagelist import print_profile_for

    order = sorted(request.profiles, key=lambda p: p.format != "pdf")
    names = {p.name for p in order}
    # an EPUB whose page list comes from a print edition of this build waits for its layout
    waiting = {e.name: p.name for e in order if (p := print_profile_for(request.project, e)) is not None and p.name in names}
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
            if outcome.page_list is not None:
                layouts[outcome.profile] = outcome.page_list
            for profile in order:
                if waiting.get(profile.name) == outcome.profile:
                    del waiting[profile.name]
                    futures[pool.submit(_build_one, request, profile, editions, reports, date, layouts=dict(layouts))] = profile
            if on_done:
                on_done(outcome)
    return [results[p.name] for p in request.profiles]

"""Chunked PDF builds: the body in groups of whole articles rendered in parallel worker processes, then the
front matter, the folios and one merge that gives the single-pass result, with a cache of rendered chunks.

How the single-pass layout is kept:

* Every article opens on a recto (`break-before: right`), so a chunk of whole articles starts on a recto and
  lays out exactly as it does inside the whole book. Body chunks are rendered without folios (the only part
  of a body page that depends on where the chunk starts); each reports its pages, its blank pages and the
  page of every anchor.
* The front matter is rendered with the contents' page numbers written as literal numbers (`data-page`)
  taken from those anchors: real layout, never estimated.
* The folios come from "folio" documents (empty pages of the same geometry whose margin boxes carry only
  `counter(page)`, starting at the first folio of a group of `FOLIO_GROUP` chunks), overlaid on the body
  pages that are not blank.
* `zhpress.pdf.merge` puts the pages in order with one font per face (the union of glyphs subset once),
  the outline, the named destinations, and the front matter's metadata and output intent; `finish_pdf`'s
  page labels, colour fixes and stable ids follow.

Tagged PDF (PDF/UA, the `screen` profile) stays single-pass: merging structure trees is not done.

Cache: each rendered document (body chunk, front matter, folio piece) is stored under
`PROJECT/.zhpress-cache/pdf/` keyed by a hash of its HTML, all its CSS, the WeasyPrint options, the versions
of zhpress, WeasyPrint and pydyf, the source of the justification hook and of this module, and the installed
font files it used; the files it
fetched (images, ICC profile) are checked against their recorded digests before an entry is reused. Body
chunks carry no folios, so their starting page is not part of the key: an edit that changes one article's
page count re-renders that chunk, the front matter and the folio pieces from its group on, nothing else.

Each part is finished by its worker: WeasyPrint's layout is let go, the page contents are compressed and the
fonts' widths and Unicode maps are written beside the part (`*.fonts.json`), so that the merge neither
compresses nor parses them again on every incremental build. Chunks whose articles were not in the
profile's last build (`recent-{profile}.json`, a scheduling hint, never trusted for what to reuse) are made
and rendered first.

Workers: each document is rendered in a process forked for it alone (`_forked`), so no worker grows with
the documents it has done, and each leaves the build's own objects out of its garbage collections. Body
chunks, folio pieces and the front matter go through one run of the workers, so that no core waits while
another renders: body chunks first, a folio piece once the chunks before it are rendered, and the front
matter (the largest document of a long book) as soon as every chunk is, with the last folio pieces beside
it. A chunk's HTML is made when a worker is free for it, and only the job keys are kept once a worker has
a job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RenderError

if TYPE_CHECKING:  # the render workers import this module: they need no pydantic
    from ..model import Book
    from ..project import Profile, Project
    from .executor import Executor

log = logging.getLogger("zhpress")

#: Articles per body chunk. Fixed (not derived from the number of workers) so that cached chunks stay
#: valid whatever `--jobs` is; small enough for several chunks per worker and cheap incremental rebuilds.
CHUNK_ARTICLES = 6
#: Body chunks whose folios one folio document carries (a document costs more to start than its pages).
FOLIO_GROUP = 8
#: Books with fewer articles are rendered in one pass: chunking costs a front-matter render, the folio
#: pieces and a merge, which a short book does not win back.
MIN_CHUNKED_ARTICLES = 24
#: Bump when the chunk format or what a cache entry records changes.
CACHE_FORMAT = "6"  # 2: page contents compressed by the worker; 3: font maps; 4: in a file of their own; 5: signed; 6: page starts
CACHE_DIR = ".zhpress-cache"

_NO_FOLIOS_CSS = """
/* chunked build, body chunk: folios are overlaid after the merge */
@page body:left { @bottom-left { content: none; } }
@page body:right { @bottom-right { content: none; } }
/* a chunk that is not the last ends where the next article would open: its padding page is kept */
#zh-chunk-end { break-before: right; }
"""

CHUNK_END = '<div id="zh-chunk-end"></div>'

_LITERAL_TOC_CSS = """
/* chunked build, front matter: the contents' page numbers come from the rendered chunks */
.contents a[data-page]::after { content: leader(".") attr(data-page); font-weight: normal; }
"""


def _folio_css(start: int) -> str:
    """The folio piece's own rules: no running heads, page numbers from `start`."""
    return f"""
/* chunked build, folio piece: only the page numbers of the body, starting at {start} */
@page body:left {{ @top-left {{ content: none; }} }}
@page body:right {{ @top-right {{ content: none; }} }}
@page body:nth(1 of body) {{ counter-reset: page {start}; }}
.zh-folio {{ height: 0; margin: 0; padding: 0; }}
.zh-folio + .zh-folio {{ break-before: page; }}
.zh-folio.zh-right {{ break-before: right; }}
.zh-folio.zh-left {{ break-before: left; }}
"""


@dataclass(frozen=True)
class RenderJob:
    """One document for a worker to render: its HTML and CSS, where to read files from, where to write."""

    kind: str  # "body", "front" or "folio"; "book" for a single-pass render
    index: int
    html: str
    sheets: tuple[tuple[str, str], ...]
    content_dir: str
    styles_dir: str
    roots: tuple[str, ...]
    options: tuple[tuple[str, Any], ...]
    key: str
    path: str


@dataclass
class Rendered:
    """What a rendered document reports: its PDF file, pages, blank pages, anchors and font sources."""

    path: str
    pages: int
    blank: list[bool]
    anchors: dict[str, int]
    fonts: dict[str, dict[str, Any]]
    fetched: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    cached: bool = False
    seconds: float = 0.0
    first: int = 0  # a folio piece serving several chunks: where this chunk's pages start in it
    font_maps: str | None = None  # a JSON file of the widths and Unicode maps of its fonts (merge.font_maps)
    starts: list[dict[str, Any]] | None = None  # where each page begins (`zhpress.pdf.pagestarts`), for page lists


@dataclass
class ChunkStats:
    """What a chunked build did, for tests and progress: renders by kind, cache hits, timings."""

    rendered: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def chunking_applies(project: Project, profile: Profile, book: Book, *, min_articles: int | None = None) -> bool:
    """Whether this edition is built in chunks: long enough (`MIN_CHUNKED_ARTICLES` unless `min_articles`),
    not tagged, and the package's book template."""
    page = profile.page
    if page is None or page.pdf_variant == "pdf/ua-1":
        return False
    if (project.styles_dir / "templates" / "pdf" / "book.html").is_file():
        return False  # a book's own template may not have the hooks chunking needs
    return len(book.articles) >= (MIN_CHUNKED_ARTICLES if min_articles is None else min_articles)


def cache_dir(project: Project) -> Path:
    """Where a project's rendered chunks are kept."""
    return project.root / CACHE_DIR / "pdf"


@dataclass
class _Sources:
    """The edition's templates and stylesheets, shared by every document of a chunked build."""

    renderer: Any
    context: dict[str, Any]
    sheets: list[tuple[str, str]]


def _sources(project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str]) -> _Sources:
    from ..typeset import TYPESET_CSS
    from .writer import CMYK_CSS, PDFX_VARIANTS, _page_css, print_context, print_renderer

    page = profile.page
    assert page is not None
    renderer = print_renderer(project, profile, book, convert)
    cmyk = page.pdf_variant in PDFX_VARIANTS
    context = print_context(renderer, book, date)
    sheets = renderer.stylesheets() + [("page.css", _page_css(renderer, cmyk))]
    if cmyk:
        sheets.append(("cmyk.css", CMYK_CSS))
    sheets.insert(2, ("typeset.css", TYPESET_CSS))
    return _Sources(renderer, context, sheets)


def _versions() -> str:
    """Everything outside the inputs that changes a rendered chunk: package versions, the source of the
    justification hook and of this module (which renders and post-processes each part; the merge, which
    only reads parts, is not part of the key)."""
    from importlib.metadata import version  # not the packages themselves: an EPUB's page list needs no engine

    from .. import __version__
    from . import justify

    code = [hashlib.sha256(Path(module).read_bytes()).hexdigest() for module in (justify.__file__, __file__)]
    return "\0".join([CACHE_FORMAT, __version__, version("weasyprint"), version("pydyf"), *code])


def _job_key(kind: str, html: str, sheets: list[tuple[str, str]], options: dict[str, Any], versions: str, fonts: str) -> str:
    digest = hashlib.sha256()
    for part in (kind, versions, fonts, json.dumps(options, sort_keys=True), html, *(f"{n}\0{c}" for n, c in sheets)):
        digest.update(part.encode())
        digest.update(b"\0\1")
    return digest.hexdigest()


def _font_fingerprint(profile: Profile) -> str:
    """The installed face of the profile's family (file, size, time): a font upgrade invalidates the cache."""
    from ..fonts import find_font

    face = find_font(profile.font_family)
    if face is None:
        return profile.font_family
    try:
        stat = face.path.stat()
    except OSError:
        return str(face.path)
    return f"{face.path}:{face.index}:{stat.st_size}:{stat.st_mtime_ns}"


# --- the worker side -------------------------------------------------------------------------------------


@contextmanager
def _record_font_sources(sources: dict[str, dict[str, Any]]) -> Iterator[None]:
    """While WeasyPrint writes a PDF, note for each font which installed file it comes from (size and a
    digest of its head) and whether its subset can be merged with other documents' subsets."""
    from weasyprint.pdf import fonts

    original = fonts.Font.clean

    def clean(self: Any, to_unicode: Any, hinting: Any) -> Any:
        data = self.file_content
        sources[self.hash] = {
            "size": len(data),
            "head": hashlib.sha1(data[:65536]).hexdigest(),
            "index": int(self.index),
            "family": self.family,
            "mergeable": not (
                self.bitmap or self.png or self.svg or self.colr or self.missing or self.used_in_forms
                or "fvar" in self.tables
            ),
        }
        return original(self, to_unicode, hinting)

    fonts.Font.clean = clean
    try:
        yield
    finally:
        fonts.Font.clean = original


def _recording_fetcher(roots: list[Path]) -> Any:
    """The confined fetcher, which remembers the digest of each local file it served (for the cache's
    checks: the bytes WeasyPrint used, not the file read again)."""
    from .writer import confined_fetcher

    return confined_fetcher(roots)


def _file_digest(path: Path, roots: Iterable[Path]) -> str | None:
    """The digest of a file a cache entry says it used: a regular file inside the book's folders, or None."""
    from .. import files
    from ..errors import InputError

    try:
        return hashlib.sha256(files.read_confined(path, list(roots), what="image")).hexdigest()
    except InputError:
        return None


def render_job(job: RenderJob) -> Rendered:
    """Render one document with WeasyPrint (in a worker process) and write its PDF to `job.path`."""
    from ..workers import import_weasyprint

    import_weasyprint()
    import weasyprint

    from .justify import cjk_justification
    from .pagestarts import page_starts
    from .writer import load_stylesheets

    start = time.perf_counter()
    fetcher = _recording_fetcher([Path(r) for r in job.roots])
    color_profiles: dict[str, Any] = {}
    stylesheets = load_stylesheets(list(job.sheets), Path(job.styles_dir), fetcher, color_profiles)
    options = dict(job.options)
    document = weasyprint.HTML(string=job.html, base_url=job.content_dir + "/", url_fetcher=fetcher)
    sources: dict[str, dict[str, Any]] = {}
    with cjk_justification(), _record_font_sources(sources):
        rendered = document.render(stylesheets=stylesheets, color_profiles=color_profiles, **options)
        # Not compressed: a part's fonts and profiles are replaced in the merge, which compresses once, and
        # for a single-pass book qpdf's compression when finishing is faster than WeasyPrint's (measured:
        # 0.05 s against 0.8 s on the default book's PDF/X).
        starts = page_starts(rendered, document.etree_element) if job.kind != "folio" else None
        raw = rendered.write_pdf(uncompressed_pdf=True, **options) if job.kind != "layout" else b""
    if raw is None:
        raise RenderError("WeasyPrint wrote no PDF")
    anchors: dict[str, int] = {}
    for number, page in enumerate(rendered.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
    blank = [bool(page._page_box.page_type.blank) for page in rendered.pages]
    kept = anchors.pop("zh-chunk-end", len(rendered.pages))  # pages after the body chunk's end are dropped
    maps = None
    if job.kind == "book":
        write_atomic_file(Path(job.path), raw)
    elif job.kind != "layout":  # a part of a chunked build ("layout": the page starts alone, no PDF)
        # WeasyPrint's layout is let go first, so it adds nothing to the peak
        del rendered, document
        gc.collect()
        maps = _prepare_part(raw, Path(job.path))
    del raw
    return Rendered(
        path=job.path, pages=kept, blank=blank[:kept], anchors=anchors, fonts=sources,
        fetched=dict(fetcher.served), refused=list(fetcher.refused), seconds=time.perf_counter() - start,
        font_maps=maps, starts=starts,
    )


def maps_path(pdf: Path) -> Path:
    """Where a part's font maps are kept: beside its PDF."""
    return pdf.with_suffix(".fonts.json")


def _prepare_part(raw: bytes, path: Path) -> str:
    """Write a chunk part to `path` with its pages' content streams compressed (fonts and profiles are left
    as they are: the merge replaces them), and its fonts' widths and Unicode maps beside it (`maps_path`),
    whose path is returned. Both are done here, in the worker, once per cached part, rather than by the
    merge on each incremental build (for the 1000-article bench book the merge's save spent 2 s
    compressing every page, and reading the fonts of 190 parts 0.9 s); the maps stay on disk until the
    merge reads them, one part at a time."""
    import io
    import zlib

    import pikepdf

    from .merge import font_maps

    with pikepdf.open(io.BytesIO(raw)) as pdf:
        kids = pdf.Root.Pages.Kids
        maps = font_maps(kids[0].Resources.get("/Font", {})) if len(kids) else {}
        for page in kids:
            contents = page.get("/Contents")
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []
            for stream in streams:
                if "/Filter" not in stream:
                    stream.write(zlib.compress(stream.read_raw_bytes(), 6), filter=pikepdf.Name.FlateDecode)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # a fresh name, never a link
        os.close(handle)
        try:
            pdf.save(tmp, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
            os.replace(tmp, path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    maps_file = maps_path(path)
    write_atomic_file(maps_file, json.dumps(maps, sort_keys=True).encode())
    return str(maps_file)


def _forked(workers: int, items: Iterable[tuple[int, RenderJob] | None]) -> Iterator[tuple[int, Rendered]]:
    """Render each job in a process of its own, forked from this one, `workers` at a time; yields (index,
    result) as they finish. A fresh fork per document keeps every worker as small as one document needs
    (WeasyPrint's caches and the heap only grow) at the cost of a fork, a few milliseconds. `items` is read
    when a worker is free; None from it means nothing is ready yet: it is asked again after the next result
    (it must not say so while no job is running)."""
    import multiprocessing
    from multiprocessing.connection import wait

    from ..workers import forking

    context = multiprocessing.get_context("fork")
    pending = iter(items)  # taken one at a time, when a worker is free
    running: dict[Any, tuple[Any, int]] = {}
    more = True
    end = object()
    try:
        while more or running:
            while more and len(running) < workers:
                item: Any = next(pending, end)
                if item is end:
                    more = False
                    break
                if item is None:
                    if not running:
                        raise RenderError("chunked build: jobs are waiting for results that no worker will give")
                    break
                index, job = item
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_render_child, args=(job, send), daemon=True)
                with forking():  # a Ctrl-C is taken once the process is in `running`, so it is stopped too
                    process.start()
                    send.close()
                    running[receive] = (process, index)
            if not running:
                break
            ready: list[Any] = wait(list(running))
            for connection in ready:
                process, index = running.pop(connection)
                try:
                    status, payload = connection.recv()
                except EOFError:
                    status, payload = "died", None
                connection.close()
                process.join()
                if status == "error":
                    raise payload
                if status != "ok":
                    raise RenderError(f"a render worker stopped without a result (exit code {process.exitcode})")
                yield index, payload
    finally:
        for connection, (process, _index) in running.items():
            process.kill()
            process.join()
            connection.close()


def _warm_up(job: RenderJob, path: Path) -> None:
    """Lay out a line of the edition's text in this process before forking: the workers then start with
    the fonts and WeasyPrint's caches loaded (shared, copy-on-write) instead of each loading them."""
    html = '<html lang="zh"><body><p>中文排版，“标点”与 Latin 123。</p></body></html>'
    sample = dataclasses.replace(job, html=html, path=str(path))
    try:
        render_job(sample)
    except Exception:
        log.debug("warm-up render failed", exc_info=True)


def _render_child(job: RenderJob, send: Any) -> None:
    """A forked worker's whole life: render one document, send back the result or the error."""
    from ..workers import die_with_parent

    # What the build holds (the book, the chunks' results) is never garbage here: left out of this process's
    # collections, it is neither walked nor copied on write (late chunks of a 1000-article build had slowed
    # from 2.7 to 3.2 s as the build's heap grew; with this they stay at the early chunks' time).
    gc.freeze()
    die_with_parent()
    try:
        send.send(("ok", render_job(job)))
    except BaseException as exc:  # noqa: BLE001  (any failure goes back to the build, which reports it)
        send.send(("error", exc))
    finally:
        send.close()


def write_atomic_file(path: Path, data: bytes) -> None:
    """Write a cache file under a unique temporary name beside it, then rename it into place (builds of
    the same project may write the same entry at once)."""
    from .. import files

    files.write_atomic(path, data, mode=0o600)


# --- the cache ------------------------------------------------------------------------------------------


class ChunkCache:
    """Rendered documents on disk, keyed by everything that makes them. Each entry's record (JSON) is
    signed with the user's key and names its key; an entry is reused only when the signature is the user's,
    its PDF and font maps are regular files in the cache folder with the digests the record gives, the
    files it fetched are regular files in the book's folders (`roots`) and unchanged, and the font files it
    used are still installed. Anything else is a miss, rendered again and written afresh."""

    def __init__(self, folder: Path, roots: Iterable[Path] = (), *, key: bytes | None = None) -> None:
        self.folder = folder
        self.roots = [Path(r) for r in roots]
        self.key = key

    @classmethod
    def open(cls, folder: Path, roots: Iterable[Path], *, base: Path | None = None) -> ChunkCache | None:
        """The cache in `folder` (a folder of the user's own, made 0700), or None, with a warning, when it
        cannot be used: the build then renders everything without it."""
        from .. import files

        key = files.signing_key()
        if key is None or files.own_folder(folder, base=base) is None:
            return None
        return cls(folder, roots, key=key)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.pdf", self.folder / f"{key}.json"

    def pdf_path(self, key: str) -> Path:
        return self._paths(key)[0]

    def _read(self, path: Path) -> bytes:
        from .. import files

        return files.read_confined(path, self.folder, what="cache entry")

    def load(self, key: str) -> Rendered | None:
        """The stored result for `key`, or None when absent, stale or not the user's own."""
        from .. import files
        from ..errors import InputError
        from .merge import find_font_file

        pdf, meta = self._paths(key)
        try:
            signed = files.verified(self._read(meta), self.key) if self.key is not None else None
            if signed is None:
                return None
            info = json.loads(signed)
            data = self._read(pdf)
            maps = maps_path(pdf)
            maps_data = self._read(maps)
        except (InputError, ValueError):
            return None
        try:
            if info.get("format") != CACHE_FORMAT or info.get("key") != key:
                return None
            if hashlib.sha256(data).hexdigest() != info.get("sha256"):
                return None
            if hashlib.sha256(maps_data).hexdigest() != info.get("font_maps_sha256"):
                return None
            fetched = info["fetched"]
            if any(type(p) is not str or _file_digest(Path(p), self.roots) != d for p, d in fetched.items()):
                return None
            if any(find_font_file(src) is None for src in info["fonts"].values() if src.get("mergeable")):
                return None
            return Rendered(
                path=str(pdf), pages=int(info["pages"]), blank=[bool(b) for b in info["blank"]],
                anchors={str(k): int(v) for k, v in info["anchors"].items()}, fonts=dict(info["fonts"]),
                fetched=dict(fetched), cached=True, font_maps=str(maps), starts=info.get("starts"),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def recent(self, profile: str) -> set[str]:
        """The article digests of the chunks of `profile`'s last build (a scheduling hint, never trusted
        for what to reuse)."""
        try:
            stored = json.loads(self._read(self.folder / f"recent-{profile}.json"))
            return {d for d in stored if type(d) is str}
        except Exception:  # noqa: BLE001  (only the order of the work depends on it)
            return set()

    def remember(self, profile: str, digests: list[str]) -> None:
        try:
            write_atomic_file(self.folder / f"recent-{profile}.json", json.dumps(digests).encode())
        except OSError as exc:
            log.warning("%s: the PDF cache cannot be written (%s)", self.folder, exc.strerror)

    def store(self, key: str, result: Rendered) -> None:
        """Record a fresh render whose PDF is already at `pdf_path(key)` (a failure to write is a warning:
        the build goes on, the entry is only missing next time)."""
        from .. import files
        from ..errors import InputError

        assert self.key is not None
        pdf, meta = self._paths(key)
        try:
            info = {
                "format": CACHE_FORMAT, "key": key, "sha256": hashlib.sha256(self._read(pdf)).hexdigest(),
                "pages": result.pages, "blank": result.blank, "anchors": result.anchors, "fonts": result.fonts,
                "fetched": result.fetched, "starts": result.starts,
                "font_maps_sha256": hashlib.sha256(self._read(Path(result.font_maps))).hexdigest()
                if result.font_maps else None,
            }
            write_atomic_file(meta, files.sign(json.dumps(info, sort_keys=True).encode(), self.key))
        except (OSError, InputError) as exc:
            log.warning("%s: the PDF cache cannot be written (%s)", self.folder, getattr(exc, "strerror", None) or exc)


# --- the build ------------------------------------------------------------------------------------------


def _articles_digest(articles: Iterable[Any]) -> str:
    """A digest of a chunk's articles (frozen dataclasses, so their repr holds every field)."""
    return hashlib.sha256("\0".join(repr(a) for a in articles).encode()).hexdigest()


def _chunks(count: int, size: int) -> list[range]:
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _folio_html(lang: str, blank: list[bool]) -> str:
    """Empty pages, one per body page; a blank body page is made blank here too (by a forced side break
    before the next page), so the stylesheets treat its margin boxes exactly as in the body."""
    divs = []
    for number, is_blank in enumerate(blank):
        if is_blank:
            continue
        after_blank = number > 0 and blank[number - 1]
        side = "right" if number % 2 == 0 else "left"
        divs.append(f'<div class="zh-folio zh-{side}"></div>' if after_blank else '<div class="zh-folio"></div>')
    if blank and blank[-1]:  # a padding page at the end: made by a page after it, which is dropped
        side = "right" if len(blank) % 2 == 0 else "left"
        divs.append(f'<div class="zh-folio zh-{side}" id="zh-chunk-end"></div>')
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"/></head><body>'
        f'<main class="bodymatter">{"".join(divs)}</main></body></html>'
    )


class _Runner:
    """Runs render jobs through the cache and an executor (`zhpress.pdf.executor`)."""

    def __init__(self, executor: Executor, cache: ChunkCache | None, scratch: Path, stats: ChunkStats,
                 on_chunk: Callable[[str, int, bool, int], None] | None) -> None:
        self.executor = executor
        self.cache = cache
        self.scratch = scratch
        self.stats = stats
        self.on_chunk = on_chunk

    def path_for(self, key: str) -> str:
        if self.cache is not None:
            return str(self.cache.pdf_path(key))
        return str(self.scratch / f"{key}.pdf")

    def run(self, jobs: Iterable[RenderJob | None], on_result: Callable[[str, int, Rendered], None]) -> None:
        """Each job's result, from the cache when valid, else rendered (in parallel), given to `on_result`
        (kind, index, result) as it comes. `jobs` is consumed lazily, when a worker is free: a job's HTML
        can be made while the workers render the ones before it, and a job may depend on earlier results.
        None from `jobs` means nothing is ready until the next result."""
        seen: list[tuple[str, int, str]] = []  # kind, index, key: not the job, whose HTML may be large

        def todo() -> Iterator[tuple[int, RenderJob] | None]:
            for job in jobs:
                if job is None:
                    yield None
                    continue
                seen.append((job.kind, job.index, job.key))
                hit = self.cache.load(job.key) if self.cache is not None else None
                if hit is None:
                    yield len(seen) - 1, job
                    continue
                self.stats.reused[job.kind] = self.stats.reused.get(job.kind, 0) + 1
                if self.on_chunk:
                    self.on_chunk(job.kind, job.index, True, hit.pages)
                on_result(job.kind, job.index, hit)

        for i, result in self.executor.run(todo(), self.scratch):
            self._done(seen[i], result, on_result)

    def _done(self, tag: tuple[str, int, str], result: Rendered, on_result: Callable[[str, int, Rendered], None]) -> None:
        kind, index, key = tag
        self.stats.rendered[kind] = self.stats.rendered.get(kind, 0) + 1
        self.stats.seconds[kind] = self.stats.seconds.get(kind, 0.0) + result.seconds
        if self.cache is not None and not result.refused:
            self.cache.store(key, result)
        if self.on_chunk:
            self.on_chunk(kind, index, False, result.pages)
        on_result(kind, index, result)


def build_chunked_pdf(
    project: Project,
    profile: Profile,
    book: Book,
    date: dt.datetime,
    convert: Callable[[str], str],
    *,
    jobs: int = 1,
    cache: bool = True,
    cache_folder: Path | None = None,
    chunk_articles: int = CHUNK_ARTICLES,
    folio_group: int = FOLIO_GROUP,
    stats: ChunkStats | None = None,
    on_chunk: Callable[[str, int, bool, int], None] | None = None,
    executor: Executor | None = None,
    on_pages: Callable[[list[Any]], None] | None = None,
    pages_only: bool = False,
) -> tuple[bytes, int]:
    """The PDF of one edition rendered in chunks of `chunk_articles` articles by `jobs` worker processes and
    merged into the single-pass result; its page count. The folios of `folio_group` chunks come from one
    document. `cache` reuses rendered chunks from `cache_folder` (default: PROJECT/.zhpress-cache/pdf).
    `executor` renders the jobs (default: `jobs` forked processes; a Dask cluster's, for instance).
    `on_pages` hears where each page begins (`zhpress.pagelist`); `pages_only` stops before the merge (no PDF)."""
    from .merge import merge_parts
    from .writer import (
        PDFX_VARIANTS,
        fetch_roots,
        finish_document,
        padded_count,
        pdf_options,
        refused_error,
    )

    page = profile.page
    assert page is not None
    stats = stats if stats is not None else ChunkStats()
    src = _sources(project, profile, book, date, convert)
    views = src.context["articles"]
    options = pdf_options(profile)
    versions = _versions() + "\0" + _font_fingerprint(profile)
    roots = tuple(str(r) for r in fetch_roots(project))
    store = ChunkCache.open(cache_folder or cache_dir(project), fetch_roots(project), base=project.root) if cache else None

    from ..workers import scratch_dir

    with scratch_dir("zhpress-chunks-") as scratch:
        if executor is None:
            from .executor import LocalExecutor

            executor = LocalExecutor(jobs)
        executor.prepare(profile)
        runner = _Runner(executor, store, Path(scratch), stats, on_chunk)

        def job(kind: str, index: int, html: str, sheets: list[tuple[str, str]]) -> RenderJob:
            key = _job_key(kind, html, sheets, options, versions, "")
            return RenderJob(kind, index, html, tuple(sheets), str(project.content_dir), str(project.styles_dir),
                             roots, tuple(sorted(options.items())), key, runner.path_for(key))

        # 1. The body, in chunks of whole articles, without folios.
        body_sheets = [*src.sheets, ("chunk-body.css", _NO_FOLIOS_CSS)]
        groups = _chunks(len(views), max(1, chunk_articles))
        stats.chunks = len(groups)
        body_keys: dict[int, str] = {}  # the keys only: a job's HTML is let go once a worker has it

        # Chunks whose articles were not in the last build of this profile are likely to need rendering:
        # they are made and sent to the workers first, so an edited chunk renders while the others' HTML
        # is made and checked against the cache (only the order changes; the cache decides what renders).
        digests = [_articles_digest(book.articles[i] for i in group) for group in groups]
        seen_before = store.recent(profile.name) if store is not None else set()
        order = sorted(range(len(groups)), key=lambda i: digests[i] in seen_before)

        def make_body_jobs() -> Iterator[RenderJob]:  # made one by one while the workers render
            for index in order:
                group = groups[index]
                html = src.renderer.render("pdf/book.html", **{**src.context, "include_front": False},
                                           body_articles=[views[i] for i in group])
                if index < len(groups) - 1:
                    head, main_end, tail = html.rpartition("</main>")
                    html = head + CHUNK_END + main_end + tail
                made = job("body", index, html, body_sheets)
                body_keys[index] = made.key
                yield made

        # 2. Once every chunk before it is rendered, a group's folio piece: where each of its chunks starts
        #    and which pages are blank. 3. Once every chunk is, the front matter, with the contents' page
        #    numbers written as literal numbers. All in one run of the workers, so that no core waits while
        #    another renders: the front matter (the largest document of a long book) first when it is ready,
        #    then the body chunks, then the folio pieces, which fill the other core while the front renders.
        bodies_done: list[Rendered | None] = [None] * len(groups)
        folio_groups = _chunks(len(groups), max(1, folio_group))
        pieces: list[Rendered | None] = [None] * len(folio_groups)
        fronts: list[Rendered] = []
        toc_pages: dict[str, str] = {}
        front_html: list[str] = []

        def start_pages(count: int) -> list[int]:
            """The first folio of each of the first `count` chunks (all rendered)."""
            firsts, folio = [], 1
            for body in bodies_done[:count]:
                assert body is not None
                firsts.append(folio)
                folio += body.pages
            return firsts

        def front_job() -> RenderJob:
            bodies = [b for b in bodies_done if b is not None]
            _raise_refused(bodies, project, refused_error)
            for body, first in zip(bodies, start_pages(len(bodies)), strict=True):
                for name, number in body.anchors.items():
                    toc_pages.setdefault(name, str(first + number))
            missing = [v.anchor for v in views if v.anchor not in toc_pages]
            if missing:
                raise RenderError(f"chunked build: the anchors {', '.join(missing[:5])} were not rendered")
            front_html.append(src.renderer.render("pdf/book.html", **src.context, front_only=True, toc_pages=toc_pages))
            return job("front", 0, front_html[0], [*src.sheets, ("chunk-front.css", _LITERAL_TOC_CSS)])

        def folio_job(index: int) -> RenderJob:
            group = folio_groups[index]
            blank = [b for i in group for b in bodies_done[i].blank]  # type: ignore[union-attr]
            first = start_pages(group[0] + 1)[-1]
            return job("folio", index, _folio_html(profile.language, blank),
                       [*src.sheets, ("chunk-folio.css", _folio_css(first))])

        def plan() -> Iterator[RenderJob | None]:
            bodies = make_body_jobs()
            next_folio = 0
            front_made = False
            while not (front_made and next_folio == len(folio_groups)):
                if not front_made and all(b is not None for b in bodies_done):
                    front_made = True
                    yield front_job()
                    continue
                made = next(bodies, None)
                if (made is None and next_folio < len(folio_groups)
                        and all(b is not None for b in bodies_done[:folio_groups[next_folio][-1] + 1])):
                    made = folio_job(next_folio)
                    next_folio += 1
                yield made  # None: nothing is ready until the next result

        def on_result(kind: str, index: int, result: Rendered) -> None:
            if kind == "body":
                bodies_done[index] = result
            elif kind == "folio":
                pieces[index] = result
            else:
                fronts.append(result)

        runner.run(plan(), on_result)
        bodies = [b for b in bodies_done if b is not None]
        assert len(bodies) == len(groups) and len(fronts) == 1
        (front,) = fronts
        folios: list[Rendered] = []
        for group, piece in zip(folio_groups, pieces, strict=True):
            assert piece is not None
            first = 0
            for i in group:  # each chunk's share of the piece's pages
                count = bodies[i].pages
                share = dataclasses.replace(piece, pages=count, blank=piece.blank[first:first + count], first=first)
                if share.blank != bodies[i].blank:
                    raise RenderError(f"chunked build: the folio piece {group[0]}-{group[-1]} does not match chunk {i}")
                folios.append(share)
                first += count
            if first != piece.pages:
                raise RenderError(f"chunked build: a folio piece has {piece.pages} pages for {first}")
        _raise_refused([front, *folios], project, refused_error)
        front_pages = front.anchors.get("zh-body-start")
        if front_pages is None:
            raise RenderError("chunked build: the front matter has no body start", path=project.styles_dir)

        total = padded_count(front_pages + sum(b.pages for b in bodies), page.signature)
        if on_pages is not None:
            from ..pagelist import chunked_pages

            on_pages(chunked_pages(front, front_pages, bodies, total))
        if pages_only:
            return b"", total

        # 4. One document, then what every PDF of the edition gets.
        started = time.perf_counter()
        cmyk = page.pdf_variant in PDFX_VARIANTS
        seed_parts = [profile.name, *front_html, *(body_keys[i] for i in range(len(groups))), *(c for _, c in src.sheets)]
        seed = hashlib.sha256("\0".join(seed_parts).encode()).hexdigest()
        with merge_parts(front, front_pages, bodies, folios) as merged:
            data = finish_document(merged, profile, front_pages=front_pages, cmyk=cmyk, seed=seed)
        stats.seconds["merge"] = time.perf_counter() - started
    if store is not None:
        store.remember(profile.name, digests)
    log.debug("chunked build of %s: %s", profile.name, dataclasses.asdict(stats))
    return data, total


def _raise_refused(results: list[Rendered], project: Project, refused_error: Callable[..., Exception]) -> None:
    refused = [url for r in results for url in r.refused]
    if refused:
        raise refused_error(refused, project.styles_dir)

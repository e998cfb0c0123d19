"""One PDF edition: rendered in one pass (short books, tagged PDF, a book's own template) or in chunks
(`zhpress.pdf.chunked`), then finished."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from concurrent.futures import Executor as Pool
from pathlib import Path
from typing import Any

from ..config import Profile, Project
from ..errors import RenderError
from ..model import Book
from ..render import article_anchor
from ..workers import scratch_dir
from . import sheets
from .chunked import NotCached, OnChunk, build_chunked_pdf
from .engine import Rendered, RenderJob, refused_error, render_job
from .finish import finish_pdf, padded_count
from .pages import LayoutCache, Page, keep_single_pass, layout_key, single_pass_pages
from .schedule import chunking_applies
from .sources import PDFX_VARIANTS, Sources, edition_sources, fetch_roots, pdf_options


def build_pdf(
    project: Project,
    profile: Profile,
    book: Book,
    date: dt.datetime,
    convert: Callable[[str], str],
    *,
    jobs: int = 1,
    cache: bool = True,
    on_chunk: OnChunk | None = None,
    render_pool: Pool | None = None,
    executor: Any = None,
    on_pages: Callable[[list[Page]], None] | None = None,
) -> tuple[bytes, int]:
    """The PDF of one edition as bytes, and its page count. Long books are rendered in chunks by `jobs`
    worker processes (or by `executor`, a `zhpress.pdf.executor` one) and merged, reusing cached chunks
    unless `cache` is False; `on_chunk(kind, index, from_cache, pages)` hears of every finished chunk. A
    single-pass render goes to `render_pool` when given (a worker that has WeasyPrint loaded already).
    `on_pages` hears where each page begins (`pages`), for the page lists of EPUB editions."""
    if chunking_applies(project, profile, book):
        return build_chunked_pdf(project, profile, book, date, convert, jobs=jobs, cache=cache, on_chunk=on_chunk,
                                 executor=executor, on_pages=on_pages)
    return build_single_pdf(project, profile, book, date, convert, render_pool=render_pool, cache=cache, on_pages=on_pages)


def build_single_pdf(
    project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str],
    *, render_pool: Pool | None = None, cache: bool = True, on_pages: Callable[[list[Page]], None] | None = None,
) -> tuple[bytes, int]:
    """The PDF of one edition rendered as one WeasyPrint document, and its page count. The HTML is made
    here; WeasyPrint runs in `render_pool` if given, else in this process. A copyright page that prints
    印张 is rendered with the last build's page count and rendered again when the real count differs.
    Where its pages begin goes to `on_pages` and, with `cache`, to the page cache (`pages`)."""
    src = edition_sources(project, profile, book, date, convert)
    guess = sheets.hinted_pages(project, profile, cache=cache).get("pages")
    with sheets.said_once():
        for _ in range(3):
            data, pages, job, rendered = _render_single(project, profile, src, sheets.book_html(src, book, guess), render_pool)
            if sheets.same_sheets(project, profile, guess, pages):
                sheets.remember_pages(project, profile, cache=cache, pages=pages)
                if cache:
                    keep_single_pass(project, src.renderer.faces, job, rendered)
                if on_pages is not None:
                    on_pages(single_pass_pages(rendered, profile.page.signature))  # type: ignore[union-attr]
                return data, pages
            guess = pages
    raise RenderError(f"{profile.name}: the page count does not settle (印张 changes the layout it counts)")


def _book_job(project: Project, profile: Profile, src: Sources, html: str, kind: str, path: str) -> RenderJob:
    """The whole book as one document to render ("book") or only lay out ("layout")."""
    return RenderJob(kind, 0, html, tuple(src.sheets), str(project.content_dir), str(project.styles_dir),
                     tuple(str(r) for r in fetch_roots(project)), tuple(sorted(pdf_options(profile).items())), "", path)


def _render_single(
    project: Project, profile: Profile, src: Sources, html: str, render_pool: Pool | None,
) -> tuple[bytes, int, RenderJob, Rendered]:
    """One single-pass render of the book's `html`, finished; its padded page count, the job and its result."""
    page = profile.page
    assert page is not None
    with scratch_dir("zhpress-pdf-") as scratch:
        job = _book_job(project, profile, src, html, "book", str(Path(scratch) / "book.pdf"))
        rendered = render_job(job) if render_pool is None else render_pool.submit(render_job, job).result()
        if rendered.refused:
            raise refused_error(rendered.refused, project.styles_dir)
        raw = Path(rendered.path).read_bytes()
    front_pages = rendered.anchors.get(article_anchor(1), 0)  # the front matter, padded to an even count
    seed = hashlib.sha256("\0".join([profile.name, html, *(css for _, css in src.sheets)]).encode()).hexdigest()
    data = finish_pdf(raw, profile, front_pages=front_pages, cmyk=page.pdf_variant in PDFX_VARIANTS, seed=seed)
    return data, padded_count(rendered.pages, page.signature), job, rendered


def lay_out_pages(
    project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str], *,
    cache: bool = True, render_pool: Pool | None = None, jobs: int = 1, executor: Any = None, stats: Any = None,
    cached_only: bool = False,
) -> list[Page] | None:
    """Where each page of a print edition begins, without writing its PDF: a chunked book through the
    chunked build (which keeps its chunks for the print build), a short one cached or laid out once.
    With `cached_only`, None unless every document it takes is cached."""
    if cached_only and not cache:
        return None
    if chunking_applies(project, profile, book):
        found: list[list[Page]] = []
        try:
            build_chunked_pdf(project, profile, book, date, convert, jobs=jobs, cache=cache, executor=executor,
                              stats=stats, on_pages=found.append, pages_only=True, cached_only=cached_only)  # fmt: skip
        except NotCached:
            return None
        return found[0]
    page = profile.page
    assert page is not None
    src = edition_sources(project, profile, book, date, convert)
    html = sheets.book_html(src, book, sheets.hinted_pages(project, profile, cache=cache).get("pages"))
    job = _book_job(project, profile, src, html, "layout", "")
    store = LayoutCache.open(project) if cache else None
    key = layout_key(job, src.renderer.faces)
    stored = store.load(key) if store is not None else None
    if stored is not None:
        if stats is not None:
            stats.reused["layout"] = stats.reused.get("layout", 0) + 1
        return single_pass_pages(stored, page.signature)
    if cached_only:
        return None
    rendered = render_job(job) if render_pool is None else render_pool.submit(render_job, job).result()
    if stats is not None:
        stats.rendered["layout"] = stats.rendered.get("layout", 0) + 1
    if rendered.refused:
        raise refused_error(rendered.refused, project.styles_dir)
    if store is not None:
        store.store(key, rendered)
    return single_pass_pages(rendered, page.signature)

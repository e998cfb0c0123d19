"""The print cover as PDF/X-4 (one page: the spread with its slug), drawn by WeasyPrint from the templates
in `templates/cover/` (the EPUB's cover image: `zhpress.pdf.raster`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pikepdf
from markupsafe import Markup

from ..config import Profile, Project, isbn13
from ..cover import (
    SPINE_TEXT_MIN_MM,
    CoverPlan,
    Spread,
    barcode_svg,
    check_resolution,
    cover_cache,
    ean5,
    front_context,
    isbn_hyphenated,
    spread_for,
)
from ..errors import InputError
from ..model import Book
from ..render import Renderer
from ..workers import scratch_dir
from .engine import RenderJob, icc_path, refused_error, render_job
from .finish import MARK_WIDTH, draw_crop_marks, stable_ids
from .sources import fetch_roots, pdf_options

log = logging.getLogger("zhpress")

MIN_SPINE_FONT_MM = 2.1  # 6 pt
MAX_SPINE_FONT_MM = 6.0
LINE_HEIGHT = 1.12


def cover_name(project: Project, profile: Profile) -> str:
    """`{book-id}-{profile}-cover.pdf`."""
    return f"{project.book_id}-{profile.name}-cover.pdf"


def spine_layout(spread: Spread, title: str, creators: list[str], publisher: str | None) -> dict[str, Any]:
    """The spine text's size (mm) and what of it fits: title, then creators, then publisher, stacked
    upright; nothing (with a warning) when the spine is too narrow for a line of title."""
    off = {"text": False, "font": 0.0, "creators": False, "publisher": False}
    if not spread.spine_text:
        log.warning("the spine is %.1f mm wide (%d pages): too narrow for spine text, which needs %.0f mm; "
                    "the spine is left blank", spread.spine, spread.pages, SPINE_TEXT_MIN_MM)
        return off
    available = spread.trim_h * 0.82
    width_limit = min(spread.spine * 0.62, MAX_SPINE_FONT_MM)
    for with_creators, with_publisher in ((True, True), (True, False), (False, False)):
        lines: float = len(title) + 2
        if with_creators:
            lines += sum(len(n) + 0.8 for n in creators)
        if with_publisher and publisher:
            lines += len(publisher)
        font = min(width_limit, available / (lines * LINE_HEIGHT))
        if font >= MIN_SPINE_FONT_MM:
            if not (with_creators and with_publisher):
                log.warning("the spine (%.1f × %.0f mm) holds only the %s", spread.spine, spread.trim_h,
                            "title and creators" if with_creators else "title")
            return {"text": True, "font": round(font, 2), "creators": with_creators, "publisher": with_publisher}
    log.warning("the title is too long for the spine (%.0f mm high); the spine is left blank", spread.trim_h)
    return off


def build_cover_pdf(
    project: Project, profile: Profile, book: Book, plan: CoverPlan, pages: int, date: dt.datetime,
    convert: Callable[[str], str], *, render_pool: Executor | None = None,
) -> bytes:
    """The cover spread of this print edition for a book block of `pages` pages, as PDF/X bytes."""
    assert profile.page is not None
    spread = spread_for(plan, profile, pages)
    renderer = Renderer(project, profile, convert=convert)
    icc = icc_path()
    cache = cover_cache(project)
    meta = book.meta
    if plan.front_image is not None:
        check_resolution(plan.front_image, spread.trim_w + spread.bleed, spread.trim_h + 2 * spread.bleed,
                         "the front cover image", project, plan.lines.get("front"))
    if plan.background_image is not None:
        check_resolution(plan.background_image, spread.width + 2 * spread.bleed, spread.trim_h + 2 * spread.bleed,
                         "the cover background", project, plan.lines.get("background_image"))
    context = front_context(renderer, book, plan, cmyk=True, icc=icc, cache=cache)
    barcode = None
    price = plan.config.price or meta.price
    addon = ean5(price)
    if meta.isbn:
        try:
            isbn = isbn13(meta.isbn)
        except ValueError as exc:  # checked when book.toml is read; here for a model built another way
            raise InputError(str(exc), path=project.config_path) from None
        barcode = Markup(barcode_svg(isbn, addon, colour=context["colours"]["black"], paper=context["colours"]["paper"]))
    names = context["authors"] + context["editors"]
    context.update(
        spread=spread, barcode=barcode, date_iso=date.strftime("%Y-%m-%dT%H:%M:%SZ"), price_text=None if addon else price, isbn=isbn_hyphenated(meta.isbn),
        spine=spine_layout(spread, meta.title, names, meta.publisher),
    )
    html = renderer.render("cover/spread.html", **context)
    sheets = (
        ("cover.css", renderer.render("cover/cover.css.j2", **context)),
        ("icc.css", f'@color-profile device-cmyk {{ src: url("{icc.as_uri()}"); components: cyan, magenta, yellow, black; }}'),
    )
    seed = hashlib.sha256("\0".join([profile.name, "cover", html, *(c for _, c in sheets)]).encode()).hexdigest()
    with scratch_dir("zhpress-cover-") as scratch:
        job = RenderJob(
            "book", 0, html, sheets, str(project.content_dir), str(project.styles_dir),
            tuple(str(r) for r in [*fetch_roots(project), cache]), tuple(sorted(pdf_options(profile).items())), "",
            str(Path(scratch) / "cover.pdf"),
        )
        rendered = render_job(job) if render_pool is None else render_pool.submit(render_job, job).result()
        if rendered.refused:
            raise refused_error(rendered.refused, project.styles_dir)
        raw = Path(rendered.path).read_bytes()
    return finish_cover(raw, spread, seed)


def finish_cover(raw: bytes, spread: Spread, seed: str) -> bytes:
    """TrimBox for the whole spread, BleedBox, crop marks at its corners and fold marks at the spine and
    flaps, all in the slug outside the bleed in 100 % K; stable ids."""
    pt = 72 / 25.4
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        page = pdf.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        m, b = spread.margin * pt, spread.bleed * pt
        page.obj.TrimBox = pikepdf.Array([x0 + m, y0 + m, x1 - m, y1 - m])
        page.obj.BleedBox = pikepdf.Array([x0 + m - b, y0 + m - b, x1 - m + b, y1 - m + b])
        for key in ("/ArtBox", "/CropBox"):
            if key in page.obj:
                del page.obj[key]
        draw_crop_marks(pdf, b, spread.slug * pt)  # the boxes as set above; the marks in the slug, outside the bleed
        folds = []
        for x in spread.folds:
            fx = x0 + m + x * pt
            folds += [(fx, y0, fx, y0 + m / 2), (fx, y1, fx, y1 - m / 2)]
        path = " ".join(f"{ax:.3f} {ay:.3f} m {bx:.3f} {by:.3f} l S" for ax, ay, bx, by in folds)
        marks = pikepdf.Stream(pdf, f"q 0 0 0 1 K {MARK_WIDTH} w 0 J [2 1] 0 d {path} Q\n".encode())
        page.obj.Contents = pikepdf.Array([*page.obj.Contents, pdf.make_indirect(marks)])
        if "/Annots" in page.obj:
            del page.obj["/Annots"]
        stable_ids(pdf, seed)
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(bytes.fromhex(seed[:32]))] * 2)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()

"""The cover in each edition, drawn by the PDF stage: the print edition's cover spread (a second PDF beside
the book block), the EPUB's cover image (the front panel's template drawn as a PNG, cached)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import files
from ..cover import EPUB_COVER_PX, CoverPlan, cover_cache, front_context, is_cover_profile
from ..errors import InputError

if TYPE_CHECKING:
    from ..config import Profile, Project
    from ..model import Book
    from ..render import Renderer
    from . import Job


def cover_files(job: Job, pages: int) -> list[tuple[Path, bytes]]:
    """The cover spread of a print edition whose book block has `pages` pages, when the build has a paper
    for its spine (none for the screen PDF)."""
    plan = job.cover
    if plan is None or plan.paper is None or not is_cover_profile(job.profile):
        return []
    from .. import pdf

    spread = pdf.build_cover_pdf(
        job.project, job.profile, job.book, plan, pages, job.date, job.convert, render_pool=job.render_pool
    )
    return [(job.out_dir / pdf.cover_name(job.project, job.profile), spread)]


def front_image_for_epub(project: Project, profile: Profile, book: Book, renderer: Renderer,
                         plan: CoverPlan | None, *, cache: bool = True, render_pool: Any = None) -> tuple[str, bytes]:
    """The EPUB's cover image, (file name, bytes): the book's own image when `[book] cover` names one,
    else the front panel's template drawn at 1600 × 2560 px (kept in .zhpress-cache/cover, keyed by the
    page's HTML and CSS and the engine's versions, so a rebuild does not start WeasyPrint for it).
    WeasyPrint runs in `render_pool` when given (a worker that imported it while the book was read)."""
    if plan is not None and plan.front_image is not None:
        path = plan.front_image
        return f"images/cover{'.png' if path.suffix.lower() == '.png' else '.jpg'}", path.read_bytes()
    html, sheets, target = _epub_cover_page(project, book, renderer, plan)
    cached = _cached_cover(target) if cache else None
    if cached is not None:
        return "images/cover.png", cached
    from ..pdf.raster import rasterize

    data = rasterize(project, html, sheets, EPUB_COVER_PX, extra_roots=[cover_cache(project)], render_pool=render_pool)
    key = files.signing_key()
    if cache and key is not None:
        try:
            files.write_atomic(target, files.sign(data, key), mode=0o600)
        except OSError:
            pass  # a cache that cannot be written only costs time
    return "images/cover.png", data


def _cached_cover(target: Path) -> bytes | None:
    """A drawn cover from the cache: a regular file of the cache folder signed with the user's key (one a
    project brought with it, or made on another account, is drawn again)."""
    key = files.signing_key()
    if key is None:
        return None
    try:
        return files.verified(files.read_confined(target, target.parent, what="cache entry"), key)
    except InputError:
        return None


def epub_cover_to_draw(project: Project, book: Book, renderer: Renderer, plan: CoverPlan | None) -> bool:
    """Whether this EPUB's cover image must be drawn (neither given by the book nor in the cache)."""
    if plan is not None and plan.front_image is not None:
        return False
    return _cached_cover(_epub_cover_page(project, book, renderer, plan)[2]) is None


def _epub_cover_page(project: Project, book: Book, renderer: Renderer,
                     plan: CoverPlan | None) -> tuple[str, list[tuple[str, str]], Path]:
    """The drawn cover's page (HTML, stylesheets) and where its image is cached."""
    folder = cover_cache(project)
    context = front_context(renderer, book, plan, cmyk=False, icc=None, cache=folder)
    width, height = EPUB_COVER_PX
    context.update(panel={"width": 148.0, "height": 148.0 * height / width}, spread=None, date_iso="2000-01-01T00:00:00Z")
    html = renderer.render("cover/front.html", **context)
    sheets = [("cover.css", renderer.render("cover/cover.css.j2", **context))]
    return html, sheets, folder / f"{_cover_key(html, sheets)}.png"


def _cover_key(html: str, sheets: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256("\0".join([*_engines(), html, *(c for _, c in sheets)]).encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def _engines() -> tuple[str, ...]:
    """What else draws the cover: zhpress's version and rasteriser source, and the installed engines'
    packages (found without importing them: an EPUB build with its cover cached never loads WeasyPrint)."""
    from importlib.util import find_spec

    from .. import __version__

    marks = [__version__, hashlib.sha256((Path(__file__).resolve().parents[1] / "pdf" / "raster.py").read_bytes()).hexdigest()]
    for name in ("weasyprint", "pypdfium2", "PIL"):
        spec = find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        stat = origin.stat() if origin and origin.is_file() else None
        marks.append(f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}" if stat else name)
    return tuple(marks)

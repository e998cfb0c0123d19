"""印张 on the mainland copyright page: the book's printed sheets, from the real page count.

印张 = pages ÷ pages per sheet (开数), the pages being the book block's padded count (front matter, body,
blank pages added for the signature). The 开数 is the `1/N` of the 开本 the book gives (`[book] format`,
e.g. `787×1092　1/32`), else that of the trim size: the most pages of that trim a full 880×1230 mm sheet
holds when folded in halves (A5 and 32开: 32, 16开 and B5: 16). The value is rounded up to a quarter sheet
(paper is used in whole quarter sheets) and written as presses do: `5.5`, `5.25`, `6`.

The count is known only after layout: a single pass renders with the count of its last build (a hint kept
in the PDF cache folder, never trusted), and renders again when the real count gives another value; a
chunked build prints it in its late piece, from the real count (`chunked`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Profile, Project
    from ..model import Book
    from ..render import Renderer

from .. import files
from ..config.values import FOLDS, parse_format
from .cache import cache_dir
from .sources import PDFX_VARIANTS, Sources, copyright_page

log = logging.getLogger("zhpress")

#: The largest common full sheet (mm) the 开数 of a trim size is counted on.
FULL_SHEET = (880.0, 1230.0)
def trim_pages_per_sheet(width: float, height: float) -> int:
    """The most pages of a `width`×`height` mm trim a full 880×1230 sheet holds folded in halves."""
    small, large = sorted((width, height))
    best = FOLDS[0]
    for count in FOLDS:
        folds = int(math.log2(count))
        a, b = FULL_SHEET
        for _ in range(folds):  # each fold halves the long side
            a, b = sorted((a, b / 2)) if b >= a else sorted((a / 2, b))
        if small <= min(a, b) and large <= max(a, b):
            best = count
    return best


def pages_per_sheet(project: Project, profile: Profile) -> int:
    """The 开数 of a print edition: the book's `format`, else its trim size's."""
    given = getattr(project.config.book, "format", None)
    if given:
        return parse_format(given)
    page = profile.page
    assert page is not None
    return trim_pages_per_sheet(page.width, page.height)


def sheets_text(pages: int, per_sheet: int) -> str:
    """印张 as printed: pages ÷ pages per sheet rounded up to a quarter sheet, without trailing zeros."""
    quarters = -(-pages * 4 // per_sheet)
    return f"{quarters / 4:.2f}".rstrip("0").rstrip(".")


def wants_sheets(profile: Profile) -> bool:
    """Whether the edition's copyright page prints 印张: a mainland print edition (PDF/X)."""
    page = profile.page
    return page is not None and page.pdf_variant in PDFX_VARIANTS and not profile.language.startswith("zh-Hant")


def context_with_sheets(renderer: Renderer, book: Book, context: dict[str, Any], pages: int | None) -> dict[str, Any]:
    """The print context with 印张 for a book of `pages` pages (unchanged when the edition prints none)."""
    if pages is None or not wants_sheets(renderer.profile):
        return context
    out = {**context, "sheets": sheets_text(pages, pages_per_sheet(renderer.project, renderer.profile))}
    out["copyright"] = copyright_page(renderer, book, out)
    return out


def book_html(src: Sources, book: Book, pages: int | None, **extra: Any) -> str:
    """The print book template with the edition's context, 印张 printed for `pages`, and `extra`."""
    context = context_with_sheets(src.renderer, book, src.context, pages)
    return src.renderer.render("pdf/book.html", **{**context, **extra})


def early_front_html(src: Sources, book: Book, **extra: Any) -> str:
    """The front matter alone as a chunked build renders it before the body: its late values (印张, 字数)
    set for a book of one page and one thousand characters, in boxes that the late piece fills."""
    context = {**src.context, "thousand_characters": 1}
    if wants_sheets(src.renderer.profile):
        context["sheets"] = sheets_text(1, pages_per_sheet(src.renderer.project, src.renderer.profile))
    context["copyright"] = copyright_page(src.renderer, book, context)
    return src.renderer.render("pdf/book.html", **{**context, "front_only": True, **extra})


def late_value(src: Sources, label_key: str) -> str | None:
    """The text of a copyright row the late piece prints (`characters_label`: 字数), as the single pass sets it."""
    copyright = src.context["copyright"]
    label = copyright.get(label_key)
    return next((value for row_label, value in copyright["rows"] if label and row_label == label), None)


def same_sheets(project: Project, profile: Profile, guessed: int | None, pages: int) -> bool:
    """Whether a render made with `guessed` pages printed the 印张 of the real `pages` (always so when the
    edition prints none)."""
    if not wants_sheets(profile):
        return True
    per_sheet = pages_per_sheet(project, profile)
    return guessed is not None and sheets_text(guessed, per_sheet) == sheets_text(pages, per_sheet)


def _hint_path(project: Project, profile: Profile) -> Path:
    return cache_dir(project) / f"pages-{profile.name}.json"


def hinted_pages(project: Project, profile: Profile, *, cache: bool) -> dict[str, int]:
    """The page count of the edition's last build (`pages`): a hint for a single pass's first render, never
    trusted for what is printed."""
    if not cache or not wants_sheets(profile):
        return {}
    path = _hint_path(project, profile)
    try:
        stored = json.loads(files.read_confined(path, path.parent, what="cache entry"))
        return {k: int(v) for k, v in stored.items() if k == "pages" and type(v) is int and 0 < v < 10**6}
    except Exception:  # noqa: BLE001  (a missing or odd hint costs one more render, nothing else)
        return {}


def remember_pages(project: Project, profile: Profile, *, cache: bool, pages: int) -> None:
    """Keep the page count for the next build's first render (in the edition's PDF cache folder)."""
    if not cache or not wants_sheets(profile):
        return
    path = _hint_path(project, profile)
    if files.own_folder(path.parent, base=project.root) is None:
        return
    try:
        files.write_atomic(path, json.dumps({"pages": pages}).encode(), mode=0o600)
    except OSError as exc:
        log.warning("%s: the PDF cache cannot be written (%s)", path.parent, exc.strerror)


@contextmanager
def said_once() -> Iterator[None]:
    """While a book is rendered again for its 印张, each of its warnings is given once."""
    seen: set[str] = set()

    def first_time(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in seen:
            return False
        seen.add(message)
        return True

    log.addFilter(first_time)
    try:
        yield
    finally:
        log.removeFilter(first_time)

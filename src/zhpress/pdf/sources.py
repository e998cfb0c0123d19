"""An edition's print sources, made in one place: its templates with the print typesetting filters, what
the book template sees (running heads, the copyright page), and every stylesheet in cascade order.
The single-pass render and every document of a chunked build are made from one `Sources`."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Profile, Project
from ..fallback import edition_fallback
from ..images import IMAGE_CACHE, MAX_HEIGHT_SHARE, pdf_images
from ..model import Book
from ..render import Renderer
from ..typeset import TYPESET_CSS, layout_css, typeset, typeset_pieces
from .engine import icc_path, package_dir
from .finish import MM

log = logging.getLogger("zhpress")

PDFX_VARIANTS = ("pdf/x-1a", "pdf/x-3", "pdf/x-4")

CMYK_CSS = """
/* PDF/X: every colour in CMYK, text and rules in 100 % K. */
html, a { color: device-cmyk(0 0 0 1); }
.editor-note, th, td { border-color: device-cmyk(0 0 0 1); }
@page { color: device-cmyk(0 0 0 1); @footnote { border-color: device-cmyk(0 0 0 1); color: device-cmyk(0 0 0 1); } }
"""


@dataclass
class Sources:
    """The edition's templates (`renderer`), the book template's context and the stylesheets in cascade
    order, shared by the single-pass render and every document of a chunked build."""

    renderer: Renderer
    context: dict[str, Any]
    sheets: list[tuple[str, str]]

    def book_html(self, **extra: Any) -> str:
        """The print book template (`pdf/book.html`) with the edition's context and `extra`."""
        return self.renderer.render("pdf/book.html", **{**self.context, **extra})


def edition_sources(project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str]) -> Sources:
    """The print sources of one edition: renderer, context and every stylesheet (typesetting rules third,
    the page rules and, for PDF/X, the CMYK rules last)."""
    page = profile.page
    assert page is not None
    renderer = print_renderer(project, profile, book, convert)
    cmyk = page.pdf_variant in PDFX_VARIANTS
    context = print_context(renderer, book, date)
    sheets = renderer.stylesheets() + [("page.css", _page_css(renderer, cmyk))]
    if cmyk:
        sheets.append(("cmyk.css", CMYK_CSS))
    # the contents of a tagged PDF are not typeset (one link annotation an entry, see pdf/book.html)
    in_layout = layout_css(pairs=profile.punctuation != "full", latin=page.latin_spacing,
                           contents=page.pdf_variant != "pdf/ua-1")
    sheets.insert(2, ("typeset.css", TYPESET_CSS + in_layout))
    return Sources(renderer, context, sheets)


def print_renderer(project: Project, profile: Profile, book: Book, convert: Callable[[str], str]) -> Renderer:
    """The templates of a PDF edition with its typesetting filters (plain text and inline runs) and its
    figures' image files (CMYK for print)."""
    page = profile.page
    assert page is not None
    latin, punctuation = page.latin_spacing, profile.punctuation

    def text_filter(text: str) -> Any:
        return typeset(text, latin_spacing=latin, punctuation=punctuation, in_layout=True)

    dots = profile.emphasis == "dots"

    def pieces_filter(texts: list[str], dotted: list[bool]) -> Any:
        marked = dotted if dots else [False] * len(texts)
        return typeset_pieces(texts, marked, latin_spacing=latin, punctuation=punctuation, in_layout=True)

    images = pdf_images(project, book, cmyk=page.pdf_variant in PDFX_VARIANTS, icc=icc_path())
    return Renderer(project, profile, convert=convert, text_filter=text_filter, pieces_filter=pieces_filter, images=images,
                    fallback_families=edition_fallback(profile, book).families)


def _page_css(renderer: Renderer, cmyk: bool) -> str:
    """The page geometry and colour rules of the edition (`pdf/page.css.j2`)."""
    page = renderer.profile.page
    assert page is not None
    tallest = round((page.height - page.margin_top - page.margin_bottom) * MAX_HEIGHT_SHARE, 2)
    return renderer.render("pdf/page.css.j2", page=page, punctuation=renderer.profile.punctuation, cmyk=cmyk, icc_url=icc_path().as_uri(), figure_max_height=tallest)


CMYK_CSS = """
/* PDF/X: every colour in CMYK, text and rules in 100 % K. */
html, a { color: device-cmyk(0 0 0 1); }
.editor-note, th, td { border-color: device-cmyk(0 0 0 1); }
@page { color: device-cmyk(0 0 0 1); @footnote { border-color: device-cmyk(0 0 0 1); color: device-cmyk(0 0 0 1); } }
"""


#: The running heads' size in points (print.css): a head wider than the type area at this size would wrap.
RUNNING_HEAD_PT = 8.0
_PHRASE_END = re.compile(r"(?<=[，、：；！？。])|(?=　)|(?=——)")


def print_context(renderer: Renderer, book: Book, date: dt.datetime) -> dict[str, Any]:
    """What the print book template sees: the renderer's context and each article's running head."""
    context = renderer.context(book, date_iso=date.strftime("%Y-%m-%dT%H:%M:%SZ"), include_front=True, sheets=None)
    page = renderer.profile.page
    assert page is not None
    budget = int((page.width - page.margin_inner - page.margin_outer) * MM / RUNNING_HEAD_PT)
    context["running_heads"] = {
        view.anchor: running_head(view.article, budget, renderer.profile.name) for view in context["articles"]
    }
    context["copyright"] = copyright_page(renderer, book, context)
    return context


#: The copyright page's fields in each region's order, with that region's own labels (a Taiwan or Hong
#: Kong 版權頁 is not a converted mainland one). Fields the book does not give are left out.
COPYRIGHT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cn": (("title", "书　　名"), ("authors", "著　　者"), ("editors", "编　　者"), ("editor_in_charge", "责任编辑"),
           ("cover_designer", "封面设计"), ("publisher", "出版发行"), ("address", "地　　址"), ("phone", "电　　话"),
           ("format", "开　　本"), ("sheets", "印　　张"), ("characters", "字　　数"), ("edition", "版　　次"), ("printing", "印　　次"),
           ("print_run", "印　　数"), ("isbn", "书　　号"), ("price", "定　　价"), ("typeface", "字　　体")),
    "tw": (("title", "書　　名"), ("authors", "作　　者"), ("editors", "編　　者"), ("editor_in_charge", "責任編輯"),
           ("cover_designer", "封面設計"), ("publisher", "出\u2002版\u2002者"), ("address", "地　　址"), ("phone", "電　　話"),
           ("date", "出版日期"), ("edition", "版　　次"), ("printing", "印　　次"), ("price", "定　　價"), ("isbn", "ISBN"),
           ("typeface", "字　　體"), ("conversion", "繁體轉換")),
    "hk": (("title", "書　　名"), ("authors", "作　　者"), ("editors", "編　　者"), ("editor_in_charge", "責任編輯"),
           ("cover_designer", "封面設計"), ("publisher", "出　　版"), ("address", "地　　址"), ("phone", "電　　話"),
           ("edition", "版　　次"), ("printing", "印　　次"), ("isbn", "國際書號"), ("price", "定　　價"),
           ("typeface", "字　　體"), ("conversion", "繁體轉換")),
}
CIP_HEADINGS = {"cn": "图书在版编目（CIP）数据", "tw": "國家圖書館出版品預行編目（CIP）資料", "hk": "香港出版品在版編目（CIP）資料"}


def _month(date: str | None) -> str | None:
    """An ISO date as a copyright page gives it: the year and month (`2022-05-10` -> 2022年5月)."""
    if not date:
        return None
    year, _, rest = date.partition("-")
    month = rest.partition("-")[0]
    return f"{year}年{int(month)}月" if month.isdigit() else f"{year}年"


def copyright_page(renderer: Renderer, book: Book, context: dict[str, Any]) -> dict[str, Any]:
    """The print copyright page as data for the template: the CIP block and (label, value) rows in the
    order and wording of the edition's region."""
    language = renderer.profile.language
    region = "tw" if language.startswith("zh-Hant-TW") else "hk" if language.startswith("zh-Hant") else "cn"
    meta, cfg, convert = book.meta, renderer.project.config.book, renderer.convert
    title = meta.title + (f"：{meta.subtitle}" if meta.subtitle else "")
    values = {
        "title": title, "authors": "、".join(context["authors"]), "editors": "、".join(context["editors"]),
        "editor_in_charge": cfg.editor_in_charge, "cover_designer": cfg.cover_designer, "publisher": meta.publisher,
        "address": cfg.address, "phone": cfg.phone, "format": context["format_name"], "sheets": context.get("sheets"),
        "characters": f"{context['thousand_characters']} {context['labels']['thousand_characters']}",
        "date": _month(meta.date), "edition": meta.edition, "printing": meta.printing, "print_run": cfg.print_run,
        "isbn": (meta.isbn if region == "tw" else f"ISBN {meta.isbn}") if meta.isbn else None, "price": meta.price,
        "typeface": renderer.profile.font_family, "conversion": context["conversion_name"],
    }
    converted = {"editor_in_charge", "cover_designer", "address", "print_run"}  # read from book.toml here
    rows = [
        (label, convert(values[key]) if key in converted else values[key])
        for key, label in COPYRIGHT_FIELDS[region] if values.get(key)
    ]
    cip = [convert(line) for line in (cfg.cip or "").strip().splitlines()]
    fields = dict(COPYRIGHT_FIELDS[region])
    return {"rows": rows, "cip_heading": CIP_HEADINGS[region] if cip else None, "cip": cip, "region": region,
            "sheets_label": fields.get("sheets") if values.get("sheets") else None,
            "characters_label": fields.get("characters")}


def running_head(article: Any, budget: int, profile: str) -> str:
    """An article's running head on one line of `budget` characters: its `running_head`, else its headline,
    else the headline's first phrases that fit (cut at a mark or a space, with a warning naming the file)."""
    text = article.running_head or article.headline
    if len(text) <= budget:
        return text
    cuts = [m.start() for m in _PHRASE_END.finditer(text) if 0 < m.start() <= budget]
    short = text[: cuts[-1]] if cuts else text[:budget]
    short = short.rstrip("　，、：；")
    what = "running_head" if article.running_head else "headline"
    log.warning(
        "%s: the %s %r is too long for a running head of %s (%d characters at most); cut to %r "
        "(give a shorter running_head in book.toml's [[articles]] or the front matter)",
        article.source, what, text, profile, budget, short,
    )
    return short


def fetch_roots(project: Project) -> list[Path]:
    """The folders WeasyPrint may read from: the book's own and the package's templates and data."""
    return [project.content_dir, project.styles_dir, project.root / IMAGE_CACHE, package_dir("templates"), package_dir("data")]


def pdf_options(profile: Profile) -> dict[str, Any]:
    """WeasyPrint's `render()`/`write_pdf()` options for a profile (PDF variant, tags)."""
    page = profile.page
    assert page is not None
    options: dict[str, Any] = {}
    if page.pdf_variant != "none":
        options["pdf_variant"] = page.pdf_variant
    if page.pdf_variant == "pdf/ua-1":
        options["pdf_tags"] = True
    return options

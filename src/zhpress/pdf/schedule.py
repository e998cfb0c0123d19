"""The chunk plan of a long PDF edition: whole articles in body chunks of `CHUNK_ARTICLES`, the folios of
`FOLIO_GROUP` chunks in one folio piece, and the few rules and pages each kind of document adds."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable

from ..config import Profile, Project
from ..model import Book

#: Articles per body chunk. Fixed (not derived from the number of workers) so that cached chunks stay
#: valid whatever `--jobs` is; small enough for several chunks per worker and cheap incremental rebuilds.
CHUNK_ARTICLES = 6
#: Body chunks whose folios one folio document carries (a document costs more to start than its pages).
FOLIO_GROUP = 8
#: Page numbers one folio piece of numbers carries (`folio_range_html`): even, so that every piece starts on
#: an odd number, a right-hand page, as the body does.
FOLIO_PAGES = 240
#: Front-matter pages one late piece carries (`late_html`): the contents' numbers of a long book are drawn by
#: pieces rendered side by side, and an edit that moves pages renders only those whose numbers changed.
LATE_PAGES = 8
#: Books with fewer articles are rendered in one pass: chunking costs a front-matter render, the folio
#: pieces and a merge, which a short book does not win back.
MIN_CHUNKED_ARTICLES = 24

NO_FOLIOS_CSS = """
/* chunked build, body chunk: folios are overlaid after the merge */
@page body:left { @bottom-left { content: none; } }
@page body:right { @bottom-right { content: none; } }
/* a chunk that is not the last ends where the next article would open: its padding page is kept */
#zh-chunk-end { break-before: right; }
"""

CHUNK_END = '<div id="zh-chunk-end"></div>'

EARLY_FRONT_CSS = """
/* chunked build, front matter: rendered beside the body chunks, its late values (the contents' numbers,
   印张) hidden boxes of their own width, filled by the late piece drawn over it */
.zh-late { visibility: hidden; }
.contents .toc-num::before { content: "0"; }
"""

LATE_CSS = """
/* chunked build, late piece: the front matter's late values alone, each where its box is */
@page { margin: 0; } @page :left { margin: 0; } @page :right { margin: 0; } @page :first { margin: 0; }
.zh-late-page { position: relative; height: 0; margin: 0; }
.zh-late-page + .zh-late-page { break-before: page; }
.zh-late-page * { margin: 0 !important; padding: 0 !important; border: none !important; height: 0; }
.zh-late-page .zh-late { position: absolute; height: auto; }
.contents .toc-num::before { content: none; }
"""


def folio_css(start: int) -> str:
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


def chunking_applies(project: Project, profile: Profile, book: Book, *, min_articles: int | None = None) -> bool:
    """Whether this edition is built in chunks: long enough (`MIN_CHUNKED_ARTICLES` unless `min_articles`),
    not tagged, and the package's book template."""
    page = profile.page
    if page is None or page.pdf_variant == "pdf/ua-1":
        return False
    if (project.styles_dir / "templates" / "pdf" / "book.html").is_file():
        return False  # a book's own template may not have the hooks chunking needs
    return len(book.articles) >= (MIN_CHUNKED_ARTICLES if min_articles is None else min_articles)


def articles_digest(texts: Iterable[str]) -> str:
    """A digest of a chunk's articles by their repr (frozen dataclasses: it holds every field)."""
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


def chunks(count: int, size: int) -> list[range]:
    """`count` items in consecutive groups of `size` (the last one shorter)."""
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


#: The elements a late value's box sits in, by its class: they give it the style it had in the front matter
#: (a group's outer elements, once a page for all its values, and each value's own).
LATE_HOLDERS = {
    "toc-article": ("contents", '<li class="toc-article">', "</li>"),
    "toc-heading": ("contents", '<li class="toc-heading">', "</li>"),
    "sheets": ("copyright", "<dd>", "</dd>"),
}
LATE_GROUPS = {
    "contents": ('<nav class="contents"><ol>', "</ol></nav>"),
    "copyright": ('<section class="copyright-page"><dl>', "</dl></section>"),
}


def late_html(lang: str, pages: int, boxes: list[tuple[int, float, float, str, str, str]]) -> str:
    """The late piece: `pages` empty pages, each late value (page, x, y, holder, class, text) in a box at
    its place (px from the page's corner), inside elements that give it the front matter's style: the
    values of a page share their outer elements (a contents page's 40 numbers, one list), as few elements
    as the style needs."""
    by_page: list[dict[str, list[str]]] = [{} for _ in range(pages)]
    for page, x, y, holder, kind, text in boxes:
        group, before, after = LATE_HOLDERS[holder]
        by_page[page].setdefault(group, []).append(
            f'{before}<span class="zh-late {kind}" style="left: {x!r}px; top: {y!r}px">{html.escape(text)}</span>{after}')
    divs = "".join(
        '<div class="zh-late-page">'
        + "".join(LATE_GROUPS[group][0] + "".join(items) + LATE_GROUPS[group][1] for group, items in groups.items())
        + "</div>"
        for groups in by_page
    )
    return f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"/></head><body>{divs}</body></html>'


#: A stylesheet rule that could put something in a page's margin boxes or style a blank page differently.
_MARGIN_RULES = re.compile(r"@(?:top|bottom|left|right)-|:blank", re.IGNORECASE)


def folios_by_number(sheets: list[tuple[str, str]]) -> bool:
    """Whether an edition's folios can come from pieces of page numbers (`folio_range_html`): when only
    zhpress's base stylesheets (an edition's first two) set margin boxes and blank pages, a page's folio
    depends on its number alone (its side follows from it, a blank page has none), not on where the book's
    blank pages fall. Otherwise the folio pieces follow the chunks, blank pages and all (`folio_html`)."""
    if [name for name, _ in sheets[:2]] != ["base-common.css", "base-print.css"]:
        return False
    return not any(_MARGIN_RULES.search(css) for _, css in sheets[2:])


def folio_range_html(lang: str, count: int) -> str:
    """`count` empty pages in a row, none blank: the folios of as many page numbers (`folio_css` sets the
    first)."""
    divs = '<div class="zh-folio"></div>' * count
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"/></head><body>'
        f'<main class="bodymatter">{divs}</main></body></html>'
    )


def folio_html(lang: str, blank: list[bool]) -> str:
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

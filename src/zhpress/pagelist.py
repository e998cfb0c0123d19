"""An EPUB's page list from its print edition: where each printed page begins, as page-break markers in the
EPUB's documents and a `page-list` navigation.

The print layout is WeasyPrint's (`zhpress.pdf.pagestarts`, run by the render worker on every print
document, kept with cached chunks); the single-pass layout of a short book is kept in
`.zhpress-cache/pages/`, signed like the other caches. Pages are labelled as the print edition's PDF labels
them: roman numerals in the front matter (which prints no folios), body folios from 1. A blank page is
marked where the next page with text begins; the blank leaves at the back, at the end of the last article.
Front matter pages go to the EPUB's equivalents: the half-title and title page to its title page, the
copyright page to its colophon, the contents to its navigation document.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import pdf
from .config import Profile, Project, line_of_key
from .convert import get_converter
from .convert.edition import conversion_settings
from .errors import ConfigError, ZhpressError
from .model import Book
from .pdf.pagestarts import BLOCK_TAGS, Places, dense, local, skipped

if TYPE_CHECKING:
    from .pdf.pages import Page

log = logging.getLogger("zhpress")

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
#: The EPUB document of each front matter section of the print book (by the EPUB's uids).
FRONT_DOCUMENTS = {"half-title": "titlepage", "title-page": "titlepage", "copyright-page": "colophon", "contents": "nav"}
#: Parents in which a marker may stand beside a block; elsewhere (lists, tables) it goes inside the block.
FLOW_PARENTS = frozenset({"section", "div", "header", "footer", "blockquote", "body", "article", "aside", "main", "figure", "li", "td", "th", "dd"})


@dataclass(frozen=True)
class PrintPages:
    """The page list of an EPUB: the print profile it follows, how `dc:source` names it, every page."""

    profile: str
    source: str
    pages: tuple[Page, ...]


# --- which print edition -----------------------------------------------------------------------------------


def _text_settings(profile: Profile) -> tuple[Any, ...]:
    """What makes two editions' text the same."""
    return (profile.conversion, profile.quotes, profile.vocabulary, profile.overrides)


def print_profile_for(project: Project, profile: Profile) -> Profile | None:
    """The print profile whose pages an EPUB profile lists: the one it names, else the first print profile
    (PDF, not the tagged screen edition) with the same text; None with `page_list = "none"` or no such
    profile. A named profile that is not a print edition of the same text is the book's error."""
    setting = profile.page_list
    if profile.format != "epub" or setting == "none":
        return None
    if setting not in ("print", "auto"):
        named = project.profiles.get(setting)
        problem = (
            "is not a profile of this book" if named is None
            else "is not a print (PDF) profile" if named.page is None or named.page.pdf_variant == "pdf/ua-1"
            else "prints another text (conversion, quotes, vocabulary or overrides differ)"
            if _text_settings(named) != _text_settings(profile) else None
        )
        if problem is not None:
            path = project.config_path
            line = line_of_key(path.read_text("utf-8-sig"), ("profiles", profile.name, "page_list")) if path else None
            raise ConfigError(f"profile {profile.name!r}: page_list = {setting!r} {problem}", path=path, line=line,
                              hint='name a print profile with the same conversion, or "print" or "none"')  # fmt: skip
        return named
    for candidate in project.profiles.values():
        page = candidate.page
        if page is not None and page.pdf_variant != "pdf/ua-1" and _text_settings(candidate) == _text_settings(profile):
            return candidate
    return None


def check(project: Project, profiles: list[Profile]) -> None:
    """Every EPUB profile's `page_list` names a usable print profile (a user error before anything is built)."""
    for profile in profiles:
        print_profile_for(project, profile)


def dc_source(project: Project, book: Book, print_profile: Profile) -> str:
    """How the EPUB names the print edition its pages come from: its ISBN (`[book.identifiers]` for the
    print profile, else the book's), else its title and profile."""
    given = project.config.book.identifiers.get(print_profile.name)
    if given and given.startswith("urn:isbn:"):
        return given
    if book.meta.isbn:
        return "urn:isbn:" + book.meta.isbn.replace("-", "").replace(" ", "")
    return f"{book.meta.title} ({print_profile.name})"


# --- the print layout ---------------------------------------------------------------------------------------


def print_pages(
    project: Project, profile: Profile, edition: Book, date: dt.datetime, *, cache: bool = True,
    render_pool: Any = None, jobs: int = 1, executor: Any = None, given: dict[str, list[Page]] | None = None,
    stats: Any = None,
) -> PrintPages | None:
    """The page list of an EPUB profile's edition, or None when it has none. The print layout is the one
    this build already made (`given`, by print profile), else the cached one, else (`page_list` naming the
    print edition, not "auto") laid out now: a chunked book through the chunked build, which keeps its
    chunks for the print build. With "auto" an EPUB built alone never waits for a print layout."""
    print_profile = print_profile_for(project, profile)
    if print_profile is None:
        return None
    book = replace(edition, meta=replace(edition.meta, language=print_profile.language,
                                         identifier=project.config.book.identifiers.get(print_profile.name)))  # fmt: skip
    source = dc_source(project, book, print_profile)
    if given and print_profile.name in given:
        return PrintPages(print_profile.name, source, tuple(given[print_profile.name]))
    convert = get_converter(conversion_settings(project, print_profile)).convert
    try:
        pages = pdf.lay_out_pages(project, print_profile, book, date, convert, cache=cache, render_pool=render_pool,
                                  jobs=jobs, executor=executor, stats=stats, cached_only=profile.page_list == "auto")  # fmt: skip
    except ZhpressError as exc:  # the print edition's own failure is its profile's; this EPUB still builds
        log.warning("%s: no page list: the print edition %r cannot be laid out: %s", profile.name, print_profile.name, exc)
        return None
    if pages is None:  # "auto": the print layout is neither made by this build nor cached
        log.warning("%s: no page list: the print edition %r is neither built with it nor cached (build both, "
                    "`zhpress build %s %s`, or set page_list = \"print\" to lay it out for the EPUB alone)",
                    profile.name, print_profile.name, print_profile.name, profile.name)  # fmt: skip
        return None
    return PrintPages(print_profile.name, source, tuple(pages))


# --- the EPUB side -----------------------------------------------------------------------------------------


def document_of(start: dict[str, Any]) -> str | None:
    """The EPUB document (uid) a page's start is in; None for the end of the body."""
    if start["kind"] == "front":
        return FRONT_DOCUMENTS.get(start["section"], "titlepage")
    if start["kind"] == "body":
        return str(start["article"])
    return None


def nav_entries(pages: PrintPages, files: dict[str, str], last: str) -> list[tuple[str, str]]:
    """The page-list navigation: (label, href) for every page; `files` maps a document's uid to its file
    name, `last` is the uid of the last article (where the blank leaves at the back point)."""
    out = []
    for page in pages.pages:
        uid = document_of(page.start) or last
        out.append((page.label, f"{files[uid]}#page-{page.label}"))
    return out


def mark_documents(documents: dict[str, tuple[str, str]], pages: PrintPages, last: str) -> dict[str, tuple[str, str]]:
    """The documents with a page-break marker where each printed page begins (uid → (file name, XHTML))."""
    from lxml import etree

    by_document: dict[str, list[Page]] = {}
    for page in pages.pages:
        by_document.setdefault(document_of(page.start) or last, []).append(page)
    out = dict(documents)
    for uid, marks in by_document.items():
        name, html = documents[uid]
        root = etree.fromstring(html.encode("utf-8"))
        for page in reversed(marks):  # later places first: an earlier insertion never moves a later place
            _insert(root, page, uid)
        body = etree.tostring(root, encoding="unicode")
        out[uid] = (name, '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n' + body)
    return out


def _marker(page: Page) -> Any:
    from lxml import etree

    return etree.Element(f"{{{XHTML}}}span", {f"{{{OPS}}}type": "pagebreak", "role": "doc-pagebreak",
                                            "id": f"page-{page.label}", "aria-label": page.label})  # fmt: skip


def _insert(root: Any, page: Page, uid: str) -> None:
    """Insert `page`'s marker into the document whose root is `root`."""
    start = page.start
    marker = _marker(page)
    body = root.find(f"{{{XHTML}}}body")
    section = next((e for e in body.iter(f"{{{XHTML}}}section") if "article" in (e.get("class") or "").split()), None)
    if start["kind"] != "body" and start["kind"] != "end" or section is None:
        _before_first(body, marker)
        return
    if start["kind"] == "end":
        section.append(marker)
        return
    places = Places(section)
    block_key = (start["article"], int(start["block"]))
    element = next((e for e, b in places.block_of.items() if b == block_key and local(e.tag) in BLOCK_TAGS and _owns(e, places)), None)
    offset = int(start["offset"])
    if element is None:
        log.warning("%s: page %s of the print edition has no place in the EPUB (block %s); marked at the article's end",
                    uid, page.label, start["block"])  # fmt: skip
        section.append(marker)
        return
    text = places.text[block_key]
    sample = start.get("text", "")
    if sample and not text.startswith(sample, offset):
        found = text.find(sample)
        if found < 0:
            log.warning("%s: page %s of the print edition begins with %r, not found in the EPUB's text; marked at its block",
                        uid, page.label, sample)  # fmt: skip
        offset = max(found, 0)
    if offset == 0:
        if int(start["block"]) == 0:
            _before_first(section, marker)
        elif local(element.getparent().tag) in FLOW_PARENTS:
            element.addprevious(marker)
        else:
            _before_first(element, marker)
        return
    _at_character(element, offset, marker)


def _owns(element: Any, places: Places) -> bool:
    """Whether `element` is the block itself (its parent belongs to another block, or none)."""
    parent = element.getparent()
    return parent is None or places.block_of.get(parent) != places.block_of.get(element)


def _before_first(parent: Any, marker: Any) -> None:
    """`marker` as the first thing inside `parent`."""
    marker.tail = parent.text
    parent.text = None
    parent.insert(0, marker)


def _slots(element: Any) -> Any:
    """The text slots of a block's own text in document order: (element, "text") and (child, "tail")."""
    yield element, "text"
    for child in element:
        tag = local(child.tag)
        if tag and not skipped(child) and tag not in BLOCK_TAGS:
            yield from _slots(child)
        yield child, "tail"


def _at_character(block: Any, offset: int, marker: Any) -> None:
    """Insert `marker` before the `offset`-th character (white space not counted) of the block's own text:
    before the inline element whose text starts there, else inside the text, never splitting an element."""
    seen = 0
    for owner, slot in _slots(block):
        value = (owner.text if slot == "text" else owner.tail) or ""
        count = len(dense(value))
        if seen + count <= offset:
            seen += count
            continue
        index = _index_of(value, offset - seen)
        if slot == "text":
            if not value[:index].strip() and owner is not block:
                _before_element(owner, block, marker)
            else:
                owner.text = value[:index]
                marker.tail = value[index:]
                owner.insert(0, marker)
        else:
            owner.tail = value[:index]
            marker.tail = value[index:]
            owner.addnext(marker)
        return
    block.append(marker)


def _before_element(element: Any, block: Any, marker: Any) -> None:
    """`marker` just before `element`, climbing out of the inline elements it opens, inside `block`."""
    while (parent := element.getparent()) is not block and not (parent.text or "").strip() and parent.index(element) == 0:
        element = parent
    element.addprevious(marker)


def _index_of(value: str, nth: int) -> int:
    """The index in `value` of its `nth` character that is not white space."""
    seen = 0
    for index, char in enumerate(value):
        if char.isspace() or char == "\u00ad":
            continue
        if seen == nth:
            return index
        seen += 1
    return len(value)

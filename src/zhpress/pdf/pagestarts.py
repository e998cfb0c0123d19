"""Where each page of a rendered print document begins, read from WeasyPrint's layout (in the worker).

A page begins at its first box of the body flow (running heads, folios, margin boxes, footnotes and
generated content left out). It is given as a place in the content model that the EPUB has too: the
article (its anchor), the index of the block (`BLOCK_TAGS`, in document order inside the article) and the
offset in that block's text, counted in characters that are not white space (the engines collapse white
space differently; the characters themselves are the edition's, in both). Front matter pages name their
section; a page with nothing of the flow on it is blank.
"""

from __future__ import annotations

from typing import Any

#: The elements whose text is addressed by an offset: the text of an element belongs to the nearest one.
BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "pre", "figcaption", "figure"})
#: Elements whose text is not the flow's text at that place: notes (floated to the page foot in print,
#: links in the EPUB), note calls, ruby annotations.
SKIPPED_CLASSES = frozenset({"footnote", "note-call", "noteref", "footnotes", "zh-running-head"})
SKIPPED_TAGS = frozenset({"rt", "rp", "aside", "head", "script", "style"})
#: Front matter sections of the print book, by class.
FRONT_SECTIONS = ("half-title", "title-page", "copyright-page", "contents")
#: The characters of a page's start kept to check the place against (tests, and the EPUB side).
SAMPLE = 12


def local(tag: Any) -> str:
    """An element's tag without its namespace ('' for comments and processing instructions)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def skipped(element: Any) -> bool:
    """Whether an element's text (and its children's) is left out of the flow's text."""
    if local(element.tag) in SKIPPED_TAGS:
        return True
    return bool(SKIPPED_CLASSES.intersection((element.get("class") or "").split()))


def dense(text: str | None) -> str:
    """Text without white space (and soft hyphens): what offsets count."""
    return "".join((text or "").split()).replace("\u00ad", "")


class Places:
    """The text of every addressed block of a document, and the place of each element's text."""

    def __init__(self, root: Any) -> None:
        self.block_of: dict[Any, tuple[str, int] | None] = {}  # element -> (article anchor, block index)
        self.front_of: dict[Any, str] = {}
        self.text: dict[tuple[str, int], str] = {}
        self._walk(root, None, None, None, [0])

    def _walk(self, element: Any, article: str | None, block: tuple[str, int] | None, front: str | None, count: list[int]) -> None:
        tag = local(element.tag)
        if not tag or skipped(element):
            return
        classes = (element.get("class") or "").split()
        if tag in ("article", "section") and "article" in classes:
            article = _anchor_of(element)
            count = [0]
        elif "front" in classes:
            front = next((name for name in FRONT_SECTIONS if name in classes), "front")
        if article is not None and tag in BLOCK_TAGS:
            block = (article, count[0])
            count[0] += 1
            self.text[block] = ""
        self.block_of[element] = block
        if front is not None:
            self.front_of[element] = front
        if block is not None:
            self.text[block] += dense(element.text)
        for child in element:
            self._walk(child, article, block, front, count)
            if block is not None:
                self.text[block] += dense(child.tail)


def _anchor_of(article: Any) -> str | None:
    """The anchor (`a1` …) of an article element: the id of its headline or of its role anchor."""
    for element in article.iter():
        classes = (element.get("class") or "").split() if isinstance(element.tag, str) else ()
        if "headline" in classes or "role-anchor" in classes:
            return element.get("id")
    return None


def page_starts(document: Any, root: Any) -> list[dict[str, Any]]:
    """Where each page of a rendered WeasyPrint `document` (of the HTML whose tree is `root`) begins:
    {"kind": "body", "article", "block", "offset", "text"}, {"kind": "front", "section", "text"} or
    {"kind": "blank"}."""
    places = Places(root)
    cursor: dict[tuple[str, int], int] = {}
    out: list[dict[str, Any]] = []
    for page in document.pages:
        first: dict[str, Any] | None = None
        for box in _flow_leaves(page._page_box):
            element = box.element
            if element not in places.block_of:
                continue  # outside the body (the head) or in a note, a note call, an annotation
            block = places.block_of.get(element)
            text = dense(getattr(box, "text", None))
            if block is not None and block in places.text:
                if not text and type(box).__name__ == "TextBox":
                    continue
                whole = places.text[block]
                at = cursor.get(block, 0)
                if text and not whole.startswith(text, at):
                    found = whole.find(text, at)
                    at = found if found >= 0 else at
                if first is None:
                    first = {"kind": "body", "article": block[0], "block": block[1], "offset": at, "text": whole[at:at + SAMPLE]}
                cursor[block] = at + len(text)
            elif first is None and text:
                section = places.front_of.get(element)
                if section is not None:
                    first = {"kind": "front", "section": section, "text": text[:SAMPLE]}
        out.append(first or {"kind": "blank"})
    return out


def _flow_leaves(box: Any) -> Any:
    """The text and replaced boxes of a page's body flow, in layout order."""
    for child in getattr(box, "children", ()) or ():
        kind = type(child).__name__
        if kind in ("MarginBox", "FootnoteAreaBox"):
            continue
        if child.element_tag and "::" in child.element_tag:
            continue  # generated content: leaders, note calls, counters
        if kind == "TextBox" or (hasattr(child, "replacement") and not getattr(child, "children", None)):
            yield child
        else:
            yield from _flow_leaves(child)

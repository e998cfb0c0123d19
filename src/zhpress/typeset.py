"""Chinese print typography as inline markup: a jinja2 filter that wraps what needs wrapping in spans.

`typeset(text)` escapes the text and wraps parts of it in ``<span>`` elements whose classes carry the
typography; `TYPESET_CSS` holds the rules for those classes. The spans never add or remove a character:
strip the tags and unescape, and the input comes back. Classes:

``zh-halt``
    One full-width punctuation mark set in half its em box (OpenType ``halt``): the first mark of an
    adjacent pair whose blank halves face each other (``。”``, ``，“``, ``”“``, ``》、``, ``）、``; the
    second one of two opening marks, ``（“``), so the pair takes 1.5 em; and an opening mark that starts the
    text (a paragraph), so it sits at the indent without its blank half.
``zh-latin``
    A run of Latin letters or digits inside Chinese text (only with ``latin_spacing``). ``zh-sp-l`` and
    ``zh-sp-r`` add a quarter-em margin on the side that touches a Han character; the PDF writer's
    justification hook (`zhpress.pdf.justify`) removes it where the run starts or ends a line.
    A number's signs belong to its run (``50%以上``: a quarter em before ``50`` and after ``%``; ``-2.06``).
``zh-nobr``
    A number and the Han character after it (``72万``, ``4月``, ``50%以``), kept on one line.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["typeset", "TYPESET_CSS", "CLOSING_MARKS", "OPENING_MARKS", "is_han"]

#: Full-width marks drawn in the left half of their em box, blank on the right (SC style).
CLOSING_MARKS = "，。、；：？！）》」』”’】〉〕〗｝］"
#: Full-width marks drawn in the right half of their em box, blank on the left.
OPENING_MARKS = "（《「『“‘【〈〔〖｛［"

TYPESET_CSS = """\
.zh-halt { font-feature-settings: "halt"; }
.zh-latin.zh-sp-l { margin-left: 0.25em; }
.zh-latin.zh-sp-r { margin-right: 0.25em; }
.zh-nobr { white-space: nowrap; }
"""

# Latin letters, digits and the ASCII punctuation that lives inside Latin words and numbers; a single
# space joins two such runs ("Omicron BA.2").
_LATIN_CHAR = r"[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff.,:;!?%‰‱°℃℉&@#$*+\-_/'()]"
#: Signs that close a number and belong to its run (`50%以上`: spaced on both sides like `50`).
_NUMBER_SIGNS = "%‰‱°℃℉"
_LATIN_RUN = re.compile(rf"{_LATIN_CHAR}+(?: {_LATIN_CHAR}+)*")


def is_han(char: str) -> bool:
    """True for a Han ideograph (CJK unified, extensions, compatibility) or 〇."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or char == "\u3007"
    )


_CLOSING_BEFORE_MARK = re.compile(f"[{re.escape(CLOSING_MARKS)}](?=[{re.escape(CLOSING_MARKS + OPENING_MARKS)}])")
_OPENING_AFTER_OPENING = re.compile(f"(?<=[{re.escape(OPENING_MARKS)}])[{re.escape(OPENING_MARKS)}]")


def _halted(text: str) -> set[int]:
    """Indexes of the punctuation marks to set half-width: a closing mark followed by another mark, an
    opening mark after another opening mark, and a paragraph-opening mark (scanned by regex: a loop over
    every character was a third of making a long book's HTML)."""
    halt = {m.start() for m in _CLOSING_BEFORE_MARK.finditer(text)}
    halt.update(m.start() for m in _OPENING_AFTER_OPENING.finditer(text))
    if text and text[0] in OPENING_MARKS:
        halt.add(0)
    return halt


def _spans(text: str, latin_spacing: bool, compress: bool = True) -> list[tuple[int, int, str]]:
    """The spans to open, as (start, end, classes), properly nested and in document order."""
    spans: list[tuple[int, int, str]] = []
    for match in _LATIN_RUN.finditer(text):
        start, end = match.span()
        # ASCII punctuation at the run's edges belongs to the surrounding text, not to the Latin run.
        while start < end and not text[start].isalnum():
            start += 1
        if start > match.start() and text[start - 1] in "+-" and start < end and text[start].isdigit():
            start -= 1  # the sign of a number (`-2.06`) belongs to it
        while end > start and not text[end - 1].isalnum() and text[end - 1] not in _NUMBER_SIGNS:
            end -= 1
        while end > start and text[end - 1] in _NUMBER_SIGNS and not text[end - 2].isdigit():
            end -= 1  # a sign after no digit is the text's own
        if start == end:
            continue
        # between Han and the run, its punctuation is the run's: `司(001229.SZ)昨`, `*ST海`, spaced alike
        if start > match.start() and match.start() > 0 and is_han(text[match.start() - 1]):
            start = match.start()
        if end < match.end() and match.end() < len(text) and is_han(text[match.end()]):
            end = match.end()
        unit = end < len(text) and (text[end - 1].isdigit() or text[end - 1] in _NUMBER_SIGNS) and is_han(text[end])
        if unit:
            spans.append((start, end + 1, "zh-nobr"))
        if latin_spacing:
            classes = ["zh-latin"]
            if start > 0 and is_han(text[start - 1]):
                classes.append("zh-sp-l")
            if end < len(text) and is_han(text[end]):
                classes.append("zh-sp-r")
            spans.append((start, end, " ".join(classes)))
    for index in sorted(_halted(text)) if compress else ():
        spans.append((index, index + 1, "zh-halt"))
    spans.sort(key=lambda span: (span[0], -span[1]))
    return spans


def typeset(text: str, *, latin_spacing: bool = True, punctuation: str = "compress") -> Markup:
    """Escape `text` and wrap punctuation pairs, Latin runs and number+unit in classed spans (see module doc).

    Used as the jinja2 filter ``{{ block.text | typeset }}`` in the print templates; `latin_spacing`
    turns the quarter-em Latin/Han spacing on or off; `punctuation = "full"` (traditional editions: clreq
    3.1.6) keeps every mark in its full square, "compress" sets adjacent pairs in 1.5 em.
    """
    text = str(text)
    out: list[str] = []
    open_ends: list[int] = []
    position = 0
    for start, end, classes in _spans(text, latin_spacing, punctuation != "full"):
        while open_ends and open_ends[-1] <= start:
            close = open_ends.pop()
            out.append(str(escape(text[position:close])) + "</span>")
            position = close
        out.append(str(escape(text[position:start])) + f'<span class="{classes}">')
        position = start
        open_ends.append(end)
    while open_ends:
        close = open_ends.pop()
        out.append(str(escape(text[position:close])) + "</span>")
        position = close
    out.append(str(escape(text[position:])))
    return Markup("".join(out))

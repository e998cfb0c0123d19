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
    justification hook (`zhpress.pdf.weasy70`) removes it where the run starts or ends a line.
    A number's signs belong to its run (``50%以上``: a quarter em before ``50`` and after ``%``; ``-2.06``).
``zh-nobr``
    A number and the Han character after it (``72万``, ``4月``, ``50%以``), kept on one line.
``zh-tcy``, ``zh-upright``
    Only in vertical editions (``upright``): a number of one or two digits set across the column
    (``text-combine-upright``), a longer one with each digit upright.
``zh-dot``
    One Han character of emphasized text, with an emphasis dot (着重号) drawn under it by an empty
    zero-width box, so the text layer is unchanged (WeasyPrint has no ``text-emphasis``, and its gradients
    are drawn in RGB, which PDF/X refuses).

`typeset_pieces(texts)` does the same for the text runs of one inline sequence (a paragraph with
emphasis, links, notes …): the rules see the whole sequence, so a punctuation pair across a run boundary is
still compressed, and each run gets its own markup.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from .chars import is_han

__all__ = ["typeset", "typeset_pieces", "layout_halts", "layout_marks", "layout_css", "TYPESET_CSS", "CLOSING_MARKS", "OPENING_MARKS"]

#: Full-width marks drawn in the left half of their em box, blank on the right (SC style).
CLOSING_MARKS = "，。、；：？！）》」』”’】〉〕〗｝］"
#: Full-width marks drawn in the right half of their em box, blank on the left.
OPENING_MARKS = "（《「『“‘【〈〔〖｛［"

TYPESET_CSS = """\
.zh-halt { font-feature-settings: "halt"; }
.zh-latin.zh-sp-l { margin-left: 0.25em; }
.zh-latin.zh-sp-r { margin-right: 0.25em; }
.zh-nobr { white-space: nowrap; }
.zh-dot { white-space: nowrap; }
.zh-dot::after { content: ""; display: inline-block; width: 0.14em; height: 0.14em; margin: 0 0.43em 0 -0.57em; vertical-align: -0.3em; border-radius: 50%; background-color: currentColor; }
"""



def layout_css(*, pairs: bool, latin: bool, contents: bool = True) -> str:
    """The rules that have a PDF edition's layout set the typography of each text node itself
    (`zhpress.pdf.weasy70.typography`; `typeset(..., in_layout=True)` leaves it out of the markup): numbers
    kept with their units, and the pairs (`pairs`) and the Latin spacing (`latin`) the edition asks for, in
    the body and (`contents`: where its entries are typeset) the contents; never in code."""
    value = "units" + (" pairs" if pairs else "") + (" latin" if latin else "")
    where = ".bodymatter, .contents" if contents else ".bodymatter"
    return f"{where} {{ --zh-typeset: {value}; }}\npre, code {{ --zh-typeset: none; }}\n"


# Latin letters, digits and the ASCII punctuation that lives inside Latin words and numbers; a single
# space joins two such runs ("Omicron BA.2").
_LATIN_CHAR = r"[0-9A-Za-z\u00c0-\u024f\u0370-\u03ff.,:;!?%‰‱°℃℉&@#$*+\-_/'()]"
#: Signs that close a number and belong to its run (`50%以上`: spaced on both sides like `50`).
_NUMBER_SIGNS = "%‰‱°℃℉"
_LATIN_RUN = re.compile(rf"{_LATIN_CHAR}+(?: {_LATIN_CHAR}+)*")


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


def layout_halts(text: str) -> set[int]:
    """The pair rule alone (no paragraph start): what a layout of one text node sets half-width."""
    halt = {m.start() for m in _CLOSING_BEFORE_MARK.finditer(text)}
    halt.update(m.start() for m in _OPENING_AFTER_OPENING.finditer(text))
    return halt


def _span_halts(text: str, halts: set[int], starts: set[int]) -> set[int]:
    """The halted marks a layout of one text node cannot see as such, for spans: a paragraph's opening
    mark, and a pair whose marks are in different pieces (`starts`: where a piece begins) or whose first
    opening mark is itself a span."""
    spans: set[int] = set()
    for index in sorted(halts):
        if text[index] in OPENING_MARKS and (index == 0 or index in starts or index - 1 in spans):
            spans.add(index)
        elif text[index] in CLOSING_MARKS and index + 1 in starts:
            spans.add(index)
    return spans


# A free-standing number in vertical text: not part of a word, a decimal or a longer figure.
_UPRIGHT_NUMBER = re.compile(r"(?<![0-9A-Za-z.,])[0-9]+(?![0-9A-Za-z]|[.,][0-9])")


def _runs(text: str, latin_spacing: bool) -> list[tuple[int, int, list[tuple[int, int, str]]]]:
    """The spans of each Latin run, with the part of `text` the run's rules read (its region)."""
    runs: list[tuple[int, int, list[tuple[int, int, str]]]] = []
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
        spans = []
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
        if spans:
            runs.append((max(0, match.start() - 1), min(len(text), match.end() + 1), spans))
    return runs


def _span_runs(runs: list[tuple[int, int, list[tuple[int, int, str]]]], pieces: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """The spans of the runs a layout of one text node cannot set: a run whose region is not inside one
    of `pieces` (the texts the layout sees whole), or overlaps a run kept as spans."""
    kept = [not any(a <= start and end <= b for a, b in pieces) for start, end, _ in runs]
    changed = True
    while changed:
        changed = False
        taken = [(min(s[0] for s in spans), max(s[1] for s in spans)) for (_, _, spans), k in zip(runs, kept, strict=True) if k]
        for index, (start, end, _) in enumerate(runs):
            if not kept[index] and any(a < end and start < b for a, b in taken):
                kept[index] = changed = True
    return [span for (_, _, spans), k in zip(runs, kept, strict=True) if k for span in spans]


def _spans(
    text: str, latin_spacing: bool, upright: bool = False, compress: bool = True,
    in_layout: tuple[set[int], list[tuple[int, int]]] | None = None,
) -> list[tuple[int, int, str]]:
    """The spans to open, as (start, end, classes), properly nested and in document order; with
    `in_layout` (where pieces start, and the pieces a layout sees whole), only the typography a layout of
    one text node cannot set gets spans (`_span_halts`, `_span_runs`)."""
    spans: list[tuple[int, int, str]] = []
    if upright:
        for match in _UPRIGHT_NUMBER.finditer(text):
            length = match.end() - match.start()
            spans.append((match.start(), match.end(), "zh-tcy" if length <= 2 else "zh-upright"))
    runs = _runs(text, latin_spacing)
    if in_layout is None:
        spans.extend(span for _, _, run in runs for span in run)
    else:
        spans.extend(_span_runs(runs, in_layout[1]))
    halts = _halted(text) if compress else set()
    if in_layout is not None:
        halts = _span_halts(text, halts, in_layout[0])
    for index in sorted(halts):
        spans.append((index, index + 1, "zh-halt"))
    spans.sort(key=lambda span: (span[0], -span[1]))
    return spans


def layout_marks(text: str, *, pairs: bool, latin: bool) -> tuple[set[int], list[tuple[int, int, str]]]:
    """What a PDF layout sets in one text node (`zhpress.pdf.weasy70.typography`): the halted pairs
    (`pairs`) and the spans its Latin runs would have (quarter em with `latin`; numbers kept with units)."""
    return (layout_halts(text) if pairs else set()), [span for _, _, run in _runs(text, latin) for span in run]


def _markup(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` escaped, with the (properly nested, ordered) spans opened and closed in it."""
    out: list[str] = []
    open_ends: list[int] = []
    position = 0
    for start, end, classes in spans:
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
    return "".join(out)


def typeset(text: str, *, latin_spacing: bool = True, upright: bool = False, punctuation: str = "compress",
            in_layout: bool = False) -> Markup:
    """Escape `text` and wrap punctuation pairs, Latin runs and number+unit in classed spans (see module doc).

    Used as the text filter of the print and EPUB templates; `latin_spacing` turns the quarter-em
    Latin/Han spacing on or off, `upright` marks numbers for vertical setting; `punctuation = "full"`
    (traditional editions: clreq 3.1.6) keeps every mark in its full square, "compress" sets adjacent
    pairs in 1.5 em; `in_layout` leaves what a layout of the text can set (pairs inside it, Latin spacing,
    numbers kept with units) to the PDF layout (`layout_css`), so no inline box is made for it.
    """
    text = str(text)
    whole = ({0}, [(0, len(text))]) if in_layout else None
    return Markup(_markup(text, _spans(text, latin_spacing, upright, punctuation != "full", whole)))


def typeset_pieces(
    texts: list[str], dotted: list[bool], *, latin_spacing: bool = True, upright: bool = False,
    punctuation: str = "compress", in_layout: bool = False,
) -> list[Markup]:
    """The markup of each text run of one inline sequence, typeset as one text; the Han characters of the
    runs marked `dotted` (emphasis) get emphasis dots. A span crossing a run boundary is cut there, its
    Latin spacing kept on the side where the run really touches Han text."""
    joined = "".join(texts)
    starts, whole, at = set(), [], 0
    for text, dots in zip(texts, dotted, strict=True):
        starts.add(at)
        if not dots:
            whole.append((at, at + len(text)))
        at += len(text)
    spans = _spans(joined, latin_spacing, upright, punctuation != "full", (starts, whole) if in_layout else None)
    at = 0
    for text, dots in zip(texts, dotted, strict=True):
        if dots:
            spans.extend((at + i, at + i + 1, "zh-dot") for i, char in enumerate(text) if is_han(char))
        at += len(text)
    spans.sort(key=lambda span: (span[0], -span[1]))
    out: list[Markup] = []
    at = 0
    for text in texts:
        end = at + len(text)
        local = []
        for start, stop, classes in spans:
            if stop <= at or start >= end:
                continue
            if start < at or stop > end:
                kept = [c for c in classes.split() if not (c == "zh-sp-l" and start < at) and not (c == "zh-sp-r" and stop > end)]
                classes = " ".join(kept)
            local.append((max(start, at) - at, min(stop, end) - at, classes))
        out.append(Markup(_markup(text, local)))
        at = end
    return out

"""No paragraph ends with one character alone on its last line (孤字): WeasyPrint 70's line layout, amended.

Installed with the other patches of `zhpress.pdf.weasy70` (its guard checks the signatures of both
functions this module wraps):

* `layout.inline.split_inline_box` is wrapped: a line can be laid out in a narrower measure than its
  block's (the line box and the width are named on the layout context), and every line box records its
  natural width, its measure and whether it ends at a preserved line break.
* `layout.block.iter_line_boxes` (the one `block_container_layout` calls) is wrapped:
  - justified text: when a paragraph's last line holds one letter or Han character (with any
    punctuation: `作。`, `影……`), the line before it is laid out again just narrower than its natural
    width, so that it breaks one unit earlier, and the rest of the paragraph after it; the shortened line
    is then justified to the full measure (its gaps widen by about 1/30 em on an A5 page), and the change
    is kept only if the new last line is not alone and the spacing stays within the justification cap;
  - centred text of two to six lines (headlines, headings, epigraphs): the lines are balanced, laid out
    in the narrowest measure that keeps their number, so no short last line (`……共产 / 党人。”`) remains.
The text is never changed: only where lines break. Paragraphs with floats, positioned or atomic inline
boxes, a `::first-letter` or preserved line breaks are left as WeasyPrint lays them out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .guard import original
from .justify import CJK_SPACING_CAP
from .styles import idents

__all__ = ["Paragraph", "centred_marks", "compressed", "is_lone", "iter_line_boxes", "plain", "spacing", "split_inline_box"]

#: Most lines a centred paragraph may have for its lines to be balanced (as CSS `text-wrap: balance`
#: implementations do: beyond a few lines, balancing costs more than it shows).
BALANCE_LINES = 6

_NARROW = "zh_narrow"  # layout-context attribute: (line box, measure) while a paragraph is laid out again


def split_inline_box(context: Any, box: Any, position_x: float, max_x: float, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's split_inline_box; for a line box, in the measure asked for and noting what it found."""
    from weasyprint.formatting_structure import boxes

    if type(box) is not boxes.LineBox:
        return original("layout.inline:split_inline_box")(context, box, position_x, max_x, *args, **kwargs)
    measure = max_x - box.position_x
    narrow = getattr(context, _NARROW, None)
    if narrow is not None and narrow[0] is box:
        max_x = box.position_x + narrow[1]
    result = original("layout.inline:split_inline_box")(context, box, position_x, max_x, *args, **kwargs)
    line = result[0]
    line.zh_natural_width = line.width
    line.zh_measure = measure
    line.zh_forced_break = bool(result[2])
    return result


def plain(box: Any) -> bool:
    """True when a paragraph holds text and inline boxes only, all in the normal flow (laying its lines out
    again then has no side effect: no float, placeholder or running element is registered)."""
    from weasyprint.formatting_structure import boxes

    for child in box.descendants():
        if type(child) not in (boxes.LineBox, boxes.InlineBox, boxes.TextBox) or not child.is_in_normal_flow():
            return False
    return True


def is_lone(line: Any) -> bool:
    """True for a line that holds one letter or Han character, the rest punctuation or spaces."""
    from weasyprint.formatting_structure import boxes

    letters = 0
    for box in line.descendants():
        if isinstance(box, boxes.TextBox):
            letters += sum(unicodedata.category(char)[0] in "LN" for char in box.text)
        elif not isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            return False
    return letters == 1


def spacing(line: Any) -> float:
    """The largest inter-character spacing the justification gave a line (0 when none)."""
    from weasyprint.formatting_structure import boxes

    found = [
        getattr(box.pango_layout, "zh_cjk_spacing", 0.0)
        for box in line.descendants()
        if isinstance(box, boxes.TextBox) and box.pango_layout is not None
    ]
    return max(found, default=0.0)


class Paragraph:
    """The arguments of one iter_line_boxes call: lays the paragraph's lines out again from a line on."""

    def __init__(self, args: tuple[Any, ...]) -> None:
        (self.context, self.box, self.position_y, self.bottom_space, self.skip_stack, self.containing_block,
         self.absolute_boxes, self.fixed_boxes, self.first_letter_style, self.first_line_style) = args

    def lines(self, skip_stack: Any, position_y: float, first: bool) -> Iterator[tuple[Any, Any]]:
        return original("layout.block:iter_line_boxes")(
            self.context, self.box, position_y, self.bottom_space, skip_stack, self.containing_block,
            self.absolute_boxes, self.fixed_boxes, None, self.first_line_style if first else None)

    def relayout(self, skip_stack: Any, position_y: float, first: bool, measures: list[float | None],
                 rest: float | None = None) -> list[tuple[Any, Any]]:
        """The lines from `skip_stack` on, each in its measure from `measures`, the ones after in `rest`
        (None: the block's own)."""
        out: list[tuple[Any, Any]] = []
        lines = self.lines(skip_stack, position_y, first)
        try:
            while True:
                measure = measures[len(out)] if len(out) < len(measures) else rest
                setattr(self.context, _NARROW, None if measure is None else (self.box, measure))
                entry = next(lines, None)
                if entry is None:
                    return out
                out.append(entry)
        finally:
            setattr(self.context, _NARROW, None)


def _trailing_blank(context: Any, line: Any) -> float:
    """The blank the line's last mark leaves after its ink (SC `。` about 0.68 em, TC `。` 0.36 em), at most
    half an em: what compressing that mark to half its box would take off the line's end."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango
    from weasyprint.text.line_break import create_layout

    texts = [box for box in line.descendants() if isinstance(box, boxes.TextBox) and box.text.strip()]
    if not texts:
        return 0.0
    mark = texts[-1].text.rstrip()[-1]
    if unicodedata.category(mark)[0] != "P" or mark in "…—":
        return 0.0
    layout = create_layout(mark, texts[-1].style, context, None, 0)
    ink, logical = ffi.new("PangoRectangle *"), ffi.new("PangoRectangle *")
    pango.pango_layout_line_get_extents(pango.pango_layout_get_line_readonly(layout.layout, 0), ink, logical)
    blank = ((logical.x + logical.width) - (ink.x + ink.width)) * FROM_UNITS
    return max(0.0, min(blank, texts[-1].style["font_size"] / 2))


def _pull_back(paragraph: Paragraph, held: list[tuple[Any, Any, Any, bool]],
               cap: float) -> tuple[int, list[tuple[Any, Any]]] | None:
    """The paragraph's last lines (`held`: up to three, the last one lone) laid out again so that the last
    holds more than one character: how many of `held` the new lines replace, and those lines; None when no
    way below fits.

    1. The lone character is taken onto the line before, if it fits once the paragraph's final mark is
       compressed to half its box (its blank half past the measure, its ink inside).
    2. The line before breaks one unit earlier, or else the two lines before break one unit earlier each
       (the loss shared by two lines), if the justification spacing stays within `cap` (wider gaps look
       loose, and text extractors read them as word spaces).
    3. In simplified Chinese, 1. with every mark of the new last line in half its em box (标点挤压)."""
    merged = _merged(paragraph, held[-2])
    if merged is not None:
        return 2, merged
    for count, lines in _earlier_breaks(paragraph, held):
        if (len(lines) == count and lines[-1][1] is None and not is_lone(lines[-1][0])
                and all(spacing(line) <= cap for line, _ in lines[:-1])):
            return count, lines
    if not centred_marks(held[-2][0].style):
        with compressed(paragraph):
            merged = _merged(paragraph, held[-2])
        if merged is not None:
            return 2, merged
    return None


def _earlier_breaks(paragraph: Paragraph, held: list[tuple[Any, Any, Any, bool]]) -> Iterator[tuple[int, list[tuple[Any, Any]]]]:
    """`_pull_back`'s second way, laid out only when asked for: the line before the lone one broken one
    unit earlier (2 lines), then the two lines before it one unit earlier each (3 lines)."""
    line, _resume_at, start, first = held[-2]
    yield 2, paragraph.relayout(start, line.position_y, first, [line.zh_natural_width - 0.01])
    if len(held) > 2:
        line, _resume_at, start, first = held[-3]
        shorter = [line.zh_natural_width - 0.01]
        again = paragraph.relayout(start, line.position_y, first, shorter)
        if len(again) == 3 and again[-1][1] is None and is_lone(again[-1][0]):
            again = paragraph.relayout(start, line.position_y, first, [*shorter, again[1][0].zh_natural_width - 0.01])
        yield 3, again


def _merged(paragraph: Paragraph, before: tuple[Any, Any, Any, bool]) -> list[tuple[Any, Any]] | None:
    """The line `before` and the lone last line laid out as one, if its ink stays inside the measure
    (the blank half of its final mark past it)."""
    line, _resume_at, start, first = before
    merged = paragraph.relayout(start, line.position_y, first, [line.zh_measure + line.style["font_size"] / 2])
    if (len(merged) == 1 and merged[0][1] is None
            and merged[0][0].zh_natural_width - _trailing_blank(paragraph.context, merged[0][0]) <= line.zh_measure + 0.01):
        return merged
    return None


def centred_marks(style: Any) -> bool:
    """True where each mark keeps its full square: the edition's `punctuation = "full"` (the custom property
    ``--zh-punctuation`` the page rules set), else traditional Chinese, whose faces centre the marks and
    whose books keep them full (clreq 3.1.6). The marks of its last lines are then not compressed."""
    setting = idents(style, "zh-punctuation")
    if setting:
        return "full" in setting
    lang = (style["lang"] or "").lower()
    return lang.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo"))


@contextmanager
def compressed(paragraph: Paragraph) -> Iterator[None]:
    """While the paragraph's last line is laid out again: every mark of its text in half its em box
    (OpenType `halt`, as `zh-halt` sets a pair); the lines laid out meanwhile keep that style."""
    from weasyprint.formatting_structure import boxes

    saved = []
    for box in paragraph.box.descendants():
        if isinstance(box, boxes.TextBox):
            saved.append((box, box.style))
            halted = box.style.copy()
            settings = box.style["font_feature_settings"]
            halted["font_feature_settings"] = (*(() if settings == "normal" else settings), ("halt", 1))
            box.style = halted
    try:
        yield
    finally:
        for box, style in saved:
            box.style = style


def _justified(paragraph: Paragraph, lines: Iterator[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The lines of a paragraph, two lines ahead: a lone last line is pulled back (`_pull_back`)."""

    held: list[tuple[Any, Any, Any, bool]] = []  # line, resume_at, skip stack it started at, first line?
    start, first = paragraph.skip_stack, True
    for line, resume_at in lines:
        held.append((line, resume_at, start, first))
        start, first = resume_at, False
        if resume_at is None:
            break
        if len(held) > 2:
            yield held.pop(0)[:2]
    if len(held) >= 2 and is_lone(held[-1][0]) and not any(entry[0].zh_forced_break for entry in held[:-1]):
        pulled = _pull_back(paragraph, held, CJK_SPACING_CAP * held[-2][0].style["font_size"] + 1e-6)
        if pulled is not None:
            replaced, again = pulled
            for entry in held[:-replaced]:
                yield entry[:2]
            yield from again
            return
    for entry in held:
        yield entry[:2]


def _balanced(paragraph: Paragraph, lines: Iterator[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The lines of a centred paragraph, balanced: the narrowest measure that keeps their number."""
    laid = list(lines)
    count = len(laid)
    if any(line.zh_forced_break for line, _ in laid[:-1]):
        yield from laid
        return
    if count > BALANCE_LINES:
        yield from _justified(paragraph, iter(laid))
        return
    if count < 2:
        yield from laid
        return
    first_line = laid[0][0]
    low = sum(line.zh_natural_width for line, _ in laid) / count
    high = first_line.zh_measure
    step = first_line.style["font_size"] / 4
    best = laid
    while high - low > step:
        middle = (low + high) / 2
        again = paragraph.relayout(paragraph.skip_stack, paragraph.position_y, True, [], middle)
        if len(again) == count and all(line.zh_natural_width <= middle + 0.01 for line, _ in again):
            high, best = middle, again
        else:
            low = middle
    yield from best


def iter_line_boxes(*args: Any) -> Iterator[tuple[Any, Any]]:
    """WeasyPrint's iter_line_boxes, with no lone last character in justified text and balanced centred text."""
    paragraph = Paragraph(args)
    lines = original("layout.block:iter_line_boxes")(*args)
    style = paragraph.box.style
    align, last = style["text_align_all"], style["text_align_last"]
    if paragraph.first_letter_style or paragraph.context.excluded_shapes or style["direction"] == "rtl":
        yield from lines
    elif align == "justify" and last in ("auto", "start", "left") and plain(paragraph.box):
        yield from _justified(paragraph, lines)
    elif align == "center" and last in ("auto", "center") and plain(paragraph.box):
        yield from _balanced(paragraph, lines)
    else:
        yield from lines

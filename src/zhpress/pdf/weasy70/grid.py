"""A line grid for the body (版心的行格): every body line sits a whole number of pitches below the page's top.

The pitch is the root element's line height. A line whose block asks for the grid (the CSS custom property
``--zh-line-grid: on``, inherited; ``none`` opts a block out) and whose height is one pitch is moved down
to the next grid line. A heading, a note, a figure or any block of another line height is therefore
rounded up, with the space around it, to a whole number of body lines, widows and orphans move whole
lines, and every full page ends on the same baseline, as on a facing page.

No page of the body ends short for a widow or an orphan (print.css sets both to one there): a paragraph
whose last line alone would go over to the next page is set one line longer instead (伸行: its lines on this
page each break a unit or two earlier, within the justification cap) or, where marks are compressed, one line
shorter with its marks in half their box (缩行), so that it does not; when neither can be, that line goes
over alone (never a lone character: the lone rule keeps two at least). Installed with the other patches of
`zhpress.pdf.weasy70`: it wraps the lone-character rule's `iter_line_boxes`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from .justify import CJK_SPACING_CAP
from .lone import Paragraph, centred_marks, compressed, is_lone, plain, spacing
from .lone import iter_line_boxes as lone_lines
from .styles import idents

__all__ = ["iter_line_boxes", "pitch"]

_TOLERANCE = 0.01  # px: a line this close to one pitch high is a body line
#: A line at most this share of a pitch below a grid line goes up onto it (a line before it grew a little
#: taller than a pitch, say by a face of other metrics), not down a whole pitch to the next.
SLACK = 0.1


def pitch(context: Any) -> tuple[float, float] | None:
    """The grid of the page being laid out: its content box's top and the root's line height (px); None
    before a page or when the root's line height is `normal`."""
    from weasyprint.text.line_break import strut

    area = context.current_footnote_area
    if area is None or area.page.style["line_height"] == "normal":
        return None
    page = area.page
    return page.content_box_y(), strut(page.style)[0]


def iter_line_boxes(*args: Any) -> Iterator[tuple[Any, Any]]:
    """The lone-character rule's lines (`lone.iter_line_boxes`), each body line moved down onto the grid."""
    context, containing_block = args[0], args[5]
    lines = lone_lines(*args)
    grid = pitch(context) if "on" in idents(containing_block.style, "zh-line-grid") and not context.in_column else None
    if grid is None:
        yield from lines
        return
    top, step = grid
    snapped = (_snap(entry, top, step) for entry in lines)
    yield from _filled(Paragraph(args), snapped, lambda entry: _snap(entry, top, step))


def _snap(entry: tuple[Any, Any], top: float, step: float) -> tuple[Any, Any]:
    """A line one pitch high (or a little more) moved onto a grid line: down to the next one, or up to the
    one just above it when that is at most `SLACK` pitches away. Other lines stay as they are."""
    line = entry[0]
    if step - _TOLERANCE <= line.height <= step * (1 + SLACK) and line.position_y >= top - _TOLERANCE:
        steps = (line.position_y - top) / step
        target = top + (math.floor(steps) if steps - math.floor(steps) <= SLACK else math.ceil(steps)) * step
        if abs(target - line.position_y) > _TOLERANCE:
            line.translate(0, target - line.position_y)
    return entry


def _filled(paragraph: Paragraph, lines: Iterator[tuple[Any, Any]],
            snap: Any) -> Iterator[tuple[Any, Any]]:
    """The paragraph's lines; when only its last line would go over to the next page, the paragraph set one
    line longer so that two go over (`_longer`), if it can be."""
    context = paragraph.context
    held: list[tuple[Any, Any]] = []
    for entry in lines:
        held.append(entry)
        over = context.overflows_page(paragraph.bottom_space, entry[0].position_y + entry[0].height)
        if not over and entry[1] is not None:
            continue
        if over and entry[1] is None and len(held) >= 3 and not context.current_page_footnotes:
            longer = _longer(paragraph, held)
            if longer is not None:
                yield from (snap(again) for again in longer)
                return
        break
    yield from held
    yield from lines


def _longer(paragraph: Paragraph, held: list[tuple[Any, Any]]) -> list[tuple[Any, Any]] | None:
    """The paragraph set again so that its last line does not go over alone: one line longer (伸行, each
    line that fits on the page one unit, else two units, shorter, every gap within the cap), else, in
    an edition that compresses marks, one line shorter with its marks in half their box (缩行, as the lone rule's last
    step); None when neither gives that without a lone last character."""
    if not plain(paragraph.box) or any(line.zh_forced_break for line, _ in held):
        return None
    fitting = held[:-1]
    cap = CJK_SPACING_CAP * fitting[0][0].style["font_size"] + 1e-6
    measures = [line.zh_natural_width for line, _ in fitting]
    for _units in (1, 2):
        measures = [width - 0.01 for width in measures]
        again = paragraph.relayout(paragraph.skip_stack, paragraph.position_y, True, measures)
        if len(again) < len(held) + 1:
            measures = [line.zh_natural_width for line, _ in again[: len(fitting)]]
            continue
        if (len(again) == len(held) + 1 and again[-1][1] is None and not is_lone(again[-1][0])
                and all(spacing(line) <= cap for line, _ in again[:-1])):
            return again
        break
    if centred_marks(held[0][0].style):
        return None
    with compressed(paragraph):
        again = paragraph.relayout(paragraph.skip_stack, paragraph.position_y, True, [])
    if len(again) == len(fitting) and again[-1][1] is None and not is_lone(again[-1][0]):
        return again
    return None

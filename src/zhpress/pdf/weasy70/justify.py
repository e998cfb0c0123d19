"""CJK inter-character justification (clreq): every CJK character an expansion opportunity, the text untouched.

WeasyPrint 70 stretches U+0020/U+00A0 only, so Han text comes out ragged right. `justify_line` counts each
CJK character as one opportunity (half at a text box's edge, the other half between boxes; spaces keep
WeasyPrint's count); `set_text` gives a drawn box's CJK characters the spacing as Pango letter-spacing
(half each side, the outer halves dropped at the box's edges); `remove_last_whitespace` drops a
``zh-latin`` span's quarter-em margin at a line's start or end. The doubled dash and ellipsis stay joined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cjk import kind as _kind
from .cjk import weight as _weight
from .cjk import weighted_count, weighted_runs
from .guard import original
from .typography import apply as set_marks
from .typography import box_marks, for_box, place

# WeasyPrint's modules are imported inside the functions: importing zhpress.pdf must not load WeasyPrint.

# Opportunities between the last character of one text box and the first of the next, by their kinds:
# (CJK units, free units). A Latin/Han boundary is a free unit: it may take more than a Han gap.
_BETWEEN = {
    ("cjk", "cjk"): (1.0, 0.0),
    ("cjk", "other"): (0.0, 1.0),
    ("other", "cjk"): (0.0, 1.0),
    ("cjk", "space"): (0.5, 0.0),
    ("space", "cjk"): (0.5, 0.0),
    ("cjk", "mark"): (0.5, 0.0),
    ("mark", "cjk"): (0.5, 0.0),
}

#: Largest gap added between two Han characters while a line has other opportunities (spaces, Latin/Han
#: boundaries) to take the rest, as a fraction of the font size. Text extractors (poppler's pdftotext,
#: 0.1 em) read a larger gap between glyphs as a word space; above it, a line is spread evenly.
CJK_SPACING_CAP = 0.09


def _walk(box: Any, boxes: Any, plan: dict[int, tuple[float, ...]], previous: list[str | None]) -> None:
    """Fill `plan` with (CJK units before, free units before, CJK units inside, spaces inside) per text box.

    `previous` holds the kind of the last character met, None at the start of the line.
    """
    if isinstance(box, boxes.TextBox):
        if box.text:
            text = box.text
            inside = weighted_count(text) - (_weight(text[0]) + _weight(text[-1])) / 2
            spaces = text.count(" ") + text.count("\u00a0")
            # a span edge of the markup at a CJK/other boundary counts as the edge of two boxes did
            edges = len(box_marks(box).edges)
            inside, spaces = inside - edges / 2, spaces + edges
            before = _BETWEEN.get((previous[0], _kind(text[0])), (0.0, 0.0)) if previous[0] else (0.0, 0.0)
            plan[id(box)] = (*before, inside, spaces)
            previous[0] = _kind(text[-1])
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                _walk(child, boxes, plan, previous)
    else:
        previous[0] = "other"


def _spread(context: Any, box: Any, cjk: float, free: float, plan: dict[int, tuple[float, ...]], x: float,
            boxes: Any, create_layout: Callable[..., Any]) -> float:
    """Move and widen the boxes of a line: `cjk` per CJK opportunity, `free` per other one; return x advance."""
    if isinstance(box, boxes.TextBox):
        cjk_before, free_before, cjk_inside, spaces = plan.get(id(box), (0.0, 0.0, 0.0, 0.0))
        x += cjk_before * cjk + free_before * free
        box.position_x += x
        box.justification_spacing = free
        if cjk_inside or spaces:
            with for_box(box):
                layout = create_layout(box.text, box.style, context, None, free)
            layout.zh_cjk_spacing = cjk
            layout.deactivate()
            box.pango_layout = layout
            box.width += cjk_inside * cjk + spaces * free
            x += cjk_inside * cjk + spaces * free
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x
        start = x
        for child in box.children:
            if child.is_in_normal_flow():
                x = _spread(context, child, cjk, free, plan, x, boxes, create_layout)
        box.width += x - start
    else:
        box.translate(x, 0)
    return x


def justify_line(context: Any, line: Any, extra_width: float) -> None:
    """Spread `extra_width` over the spaces, CJK character gaps and Latin/Han boundaries of a line."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.text.line_break import create_layout

    if line.style["direction"] == "rtl":
        original("layout.inline:justify_line")(context, line, extra_width)
        return
    plan: dict[int, tuple[float, ...]] = {}
    _walk(line, boxes, plan, [None])
    cjk_units = sum(entry[0] + entry[2] for entry in plan.values())
    free_units = sum(entry[1] + entry[3] for entry in plan.values())
    if cjk_units + free_units <= 0:
        return
    cjk = free = extra_width / (cjk_units + free_units)
    cap = CJK_SPACING_CAP * line.style["font_size"]
    if cjk > cap and free_units:
        cjk = cap
        free = (extra_width - cap * cjk_units) / free_units
    _spread(context, line, cjk, free, plan, 0.0, boxes, create_layout)




def set_text(self: Any, text: str, justify: bool = False) -> None:
    """WeasyPrint's set_text, then the text node's typography (`typography`) and the justification
    spacing as letter-spacing on CJK characters."""
    original("text.line_break:Layout.set_text")(self, text, justify)
    placed = set_marks(self, self.text.encode(), justify)
    _cjk_spacing(self, justify)
    place(self, placed)


def _cjk_spacing(self: Any, justify: bool) -> None:
    """The justification spacing as letter-spacing on the layout's CJK characters."""
    from weasyprint.text.ffi import TO_UNITS, ffi, pango

    cjk = getattr(self, "zh_cjk_spacing", self.justification_spacing)
    if not (justify and cjk):
        return
    letter_spacing = self.style["letter_spacing"]
    spacing = int((cjk + (0 if letter_spacing == "normal" else letter_spacing)) * TO_UNITS)
    ranges = weighted_runs(self.text)
    if not ranges:
        return
    attr_list = pango.pango_layout_get_attributes(self.layout)
    if attr_list == ffi.NULL:
        attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    for start, end in ranges:
        attr = pango.pango_attr_letter_spacing_new(spacing)
        attr.start_index, attr.end_index = start, end
        pango.pango_attr_list_change(attr_list, attr)
    pango.pango_layout_set_attributes(self.layout, attr_list)


def _is_latin_span(box: Any) -> bool:
    """True for the inline box of a ``zh-latin`` span from `zhpress.typeset`."""
    element = getattr(box, "element", None)
    return element is not None and "zh-latin" in (element.get("class") or "").split()


def _edge_path(line: Any, boxes: Any, last: bool) -> list[Any]:
    """The boxes from the line down to its first (or last) non-empty leaf."""
    path = [line]
    box = line
    while isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        children = [
            child for child in box.children
            if child.is_in_normal_flow() and not (isinstance(child, boxes.TextBox) and not child.text)
        ]
        if not children:
            break
        box = children[-1] if last else children[0]
        path.append(box)
    return path


def remove_last_whitespace(context: Any, line: Any) -> None:
    """WeasyPrint's trailing-space removal, then no Latin/Han spacing at the line's start or end."""
    from weasyprint.formatting_structure import boxes

    original("layout.inline:remove_last_whitespace")(context, line)
    path = _edge_path(line, boxes, last=False)
    for depth, box in enumerate(path):
        margin = box.margin_left if isinstance(box, boxes.InlineBox) else 0
        if margin and _is_latin_span(box):
            box.margin_left = 0
            for child in box.children:
                child.translate(dx=-margin, ignore_floats=True)
            for ancestor, child in zip(path[:depth], path[1:depth + 1], strict=True):
                ancestor.width -= margin
                after = ancestor.children[ancestor.children.index(child) + 1:]
                for sibling in after:
                    sibling.translate(dx=-margin, ignore_floats=True)
    path = _edge_path(line, boxes, last=True)
    for depth, box in enumerate(path):
        margin = box.margin_right if isinstance(box, boxes.InlineBox) else 0
        if margin and _is_latin_span(box):
            box.margin_right = 0
            for ancestor in path[:depth]:
                ancestor.width -= margin

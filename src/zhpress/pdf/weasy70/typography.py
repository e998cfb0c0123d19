"""The print typography of a text node set by its Pango layout, not by one inline box per mark.

Text whose style carries ``--zh-typeset`` (`zhpress.typeset.layout_css`) gets, inside each text node, what
`zhpress.typeset` would have marked up (`layout_marks`):

* ``pairs``: the first mark of an adjacent pair in half its em box, as a ``halt`` font-feature attribute
  over the mark's bytes;
* ``latin``: the quarter em between a Latin run and Han, as letter-spacing on the run's edge character
  whose glyph is then moved so that the space falls on the Han side only (`place`); at a line's start
  or end Pango drops that half, and the space goes with it, as the markup's margin went;
* ``units``: a number and its unit kept on one line (a no-break attribute over them).

Where the markup had a span edge between CJK and other text, the justification (`justify`) counts the
edge as it counted the edge between two boxes. A layout often holds only part of its text node (one
line of it): `split_text_box` finds the marks in the whole node and gives each line's box its own
(`zh_marks`, byte offsets into its text), for the layouts the justification and the drawing make again.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...typeset import layout_marks
from .cjk import kind
from .guard import original
from .styles import idents

__all__ = ["Marks", "apply", "box_marks", "for_box", "place", "split_text_box"]

_ATTRIBUTE = "zh_marks"  # on a TextBox or Layout: its text's `Marks`
_local = threading.local()  # .marks: (Marks, text) of the layouts made now, whose texts begin that text
_QUARTER = 0.25  # em: the Latin/Han space


@dataclass(frozen=True)
class Marks:
    """A text's typography by byte offsets: halted marks, Latin edge characters with their space on the
    left/right (in em), no-break ranges, and span edges at a CJK/other boundary (for the justification)."""

    halts: tuple[tuple[int, int], ...] = ()
    spaces: tuple[tuple[int, int, float, float], ...] = ()
    keep: tuple[tuple[int, int], ...] = ()
    edges: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.halts or self.spaces or self.keep or self.edges)

    def shifted(self, start: int, size: int | None = None) -> Marks:
        """The marks of the text from byte `start` on (`size` bytes of it, if given)."""
        end = float("inf") if size is None else size
        return Marks(
            tuple((a - start, b - start) for a, b in self.halts if a >= start and b - start <= end),
            tuple((a - start, b - start, left, right) for a, b, left, right in self.spaces if a >= start and b - start <= end),
            tuple((max(a - start, 0), min(b - start, end)) for a, b in self.keep if b > start and a - start < end),  # type: ignore[misc]
            tuple(p - start for p in self.edges if 0 < p - start < end),
        )


NONE = Marks()


def _marks(text: str, style: Any) -> Marks:
    """The typography of one text node (see module doc), by byte offsets."""
    settings = idents(style, "zh-typeset") & {"units", "pairs", "latin"}
    if not settings or style["direction"] == "rtl":
        return NONE
    halts, spans = layout_marks(text, pairs="pairs" in settings, latin="latin" in settings)
    if not halts and not spans:
        return NONE
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode()))
    left: dict[int, float] = {}
    right: dict[int, float] = {}
    keep: list[tuple[int, int]] = []
    edges: set[int] = set()
    for start, end, classes in spans:
        names = classes.split()
        if "zh-nobr" in names:
            if "units" in settings:
                keep.append((offsets[start], offsets[end]))
        elif "zh-latin" not in names:
            continue
        edges.update((start, end))
        if "zh-sp-l" in names:
            left[start] = _QUARTER
        if "zh-sp-r" in names:
            right[end - 1] = _QUARTER
    for index in halts:
        edges.update((index, index + 1))
    cross = sorted(offsets[p] for p in edges if 0 < p < len(text) and {kind(text[p - 1]), kind(text[p])} == {"cjk", "other"})
    spaced = sorted(set(left) | set(right))
    return Marks(
        tuple((offsets[i], offsets[i + 1]) for i in sorted(halts)),
        tuple((offsets[i], offsets[i + 1], left.get(i, 0.0), right.get(i, 0.0)) for i in spaced),
        tuple(keep),
        tuple(cross),
    )


def box_marks(box: Any) -> Marks:
    """The marks of a text box, by byte offsets into its text (found once per text node)."""
    found = box.__dict__.get(_ATTRIBUTE)
    if found is None:
        found = _marks(box.text, box.style)
        setattr(box, _ATTRIBUTE, found)
    return found


@contextmanager
def _current(marks: tuple[Marks, str] | None) -> Iterator[None]:
    saved = getattr(_local, "marks", None)
    _local.marks = marks
    try:
        yield
    finally:
        _local.marks = saved


@contextmanager
def for_box(box: Any) -> Iterator[None]:
    """While a layout of `box.text` is made: its marks as the box knows them."""
    with _current((box_marks(box), box.text)):
        yield


def split_text_box(context: Any, box: Any, available_width: Any, skip: Any, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's split_text_box, its layouts told the text node's marks; the line's box keeps its own."""
    marks = box_marks(box)
    shifted = marks.shifted(skip) if marks and skip else marks
    rest = box.text.encode()[skip:].decode() if skip else box.text
    with _current((shifted, rest)):
        result = original("layout.inline:split_text_box")(context, box, available_width, skip, *args, **kwargs)
    new_box = result[0]
    if new_box is not None and new_box is not box:
        setattr(new_box, _ATTRIBUTE, shifted.shifted(0, len(new_box.text.encode())) if shifted else shifted)
    return result


_declared = [False]


def _pango() -> tuple[Any, Any]:
    """WeasyPrint's cffi handle and Pango, with the two Pango functions WeasyPrint does not declare."""
    from weasyprint.text.ffi import ffi, pango

    if not _declared[0]:
        ffi.cdef("""
            PangoAttribute * pango_attr_allow_breaks_new (gboolean allow_breaks);
            PangoLayoutLine * pango_layout_get_line (PangoLayout *layout, int line);
        """)
        _declared[0] = True
    return ffi, pango


def _layout_marks(layout: Any) -> Marks:
    """The marks of a layout's text: told when it was made (its later texts are prefixes of that one)."""
    marks = layout.__dict__.get(_ATTRIBUTE)
    if marks is None:
        current = getattr(_local, "marks", None)
        text = layout.text
        if current is not None and (current[1].startswith(text) or current[1].startswith(text[:-1])):
            marks = current[0]  # a line of the node (or one with a hyphen added)
        else:
            marks = _marks(text, layout.style)  # a layout of its own text (min/max-content widths)
        layout.zh_marks = marks
    return marks


def _units(points: float) -> int:
    """Pango units for a letter-spacing split evenly in two halves (even, and not whole points, which
    Pango rounds)."""
    from weasyprint.text.ffi import TO_UNITS

    units = 2 * round(points * TO_UNITS / 2)
    return units + 2 if units and units % int(TO_UNITS) == 0 else units


def apply(layout: Any, bytestring: bytes, justify: bool) -> list[tuple[int, int, float, float]]:
    """Set a layout's marks as attributes (after set_text); return its spaced characters (byte range,
    left and right space in points) for `place` once every attribute is set. With `justify`, the span
    edges at CJK/other boundaries get what the justification gives them (see `justify.justify_line`)."""
    marks = _layout_marks(layout)
    if not marks:
        return []
    ffi, pango = _pango()
    size = len(bytestring)
    attr_list = pango.pango_layout_get_attributes(layout.layout)
    if attr_list == ffi.NULL:
        attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    for start, end in marks.halts:
        if end <= size:
            attr = pango.pango_attr_font_features_new(b"halt 1")
            attr.start_index, attr.end_index = start, end
            pango.pango_attr_list_insert(attr_list, attr)
    for start, end in marks.keep:
        if start < size:
            attr = pango.pango_attr_allow_breaks_new(False)
            attr.start_index, attr.end_index = start, min(end, size)
            pango.pango_attr_list_insert(attr_list, attr)
    em = layout.style["font_size"]
    spaces = {(a, b): [left * em, right * em] for a, b, left, right in marks.spaces if b <= size}
    if justify and marks.edges:
        cjk = getattr(layout, "zh_cjk_spacing", layout.justification_spacing)
        extra = layout.justification_spacing - cjk / 2
        for p in marks.edges:
            if p >= size:
                continue
            before = bytestring[:p].decode("utf-8", "replace")[-1]
            after_end = p + len(bytestring[p:p + 4].decode("utf-8", "ignore")[:1].encode())
            if kind(before) == "other":
                start = p - len(before.encode())
                spaces.setdefault((start, p), [0.0, 0.0])[1] += extra
            else:
                spaces.setdefault((p, after_end), [0.0, 0.0])[0] += extra
    letter_spacing = layout.style["letter_spacing"]
    base = 0 if letter_spacing == "normal" else letter_spacing
    placed = []
    for (start, end), (left, right) in sorted(spaces.items()):
        units = _units(left + right)
        if not units:
            continue
        attr = pango.pango_attr_letter_spacing_new(units + _units(base) if base else units)
        attr.start_index, attr.end_index = start, end
        pango.pango_attr_list_change(attr_list, attr)
        placed.append((start, end, left, right))
    pango.pango_layout_set_attributes(layout.layout, attr_list)
    return placed


def place(layout: Any, placed: list[tuple[int, int, float, float]]) -> None:
    """Put each spaced character's letter-spacing (split by Pango in two halves, the outer one dropped at
    a line's start or end) where it belongs: `left` in the advance of the glyph before it, `right` in its
    own, none at a line's edge. (Not as a glyph offset: WeasyPrint writes offsets 2.4 % short.)"""
    from weasyprint.text.ffi import TO_UNITS

    if not placed or any(char in layout.text for char in "\n\r\u2029"):
        return
    ffi, pango = _pango()
    # the drawing sets this mode, which would lay the text out again without the moves (no paragraph
    # break in the text: the same lines)
    pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
    wanted = {start: (left, right, _units(left + right) // 2) for start, _end, left, right in placed}
    starts = sorted(wanted)
    index = 0
    while True:
        # not the read-only line: Pango then measures its extents again (with the moves) when asked
        line = pango.pango_layout_get_line(layout.layout, index)
        if line == ffi.NULL:
            return
        index += 1
        runs = []
        node = line.runs
        while node != ffi.NULL:
            runs.append(node.data)
            node = node.next
        for number, run in enumerate(runs):
            offset = run.item.offset
            first = bisect.bisect_left(starts, offset)
            end = bisect.bisect_left(starts, offset + run.item.length)
            if first == end:
                continue
            glyphs = run.glyphs
            count = glyphs.num_glyphs
            clusters = ffi.unpack(glyphs.log_clusters, count)  # one read, not one C access per glyph
            for cluster in starts[first:end]:
                try:
                    g = clusters.index(cluster - offset)  # a cluster's glyphs are contiguous: its first
                except ValueError:
                    continue
                last = g
                while last + 1 < count and clusters[last + 1] == cluster - offset:
                    last += 1
                left, right, half = wanted[cluster]
                at_start = number == 0 and g == 0
                at_end = number == len(runs) - 1 and last == count - 1
                has_left = 0 if at_start else half
                has_right = 0 if at_end else half
                glyphs.glyphs[g].geometry.x_offset -= has_left
                glyphs.glyphs[g].geometry.width -= has_left
                glyphs.glyphs[last].geometry.width += (0 if at_end else int(right * TO_UNITS)) - has_right
                if not at_start:
                    before = glyphs.glyphs[g - 1] if g else runs[number - 1].glyphs.glyphs[runs[number - 1].glyphs.num_glyphs - 1]
                    before.geometry.width += int(left * TO_UNITS)

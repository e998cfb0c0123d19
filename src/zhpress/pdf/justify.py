"""Inter-character justification for Chinese in WeasyPrint, installed around rendering.

WeasyPrint 70 justifies a line by stretching U+0020/U+00A0 only, so Han text comes out ragged right.
This hook makes every CJK character an expansion opportunity, as clreq asks, without touching the text:

* `layout.inline.justify_line` is replaced: each CJK character counts as one opportunity (half of one
  at the edge of a text box, the other half going between boxes), spaces keep WeasyPrint's count.
* `text.line_break.Layout.set_text` is wrapped: when a justified box is drawn, its CJK characters get the
  per-opportunity spacing as a Pango letter-spacing attribute (Pango puts half on each side of a
  character and drops the outer halves at the box's edges, which is what the count above assumes).
* `layout.inline.remove_last_whitespace` is wrapped: the quarter-em margin of a ``zh-latin`` span
  (`zhpress.typeset`) is removed where the span starts or ends a line.
* `layout.inline.handle_leader` is wrapped: the dots of a `leader()` (the contents' page numbers) become
  one text box instead of one box a dot, at the same places. Drawing a box costs the same whatever its
  length, and a contents of 2,000 entries drew 110,000 of them (three quarters of its render time).
* `layout.page.set_page_type_computed_styles` is wrapped: pages that match the same `@page` selectors get
  the same cascade, so the computed styles of the first such page and its margin boxes serve the others
  (WeasyPrint computes them afresh for every page, 16 margin boxes each, and walks the styles of every
  page before it: a document of folios spent half its time there).
* `pdf.fonts.Font.__init__` is wrapped: WeasyPrint copies the whole font file into memory for every
  document (26 MB for each Noto CJK weight) though it subsets from the HarfBuzz face; the font's bytes
  are read in place instead, from the face HarfBuzz already holds.

The dash and ellipsis (``——``, ``……``) are never spaced inside, so the doubled marks stay joined.
Use ``with cjk_justification(): html.write_pdf(...)``: both layout (``render()``) and drawing
(``write_pdf()``) must run inside it. The patch is process-wide while installed.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from zhpress.errors import RenderError
from zhpress.pdf import lone

__all__ = ["SUPPORTED_WEASYPRINT", "check_engine_version", "cjk_justification", "install", "is_cjk", "uninstall"]

#: WeasyPrint versions whose internals this hook was written against and tested with.
SUPPORTED_WEASYPRINT = ("70.0",)

# (module attribute path, expected parameters) of everything the hook replaces or calls.
_EXPECTED = {
    "layout.inline.justify_line": ("context", "line", "extra_width"),
    "layout.inline.remove_last_whitespace": ("context", "line"),
    "layout.inline.handle_leader": ("context", "line", "containing_block"),
    "layout.inline.iter_line_boxes": ("context", "box", "position_y", "bottom_space", "skip_stack", "containing_block", "absolute_boxes", "fixed_boxes", "first_letter_style", "first_line_style"),
    "layout.inline.split_inline_box": ("context", "box", "position_x", "max_x"),
    "layout.page.set_page_type_computed_styles": ("page_type", "html", "style_for"),
    "css.StyleFor._page_type_match": ("page_selector_type", "page_type"),
    "pdf.fonts.Font.__init__": ("self", "pango_font", "description", "font_size"),
    "pdf.fonts.get_hb_object_data": ("hb_object", "ot_color", "glyph"),
    "text.line_break.split_first_line": ("text", "style", "context", "max_width", "justification_spacing", "is_line_start", "minimum"),
    "text.line_break.Layout.set_text": ("self", "text", "justify"),
    "text.line_break.create_layout": ("text", "style", "context", "max_width", "justification_spacing"),
}


def check_engine_version() -> None:
    """Refuse an installed WeasyPrint the hook was not written for, before a build reads anything.
    Reads the installed distribution's metadata only: importing WeasyPrint costs half a second."""
    try:
        version = importlib.metadata.version("weasyprint")
    except importlib.metadata.PackageNotFoundError as error:
        raise RenderError("WeasyPrint is not installed", hint="pip install zhpress with its dependencies") from error
    if version not in SUPPORTED_WEASYPRINT:
        raise RenderError(
            f"PDF editions need WeasyPrint {', '.join(SUPPORTED_WEASYPRINT)}, but {version} is installed",
            hint=f"pip install 'weasyprint=={SUPPORTED_WEASYPRINT[-1]}'",
        )


_lock = threading.Lock()
_installed = 0
_originals: dict[str, Callable[..., Any]] = {}


def is_cjk(char: str) -> bool:
    """True for a character justified by inter-character spacing: Han, kana, CJK and full-width marks."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK symbols and punctuation, kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF01 <= code <= 0xFF60  # full-width forms
        or 0xFFE0 <= code <= 0xFFE6
        or 0x20000 <= code <= 0x3FFFF
        or char in "“”‘’·"
    )


def _weight(char: str) -> int:
    """Spacing weight of one character: 1 for CJK; 0 for the rest and for the marks doubled as a unit."""
    return 1 if is_cjk(char) and char not in "—…" else 0


def _modules() -> tuple[Any, Any, Any]:
    """Import WeasyPrint's internals and check they are the ones this hook was written for."""
    try:
        import weasyprint
        from weasyprint import css
        from weasyprint.layout import inline, page
        from weasyprint.pdf import fonts
        from weasyprint.text import line_break
    except ImportError as error:  # pragma: no cover - weasyprint is a dependency
        raise RenderError(f"WeasyPrint cannot be imported: {error}") from error
    version = getattr(weasyprint, "__version__", "unknown")
    if version not in SUPPORTED_WEASYPRINT:
        raise RenderError(
            f"CJK justification is written for WeasyPrint {', '.join(SUPPORTED_WEASYPRINT)}, not {version}",
            path=__file__,
            hint="pin weasyprint to a supported version or port zhpress.pdf.justify and its tests",
        )
    roots = {"css": css, "layout.inline": inline, "layout.page": page, "text.line_break": line_break, "pdf.fonts": fonts}
    for dotted, params in _EXPECTED.items():
        parts = dotted.split(".")
        depth = 1 if parts[0] in roots else 2
        obj: Any = roots[".".join(parts[:depth])]
        for name in parts[depth:]:
            obj = getattr(obj, name, None)
        if not callable(obj) or tuple(inspect.signature(obj).parameters)[: len(params)] != params:
            raise RenderError(
                f"WeasyPrint {version} has no {dotted}{params}: the CJK justification hook does not fit",
                path=__file__,
                hint="port zhpress.pdf.justify to this WeasyPrint",
            )
    return weasyprint, inline, line_break


def _kind(char: str) -> str:
    """'cjk' (spaced), 'mark' (a doubled dash or ellipsis), 'space', or 'other' (Latin, digits)."""
    if char in " \u00a0":
        return "space"
    if is_cjk(char):
        return "cjk" if _weight(char) else "mark"
    return "other"


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
            weights = [_weight(char) for char in text]
            inside = sum(weights) - (weights[0] + weights[-1]) / 2
            spaces = text.count(" ") + text.count("\u00a0")
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


def _justify_line(context: Any, line: Any, extra_width: float) -> None:
    """Spread `extra_width` over the spaces, CJK character gaps and Latin/Han boundaries of a line."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.text.line_break import create_layout

    if line.style["direction"] == "rtl":
        _originals["justify_line"](context, line, extra_width)
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


def _set_text_impl(self: Any, text: str, justify: bool = False) -> None:
    """WeasyPrint's set_text, then the justification spacing as letter-spacing on CJK characters."""
    from weasyprint.text.ffi import TO_UNITS, ffi, pango

    _originals["set_text"](self, text, justify)
    cjk = getattr(self, "zh_cjk_spacing", self.justification_spacing)
    if not (justify and cjk):
        return
    letter_spacing = self.style["letter_spacing"]
    spacing = int((cjk + (0 if letter_spacing == "normal" else letter_spacing)) * TO_UNITS)
    ranges: list[tuple[int, int]] = []
    offset = 0
    for char in self.text:
        size = len(char.encode())
        if _weight(char):
            if ranges and ranges[-1][1] == offset:
                ranges[-1] = (ranges[-1][0], offset + size)
            else:
                ranges.append((offset, offset + size))
        offset += size
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


def _remove_last_whitespace(context: Any, line: Any) -> None:
    """WeasyPrint's trailing-space removal, then no Latin/Han spacing at the line's start or end."""
    from weasyprint.formatting_structure import boxes

    _originals["remove_last_whitespace"](context, line)
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


def _handle_leader(context: Any, line: Any, containing_block: Any) -> None:
    """WeasyPrint's leader layout, then its dots (equal boxes side by side) joined into one text box."""
    from weasyprint.layout.leader import leader_index
    from weasyprint.text.line_break import split_first_line

    _originals["handle_leader"](context, line, containing_block)
    _, leader = leader_index(line)
    if leader is None or len(leader.children) < 2:
        return
    dots = sorted(leader.children, key=lambda box: box.position_x)
    first = dots[0]
    if any(box.text != first.text or box.style is not first.style for box in dots):
        return
    joined = first.copy_with_text(first.text * len(dots))
    layout, _length, _resume, width, _height, _baseline = split_first_line(
        joined.text, first.style, context, None, first.justification_spacing
    )
    joined.pango_layout = layout
    joined.width = width
    joined.position_x = first.position_x
    leader.children = (joined,)


def _page_styles(page_type: Any, html: Any, style_for: Any) -> None:
    """WeasyPrint's page styles, computed once for every set of `@page` selectors a page matches.

    The cascade of a page and of its margin boxes comes only from the `@page` rules whose selectors match
    it, and their computed values from that cascade and the root element's style: pages matching the same
    selectors get equal styles, so the first one's serve them (styles WeasyPrint changes afterwards, the
    page counters, it changes the same way on every page). Cache hits are kept out of the cascade, which
    WeasyPrint otherwise walks whole for every new page."""
    matches = tuple(
        style_for._page_type_match(selector[2], page_type)
        for sheet, _origin, _specificity in style_for._sheets
        for _rule, selector_list, _declarations in sheet.page_rules
        for selector in selector_list
    )
    known: dict[tuple[bool, ...], list[tuple[Any, Any]]] = style_for.__dict__.setdefault("_zh_page_styles", {})
    computed = style_for.get_computed_styles()
    styles = known.get(matches)
    if styles is None:
        _originals["page_styles"](page_type, html, style_for)
        pseudo_types = [None, *(p for element, p in style_for.get_cascaded_styles() if element == page_type and p)]
        known[matches] = [(p, computed[page_type, p]) for p in pseudo_types if (page_type, p) in computed]
        return
    for pseudo_type, style in styles:
        computed[page_type, pseudo_type] = style


_face_blobs: dict[int, Any] = {}  # by data address: blobs whose bytes Fonts read in place, kept alive


def _face_bytes(hb_object: Any, ot_color: Any = None, glyph: Any = None) -> Any:
    """The bytes of a HarfBuzz face without copying them (a read-only buffer on the face's blob)."""
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_blob(hb_object)
    length = ffi.new("unsigned int *")
    data = harfbuzz.hb_blob_get_data(blob, length)
    address = int(ffi.cast("uintptr_t", data))
    if data == ffi.NULL or not length[0] or address in _face_blobs:
        harfbuzz.hb_blob_destroy(blob)  # nothing to read, or one reference is kept already
    else:
        _face_blobs[address] = blob
    return ffi.buffer(data, length[0]) if length[0] else b""


def _font_init(self: Any, pango_font: Any, description: Any, font_size: Any) -> None:
    """WeasyPrint's Font set-up, with the face's bytes read in place rather than copied."""
    from weasyprint.pdf import fonts

    copy = fonts.get_hb_object_data
    fonts.get_hb_object_data = _face_bytes
    try:
        _originals["font_init"](self, pango_font, description, font_size)
    finally:
        fonts.get_hb_object_data = copy


def install() -> None:
    """Install the hook (reference-counted); raise RenderError if this WeasyPrint does not fit it."""
    global _installed
    _, inline, line_break = _modules()
    with _lock:
        if _installed == 0:
            _originals["justify_line"] = inline.justify_line
            _originals["remove_last_whitespace"] = inline.remove_last_whitespace
            _originals["set_text"] = line_break.Layout.set_text
            _originals["handle_leader"] = inline.handle_leader
            inline.handle_leader = _handle_leader
            from weasyprint.pdf import fonts

            _originals["font_init"] = fonts.Font.__init__
            fonts.Font.__init__ = _font_init
            inline.justify_line = _justify_line
            inline.remove_last_whitespace = _remove_last_whitespace
            line_break.Layout.set_text = _set_text_impl
            from weasyprint.layout import page

            _originals["page_styles"] = page.set_page_type_computed_styles
            page.set_page_type_computed_styles = _page_styles
            lone.install()
        _installed += 1


def uninstall() -> None:
    """Undo one `install()`; WeasyPrint is restored when the last one is undone."""
    global _installed
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    with _lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed == 0:
            inline.justify_line = _originals.pop("justify_line")
            inline.remove_last_whitespace = _originals.pop("remove_last_whitespace")
            line_break.Layout.set_text = _originals.pop("set_text")
            inline.handle_leader = _originals.pop("handle_leader")
            from weasyprint.pdf import fonts

            fonts.Font.__init__ = _originals.pop("font_init")
            from weasyprint.layout import page

            page.set_page_type_computed_styles = _originals.pop("page_styles")
            lone.uninstall()


@contextmanager
def cjk_justification() -> Iterator[None]:
    """Context manager: CJK inter-character justification while WeasyPrint lays out and draws."""
    install()
    try:
        yield
    finally:
        uninstall()

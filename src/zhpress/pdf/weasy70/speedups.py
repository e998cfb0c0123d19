"""Speed-ups of WeasyPrint that change no output: a leader's dots drawn as one text box, the page styles
of pages matching the same `@page` selectors computed once, a font's bytes read in place.

`handle_leader`: a contents of 2,000 entries drew 110,000 dot boxes (three quarters of its render time),
and drawing a box costs the same whatever its length. `page_styles`: WeasyPrint computes 16 margin boxes
afresh for every page and walks the styles of every page before it (a document of folios spent half its
time there). `font_init`: WeasyPrint copies the whole font file for every document (26 MB per Noto CJK
weight) though it subsets from the HarfBuzz face, which holds the bytes already.
"""

from __future__ import annotations

from typing import Any

from .guard import original

# WeasyPrint's modules are imported inside the functions: importing zhpress.pdf must not load WeasyPrint.

def handle_leader(context: Any, line: Any, containing_block: Any) -> None:
    """WeasyPrint's leader layout, then its dots (equal boxes side by side) joined into one text box."""
    from weasyprint.layout.leader import leader_index
    from weasyprint.text.line_break import split_first_line

    original("layout.inline:handle_leader")(context, line, containing_block)
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


def page_styles(page_type: Any, html: Any, style_for: Any) -> None:
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
        original("layout.page:set_page_type_computed_styles")(page_type, html, style_for)
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


def font_init(self: Any, pango_font: Any, description: Any, font_size: Any) -> None:
    """WeasyPrint's Font set-up, with the face's bytes read in place rather than copied."""
    from weasyprint.pdf import fonts

    copy = fonts.get_hb_object_data
    fonts.get_hb_object_data = _face_bytes
    try:
        original("pdf.fonts:Font.__init__")(self, pango_font, description, font_size)
    finally:
        fonts.get_hb_object_data = copy

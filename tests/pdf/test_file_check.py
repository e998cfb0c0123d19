"""The build's own check of a PDF read back (`validate.check_pdf_bytes`): it reads the page tree as a reader
does, attributes inherited from the tree's nodes included, and refuses what a printer would."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from zhpress.config import load_project
from zhpress.errors import ValidationFailed
from zhpress.validate import check_pdf_bytes

ROOT = Path(__file__).resolve().parents[2]
MM = 72 / 25.4


def _profile() -> object:
    return load_project(ROOT).profiles["print"]


def _tree_pdf(widths: list[float], *, height: float = 600, font_embedded: bool = True) -> bytes:
    """Pages in a page tree of two levels: the media box and the resources (one font) set on the inner
    nodes, not on the pages, so a page has them only by inheritance."""
    pdf = pikepdf.new()
    descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/Test"))
    if font_embedded:
        descriptor.FontFile2 = pdf.make_stream(b"\0\1\0\0")
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType,
                                                BaseFont=pikepdf.Name("/Test"), FontDescriptor=pdf.make_indirect(descriptor)))
    root = pdf.Root.Pages
    kids = pikepdf.Array()
    for start in range(0, len(widths), 2):
        node = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Pages, Parent=root, MediaBox=pikepdf.Array([0, 0, widths[start], height]),
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        ))
        leaves = pikepdf.Array()
        for width in widths[start:start + 2]:
            page = pikepdf.Dictionary(Type=pikepdf.Name.Page, Parent=node, Contents=pdf.make_stream(b"BT /F1 12 Tf ET"))
            if width != widths[start]:
                page.MediaBox = pikepdf.Array([0, 0, width, height])
            leaves.append(pdf.make_indirect(page))
        node.Kids, node.Count = leaves, len(leaves)
        kids.append(node)
    root.Kids, root.Count = kids, len(widths)
    item = pdf.make_indirect(pikepdf.Dictionary(Title="一", Dest=pikepdf.Array([kids[0].Kids[0], pikepdf.Name.Fit])))
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, First=item, Last=item, Count=1))
    item.Parent = outlines
    pdf.Root.Outlines = outlines
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _width() -> float:
    page = _profile().page  # type: ignore[attr-defined]
    return (page.width + 2 * page.bleed + 2 * page.slug) * MM


def test_a_page_tree_whose_pages_inherit_their_box_and_fonts_passes() -> None:
    check_pdf_bytes(_tree_pdf([_width()] * 4), "book.pdf", _profile())  # type: ignore[arg-type]


def test_a_page_of_the_wrong_width_is_named() -> None:
    widths = [_width()] * 4
    widths[3] = _width() - 20
    with pytest.raises(ValidationFailed, match="page 4 is"):
        check_pdf_bytes(_tree_pdf(widths), "book.pdf", _profile())  # type: ignore[arg-type]


def test_an_inherited_font_that_is_not_embedded_is_found() -> None:
    with pytest.raises(ValidationFailed, match="not embedded"):
        check_pdf_bytes(_tree_pdf([_width()] * 2, font_embedded=False), "book.pdf", _profile())  # type: ignore[arg-type]


def test_a_count_that_is_not_a_multiple_of_the_signature_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="3 pages"):
        check_pdf_bytes(_tree_pdf([_width()] * 3), "book.pdf", _profile())  # type: ignore[arg-type]

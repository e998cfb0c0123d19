"""The print typography set by the layout (`zhpress.pdf.weasy70.typography`), not by inline boxes: glyphs
where the span markup put them, and no inline box per mark.

Both markups are rendered by WeasyPrint with the hook; positions are read with pdfplumber.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from zhpress.typeset import TYPESET_CSS, layout_css, typeset

NEWS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "news-2026-06"


@pytest.fixture(scope="module")
def paragraphs(pdfkit) -> list[str]:
    """The default manuscripts, four news articles full of numbers and Latin runs, and pairs of pairs."""
    found = pdfkit.paragraphs()
    news = sorted(NEWS.glob("*.txt"))[:4]
    assert len(news) == 4
    for path in news:
        found += [p.strip() for p in path.read_text("utf-8").split("\u3000\u3000") if p.strip()]
    return found + ["“「你好」”他说。“好。”“再见！”", "（“括号”）、《书》、“引号”，", "他说：“今天。”“明天？”‘单’“双”"]


def _page(paragraphs: list[str], in_layout: bool) -> str:
    body = "".join(f"<p>{typeset(p, in_layout=in_layout)}</p>" for p in paragraphs)
    css = ("@page { size: 148mm 210mm; margin: 20mm; } body { margin: 0; font-family: 'Noto Serif CJK SC';"
           " font-size: 10.5pt; line-height: 1.6; } p { margin: 0; text-align: justify; text-indent: 2em; }"
           + TYPESET_CSS + (layout_css(pairs=True, latin=True) if in_layout else ""))
    return f'<html lang="zh-Hans"><head><style>{css}</style></head><body><main class="bodymatter">{body}</main></body></html>'


def _glyphs(pdf: bytes) -> list[tuple[int, float, str, float]]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [(n, round(c["top"], 1), c["text"], c["x0"]) for n, page in enumerate(document.pages) for c in page.chars]


def test_glyphs_sit_where_the_spans_put_them(pdfkit, paragraphs) -> None:
    """Same lines (breaks), and every visible glyph within 0.25 pt of the span markup's position: pairs,
    Latin spacing (none at line edges), numbers with units, justification, all from the layout."""
    spans, layout = (_glyphs(pdfkit.render(_page(paragraphs, in_layout))) for in_layout in (False, True))
    assert len(spans) == len(layout) > 8000, len(spans)
    assert [(page, top, text) for page, top, text, _ in layout] == [(page, top, text) for page, top, text, _ in spans]
    off = [(a, b) for a, b in zip(spans, layout, strict=True) if a[2] != " " and abs(a[3] - b[3]) > 0.25]
    assert off == []


def test_no_inline_box_per_mark(paragraphs) -> None:
    """Laid out, the print markup has inline boxes only for paragraph-opening marks (hundreds before)."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from zhpress.pdf.weasy70 import cjk_justification

    def typography_boxes(in_layout: bool) -> int:
        with cjk_justification():
            document = HTML(string=_page(paragraphs, in_layout)).render()
        return sum(
            1 for page in document.pages for box in page._page_box.descendants()
            if isinstance(box, boxes.InlineBox) and "zh-" in (box.element.get("class") or "")
        )

    opening = sum(1 for p in paragraphs if p[0] in "“（《「『‘【")
    assert typography_boxes(False) > 500
    assert typography_boxes(True) <= 2 * opening  # a paragraph's mark, and the second of two opening marks


def test_svg_text_is_drawn_with_the_hook(pdfkit) -> None:
    """An SVG's text (the cover's barcode digits) has a style without custom properties: still drawn."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
           '<text x="10" y="30" style="font-family: Noto Sans CJK SC; font-size: 12px">9787020002207</text></svg>')
    pdf = pdfkit.render(f'<html><body><main class="bodymatter"><p>{svg}</p></main></body></html>')
    assert "9787020002207" in pdfkit.pdftotext(pdf)

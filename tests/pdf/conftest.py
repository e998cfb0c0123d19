"""Fixtures for the print-typography tests: render small real documents with WeasyPrint, read glyph boxes.

Glyph positions come from pdfplumber (pdfminer.six): one record per drawn character with x0/x1 from the
PDF's text matrix and the font's widths. Extracted text comes from poppler's pdftotext.
"""

from __future__ import annotations

import html
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

pdfplumber = pytest.importorskip("pdfplumber")

from zhpress.pdf.weasy70 import cjk_justification  # noqa: E402
from zhpress.typeset import TYPESET_CSS, layout_css, typeset  # noqa: E402

MM = 72 / 25.4
FONT_SIZE = 10.5  # pt
PAGE_MARGIN = 20 * MM
CONTENT = Path(__file__).resolve().parents[2] / "content"


@dataclass
class Line:
    """One printed line: its page, baseline position and characters (pdfplumber dicts), left to right."""

    page: int
    top: float
    chars: list[dict]

    @property
    def text(self) -> str:
        return "".join(char["text"] for char in self.chars)

    @property
    def right(self) -> float:
        return max(char["x1"] for char in self.chars)


def manuscript_paragraphs(limit: int | None = None) -> list[str]:
    """The paragraphs of the default manuscripts (raw one-line form, paragraphs split on two U+3000)."""
    paragraphs: list[str] = []
    for path in sorted(CONTENT.glob("*.txt")):
        text = path.read_text(encoding="utf-8").strip()
        paragraphs += [part.strip() for part in text.split("\u3000\u3000") if part.strip()]
    return paragraphs[:limit]


def build_html(paragraphs: list[str], *, width_mm: float | None = None, use_typeset: bool = True,
               latin_spacing: bool = True, align: str = "justify") -> str:
    """An A5 test page: one <p> per paragraph, Noto Serif CJK SC 10.5pt, 2-em indent, 20 mm margins; typeset
    as a print edition does (what a text node's layout can set is set there)."""
    markup = (lambda text: typeset(text, latin_spacing=latin_spacing, in_layout=True)) if use_typeset else html.escape
    body = "".join(f"<p>{markup(paragraph)}</p>" for paragraph in paragraphs)
    width = f"width: {width_mm}mm;" if width_mm else ""
    css = (
        f"@page {{ size: 148mm 210mm; margin: 20mm; }}"
        f"body {{ margin: 0; font-family: 'Noto Serif CJK SC'; font-size: {FONT_SIZE}pt; line-height: 1.6; {width} }}"
        f"p {{ margin: 0; text-align: {align}; text-indent: 2em; }}"
        + TYPESET_CSS + (layout_css(pairs=True, latin=latin_spacing) if use_typeset else "")
    )
    return f'<html lang="zh-Hans"><head><style>{css}</style></head><body><main class="bodymatter">{body}</main></body></html>'


def render(source: str, *, hook: bool = True) -> bytes:
    """Render an HTML string to PDF bytes, with or without the CJK justification hook."""
    from weasyprint import HTML

    document = HTML(string=source)
    if hook:
        with cjk_justification():
            return document.write_pdf()
    return document.write_pdf()


def pdf_lines(pdf: bytes) -> list[Line]:
    """The printed lines of a PDF, page by page, top to bottom."""
    lines: list[Line] = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages):
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                rows.setdefault(round(char["top"], 1), []).append(char)
            for top in sorted(rows):
                lines.append(Line(number, top, sorted(rows[top], key=lambda char: char["x0"])))
    return lines


def non_final_lines(lines: list[Line], left: float) -> list[Line]:
    """Lines followed by another line of the same paragraph (the next one does not start indented)."""
    return [line for line, following in zip(lines, lines[1:], strict=False) if following.chars[0]["x0"] - left < FONT_SIZE]


def pdftotext(pdf: bytes) -> str:
    """poppler's text extraction of a PDF."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


@pytest.fixture(scope="session")
def pdfkit() -> SimpleNamespace:
    """The helpers above, for the test modules (which cannot import a conftest)."""
    return SimpleNamespace(
        paragraphs=manuscript_paragraphs, html=build_html, render=render, lines=pdf_lines,
        non_final=non_final_lines, pdftotext=pdftotext, Line=Line, MM=MM, FONT_SIZE=FONT_SIZE,
        LEFT=PAGE_MARGIN,
    )

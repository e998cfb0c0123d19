"""印张 on the mainland copyright page, from the real page count: read back from the PDF's text in a
single-pass and a chunked build of the same book, with the rule for trim sizes and the book's own 开本."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import pdfplumber
import pytest

import zhpress.pdf.sheets as sheets
from tests.conftest import run_zhpress
from tests.pdf.test_chunked import inputs, make_project
from zhpress.config.values import parse_format
from zhpress.files import PROJECT_CACHE as CACHE_DIR
from zhpress.pdf.chunked import ChunkStats, build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf
from zhpress.pdf.sheets import sheets_text, trim_pages_per_sheet

SIZES = [700, 1500, 900, 1200, 600, 1000]


def printed_sheets(data: bytes) -> tuple[str | None, str]:
    """(the 印张 value the copyright page prints, or None; the page's text)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages[:8]:
            text = page.extract_text() or ""
            if "Noto Serif CJK" in text:  # the copyright page's 字体 row
                match = re.search(r"印\s*张\s*([0-9.]+)", text)
                return (match.group(1) if match else None), text
    raise AssertionError("no copyright page in the first pages")


def with_profile(root: Path, table: str) -> Path:
    toml = root / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8") + table, "utf-8")
    return root


@pytest.fixture(scope="module")
def signed_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book in folded sheets of 16 pages (half a 32开 sheet), so that 印张 is pages ÷ 32 exactly."""
    root = make_project(tmp_path_factory.mktemp("sheets"), SIZES)
    return with_profile(root, '\n[profiles.print]\npage = { trim = "32k", bleed = "3mm", signature = 16 }\n')


def test_single_pass_and_chunked_print_pages_divided_by_32(signed_book: Path) -> None:
    args = inputs(signed_book)
    single, single_pages = build_single_pdf(*args, cache=False)
    stats = ChunkStats()
    chunked, chunked_pages = build_chunked_pdf(*args, jobs=1, cache=False, chunk_articles=2, folio_group=2, stats=stats)
    assert stats.chunks == 3
    assert single_pages == chunked_pages and single_pages % 16 == 0
    for data, pages in ((single, single_pages), (chunked, chunked_pages)):
        value, text = printed_sheets(data)
        assert value is not None, text
        assert float(value) == pages / 32
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) == pages  # the count the value is printed for is the file's own
    assert printed_sheets(single)[0] == printed_sheets(chunked)[0]


def test_an_even_count_is_rounded_up_to_a_quarter_sheet(tmp_path: Path) -> None:
    root = make_project(tmp_path, SIZES[:3])
    data, pages = build_single_pdf(*inputs(root), cache=False)
    value, _ = printed_sheets(data)
    assert pages % 2 == 0 and value is not None
    assert float(value) == math.ceil(pages * 4 / 32) / 4  # A5: 32 pages to the sheet


def test_a_wrong_guess_renders_again_and_a_right_one_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path, SIZES[:3])
    renders: list[int | None] = []
    original = sheets.book_html

    def counted(src: object, book: object, pages: int | None, **extra: object) -> str:
        renders.append(pages)  # the page count each render prints 印张 for
        return original(src, book, pages, **extra)  # type: ignore[arg-type]

    monkeypatch.setattr(sheets, "book_html", counted)
    first, pages = build_single_pdf(*inputs(root))
    assert renders == [None, pages]  # no count known: rendered, then again with the real count
    renders.clear()
    again, _ = build_single_pdf(*inputs(root))
    assert renders == [pages] and again == first  # the last build's count was right: one render, same bytes
    hint = root / CACHE_DIR / "pdf" / "pages-print.json"
    hint.write_text(json.dumps({"pages": pages + 64}))
    renders.clear()
    third, _ = build_single_pdf(*inputs(root))
    assert renders == [pages + 64, pages] and third == first  # a wrong hint costs a render, nothing else


def test_chunked_front_matter_renders_once_and_an_edit_that_moves_pages_renders_only_the_late_piece(
        tmp_path: Path) -> None:
    """In chunks, 印张 and the contents' numbers come in the late piece: a wrong hint renders nothing
    again, and edits that add pages render their chunks, the folio pieces and the late piece, never the
    front matter (whose 字数 has not changed), with 印张 of the new count."""
    root = make_project(tmp_path / "book", SIZES)
    _, pages = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    hint = root / CACHE_DIR / "pdf" / "pages-print.json"
    hint.write_text(json.dumps({"pages": pages + 64, "front": 200}))
    stats = ChunkStats()
    data, again = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert again == pages and stats.rendered == {}
    assert float(printed_sheets(data)[0] or 0) == math.ceil(pages * 4 / 32) / 4
    for manuscript in sorted((root / "content").glob("*.txt"))[:3]:  # the first two chunks
        # each long paragraph a paragraph a sentence: more lines and pages, the same characters (so the
        # same 字数) and the same headings
        paragraphs = manuscript.read_text("utf-8").split("\u3000\u3000")
        paragraphs = [p.replace("。", "。\u3000\u3000") if len(p) > 120 else p for p in paragraphs]
        manuscript.write_text("\u3000\u3000".join(paragraphs), "utf-8")
    stats = ChunkStats()
    longer, more = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert more > pages and "front" not in stats.rendered
    assert stats.rendered.get("late") == 1 and stats.rendered.get("body") == 2
    assert float(printed_sheets(longer)[0] or 0) == math.ceil(more * 4 / 32) / 4
    single, _ = build_single_pdf(*inputs(root), cache=False)
    assert printed_sheets(single)[0] == printed_sheets(longer)[0]


def test_traditional_and_screen_editions_print_no_sheets(signed_book: Path) -> None:
    for profile in ("print-tw", "screen"):
        data, _ = build_single_pdf(*inputs(signed_book, profile), cache=False)
        value, text = printed_sheets(data)
        assert value is None and "印張" not in text and "印张" not in text


def test_the_rule_for_trim_sizes_and_the_printed_form() -> None:
    assert [trim_pages_per_sheet(*size) for size in ((148, 210), (130, 184), (185, 260), (176, 250), (100, 140))] == [
        32, 32, 16, 16, 64]
    assert [sheets_text(pages, 32) for pages in (176, 168, 192, 18, 16)] == ["5.5", "5.25", "6", "0.75", "0.5"]
    assert parse_format("787×1092　1/16") == 16 and parse_format("787mm×1092mm 1/32") == 32
    with pytest.raises(ValueError, match="1/N"):
        parse_format("32开")


def test_the_books_own_format_decides(tmp_path: Path) -> None:
    root = make_project(tmp_path, SIZES[:3])
    toml = root / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8").replace("[book]\n", '[book]\nformat = "787×1092　1/16"\n'), "utf-8")
    data, pages = build_single_pdf(*inputs(root), cache=False)
    value, text = printed_sheets(data)
    assert "787×1092" in text and "1/16" in text
    assert float(value or 0) == math.ceil(pages * 4 / 16) / 4


def test_a_wrong_format_names_book_toml_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, SIZES[:1])
    toml = root / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8").replace("[book]\n", '[book]\nformat = "大32开"\n'), "utf-8")
    result = run_zhpress("build", "-C", str(root), "print")
    assert result.returncode == 2
    assert "book.toml:2" in result.stderr and "1/N" in result.stderr
    assert not (root / "dist").exists()

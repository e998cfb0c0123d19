"""The EPUB's page list against the print edition's real pages: every page's marker stands where the page's
body text begins in the print PDF (read with pdfplumber and pypdf), on the default book (single pass) and
on a chunked book; EPUBCheck and Ace on the result; an EPUB-only rebuild renders no print chunk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from tests.conftest import run_zhpress
from tests.pdf.test_chunked import make_project
from zhpress.validate import run_epubcheck

pdfplumber = pytest.importorskip("pdfplumber")

XHTML = "{http://www.w3.org/1999/xhtml}"
OPS = "{http://www.idpf.org/2007/ops}"
MM = 72 / 25.4
SAMPLE = 8  # characters compared at each page start
#: The EPUB documents that stand for the print front matter (the copyright page is the EPUB's colophon).
FRONT = {"title.xhtml", "nav.xhtml", "colophon.xhtml"}


def dense(text: str) -> str:
    return "".join(text.split())


def pdf_pages(pdf: Path, margin_top: float = 18, margin_bottom: float = 20) -> list[tuple[str, str]]:
    """(label, body text) of every page: the characters inside the type area (no running head, no folio)."""
    reader = PdfReader(pdf)
    out = []
    with pdfplumber.open(pdf) as document:
        for label, page, source in zip(reader.page_labels, document.pages, reader.pages, strict=True):
            x0, y0, x1, y1 = (float(v) for v in source.trimbox)
            # pdfplumber's frame: the page's bbox, its top edge the media box's
            left, top = page.bbox[0] + x0 - float(source.mediabox[0]), page.bbox[1] + float(source.mediabox[3]) - y1
            area = page.within_bbox((left, top + margin_top * MM - 0.5, left + x1 - x0, top + (y1 - y0) - margin_bottom * MM + 2))
            out.append((label, dense(area.extract_text() or "")))
    return out


def epub_markers(epub: Path) -> dict[str, tuple[str, str]]:
    """For each page-break marker of an EPUB: its label → (document, the document's text after it)."""
    out: dict[str, tuple[str, str]] = {}
    with zipfile.ZipFile(epub) as archive:
        for name in archive.namelist():
            if not name.endswith(".xhtml"):
                continue
            root = etree.fromstring(archive.read(name))
            pieces: list[tuple[str, str]] = []  # (marker label or "", text) in document order
            for event, element in etree.iterwalk(root.find(f"{XHTML}body"), events=("start", "end")):
                if event == "start":
                    if element.get(f"{OPS}type") == "pagebreak":
                        assert element.get("role") == "doc-pagebreak" and element.get("id") == f"page-{element.get('aria-label')}"
                        pieces.append((element.get("aria-label"), ""))
                    pieces.append(("", element.text or ""))
                else:
                    pieces.append(("", element.tail or ""))
            for i, (label, _) in enumerate(pieces):
                if label:
                    assert label not in out, f"page {label} marked twice"
                    out[label] = (name.rpartition("/")[2], dense("".join(t for _, t in pieces[i + 1:])))
    return out


def page_list_nav(epub: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    (page_list,) = [n for n in nav.iter(f"{XHTML}nav") if n.get(f"{OPS}type") == "page-list"]
    return [(a.text, a.get("href")) for a in page_list.iter(f"{XHTML}a")]


def check_page_list(epub: Path, pdf: Path) -> int:
    """Every page of the PDF has its marker where its body text begins; returns the pages checked by text."""
    pages = pdf_pages(pdf)
    markers = epub_markers(epub)
    assert sorted(markers) == sorted(label for label, _ in pages)
    assert [label for label, _ in page_list_nav(epub)] == [label for label, _ in pages]
    for label, href in page_list_nav(epub):
        assert href == f"{markers[label][0]}#page-{label}"
    checked = 0
    for number, (label, text) in enumerate(pages):
        document, after = markers[label]
        if not text:  # a blank page: marked where the next page with text begins
            following = next((t for _, t in pages[number + 1:] if t), "")
            assert after.startswith(following[:SAMPLE]), (label, document, after[:20], following[:20])
            continue
        if label.isdigit():
            assert document.startswith("a"), (label, document)
        else:
            assert document in FRONT, (label, document)
            if document == "colophon.xhtml":  # the copyright page: the EPUB's colophon, set its own way
                continue
            if document == "nav.xhtml":  # every contents page before the contents (a nav takes no marker)
                assert after.startswith("目录") and text[:SAMPLE] in after, (label, text[:20])
                checked += 1
                continue
        assert after.startswith(text[:SAMPLE]), (label, document, after[:20], text[:20])
        checked += 1
    return checked


def test_default_book_page_list_matches_the_print_pages(default_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = run_zhpress("build", "-C", str(default_project), "-o", str(out), "--quiet", "ebook", "print")
    assert result.returncode == 0, result.stderr
    epub, pdf = out / "dangqi-shanghai-ebook.epub", out / "dangqi-shanghai-print.pdf"
    body = [label for label, text in pdf_pages(pdf) if text and label.isdigit()]
    assert len(body) >= 10
    assert check_page_list(epub, pdf) >= len(body)
    with zipfile.ZipFile(epub) as archive:
        opf = archive.read("EPUB/content.opf").decode()
    assert "<dc:source>党旗飘扬在上海抗疫一线 (print)</dc:source>" in opf
    for feature in ("pageBreakMarkers", "pageNavigation"):
        assert f'<meta property="schema:accessibilityFeature">{feature}</meta>' in opf
    (report,) = run_epubcheck([epub])
    assert report.errors == [] and report.warnings == []
    # built alone, with the page list laid out from the print cache or afresh, the EPUB is the same
    alone = tmp_path / "alone"
    for _ in range(2):  # the second from the page cache the first filled
        result = run_zhpress("build", "-C", str(default_project), "-o", str(alone), "--quiet", "ebook")
        assert result.returncode == 0, result.stderr
        assert (alone / epub.name).read_bytes() == epub.read_bytes()
    # with no print layout at hand, "print" (the default) lays it out: the same EPUB
    result = run_zhpress("build", "-C", str(default_project), "-o", str(alone), "--quiet", "--no-cache", "ebook")
    assert result.returncode == 0, result.stderr
    assert (alone / epub.name).read_bytes() == epub.read_bytes()
    # "auto" takes only a layout at hand: none here, so no page list, and the build says so
    copy = tmp_path / "copy"
    shutil.copytree(default_project / "content", copy / "content")
    shutil.copytree(default_project / "styles", copy / "styles")
    toml = copy / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8") + '\n[profiles.ebook]\npage_list = "auto"\n', "utf-8")
    result = run_zhpress("build", "-C", str(copy), "-o", str(alone), "--no-cache", "ebook")
    assert result.returncode == 0, result.stderr
    assert "no page list" in result.stderr and "page_list" in result.stderr
    with zipfile.ZipFile(alone / epub.name) as archive:
        assert b"pagebreak" not in archive.read("EPUB/a1.xhtml")
    # the page cache the builds filled: an EPUB build lays nothing out
    from zhpress.build import build_date
    from zhpress.config import load_project
    from zhpress.convert.edition import edition_book
    from zhpress.pagelist import print_pages
    from zhpress.pdf.chunked import ChunkStats
    from zhpress.read.book import read_book

    project = load_project(default_project)
    book = read_book(project)
    edition, _ = edition_book(project, project.profiles["ebook"], book)
    stats = ChunkStats()
    pages = print_pages(project, project.profiles["ebook"], edition, build_date(project, book), stats=stats)
    assert pages is not None and stats.rendered == {} and stats.reused == {"layout": 1}
    assert [p.label for p in pages.pages] == [label for label, _ in pdf_pages(pdf)]


@pytest.fixture(scope="module")
def chunked_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book of 26 articles (chunked in print), with a footnote-free Markdown article among them."""
    sizes = [500 + (i * 137) % 1100 for i in range(26)]
    root = make_project(tmp_path_factory.mktemp("pages"), sizes)
    (root / "content" / "book.toml").write_text(
        '[book]\nid = "chunks"\ntitle = "分块测试"\ndate = "2022-05-10"\nisbn = "978-7-115-42844-8"\n', "utf-8"
    )
    return root


def test_chunked_book_page_list_matches_the_print_pages(chunked_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = run_zhpress("build", "-C", str(chunked_book), "-o", str(out), "--quiet", "-j", "2", "ebook", "print")
    assert result.returncode == 0, result.stderr
    epub, pdf = out / "chunks-ebook.epub", out / "chunks-print.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) > 60
    assert check_page_list(epub, pdf) > 50
    with zipfile.ZipFile(epub) as archive:
        assert "<dc:source>urn:isbn:9787115428448</dc:source>" in archive.read("EPUB/content.opf").decode()
    (report,) = run_epubcheck([epub])
    assert report.errors == [] and report.warnings == []


def test_chunked_epub_rebuild_renders_no_print_chunk(chunked_book: Path, tmp_path: Path) -> None:
    """With the print chunks cached (by the build above or by this one), an EPUB build takes every page
    start from the cache: no body chunk, front matter or folio piece is rendered."""
    from zhpress.build import build_date
    from zhpress.config import load_project
    from zhpress.convert.edition import edition_book
    from zhpress.pagelist import print_pages
    from zhpress.pdf.chunked import ChunkStats
    from zhpress.read.book import read_book

    assert run_zhpress("build", "-C", str(chunked_book), "-o", str(tmp_path), "--quiet", "print").returncode == 0
    project = load_project(chunked_book)
    profile = project.profiles["ebook"]
    book = read_book(project)
    edition, _ = edition_book(project, profile, book)
    stats = ChunkStats()
    pages = print_pages(project, profile, edition, build_date(project, book), stats=stats)
    assert pages is not None and pages.profile == "print"
    assert stats.rendered == {}
    assert stats.reused["body"] == stats.chunks == 5 and stats.reused["front"] == 1
    # the same page list as the print build's own, and as the book's layout in one pass
    auto = replace(profile, page_list="auto")  # a layout at hand only: the cached chunks here, none without
    assert print_pages(project, auto, edition, build_date(project, book), cache=False) is None
    assert print_pages(project, auto, edition, build_date(project, book)) == pages
    fresh = print_pages(project, profile, edition, build_date(project, book), cache=False)
    assert fresh is not None and fresh.pages == pages.pages
    from zhpress.convert import get_converter
    from zhpress.convert.edition import conversion_settings
    from zhpress.pdf import schedule
    from zhpress.pdf.edition import lay_out_pages

    printed = project.profiles["print"]
    convert = get_converter(conversion_settings(project, printed)).convert
    print_book, _ = edition_book(project, printed, book)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedule, "MIN_CHUNKED_ARTICLES", 10**9)  # the same book laid out in one pass
        single = lay_out_pages(project, printed, print_book, build_date(project, book), convert, cache=False)
    assert tuple(single) == pages.pages


def test_page_list_setting(chunked_book: Path, tmp_path: Path) -> None:
    """`page_list = "none"` leaves it out; a profile that is not a print edition of the same text is refused."""
    root = tmp_path / "book"
    shutil.copytree(chunked_book / "content", root / "content")
    shutil.copytree(chunked_book / "styles", root / "styles")
    toml = root / "content" / "book.toml"
    base = toml.read_text("utf-8")
    toml.write_text(base + '\n[profiles.ebook]\npage_list = "none"\n', "utf-8")
    assert run_zhpress("build", "-C", str(root), "--quiet", "ebook").returncode == 0
    with zipfile.ZipFile(root / "dist" / "chunks-ebook.epub") as archive:
        assert b"pagebreak" not in archive.read("EPUB/a1.xhtml")
        assert b"page-list" not in archive.read("EPUB/nav.xhtml")
    toml.write_text(base + '\n[profiles.ebook]\npage_list = "print-tw"\n', "utf-8")
    result = run_zhpress("build", "-C", str(root), "--quiet", "ebook")
    assert result.returncode == 2
    assert "page_list" in result.stderr and "book.toml" in result.stderr


@pytest.mark.skipif(not os.environ.get("ZHPRESS_ACE"), reason="Ace by DAISY is installed by `nox -s tests`")
def test_ace_on_the_chunked_book_with_its_page_list(chunked_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert run_zhpress("build", "-C", str(chunked_book), "-o", str(out), "--quiet", "ebook").returncode == 0
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed by Ace"
    subprocess.run(
        [os.environ["ZHPRESS_ACE"], "-o", str(tmp_path / "ace"), "--force", str(out / "chunks-ebook.epub")],
        env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium}, capture_output=True, text=True, check=False, timeout=300,
    )
    report = json.loads((tmp_path / "ace" / "report.json").read_text("utf-8"))
    violations = [a for a in report.get("assertions", []) for t in a.get("assertions", []) if t.get("earl:result", {}).get("earl:outcome") == "fail"]
    assert report["earl:result"]["earl:outcome"] == "pass", json.dumps(violations, ensure_ascii=False)[:2000]

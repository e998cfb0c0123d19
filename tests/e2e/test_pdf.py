"""The PDF editions of the default book, built for real and read back with pypdf, pikepdf, qpdf and poppler."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from tests.conftest import ROOT, run_zhpress
from tests.print_marks import mark_problems
from zhpress.chars import han_chars
from zhpress.read.decode import decode_manuscript

BOOK = "dangqi-shanghai"
MM = 72 / 25.4
A5 = (148 * MM, 210 * MM)
PRINT = ("print", "print-tw", "print-hk")
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def pdf(built: Path, profile: str) -> Path:
    return built / f"{BOOK}-{profile}.pdf"


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, page index) for every bookmark, in order."""
    out: list[tuple[int, str, int]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 1)
    return out


def page_labels(path: Path) -> list[str]:
    return list(PdfReader(path).page_labels)


@pytest.mark.parametrize("profile", [*PRINT, "screen"])
def test_boxes_fonts_and_structure(built: Path, profile: str) -> None:
    path = pdf(built, profile)
    reader = PdfReader(path)
    bleed = 3 * MM if profile in PRINT else 0
    slug = 10 * MM if profile in PRINT else 0  # the crop marks' strip beyond the bleed box
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - (A5[0] + 2 * bleed + 2 * slug)) < 0.1
        assert abs(float(page.mediabox.height) - (A5[1] + 2 * bleed + 2 * slug)) < 0.1
        assert abs(float(page.trimbox.width) - A5[0]) < 0.1
        assert abs(float(page.trimbox.height) - A5[1]) < 0.1
        if profile in PRINT:
            assert abs(float(page.bleedbox.width) - (A5[0] + 2 * bleed)) < 0.1
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts, "no fonts"
    for line in fonts:
        emb, sub = line.split()[-5:-3]
        assert (emb, sub) == ("yes", "yes"), line
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    info = reader.metadata
    assert info.title == "党旗飘扬在上海抗疫一线" or info.title.startswith("黨旗")
    assert info.author
    assert str(reader.trailer["/Root"]["/Lang"]).startswith("zh-")


@pytest.mark.parametrize("profile", [*PRINT, "screen"])
def test_bookmarks_one_per_article_and_heading(built: Path, profile: str) -> None:
    marks = outline(PdfReader(pdf(built, profile)))
    assert [level for level, _, _ in marks] == [1, 2, 2, 2, 1, 2, 2, 2]


@pytest.mark.parametrize("profile", ["print", "print-tw", "screen"])
def test_contents_page_numbers_match_the_real_pages(built: Path, profile: str) -> None:
    path = pdf(built, profile)
    reader = PdfReader(path)
    labels = page_labels(path)
    marks = outline(reader)
    contents_index = next(i for i, page in enumerate(reader.pages) if re.search(r"目\s*[录錄]", page.extract_text() or ""))
    toc = subprocess.run(
        ["pdftotext", "-f", str(contents_index + 1), "-l", str(contents_index + 2), "-layout", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    printed = [int(n) for n in re.findall(r"\.{3,}\s*(\d+)\s*$", toc, flags=re.M)]
    assert len(printed) == len(marks)
    assert printed == [int(labels[page]) for _, _, page in marks]


@pytest.mark.parametrize("profile", PRINT)
def test_articles_open_on_right_hand_pages(built: Path, profile: str) -> None:
    path = pdf(built, profile)
    labels = page_labels(path)
    starts = [page for level, _, page in outline(PdfReader(path)) if level == 1]
    assert len(starts) == 2
    for page in starts:
        assert page % 2 == 0, "physical page must be odd (1-based)"
        assert int(labels[page]) % 2 == 1, "printed folio must be odd"
    assert labels[starts[0]] == "1"
    assert all(re.fullmatch(r"[ivxl]+", label) for label in labels[: starts[0]])
    assert starts[0] % 2 == 0, "front matter padded to an even number of pages"


def body_text(path: Path, first_page: int) -> str:
    """The text of the body pages inside the type area (running heads and folios left out)."""
    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    width, height = float(box.width), float(box.height)
    bleed = (width - A5[0]) / 2
    top = bleed + 17 * MM
    bottom = height - bleed - 19 * MM
    return subprocess.run(
        ["pdftotext", "-f", str(first_page + 1), "-r", "72", "-x", "0", "-y", str(int(top)), "-W", str(int(width)),
         "-H", str(int(bottom - top)), "-nopgbrk", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout


@pytest.mark.parametrize("profile", ["print", "screen"])
def test_simplified_pdf_text_keeps_every_han_character_in_order(built: Path, profile: str) -> None:
    path = pdf(built, profile)
    first = min(page for level, _, page in outline(PdfReader(path)) if level == 1)
    text = body_text(path, first)
    expected = "".join(
        han_chars(decode_manuscript(p.read_bytes(), p)) for p in sorted((ROOT / "content").glob("*.txt"))
    )
    assert han_chars(text) == expected
    assert not re.search(f"[{HAN}] +[{HAN}]", text), "a space between two Han characters"


@pytest.mark.parametrize("profile", PRINT)
def test_print_editions_have_an_even_page_count(built: Path, profile: str) -> None:
    """Padded with a blank page after the last page of text (17 pages of the book, then one blank)."""
    reader = PdfReader(pdf(built, profile))
    assert len(reader.pages) % 2 == 0
    assert reader.pages[-1].extract_text().strip() == ""
    assert reader.pages[-2].extract_text().strip() != ""


@pytest.mark.parametrize("profile", PRINT)
def test_print_pages_carry_crop_marks_outside_the_bleed(built: Path, profile: str) -> None:
    """Eight marks a page, each on a trim edge's line, outside the bleed box and 3 mm or more from the
    trim, inside the media box, stroked in 100 % K."""
    with pikepdf.open(pdf(built, profile)) as doc:
        assert mark_problems(doc, offset=3 * MM) == []


@pytest.mark.parametrize("profile", PRINT)
def test_print_files_are_cmyk_pdfx(built: Path, profile: str) -> None:
    with pikepdf.open(pdf(built, profile)) as doc:
        intents = doc.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFX"
        assert intents[0].DestOutputProfile.N == 4
        assert b"pdfxid:GTS_PDFXVersion" in doc.Root.Metadata.read_bytes() or b"GTS_PDFXVersion" in doc.Root.Metadata.read_bytes()
        for number, page in enumerate(doc.pages, start=1):
            assert "/Annots" not in page.obj, f"link annotation on page {number}"
            for operands, operator in pikepdf.parse_content_stream(page):
                assert str(operator) not in ("rg", "RG"), f"RGB colour on page {number}"
                if str(operator) in ("sc", "scn", "SC", "SCN", "cs", "CS"):
                    assert "RGB" not in str(operands), f"RGB colour space on page {number}"
            for xobject in page.obj.get("/Resources", {}).get("/XObject", {}).values():
                if xobject.get("/Subtype") == "/Form":
                    for _operands, operator in pikepdf.parse_content_stream(xobject):
                        assert str(operator) not in ("rg", "RG"), f"RGB colour in a form on page {number}"


def test_screen_pdf_is_tagged_with_links(built: Path) -> None:
    with pikepdf.open(pdf(built, "screen")) as doc:
        assert doc.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in doc.Root
        assert doc.Root.ViewerPreferences.DisplayDocTitle is True
        assert b"pdfuaid" in doc.Root.Metadata.read_bytes()
        links = [a for page in doc.pages for a in page.obj.get("/Annots", []) if a.Subtype == "/Link"]
        assert len(links) >= 8


def test_same_inputs_give_byte_identical_pdfs(default_project: Path, built: Path, tmp_path: Path) -> None:
    result = run_zhpress("build", "print", "-C", str(default_project), "-o", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"{BOOK}-print.pdf").read_bytes() == pdf(built, "print").read_bytes()


@pytest.mark.parametrize("profile", ["print-tw", "print-hk"])
def test_traditional_print_editions(built: Path, profile: str) -> None:
    path = pdf(built, profile)
    first = min(page for level, _, page in outline(PdfReader(path)) if level == 1)
    text = body_text(path, first)
    assert "幹部" in text and "乾部" not in text
    assert "「" in text and "“" not in text and "”" not in text
    for wrong in ("社群", "院核心酸", "最佳化", "釋出"):
        assert wrong not in text
    with pikepdf.open(path) as doc:
        assert str(doc.Root.Lang) == ("zh-Hant-TW" if profile == "print-tw" else "zh-Hant-HK")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    faces = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]}
    region = "TC" if profile == "print-tw" else "HK"
    assert faces and all(f"-CJK-{region}" in face for face in faces), faces


def test_screen_pdf_passes_outloud(built: Path, tmp_path: Path) -> None:
    """outloud (PyPI), a PDF/UA-1 and WCAG checker: no error on the tagged screen edition."""
    import json
    import shutil
    import sys

    outloud = shutil.which("outloud") or shutil.which("outloud", path=str(Path(sys.executable).parent))
    assert outloud, "outloud is installed with the test extra"
    report = tmp_path / "outloud.json"
    subprocess.run([outloud, "--json", str(report), "--fail-on", "never", str(pdf(built, "screen"))],
                   capture_output=True, text=True, check=True)
    result = json.loads(report.read_text("utf-8"))["results"][0]
    assert result["error"] is None and result["stats"]["tagged"] is True
    errors = [f for f in result["findings"] if f["severity"] == "error"]
    assert result["counts"]["error"] == 0, errors
    assert not [f for f in result["findings"] if f["rule"] == "LNK-004"], "links must be printable"
    assert not [f for f in result["findings"] if f["rule"] == "PAG-001"], "running heads and folios are artifacts"

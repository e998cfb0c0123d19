"""The print cover spread and the EPUB cover image, built for real and read back (pikepdf, qpdf, pdfplumber,
poppler, zbar through pyzbar, EPUBCheck)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree
from PIL import Image

from tests.conftest import ROOT, run_zhpress
from tests.print_marks import stroked_lines
from tests.robust_support import WIDE, no_traceback, seed_dist, snapshot
from zhpress.config import isbn13
from zhpress.cover import PAPER_STOCKS, Paper, spine_width
from zhpress.validate import run_epubcheck

BOOK = "dangqi-shanghai"
MM = 72 / 25.4
ISBN = "978-7-02-000220-7"
COVER = '\n[cover]\npaper = { caliper = "0.1mm" }\nbackground = "#a4161a"\ncolor = "#ffffff"\n'


def project(root: Path, *, book_extra: str = "", cover: str = COVER, corpus: int = 0) -> Path:
    """A copy of the default book (or, with `corpus`, that many articles of the test corpus) with extra
    [book] keys and a [cover] table."""
    shutil.copytree(ROOT / "styles", root / "styles")
    if corpus:
        (root / "content").mkdir()
        for source in sorted((ROOT / "tests/data/corpus/news-2026-06").glob("*.txt"))[:corpus]:
            shutil.copy(source, root / "content" / source.name)
        toml = f'[book]\nid = "{BOOK}"\ntitle = "新闻选读"\nauthors = ["编辑部"]\npublisher = "示例出版社"\ndate = "2026-06-30"\n'
    else:
        shutil.copytree(ROOT / "content", root / "content")
        toml = (root / "content/book.toml").read_text("utf-8")
    toml = toml.replace("[book]\n", "[book]\n" + book_extra, 1)
    (root / "content/book.toml").write_text(toml + cover, "utf-8")
    return root


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_zhpress("build", "-C", str(root), "-j", "1", *args, env=WIDE)


def boxes(path: Path) -> dict[str, list[float]]:
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0]
        return {k: [float(v) / MM for v in page.obj[k]] for k in ("/MediaBox", "/TrimBox", "/BleedBox")}


def book_pages(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


@pytest.fixture(scope="module")
def default_cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default book with an ISBN, an EAN-5 price and [cover] settings, its print edition and ebook built."""
    root = project(tmp_path_factory.mktemp("cover"), book_extra=f'isbn = "{ISBN}"\nprice = "52495"\n')
    result = build(root, "print", "ebook")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "too narrow for spine text" in result.stdout + result.stderr
    return root / "dist"


@pytest.fixture(scope="module")
def long_cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve articles of the test corpus on bulky paper (200 pages per inch), with 70 mm flaps."""
    cover = '\n[cover]\npaper = { ppi = 200 }\nflap = "70mm"\n'
    root = project(tmp_path_factory.mktemp("long"), book_extra='isbn = "7-02-000220-X"\n', cover=cover, corpus=12)
    result = build(root, "print-tw")
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "dist"


# ------------------------------------------------------------------------------------------ units


def test_spine_is_half_the_even_page_count_times_the_caliper() -> None:
    paper = Paper(0.1, "caliper")
    assert spine_width(17, paper) == 0.9  # padded to 18 pages, 9 leaves
    assert spine_width(18, paper) == 0.9
    assert spine_width(301, Paper(0.088, "offset-70g")) == 13.3  # 151 leaves × 0.088 = 13.288
    assert spine_width(444, Paper(2 * 25.4 / 444, "444 ppi")) == 25.4
    assert set(PAPER_STOCKS) >= {"offset-70g", "offset-80g"}


def test_isbn_check_digit_and_isbn10_conversion() -> None:
    assert isbn13("978-7-02-000220-7") == "9787020002207"
    assert isbn13("7-02-000220-X") == "9787020002207"[:12] + isbn13("7-02-000220-X")[-1]
    assert isbn13("0-306-40615-2") == "9780306406157"
    with pytest.raises(ValueError, match="check digit should be 7"):
        isbn13("978-7-02-000220-8")
    with pytest.raises(ValueError, match="13 digits"):
        isbn13("978-7-02")


# ------------------------------------------------------------------------------------------ the spread


def test_default_book_spread_geometry(default_cover: Path) -> None:
    cover = default_cover / f"{BOOK}-print-cover.pdf"
    pages = book_pages(default_cover / f"{BOOK}-print.pdf")
    spine = round((pages + pages % 2) / 2 * 0.1, 1)
    b = boxes(cover)
    media_w, media_h = b["/MediaBox"][2] - b["/MediaBox"][0], b["/MediaBox"][3] - b["/MediaBox"][1]
    assert abs(media_w - (2 * 148 + spine + 2 * 3 + 2 * 10)) < 0.1
    assert abs(media_h - (210 + 2 * 3 + 2 * 10)) < 0.1
    trim = b["/TrimBox"]
    assert abs((trim[2] - trim[0]) - (2 * 148 + spine)) < 0.1 and abs((trim[3] - trim[1]) - 210) < 0.1
    bleed = b["/BleedBox"]
    assert all(abs(bv - tv - d) < 0.01 for bv, tv, d in zip(bleed, trim, (-3, -3, 3, 3), strict=True))
    with pdfplumber.open(cover) as pdf:
        text = pdf.pages[0].extract_text()
    assert f"spine {spine:.1f} mm = {pages + pages % 2} pp" in text.replace("\n", " ")


def test_long_book_spine_flaps_and_spine_text(long_cover: Path) -> None:
    cover = long_cover / f"{BOOK}-print-tw-cover.pdf"
    pages = book_pages(long_cover / f"{BOOK}-print-tw.pdf")
    assert pages > 40
    spine = round((pages + pages % 2) / 2 * (2 * 25.4 / 200), 1)
    assert spine >= 5, "the test book must be thick enough for spine text"
    b = boxes(cover)
    trim = b["/TrimBox"]
    assert abs((trim[2] - trim[0]) - (2 * 148 + spine + 2 * 70)) < 0.1
    assert abs((b["/MediaBox"][2] - b["/MediaBox"][0]) - (2 * 148 + spine + 2 * 70 + 2 * 13)) < 0.1
    # the spine's characters stand upright, stacked top to bottom, inside the spine's folds
    left = (trim[0] + 70 + 148) * MM
    right = left + spine * MM
    with pdfplumber.open(cover) as pdf:
        page = pdf.pages[0]
        top, bottom = 13 * MM, page.height - 13 * MM  # inside the trim: not the slug's labels
        on_spine = [c for c in page.chars if left <= c["x0"] and c["x1"] <= right and top < c["top"] < bottom]
    stacked = "".join(c["text"] for c in sorted(on_spine, key=lambda c: c["top"]))
    assert stacked.startswith("新聞選讀"), stacked  # the edition's script: print-tw converts
    assert "編輯部" in stacked and stacked.endswith("示例出版社")
    assert len({round(c["x0"] + c["x1"]) for c in on_spine}) <= 2  # one column


@pytest.mark.parametrize("which", ["default", "long"])
def test_crop_and_fold_marks_lie_outside_the_bleed(which: str, default_cover: Path, long_cover: Path) -> None:
    path = default_cover / f"{BOOK}-print-cover.pdf" if which == "default" else long_cover / f"{BOOK}-print-tw-cover.pdf"
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0]
        bx0, by0, bx1, by1 = (float(v) for v in page.bleedbox)
        tx0, ty0, tx1, ty1 = (float(v) for v in page.trimbox)
        marks = [line for line in stroked_lines(page) if line[2] == 1.0]
    folds = {round(a[0], 1) for a, b, _ in marks if a[0] == b[0] and not (abs(a[0] - tx0) < 0.01 or abs(a[0] - tx1) < 0.01)}
    assert len(folds) == (2 if which == "default" else 4)  # spine folds (and flap folds)
    assert len(marks) == 8 + 2 * len(folds)
    for (ax, ay), (bx, by), _ in marks:
        for x, y in ((ax, ay), (bx, by)):
            assert not (bx0 + 0.01 < x < bx1 - 0.01 and by0 + 0.01 < y < by1 - 0.01), "a mark inside the bleed"


@pytest.mark.parametrize("which", ["default", "long"])
def test_cover_is_cmyk_pdfx_with_every_font_embedded(which: str, default_cover: Path, long_cover: Path) -> None:
    path = default_cover / f"{BOOK}-print-cover.pdf" if which == "default" else long_cover / f"{BOOK}-print-tw-cover.pdf"
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 1
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFX" and intents[0].DestOutputProfile.N == 4
        assert b"GTS_PDFXVersion" in pdf.Root.Metadata.read_bytes()
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                assert obj.get("/ColorSpace") != "/DeviceRGB"
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                assert any(k in obj for k in ("/FontFile", "/FontFile2", "/FontFile3")), obj.get("/FontName")
        streams = [pdf.pages[0], *(x for x in pdf.pages[0].Resources.get("/XObject", {}).values() if x.Subtype == "/Form")]
        for stream in streams:
            for operands, operator in pikepdf.parse_content_stream(stream):
                assert str(operator) not in ("rg", "RG")
                if str(operator) in ("cs", "CS"):
                    assert "RGB" not in str(operands[0])
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts


def raster(path: Path, dpi: int = 600) -> Image.Image:
    """The cover's page rasterised by poppler, in grey."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-gray", "-singlefile", str(path), f"{scratch}/page"], check=True)
        return Image.open(f"{scratch}/page.png").copy()


def decode_barcodes(path: Path) -> dict[str, str]:
    """The barcodes zbar reads on the cover rasterised by poppler: symbology → data."""
    from pyzbar import pyzbar

    return {s.type: s.data.decode() for s in pyzbar.decode(raster(path))}


def test_barcode_decodes_to_the_isbn_with_the_price_add_on(default_cover: Path) -> None:
    found = decode_barcodes(default_cover / f"{BOOK}-print-cover.pdf")
    assert found.get("EAN13") == "9787020002207", found
    assert found.get("EAN5") in (None, "52495"), found  # zbar reads add-ons only when they are enabled
    with pdfplumber.open(default_cover / f"{BOOK}-print-cover.pdf") as pdf:
        text = pdf.pages[0].extract_text()
    assert "ISBN 978-7-02-000220-7" in text


def test_ean5_add_on_is_decoded(default_cover: Path) -> None:
    """zbar's EAN-5 decoder (off by default) reads the add-on drawn beside the EAN-13."""
    from pyzbar import pyzbar
    from pyzbar.wrapper import ZBarSymbol

    symbols = pyzbar.decode(raster(default_cover / f"{BOOK}-print-cover.pdf"), symbols=[ZBarSymbol.EAN5])
    assert [s.data.decode() for s in symbols] == ["52495"]


def test_isbn10_is_converted_for_the_barcode(long_cover: Path) -> None:
    assert decode_barcodes(long_cover / f"{BOOK}-print-tw-cover.pdf").get("EAN13") == "9787020002207"


def test_spread_renders_with_the_background_colour(default_cover: Path, tmp_path: Path) -> None:
    """Rasterised, the front panel's middle is the background colour and its title is white."""
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-singlefile", str(default_cover / f"{BOOK}-print-cover.pdf"),
                    str(tmp_path / "spread")], check=True)
    image = Image.open(tmp_path / "spread.png").convert("RGB")
    w, h = image.size
    r, g, b = image.getpixel((int(w * 0.75), int(h * 0.6)))
    assert r > 120 and g < 70 and b < 70, (r, g, b)  # red, through the CMYK profile
    assert image.getpixel((2, 2)) == (255, 255, 255)  # the slug is paper


def test_cover_build_is_byte_reproducible(default_cover: Path, tmp_path: Path) -> None:
    root = default_cover.parent
    result = run_zhpress("build", "-C", str(root), "print", "-o", str(tmp_path), "-q", "--no-cache")
    assert result.returncode == 0, result.stderr
    name = f"{BOOK}-print-cover.pdf"
    assert (tmp_path / name).read_bytes() == (default_cover / name).read_bytes()


# ------------------------------------------------------------------------------------------ EPUB cover


def opf(epub: Path) -> tuple[etree._Element, zipfile.ZipFile]:
    archive = zipfile.ZipFile(epub)
    return etree.fromstring(archive.read("EPUB/content.opf")), archive


def test_generated_epub_cover_image(default_cover: Path) -> None:
    epub = default_cover / f"{BOOK}-ebook.epub"
    package, archive = opf(epub)
    items = [i for i in package.iter("{*}item") if "cover-image" in (i.get("properties") or "")]
    assert len(items) == 1 and items[0].get("media-type") == "image/png"
    assert package.xpath("//*[local-name()='meta'][@name='cover']/@content") == [items[0].get("id")]
    image = Image.open(io.BytesIO(archive.read("EPUB/" + items[0].get("href"))))
    assert image.size[0] >= 1600 and image.size[1] >= 2560
    r, g, b = image.convert("RGB").getpixel((800, 1600))
    assert r > 120 and g < 70 and b < 70  # the same background as the print front panel
    page = etree.fromstring(archive.read("EPUB/cover.xhtml"))
    img = page.xpath("//*[local-name()='img']")
    assert img and img[0].get("src") == items[0].get("href") and "党旗飘扬在上海抗疫一线" in img[0].get("alt")
    result = run_epubcheck([epub])[0]
    assert result.errors == [] and result.warnings == []


def test_book_cover_image_becomes_the_epub_cover(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='cover = "images/cover.jpg"\n', cover="")
    (root / "content/images").mkdir()
    Image.new("RGB", (1600, 2560), (20, 60, 120)).save(root / "content/images/cover.jpg", quality=90)
    result = build(root, "ebook")
    assert result.returncode == 0, result.stdout + result.stderr
    epub = root / "dist" / f"{BOOK}-ebook.epub"
    package, archive = opf(epub)
    items = [i for i in package.iter("{*}item") if "cover-image" in (i.get("properties") or "")]
    assert [i.get("media-type") for i in items] == ["image/jpeg"]
    assert archive.read("EPUB/" + items[0].get("href")) == (root / "content/images/cover.jpg").read_bytes()
    result = run_epubcheck([epub])[0]
    assert result.errors == [] and result.warnings == []


def test_traditional_epub_cover_is_drawn_in_its_script(tmp_path: Path) -> None:
    """The generated cover of ebook-tw differs from the simplified one (other script, other face), and a
    rebuild without the cache draws the same pixels."""
    root = project(tmp_path, cover="")
    assert build(root, "ebook", "ebook-tw").returncode == 0
    def cover(profile: str) -> bytes:
        with zipfile.ZipFile(root / "dist" / f"{BOOK}-{profile}.epub") as archive:
            return archive.read("EPUB/images/cover.png")
    simplified, traditional = cover("ebook"), cover("ebook-tw")
    assert simplified != traditional
    assert build(root, "ebook-tw", "--no-cache").returncode == 0
    assert cover("ebook-tw") == traditional


# ------------------------------------------------------------------------------------------ bad input


def line_of(root: Path, key: str) -> int:
    lines = (root / "content/book.toml").read_text("utf-8").splitlines()
    pattern = re.escape(key) if key.startswith("[") else rf"\s*{re.escape(key)}\s*="
    return next(n for n, line in enumerate(lines, start=1) if re.match(pattern, line))


def refused_with(root: Path, message: str, key: str, *profiles: str) -> None:
    before = seed_dist(root)
    result = build(root, *profiles)
    no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"book.toml:{line_of(root, key)}: " in result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert snapshot(root / "dist") == before


def test_bad_isbn_check_digit_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='isbn = "978-7-02-000220-8"\n')
    refused_with(root, "check digit should be 7", "isbn", "ebook")


def test_missing_cover_image_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='cover = "images/gone.jpg"\n')
    refused_with(root, "no such image", "cover", "ebook")


def test_cover_image_that_is_no_image_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='cover = "fake.jpg"\n')
    (root / "content/fake.jpg").write_text("not a picture", "utf-8")
    refused_with(root, "is not an image", "cover", "print")


def test_cover_image_outside_the_book_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path / "book", book_extra='cover = "../../elsewhere.png"\n')
    Image.new("RGB", (10, 10)).save(tmp_path / "elsewhere.png")
    refused_with(root, "outside the book", "cover", "ebook")


def test_cover_without_paper_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, cover='\n[cover]\nbackground = "#a4161a"\n')
    refused_with(root, "needs the paper", "[cover]", "print")  # the table's header


def test_unknown_paper_stock_names_the_nearest(tmp_path: Path) -> None:
    root = project(tmp_path, cover='\n[cover]\npaper = "offset-80"\n')
    refused_with(root, "did you mean 'offset-80g'?", "paper", "print")


def test_cover_flag_without_paper_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, cover="")
    before = seed_dist(root)
    result = build(root, "print", "--cover")
    assert result.returncode == 2 and "needs the paper" in result.stdout + result.stderr
    assert snapshot(root / "dist") == before


def test_low_resolution_front_image_is_a_warning(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='cover = "images/cover.png"\n')
    (root / "content/images").mkdir()
    Image.new("RGB", (600, 900), (200, 180, 40)).save(root / "content/images/cover.png")
    result = build(root, "print")
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join((result.stdout + result.stderr).split())
    assert f"book.toml:{line_of(root, 'cover')}:" in out and "cover.png prints at 100 ppi" in out
    with pikepdf.open(root / "dist" / f"{BOOK}-print-cover.pdf") as pdf:
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert images and all(i.ColorSpace == "/DeviceCMYK" for i in images)  # converted with the output intent


def test_cover_image_without_paper_warns_and_builds_the_book(tmp_path: Path) -> None:
    root = project(tmp_path, book_extra='cover = "images/cover.png"\n', cover="")
    (root / "content/images").mkdir()
    Image.new("RGB", (1800, 2600), (200, 180, 40)).save(root / "content/images/cover.png")
    result = build(root, "print")
    assert result.returncode == 0
    assert "no print cover spread is built" in " ".join((result.stdout + result.stderr).split())
    assert not (root / "dist" / f"{BOOK}-print-cover.pdf").exists()

"""EPUBs that read the same on every device: embedded subset faces, the typography pass, vertical editions,
identifiers; the vertical and horizontal chapters laid out by a real browser engine (Debian's Chromium)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from tests.conftest import run_zhpress
from tests.e2e.test_epub import BOOK, EPUB_PROFILES, XHTML, spine_documents
from zhpress.errors import InputError
from zhpress.fonts import Face, find_font
from zhpress.subset import FaceToEmbed

OPF = "{http://www.idpf.org/2007/opf}"


def opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read("EPUB/content.opf"))


def fonts_in(epub: Path) -> dict[str, TTFont]:
    """The font files the EPUB's manifest lists, by href."""
    package = opf(epub)
    with zipfile.ZipFile(epub) as archive:
        return {
            item.get("href"): TTFont(io.BytesIO(archive.read("EPUB/" + item.get("href"))))
            for item in package.iter(f"{OPF}item")
            if item.get("media-type") == "font/otf"
        }


def shown_characters(epub: Path) -> set[str]:
    """Every character of the documents' bodies."""
    chars: set[str] = set()
    for _, doc in spine_documents(epub):
        chars.update("".join(doc.find(f"{XHTML}body").itertext()))
    return {c for c in chars if not c.isspace()}


@pytest.mark.parametrize("profile", EPUB_PROFILES)
def test_each_epub_carries_subsets_that_draw_every_character(built: Path, profile: str) -> None:
    epub = built / f"{BOOK}-{profile}.epub"
    assert epub.stat().st_size <= 1_500_000
    fonts = fonts_in(epub)
    assert sorted(fonts) == [f for f in sorted(fonts) if f.startswith("fonts/")] and len(fonts) == 2
    regular = next(font for href, font in fonts.items() if href.endswith("-Regular.otf"))
    cmap = regular.getBestCmap()
    missing = sorted(c for c in shown_characters(epub) if ord(c) not in cmap)
    assert missing == []
    assert len(cmap) < 3000  # a subset, not the whole face (Noto CJK maps about 44,000 code points)
    features = {record.FeatureTag for table in ("GSUB", "GPOS") for record in regular[table].table.FeatureList.FeatureRecord}
    assert {"halt", "vhal", "vert", "locl"} <= features
    with zipfile.ZipFile(epub) as archive:
        css = archive.read("EPUB/style/book.css").decode("utf-8")
        colophon = archive.read("EPUB/colophon.xhtml").decode("utf-8")
    family = regular["name"].getDebugName(1)
    assert re.search(r'@font-face\s*\{[^}]*font-family:\s*"' + re.escape(family) + r'"[^}]*-Regular\.otf', css)
    stack = re.findall(r"html \{ font-family: ([^;]+); \}", css)[-1]
    assert stack.startswith(f'"{family}"') and stack.endswith("serif")
    assert "SIL Open Font License 1.1" in colophon


def test_bold_subset_covers_the_headlines(built: Path) -> None:
    epub = built / f"{BOOK}-ebook.epub"
    bold = next(font for href, font in fonts_in(epub).items() if href.endswith("-Bold.otf")).getBestCmap()
    for _, doc in spine_documents(epub):
        for heading in doc.iter(f"{XHTML}h1", f"{XHTML}h2"):
            text = "".join(heading.itertext())
            assert all(ord(c) in bold for c in text if not c.isspace()), text


def test_a_face_whose_licence_forbids_embedding_is_refused(tmp_path: Path) -> None:
    face = find_font("Noto Serif CJK SC")
    assert face is not None
    small = FaceToEmbed.of(face, "normal", "fonts/x.otf").subset("字")
    restricted = TTFont(io.BytesIO(small.data))
    restricted["OS/2"].fsType = 0x0002
    path = tmp_path / "restricted.otf"
    restricted.save(path)
    with pytest.raises(InputError, match="forbids restricted-licence embedding"):
        FaceToEmbed.of(Face("Restricted", path, 0), "normal", "fonts/x.otf")


def test_embedding_can_be_turned_off(default_project: Path, tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(default_project / "content", book / "content")
    shutil.copytree(default_project / "styles", book / "styles")
    toml = book / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8") + "\n[profiles.ebook]\nembed_fonts = false\n", "utf-8")
    result = run_zhpress("build", "ebook", "-C", str(book), "--quiet")
    assert result.returncode == 0, result.stderr
    assert fonts_in(book / "dist" / f"{BOOK}-ebook.epub") == {}


def test_typography_pass_and_css_reach_the_epub(built: Path) -> None:
    epub = built / f"{BOOK}-ebook.epub"
    with zipfile.ZipFile(epub) as archive:
        chapter = archive.read("EPUB/a1.xhtml").decode("utf-8")
        css = archive.read("EPUB/style/book.css").decode("utf-8")
    assert '<span class="zh-halt">' in chapter and 'class="zh-latin' in chapter and 'class="zh-nobr"' in chapter
    for declaration in ("line-break: strict", "text-spacing-trim", "text-autospace", "hanging-punctuation: allow-end"):
        assert declaration in css


@pytest.mark.parametrize("profile", ["ebook-tw-vertical", "ebook-hk-vertical"])
def test_vertical_editions_turn_pages_right_to_left(built: Path, profile: str) -> None:
    epub = built / f"{BOOK}-{profile}.epub"
    package = opf(epub)
    assert package.find(f"{OPF}spine").get("page-progression-direction") == "rtl"
    with zipfile.ZipFile(epub) as archive:
        css = archive.read("EPUB/style/book.css").decode("utf-8")
        chapter = archive.read("EPUB/a1.xhtml").decode("utf-8")
    assert "writing-mode: vertical-rl" in css and "text-combine-upright: all" in css
    numbers = re.findall(r'<span class="zh-tcy">(?:<span[^>]*>)?([^<]*)<', chapter)
    assert numbers and all(n.isdigit() and len(n) <= 2 for n in numbers)
    horizontal = built / f"{BOOK}-ebook-tw.epub"
    assert opf(horizontal).find(f"{OPF}spine").get("page-progression-direction") is None


def test_isbn_is_the_identifier_when_the_book_gives_no_other(default_project: Path, tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(default_project / "content", book / "content")
    toml = book / "content" / "book.toml"
    text = toml.read_text("utf-8").replace('ebook = "urn:uuid:6f1c2a52-3b8e-4d55-9a57-1d2f4c6a0b01"\n', "")
    toml.write_text(text.replace("[book]\n", '[book]\nisbn = "978-7-02-000220-7"\n', 1), "utf-8")
    result = run_zhpress("build", "ebook", "ebook-tw", "-C", str(book), "--quiet")
    assert result.returncode == 0, result.stderr
    ids = {p: opf(book / "dist" / f"{BOOK}-{p}.epub").find(".//{http://purl.org/dc/elements/1.1/}identifier").text for p in ("ebook", "ebook-tw")}
    assert ids["ebook"] == "urn:isbn:9787020002207"
    assert ids["ebook-tw"] == "urn:uuid:6f1c2a52-3b8e-4d55-9a57-1d2f4c6a0b02"  # its own, from book.toml


# A page that loads one chapter in a frame and reports, as JSON in its own body, how Chromium laid it out.
HARNESS = """<!DOCTYPE html><html><body><iframe id="f" src="CHAPTER" style="width:900px;height:700px"></iframe>
<script>
document.getElementById("f").onload = function () {
  var doc = this.contentDocument, win = this.contentWindow;
  var paragraphs = doc.querySelectorAll("section p:not(.kicker):not(.subtitle):not(.column)");
  var p = paragraphs[0].getBoundingClientRect(), h = doc.querySelector("h1").getBoundingClientRect();
  var pair = null, marks = doc.querySelectorAll("span.zh-halt");
  for (var k = 0; k < marks.length && pair === null; k++) {
    var next = marks[k].nextSibling;
    if (marks[k].textContent === "\u3002" && next && next.nodeType === 3 && next.data.charAt(0) === "\u201d") {
      var r = doc.createRange(); r.setStart(marks[k].firstChild, 0); r.setEnd(next, 1);
      pair = r.getBoundingClientRect().width / parseFloat(win.getComputedStyle(marks[k]).fontSize);
    }
  }
  var face = doc.fonts.check("16px '" + win.getComputedStyle(doc.documentElement).fontFamily.split(",")[0].replace(/"/g, "") + "'");
  document.body.textContent = JSON.stringify({
    mode: win.getComputedStyle(doc.documentElement).writingMode,
    paragraph: [p.width, p.height], headline_right: h.right, paragraph_right: p.right, pair: pair,
    loaded: Array.from(doc.fonts).filter(function (f) { return f.status === "loaded"; }).length, face: face
  });
};
</script></body></html>"""


def browser_layout(epub: Path, tmp_path: Path) -> dict[str, object]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by `nox -s system`"
    folder = tmp_path / epub.stem
    with zipfile.ZipFile(epub) as archive:
        archive.extractall(folder)
    harness = folder / "EPUB" / "harness.html"
    harness.write_text(HARNESS.replace("CHAPTER", "a1.xhtml"), "utf-8")
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--virtual-time-budget=5000", "--dump-dom", harness.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    body = re.search(r"<body>(\{.*\})</body>", result.stdout, re.S)
    assert body, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(body.group(1))


def test_chromium_sets_the_horizontal_chapter_with_its_embedded_face(built: Path, tmp_path: Path) -> None:
    layout = browser_layout(built / f"{BOOK}-ebook.epub", tmp_path)
    assert layout["mode"] == "horizontal-tb"
    width, height = layout["paragraph"]
    assert width > height
    assert layout["loaded"] >= 1  # the EPUB's own @font-face subset was fetched and used
    assert 1.4 < layout["pair"] < 1.6  # 。” takes 1.5 em: the pair is compressed


def test_chromium_sets_the_vertical_chapter_in_columns_right_to_left(built: Path, tmp_path: Path) -> None:
    layout = browser_layout(built / f"{BOOK}-ebook-tw-vertical.epub", tmp_path)
    assert layout["mode"] == "vertical-rl"
    width, height = layout["paragraph"]
    assert height > width  # lines run down the page
    assert layout["headline_right"] > layout["paragraph_right"]  # the headline stands right of the body
    assert layout["loaded"] >= 1

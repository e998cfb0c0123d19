"""Characters the body face lacks: set in the edition's fallback face (fontconfig's, or the profile's
`fallback_font`), only those characters, named in a warning with file and line; read back from the PDF's
fonts and text layer and from the EPUB's embedded subsets, with real fonts (Noto CJK, Debian's
fonts-hanazono for Extension B and beyond)."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from tests.conftest import run_zhpress
from zhpress.validate import run_epubcheck

IN_NOTO = "\U00020BB7"  # 𠮷, Extension B, in Noto CJK
OUTSIDE_NOTO = "\U0002A6D6"  # 𪛖, the last of Extension B: not in Noto CJK
EXTENSION_D = "\U0002B740"  # 𫝀, Extension D: not in Noto CJK
MANUSCRIPT = f"""# 生僻字的排版

吉野家的“{IN_NOTO}”字下面是土，属于扩展B区。

这一段有一个更少见的字：{OUTSIDE_NOTO}，它在扩展B区的末尾，正文字体没有收录。

扩展D区的字{EXTENSION_D}也要排出来，前后的文字照常用正文字体。
"""
TOML = """[book]
id = "rare"
title = "生僻字"
authors = ["作者"]
"""


def faces_with(char: str) -> list[str]:
    """The installed families (fontconfig's first name) that draw `char`."""
    out = subprocess.run(["fc-list", f":charset={ord(char):x}", "family"], capture_output=True, text=True).stdout
    return sorted({line.split(",")[0] for line in out.splitlines() if line})


def make_book(root: Path, extra: str = "") -> Path:
    (root / "content").mkdir(parents=True)
    (root / "styles").mkdir()
    (root / "content" / "book.toml").write_text(TOML + extra, "utf-8")
    (root / "content" / "01.md").write_text(MANUSCRIPT, "utf-8")
    return root


def line_of(char: str) -> int:
    return next(n for n, line in enumerate(MANUSCRIPT.splitlines(), start=1) if char in line)


@pytest.fixture(scope="module")
def rare_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    assert "HanaMinB" in faces_with(OUTSIDE_NOTO), "fonts-hanazono (noxfile DEBIAN_PACKAGES) is not installed"
    assert not any("Noto" in family for family in faces_with(OUTSIDE_NOTO) + faces_with(EXTENSION_D))
    root = make_book(tmp_path_factory.mktemp("rare"))
    result = run_zhpress("build", "-C", str(root), "-j", "1", "print", "ebook")
    assert result.returncode == 0, result.stderr
    return root, " ".join(result.stderr.split())


def test_the_warning_names_file_line_character_and_face(rare_book: tuple[Path, str]) -> None:
    _, stderr = rare_book
    for profile in ("print", "ebook"):
        assert f"edition {profile!r}; set in a fallback face" in stderr
    for char in (OUTSIDE_NOTO, EXTENSION_D):
        assert f"content/01.md:{line_of(char)}: {char} (U+{ord(char):04X}) in 'HanaMinB'" in stderr
    assert f"U+{ord(IN_NOTO):04X}" not in stderr  # the body face has it: nothing to say


def test_pdf_sets_only_the_lacking_characters_in_the_fallback_face(rare_book: tuple[Path, str]) -> None:
    root, _ = rare_book
    data = (root / "dist" / "rare-print.pdf").read_bytes()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    fonts = {c["text"]: c["fontname"] for c in chars}
    assert "HanaMinB" in fonts[OUTSIDE_NOTO] and "HanaMinB" in fonts[EXTENSION_D]
    assert "Noto-Serif-CJK-SC" in fonts[IN_NOTO]
    fallback_set = {c["text"] for c in chars if "HanaMinB" in c["fontname"]}
    assert fallback_set == {OUTSIDE_NOTO, EXTENSION_D}
    flat = re.sub(r"\s+", "", text)
    for sentence in MANUSCRIPT.split("\n\n")[1:]:
        assert re.sub(r"\s+", "", sentence) in flat  # the text layer has every character, in order
    fonts_out = subprocess.run(["pdffonts", str(root / "dist" / "rare-print.pdf")], capture_output=True, text=True).stdout
    hana = [line for line in fonts_out.splitlines() if "HanaMinB" in line]
    assert hana and all(" yes yes yes " in line for line in hana)  # embedded, subset, with a Unicode map


def test_epub_embeds_and_declares_the_fallback_subset(rare_book: tuple[Path, str]) -> None:
    root, _ = rare_book
    epub = root / "dist" / "rare-ebook.epub"
    with zipfile.ZipFile(epub) as archive:
        names = archive.namelist()
        css = archive.read("EPUB/style/book.css").decode()
        package = etree.fromstring(archive.read("EPUB/content.opf"))
        subset = TTFont(io.BytesIO(archive.read("EPUB/fonts/HanaMinB-Fallback.ttf")))
        body = TTFont(io.BytesIO(archive.read("EPUB/fonts/NotoSerifCJKSC-Regular.otf")))
    assert "EPUB/fonts/HanaMinB-Fallback.ttf" in names
    items = {i.get("href"): i.get("media-type") for i in package.iter("{*}item")}
    assert items["fonts/HanaMinB-Fallback.ttf"] == "font/ttf"
    assert re.search(r'font-family: "HanaMinB";[^}]*HanaMinB-Fallback\.ttf"\) format\("truetype"\)', css)
    assert re.search(r'html \{ font-family: "Noto Serif CJK SC", "HanaMinB", ', css)
    assert {chr(c) for c in subset.getBestCmap()} == {OUTSIDE_NOTO, EXTENSION_D}
    assert IN_NOTO in {chr(c) for c in body.getBestCmap()}
    result = run_epubcheck([epub])[0]
    assert result.errors == [] and result.warnings == []


def test_a_named_fallback_font_that_lacks_the_character_fails_print(tmp_path: Path) -> None:
    root = make_book(tmp_path, '\n[profiles.print]\nfallback_font = "DejaVu Serif"\n')
    result = run_zhpress("build", "-C", str(root), "-j", "1", "print")
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stderr
    assert "nor can 'DejaVu Serif'" in message
    assert f"content/01.md:{line_of(OUTSIDE_NOTO)}: {OUTSIDE_NOTO} (U+{ord(OUTSIDE_NOTO):04X})" in message
    assert not (root / "dist" / "rare-print.pdf").exists()


def test_a_named_fallback_font_is_used(tmp_path: Path) -> None:
    root = make_book(tmp_path, '\n[profiles.print]\nfallback_font = ["DejaVu Serif", "HanaMinB"]\n')
    result = run_zhpress("build", "-C", str(root), "-j", "1", "print")
    assert result.returncode == 0, result.stderr
    with pdfplumber.open(root / "dist" / "rare-print.pdf") as pdf:
        fonts = {c["text"]: c["fontname"] for page in pdf.pages for c in page.chars}
    assert "HanaMinB" in fonts[OUTSIDE_NOTO]


def test_the_print_caches_key_on_the_fallback_faces_file(rare_book: tuple[Path, str]) -> None:
    """A cached layout or chunk is keyed on every face the edition sets: the fallback face's file too, so
    upgrading fonts-hanazono changes the key (its name alone, in the CSS, would not)."""
    from tests.pdf.test_chunked import inputs
    from zhpress.pdf.cache import faces_fingerprint
    from zhpress.pdf.sources import edition_sources

    root, _ = rare_book
    faces = edition_sources(*inputs(root)).renderer.faces
    assert faces[0] == "Noto Serif CJK SC" and "HanaMinB" in faces[1:]
    fingerprint = faces_fingerprint(faces)
    hanazono = next(line for line in subprocess.run(["fc-match", "-f", "%{file}", "HanaMinB"], capture_output=True, text=True).stdout.splitlines())
    assert hanazono in fingerprint and fingerprint != faces_fingerprint(faces[:1])

"""The EPUB editions of the default book, built for real and checked with EPUBCheck and Ace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import opencc
import pytest
from lxml import etree

from tests.conftest import ROOT, run_zhpress
from zhpress.chars import han_chars
from zhpress.read.decode import decode_manuscript
from zhpress.validate import run_epubcheck

BOOK = "dangqi-shanghai"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_PROFILES = ("ebook", "ebook-tw", "ebook-hk", "ebook-tw-vertical", "ebook-hk-vertical")


def spine_documents(epub: Path) -> list[tuple[str, etree._Element]]:
    """The XHTML documents of an EPUB in spine order."""
    with zipfile.ZipFile(epub) as archive:
        opf_path = etree.fromstring(archive.read("META-INF/container.xml")).find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(opf_path))
        base = opf_path.rsplit("/", 1)[0] + "/"
        hrefs = {i.get("id"): i.get("href") for i in opf.iter("{*}item")}
        return [
            (hrefs[ref.get("idref")], etree.fromstring(archive.read(base + hrefs[ref.get("idref")])))
            for ref in opf.iter("{*}itemref")
        ]


def article_text(epub: Path) -> list[str]:
    """The text of each article document, in spine order."""
    return ["".join(doc.find(f"{XHTML}body").itertext()) for name, doc in spine_documents(epub) if name.startswith("a")]


def test_every_epub_profile_is_built(built: Path) -> None:
    for profile in EPUB_PROFILES:
        assert (built / f"{BOOK}-{profile}.epub").stat().st_size > 10_000


def test_epubcheck_reports_nothing(built: Path) -> None:
    epubs = sorted(built.glob("*.epub"))
    assert len(epubs) == len(EPUB_PROFILES)
    for result in run_epubcheck(epubs):
        assert result.errors == [] and result.warnings == [], result.path


def test_simplified_epub_keeps_every_han_character_in_order(built: Path) -> None:
    texts = article_text(built / f"{BOOK}-ebook.epub")
    sources = sorted((ROOT / "content").glob("*.txt"))
    assert len(texts) == len(sources)
    for text, source in zip(texts, sources, strict=True):
        assert han_chars(text) == han_chars(decode_manuscript(source.read_bytes(), source))


def test_every_document_declares_its_language(built: Path) -> None:
    for profile, lang in (("ebook", "zh-Hans"), ("ebook-tw", "zh-Hant-TW"), ("ebook-hk", "zh-Hant-HK")):
        epub = built / f"{BOOK}-{profile}.epub"
        for name, doc in spine_documents(epub):
            assert doc.get("lang") == lang, name
            assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == lang, name
        with zipfile.ZipFile(epub) as archive:
            opf = etree.fromstring(archive.read("EPUB/content.opf"))
        assert opf.findtext("{*}metadata/{http://purl.org/dc/elements/1.1/}language") == lang


def test_navigation_has_articles_and_headings(built: Path) -> None:
    docs = dict(spine_documents(built / f"{BOOK}-ebook.epub"))
    nav = docs["nav.xhtml"]
    toc = nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li", namespaces={"x": XHTML[1:-1], "epub": "http://www.idpf.org/2007/ops"})
    assert len(toc) == 2
    headings = [len(li.xpath("x:ol/x:li", namespaces={"x": XHTML[1:-1]})) for li in toc]
    assert headings == [3, 3]
    # every link resolves to an element that exists
    for a in nav.iter(f"{XHTML}a"):
        href = a.get("href")
        doc_name, _, anchor = href.partition("#")
        target = docs[doc_name]
        if anchor:
            assert target.xpath(f"//*[@id='{anchor}']"), href
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces={"x": XHTML[1:-1], "epub": "http://www.idpf.org/2007/ops"})
    assert {"toc", "bodymatter", "cover"} <= set(landmarks)


def test_accessibility_metadata(built: Path) -> None:
    with zipfile.ZipFile(built / f"{BOOK}-ebook.epub") as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    props = {m.get("property") for m in opf.iter("{*}meta")}
    for prop in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                 "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:modified"):
        assert prop in props


def test_traditional_taiwan_edition(built: Path) -> None:
    texts = "".join(article_text(built / f"{BOOK}-ebook-tw.epub"))
    assert "幹部" in texts and "乾部" not in texts
    assert "「" in texts and "」" in texts and "“" not in texts and "”" not in texts
    for wrong in ("社群", "院核心酸", "最佳化", "釋出"):
        assert wrong not in texts
    # a protected name keeps its words but takes the character conversion
    assert "張芳曼" in texts and "张芳曼" not in texts
    # nothing left unconverted: OpenCC's glyph-only Taiwan conversion finds nothing more to change but
    # the forms zhpress's Taiwan dictionary chooses on purpose (分布, 發布: the Taiwan standard; 指明了)
    again = opencc.OpenCC("s2tw").convert(texts)
    assert len(again) == len(texts)
    assert {(a, b) for a, b in zip(texts, again, strict=True) if a != b} <= {("布", "佈"), ("了", "瞭")}
    for mainland in ("志願者", "篩查", "流調", "大巴車", "二維碼", "乳腺癌", "護士長"):
        assert mainland not in texts


def test_conversion_report_lists_vocabulary_changes(built: Path) -> None:
    tsv = (built / f"{BOOK}-ebook-tw.conversion.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in tsv.splitlines()[1:]]
    pairs = {(r[0], r[1]) for r in rows}
    assert ("信息", "資訊") in pairs
    html = (built / f"{BOOK}-ebook-tw.conversion.html").read_text("utf-8")
    assert "資訊" in html and "<html" in html


def test_same_inputs_give_byte_identical_epubs(default_project: Path, built: Path, tmp_path: Path) -> None:
    result = run_zhpress("build", "ebook", "ebook-tw", "-C", str(default_project), "-o", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    for profile in ("ebook", "ebook-tw"):
        name = f"{BOOK}-{profile}.epub"
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes()


def test_source_date_epoch_sets_modified(default_project: Path, tmp_path: Path) -> None:
    result = run_zhpress("build", "ebook", "-C", str(default_project), "-o", str(tmp_path), "--quiet",
                         env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / f"{BOOK}-ebook.epub") as archive:
        opf = archive.read("EPUB/content.opf").decode()
        assert "<meta property=\"dcterms:modified\">2023-11-14T22:13:20Z</meta>" in opf
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


@pytest.mark.skipif(not os.environ.get("ZHPRESS_ACE"), reason="Ace by DAISY is installed by `nox -s tests`")
@pytest.mark.parametrize("profile", ["ebook", "ebook-tw-vertical"])
def test_ace_by_daisy_finds_no_violation(built: Path, tmp_path: Path, profile: str) -> None:
    ace = os.environ["ZHPRESS_ACE"]
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed by Ace"
    subprocess.run(
        [ace, "-o", str(tmp_path), "--force", str(built / f"{BOOK}-{profile}.epub")],
        env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium},
        capture_output=True, text=True, check=False, timeout=300,
    )
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    violations = [a for a in report.get("assertions", []) for t in a.get("assertions", []) if t.get("earl:result", {}).get("earl:outcome") == "fail"]
    assert report["earl:result"]["earl:outcome"] == "pass", json.dumps(violations, ensure_ascii=False)[:2000]


def test_check_command_runs_epubcheck(built: Path, tmp_path: Path) -> None:
    good = run_zhpress("check", str(built / f"{BOOK}-ebook.epub"), str(built / f"{BOOK}-print.pdf"))
    assert good.returncode == 0, good.stderr
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(built / f"{BOOK}-ebook.epub") as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("a1.xhtml"):
                data = data.replace(b"</section>", b"</sektion>", 1)
            dst.writestr(info, data)
    bad = run_zhpress("check", str(broken))
    assert bad.returncode == 1
    assert "broken.epub" in bad.stderr and "RSC-" in bad.stderr

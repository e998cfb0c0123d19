"""A book using every Markdown construct zhpress sets (tests/data/rich-book), built for real in every
edition and read back: EPUBCheck, Ace, the XHTML's semantics, every text run in reading order in the EPUB
and in the PDF's text layer, notes on the pages of their references, CMYK images, embedded fonts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from tests.conftest import ROOT, run_zhpress
from tests.e2e.test_epub import spine_documents
from zhpress.validate import run_epubcheck

BOOK = "qiao-ji"
SOURCE = ROOT / "tests" / "data" / "rich-book"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The rich book built in every profile; (project folder, the build's stderr)."""
    root = tmp_path_factory.mktemp("rich") / "book"
    shutil.copytree(SOURCE, root, ignore=shutil.ignore_patterns(".zhpress-cache", "dist"))
    result = run_zhpress("build", "-C", str(root), "-j", "2")
    assert result.returncode == 0, result.stderr
    return root, result.stderr


def model(root: Path, profile: str | None = None) -> dict:
    args = ["inspect", "--json", "-C", str(root)] + (["--profile", profile] if profile else [])
    result = run_zhpress(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _run_texts(runs: list[dict]) -> list[str]:
    out: list[str] = []
    for run in runs:
        if run["type"] in ("text", "ruby") and run.get("text"):
            out.append(run["text"])
        out += _run_texts(run.get("children", []))
    return out


def block_texts(block: dict, alt: bool = True) -> list[str]:
    """The texts of a block as the model's walk gives them (label, alt, text or runs, children)."""
    out = [block["label"]] if block.get("label") else []
    if alt and block.get("alt") and block["alt"] != block["text"]:
        out.append(block["alt"])
    if block["type"] != "code":
        out += _run_texts(block["runs"]) if "runs" in block else ([block["text"]] if block["text"] else [])
    for child in block.get("children", []):
        out += block_texts(child, alt)
    return out


def article_texts(article: dict, notes: bool = True, alt: bool = True) -> list[str]:
    out = [article[k] for k in ("kicker", "headline", "subtitle", "column", "byline") if article.get(k)]
    for block in article["blocks"]:
        out += block_texts(block, alt)
    for note in article.get("notes", []) if notes else []:
        out += block_texts(note)
    return out


def reading_text(element: etree._Element) -> str:
    """An XHTML element's text in reading order, an image standing for its alt text."""
    parts = [element.get("alt") or ""] if element.tag == f"{{{NS['x']}}}img" else [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(reading_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def in_order(texts: list[str], haystack: str) -> list[str]:
    """The texts not found in `haystack` one after the other (empty when all are there in order)."""
    missing, at = [], 0
    for text in texts:
        found = haystack.find(text, at)
        if found < 0:
            missing.append(text)
        else:
            at = found + len(text)
    return missing


def articles_of(epub: Path) -> list[etree._Element]:
    return [doc for name, doc in spine_documents(epub) if re.fullmatch(r"a\d+\.xhtml", name)]


def test_epubcheck_reports_nothing(rich: tuple[Path, str]) -> None:
    root, _ = rich
    epubs = [root / "dist" / f"{BOOK}-{p}.epub" for p in ("ebook", "ebook-tw", "ebook-hk")]
    for result in run_epubcheck(epubs):
        assert result.errors == [] and result.warnings == [], (result.path, result.errors, result.warnings)


@pytest.mark.skipif(not os.environ.get("ZHPRESS_ACE"), reason="Ace by DAISY is installed by `nox -s tests`")
def test_ace_finds_no_violation(rich: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = rich
    chromium = shutil.which("chromium")
    assert chromium
    subprocess.run(
        [os.environ["ZHPRESS_ACE"], "-o", str(tmp_path), "--force", str(root / "dist" / f"{BOOK}-ebook.epub")],
        env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium}, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    violations = [t for a in report.get("assertions", []) for t in a.get("assertions", [])
                  if t.get("earl:result", {}).get("earl:outcome") == "fail"]  # fmt: skip
    assert report["earl:result"]["earl:outcome"] == "pass", json.dumps(violations, ensure_ascii=False)[:3000]


@pytest.mark.parametrize("profile", ["ebook", "ebook-tw"])
def test_every_text_run_reaches_the_epub_in_reading_order(rich: tuple[Path, str], profile: str) -> None:
    root, _ = rich
    book = model(root, profile)
    docs = articles_of(root / "dist" / f"{BOOK}-{profile}.epub")
    assert len(docs) == len(book["articles"]) == 6
    for article, doc in zip(book["articles"], docs, strict=True):
        texts = article_texts(article)
        assert texts, article["id"]
        assert in_order(texts, reading_text(doc.find("x:body", NS))) == [], article["id"]


def test_the_epub_is_semantic_xhtml(rich: tuple[Path, str]) -> None:
    root, _ = rich
    docs = dict(spine_documents(root / "dist" / f"{BOOK}-ebook.epub"))
    bridges, river = docs["a3.xhtml"], docs["a4.xhtml"]

    def one(doc: etree._Element, path: str) -> list[etree._Element]:
        found = doc.xpath(path, namespaces=NS)
        assert found, path
        return found

    assert [e.text for e in one(bridges, "//x:em")][:2] == ["一条路", "风景"]
    assert "".join(one(bridges, "//x:em/x:span[@class='latin']")[0].itertext()) == "the bridge is a promise"
    assert one(bridges, "//x:strong")[0].text == "并不夸张"
    assert one(bridges, "//x:code")[0].text == "id"
    assert one(bridges, "//x:blockquote/x:blockquote/x:p")[0].xpath("string()") == "标点之内，还有停顿。"
    ol = one(bridges, "//x:ol[@start='3']")[0]
    assert [li.xpath("string()") for li in ol.xpath("x:li", namespaces=NS)][0] == "梁桥，最简单；"
    assert one(ol, ".//x:ul/x:li")[0].xpath("string()") == "石拱桥"
    assert one(bridges, "//x:h2")[0].xpath("string()") == "桥的种类"
    assert one(bridges, "//x:h3")[0].xpath("string()") == "石拱桥"
    assert [th.text for th in one(bridges, "//x:table/x:thead/x:tr/x:th")] == ["桥名", "建成年份", "长度（米）"]
    assert one(bridges, "//x:td[@class='align-right']")[0].xpath("string()") == "266.5"
    figures = one(bridges, "//x:figure")
    assert figures[0].find("x:img", NS).get("alt") == "清晨的一座石拱桥，桥下有小船"
    assert figures[0].find("x:figcaption", NS).xpath("string()") == "清晨的一座石拱桥，桥下有小船"
    assert figures[1].find("x:img", NS).get("alt") == "图二"
    assert figures[1].find("x:figcaption", NS).xpath("string()") == "河面上的钢桥，远处是新城"
    assert one(bridges, "//x:ruby/x:rt")[0].text == "Běijīng"
    assert [a.get("href") for a in one(bridges, "//x:a[@class='link']")] == ["https://example.org/archive", "mailto:bridges@example.org"]
    # Footnotes: a noteref to an aside in the same document, with a link back; the second reference to a
    # note links to the same aside.
    refs = one(bridges, "//x:a[@epub:type='noteref']")
    notes = {a.get("id"): a for a in one(bridges, "//x:aside[@epub:type='footnote']")}
    assert [r.get("href") for r in refs] == ["#a3-n1", "#a3-n1"]
    back = notes["a3-n1"].xpath(".//x:a[@role='doc-backlink']", namespaces=NS)[0]
    assert back.get("href") == "#" + refs[0].get("id")
    assert "第二段注释" in "".join(notes["a3-n1"].itertext())
    # Verse keeps its lines (br), stanzas apart; a paragraph of hard line breaks is verse too.
    stanzas = one(river, "//x:div[@class='verse']/x:p[@class='stanza']")
    assert len(stanzas) == 3 and len(stanzas[0].findall("x:br", NS)) == 1
    assert "".join(stanzas[2].itertext()) == "夜里的城市很安静，只有河在说话，一直说到天亮。"
    assert one(river, "//x:pre/x:code")[0].text == 'bridge = "QB-0417"'
    assert one(river, "//x:aside[@epub:type='footnote']")[0].xpath("string()").strip().endswith("差别可达百分之五。")


def test_roles_parts_and_images_in_the_package(rich: tuple[Path, str]) -> None:
    root, _ = rich
    epub = root / "dist" / f"{BOOK}-ebook.epub"
    docs = spine_documents(epub)
    names = [n for n, _ in docs]
    assert names[:5] == ["cover.xhtml", "title.xhtml", "a1.xhtml", "a2.xhtml", "nav.xhtml"]  # front matter first
    sections = {n: d.xpath("//x:section[@class='article']", namespaces=NS)[0] for n, d in docs if n.startswith("a")}
    assert [sections[f"a{i}.xhtml"].get(EPUB_TYPE) for i in range(1, 7)] == [
        "dedication", "preface", "chapter", "chapter", "appendix", "afterword"]  # fmt: skip
    assert sections["a1.xhtml"].find("x:header", NS) is None  # a dedication needs no headline
    nav = dict(docs)["nav.xhtml"]
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert {"dedication", "preface", "appendix", "afterword", "bodymatter"} <= set(landmarks)
    top = nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li", namespaces=NS)
    part = [li for li in top if li.find("x:a", NS).text == "第一辑　河上"]
    assert len(part) == 1
    assert [a.text for a in part[0].xpath("x:ol/x:li/x:a", namespaces=NS)] == ["城里的桥", "河的记忆"]
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
        images = [
            i for i in opf.iter("{*}item")
            if i.get("media-type", "").startswith("image/") and "cover-image" not in (i.get("properties") or "")
        ]
        assert sorted(i.get("media-type") for i in images) == ["image/jpeg", "image/png"]  # the figures
        for item in images:  # the EPUB keeps the author's file (sRGB) as it is
            data = archive.read("EPUB/" + item.get("href"))
            assert data in ((SOURCE / "content/images/arch.png").read_bytes(), (SOURCE / "content/images/river.jpg").read_bytes())


def test_traditional_editions_convert_cells_captions_notes_never_code_urls_or_ruby(rich: tuple[Path, str]) -> None:
    root, _ = rich
    text = "".join(reading_text(d.find("x:body", NS)) for d in articles_of(root / "dist" / f"{BOOK}-ebook-tw.epub"))
    for converted in ("盧溝橋", "清晨的一座石拱橋", "記錄用的是一本紙質筆記本", "石拱橋", "「慢慢走」", "橋是河流的標點"):
        assert converted in text, converted
    for kept in ('bridge = "QB-0417"', "Běijīng", "QB-0417"):
        assert kept in text, kept
    raw = b"".join(zipfile.ZipFile(root / "dist" / f"{BOOK}-ebook-tw.epub").read(f"EPUB/a{i}.xhtml") for i in (3, 4))
    assert b'href="https://example.org/archive"' in raw


def _pdf_chars(path: Path) -> str:
    """The Han characters, letters and digits of a PDF's text layer, in reading order."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(c for c in text if c.isalnum())


def _subsequence(needle: str, haystack: str) -> str:
    """What is left of `needle` after matching it in order against `haystack` ("" when all is there)."""
    at = 0
    for index, char in enumerate(needle):
        at = haystack.find(char, at)
        if at < 0:
            return needle[index:]
        at += 1
    return ""


@pytest.mark.parametrize("profile", ["print", "screen", "print-tw"])
def test_every_text_run_reaches_the_pdf_text_layer_in_order(rich: tuple[Path, str], profile: str) -> None:
    root, _ = rich
    book = model(root, profile)
    layer = _pdf_chars(root / "dist" / f"{BOOK}-{profile}.pdf")
    for article in book["articles"]:
        # An image's alt text is no text of the page: the screen edition tags it (below), print shows the image.
        body = "".join(c for t in article_texts(article, notes=False, alt=False) for c in t if c.isalnum())
        notes = "".join(c for n in article.get("notes", []) for t in block_texts(n) for c in t if c.isalnum())
        assert body and _subsequence(body, layer) == "", article["id"]
        assert _subsequence(notes, layer) == "", article["id"]


def test_screen_pdf_tags_figures_with_their_alt_text(rich: tuple[Path, str]) -> None:
    root, _ = rich
    alts = [b["alt"] for a in model(root)["articles"] for b in a["blocks"] if b["type"] == "figure"]
    with pikepdf.open(root / "dist" / f"{BOOK}-screen.pdf") as pdf:
        kinds = {str(o.get("/S")) for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem"}
        figures = [str(o.get("/Alt")) for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and o.get("/S") == "/Figure"]
    assert sorted(figures) == sorted(alts) and len(alts) == 2
    assert {"/Caption", "/Table", "/TH", "/BlockQuote", "/L", "/LI", "/H2", "/H3"} <= kinds


def test_screen_notes_link_to_their_text_and_back(rich: tuple[Path, str]) -> None:
    """In the screen PDF every note call is a link to the note (at the article's end), which links back."""
    root, _ = rich
    numbers = [len(a.get("notes", [])) for a in model(root)["articles"]]
    with pikepdf.open(root / "dist" / f"{BOOK}-screen.pdf") as pdf:
        named = dict(pikepdf.NameTree(pdf.Root.Names.Dests).items())
        targets = set()
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == "/Link" and annot.get("/Dest") is not None:
                    targets.add(str(annot.get("/Dest")))
    notes = sorted(name for name in named if re.fullmatch(r"a\d+-n\d+", name))
    assert len(notes) == sum(numbers) > 0
    for note in notes:
        back = note.replace("-n", "-r")
        assert note in targets, note  # the call links to the note
        assert back in named and back in targets, back  # and the note back to the call


def test_print_notes_sit_at_the_foot_of_the_page_of_their_reference(rich: tuple[Path, str]) -> None:
    root, _ = rich
    pairs = [("步行记录", "记录用的是一本纸质笔记本"), ("无名的小石桥", "小石桥建于清代"), ("有争议的问题", "不同的测量方法")]
    with pdfplumber.open(root / "dist" / f"{BOOK}-print.pdf") as pdf:
        pages = [(page, [c for c in page.chars if c["text"].strip()]) for page in pdf.pages]
        for before, note in pairs:
            hits = [(page, chars) for page, chars in pages if note in "".join(c["text"] for c in chars)]
            assert len(hits) == 1, note
            page, chars = hits[0]
            text = "".join(c["text"] for c in chars)
            assert before in text, (before, page.page_number)
            ref = chars[text.index(before)]
            first = chars[text.index(note)]
            assert first["top"] > ref["top"] + 20, (before, note)  # below the text, in the footnote area
            assert first["size"] < ref["size"]  # set smaller


def test_print_images_are_cmyk_and_every_font_is_embedded(rich: tuple[Path, str]) -> None:
    root, _ = rich
    for profile in ("print", "print-tw"):
        with pikepdf.open(root / "dist" / f"{BOOK}-{profile}.pdf") as pdf:
            images = {
                image.objgen: image
                for page in pdf.pages
                for image in (page.obj.get("/Resources", {}).get("/XObject", {}) or {}).values()
                if image.get("/Subtype") == "/Image"
            }
            spaces = [str(image.get("/ColorSpace")) for image in images.values()]
            assert len(spaces) == 2 and all(s == "/DeviceCMYK" for s in spaces), spaces
            assert b"/DeviceRGB" not in b"".join(
                obj.read_raw_bytes() if isinstance(obj, pikepdf.Stream) else b"" for obj in pdf.objects
            )
    fonts = subprocess.run(["pdffonts", str(root / "dist" / f"{BOOK}-print.pdf")], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row.split(" CID ")[-1] for row in rows), fonts
    assert any("Bold" in row for row in rows), fonts
    with pikepdf.open(root / "dist" / f"{BOOK}-screen.pdf") as pdf:  # the screen edition keeps sRGB
        images = {
            image.objgen: image
            for page in pdf.pages
            for image in (page.obj.get("/Resources", {}).get("/XObject", {}) or {}).values()
            if image.get("/Subtype") == "/Image"
        }
        assert len(images) == 2


def test_warnings_name_file_line_and_what_was_dropped(rich: tuple[Path, str]) -> None:
    _, stderr = rich
    log = " ".join(stderr.split())
    assert "02-river.md:21: heading level 4 (####) is set as level 3" in log
    assert "content/01-bridges.md:37: image content/images/river.jpg prints at 181 ppi in print" in log


def test_a_rebuild_is_byte_identical(rich: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = rich
    again = run_zhpress("build", "ebook", "print", "-C", str(root), "-o", str(tmp_path), "--no-cache", "--quiet")
    assert again.returncode == 0, again.stderr
    for name in (f"{BOOK}-ebook.epub", f"{BOOK}-print.pdf"):
        assert (tmp_path / name).read_bytes() == (root / "dist" / name).read_bytes(), name

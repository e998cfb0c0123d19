"""`zhpress new`: every starter builds at once, in every edition, and its EPUB passes EPUBCheck."""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_zhpress
from zhpress.chars import han_chars
from zhpress.read.decode import decode_manuscript
from zhpress.read.markdown import split_front_matter
from zhpress.validate import run_epubcheck

TEMPLATES = ("news", "essays", "blank")
PROFILES = (
    "ebook", "ebook-tw", "ebook-hk", "ebook-tw-vertical", "ebook-hk-vertical", "print", "print-tw", "print-hk", "screen",
)


def inspect(root: Path) -> dict:
    result = run_zhpress("inspect", "--json", "-C", str(root))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def epub_article_text(epub: Path) -> str:
    """The text of the article documents (a1.xhtml, a2.xhtml, …) in order."""
    with zipfile.ZipFile(epub) as archive:
        names = sorted((n for n in archive.namelist() if Path(n).name.startswith("a") and n.endswith(".xhtml")),
                       key=lambda n: int(Path(n).stem[1:]))
        return "".join(archive.read(n).decode("utf-8") for n in names)


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_new_project_builds_every_edition_and_passes_epubcheck(template: str, tmp_path: Path) -> None:
    root = tmp_path / "mybook"
    created = run_zhpress("new", str(root), "--template", template)
    assert created.returncode == 0, created.stderr
    for name in ("content/book.toml", "styles/book.css", ".gitignore"):
        assert (root / name).is_file(), name
    assert {"dist/", ".zhpress-cache/"} <= set((root / ".gitignore").read_text("utf-8").split())
    built = run_zhpress("build", "-C", str(root), "-j", "1", "--quiet")
    assert built.returncode == 0, built.stderr
    outputs = {p.name for p in (root / "dist").iterdir() if p.suffix in (".epub", ".pdf")}
    assert outputs == {f"mybook-{p}.{'epub' if p.startswith('ebook') else 'pdf'}" for p in PROFILES}
    # EPUBCheck on the simplified edition (the traditional ones differ only in their text; the default
    # book's three are all checked in tests/e2e/test_epub.py).
    for result in run_epubcheck([root / "dist" / "mybook-ebook.epub"]):
        assert result.errors == [] and result.warnings == [], (result.path, result.errors, result.warnings)
    # Every Han character of the sample manuscripts reaches the simplified EPUB, in order.
    manuscripts = sorted(p for p in (root / "content").iterdir() if p.suffix in (".txt", ".md"))
    assert manuscripts
    texts = [decode_manuscript(p.read_bytes(), p) for p in manuscripts]
    source = "".join(split_front_matter(t, p)[1] if p.suffix == ".md" else t for t, p in zip(texts, manuscripts, strict=True))
    book_text = epub_article_text(root / "dist" / "mybook-ebook.epub")
    assert_han_in_order(source, book_text)


def assert_han_in_order(source: str, book_text: str) -> None:
    """Every Han character of the manuscripts' text appears in the book, in the same order (front matter
    and markup aside, which hold Latin letters or Han characters the book also prints)."""
    wanted = han_chars(source)
    got = han_chars(book_text)
    position = 0
    for char in wanted:
        position = got.find(char, position)
        assert position >= 0, f"{char!r} missing after {got[max(0, position - 20):position]!r}"
        position += 1


def test_the_news_sample_is_a_raw_archive_article(tmp_path: Path) -> None:
    root = tmp_path / "news"
    assert run_zhpress("new", str(root), "--template", "news").returncode == 0
    manuscript = next((root / "content").glob("*.txt"))
    raw = manuscript.read_text("utf-8")
    assert "\n" not in raw and "\u3000\u3000" in raw, "one line, paragraphs marked by two ideographic spaces"
    article = inspect(root)["articles"][0]
    config = tomllib.loads((root / "content/book.toml").read_text("utf-8"))["articles"][0]
    assert (article["kicker"], article["headline"], article["column"]) == (config["kicker"], config["headline"], config["column"])
    types = [b["type"] for b in article["blocks"]]
    assert {"editor_note", "note_signature", "heading", "paragraph", "part_break", "credit"} <= set(types)
    assert article["byline"]
    assert any(b.get("lead") for b in article["blocks"]), "a paragraph opening with a dateline"


def test_the_essays_sample_uses_the_markdown_constructs(tmp_path: Path) -> None:
    root = tmp_path / "essays"
    assert run_zhpress("new", str(root), "--template", "essays", "--title", "散文集").returncode == 0
    book = inspect(root)
    assert book["book"]["title"] == "散文集"
    first, second = book["articles"]
    assert first["subtitle"] and first["byline"]
    types = {b["type"] for a in book["articles"] for b in a["blocks"]}
    assert {"epigraph", "editor_note", "note_signature", "heading", "paragraph", "part_break", "credit"} <= types
    assert any(b.get("label") for b in first["blocks"] if b["type"] == "heading"), "a two-part heading"


def test_a_title_with_quotes_and_backslashes_is_written_as_valid_toml(tmp_path: Path) -> None:
    title = '“引号” "quoted" \\ 反斜线'
    root = tmp_path / "b"
    assert run_zhpress("new", str(root), "--template", "blank", "--title", title).returncode == 0
    assert tomllib.loads((root / "content/book.toml").read_text("utf-8"))["book"]["title"] == title
    assert inspect(root)["book"]["title"] == title


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "taken"
    root.mkdir()
    (root / "notes.txt").write_text("mine", "utf-8")
    result = run_zhpress("new", str(root))
    assert result.returncode == 2
    assert "not empty" in result.stderr and str(root) in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in root.iterdir()] == ["notes.txt"]
    assert run_zhpress("new", str(root / "notes.txt")).returncode == 2


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    assert run_zhpress("new", str(root), "--template", "blank").returncode == 0
    assert (root / "content" / "01.md").is_file()

"""Hostile content: raw HTML in Markdown, stylesheets that reach for other files or hosts, metadata with
markup and control characters. Nothing leaks into a book, nothing leaves the machine, nothing outside the
book's folders is read into an output.
"""

from __future__ import annotations

import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from tests.robust_support import BOOK_ID, RAW_ARTICLE, book_toml, build, make_project, no_traceback, refused, snapshot

MARKER = "ZHPRESS-SECRET-7f3a9c"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every connection (before any request line is read) and serves a stylesheet and an image."""

    hits: list[str]

    def setup(self) -> None:
        super().setup()
        self.hits.append(f"connection from {self.client_address}")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.hits.append(self.path)
        body = f"body::after {{ content: '{MARKER}'; }}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1: its base URL and the list of every connection and request it saw."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the book project whose bytes must never reach an output."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "secret.css"
    path.write_text(f"body::before {{ content: '{MARKER}'; }}\n", "utf-8")
    (outside / "secret.txt").write_text(MARKER, "utf-8")
    return path


def hostile_markdown(base: str, secret: Path) -> str:
    """A manuscript carrying every kind of raw HTML and URL the issue lists, around ordinary text."""
    return f"""# 测试文章<script>alert(1)</script>标题

第一段正文<img src="{secret.with_name('secret.txt').as_uri()}" onerror="alert(1)">继续。

<script>document.write("{MARKER}")</script>

<p onclick="alert(2)">第二段正文<img src="{base}/pixel.png">在此。</p>

第三段<a href="javascript:alert(3)">链接文字</a>和[另一个链接](javascript:alert(4))结束。

<link rel="stylesheet" href="{base}/evil.css">
<style>@import url("{base}/import.css"); body {{ background: url({secret.as_uri()}); }}</style>

<iframe src="{base}/frame.html"></iframe>
<object data="{secret.as_uri()}"></object>

第四段![图片]({base}/image.png)与![本地]({secret.as_uri()})文字。

<svg onload="alert(5)"><image href="{base}/svg.png"/></svg>

最后一段正文。
"""


FORBIDDEN = ("<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<object", "<img", "<svg", "127.0.0.1", "file://", "alert(")


def epub_entries(path: Path) -> dict[str, bytes]:
    """Every entry of an EPUB archive."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_raw_html_in_markdown_is_removed_from_an_ebook(tmp_path: Path, secret: Path, server: tuple[str, list[str]]) -> None:
    base, hits = server
    root = make_project(tmp_path / "book", {"a.md": hostile_markdown(base, secret)})
    result = build(root, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    log = " ".join(result.stderr.split())
    assert "content/a.md:" in log and "raw HTML removed" in log and "image removed" in log
    entries = epub_entries(root / "dist" / f"{BOOK_ID}-ebook.epub")
    for name, data in entries.items():
        assert MARKER.encode() not in data, name
        text = data.decode("utf-8", errors="replace")
        if name == "EPUB/cover.xhtml":  # the one image zhpress puts in: the cover it drew
            assert text.count("<img") == 1 and '<img src="images/cover.png"' in text
            text = text.replace('<img src="images/cover.png"', "")
        for bad in FORBIDDEN:
            assert bad not in text, (bad, name)
    articles = b"".join(d for n, d in entries.items() if n.endswith("a1.xhtml")).decode()
    for words in ("测试文章标题", "第一段正文继续。", "第三段链接文字和另一个链接结束。", "第四段与文字。", "最后一段正文。"):
        assert words in articles, words
    # An HTML block is removed whole, its words with it, and the warning names its line.
    assert "第二段正文" not in articles and "content/a.md:7: raw HTML removed" in log
    assert hits == []


def test_raw_html_in_markdown_never_reaches_weasyprint(tmp_path: Path, secret: Path, server: tuple[str, list[str]]) -> None:
    """The one PDF build of this module: the hostile manuscript with a hostile title, as a tagged screen PDF."""
    base, hits = server
    title = '<b>书名</b> & "引号" \'单\''
    toml = book_toml(title=title.replace("\\", "\\\\").replace('"', '\\"'))
    root = make_project(tmp_path / "book", {"a.md": hostile_markdown(base, secret)}, toml=toml)
    result = build(root, "screen")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    pdf = root / "dist" / f"{BOOK_ID}-screen.pdf"
    data = pdf.read_bytes()
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert MARKER not in text and MARKER.encode() not in data
    assert "最后一段正文" in text
    for bad in ("alert(", "javascript:", "127.0.0.1"):
        assert bad not in text and bad.encode() not in data
    assert reader.metadata is not None and reader.metadata.title == title
    assert hits == []


@pytest.mark.parametrize(
    "css",
    [
        "@import url({base}/import.css);\n",
        '@import "{base}/import.css";\n',
        ".kicker {{ color: black; }}\n.headline {{ background: url({base}/bg.png); }}\n",
        '@font-face {{ font-family: x; src: url("{base}/font.woff"); }}\n',
        "@import url({secret_uri});\n",
        "@import url({secret_path});\n",
        '@import "../../outside/secret.css";\n',
        ".headline {{ background-image: url(//127.0.0.1/x.png); }}\n",
    ],
)
@pytest.mark.parametrize("profile", ["ebook", "screen"])
def test_stylesheet_reaching_outside_is_refused(
    tmp_path: Path, secret: Path, server: tuple[str, list[str]], css: str, profile: str
) -> None:
    base, hits = server
    sheet = css.format(base=base, secret_uri=secret.as_uri(), secret_path=secret)
    root = make_project(tmp_path / "book", css=sheet)
    line = sheet.count("\n", 0, sheet.index("url(") if "url(" in sheet else sheet.index('"')) + 1
    refused(root, profile, expect=[f"styles/book.css:{line}", "stylesheet URL", "outside the book", "content/ and styles/"])
    assert hits == []


def test_stylesheet_may_use_its_own_folder_and_data_urls(tmp_path: Path) -> None:
    css = '@import "extra.css";\n.headline { background: url("data:image/gif;base64,R0lGODlhAQABAAAAACw="); }\n'
    root = make_project(tmp_path / "book", css=css)
    (root / "styles" / "extra.css").write_text(".kicker { font-weight: bold; }\n", "utf-8")
    result = build(root, "screen")  # PDF editions fetch them; EPUB editions take self-contained stylesheets
    no_traceback(result)
    assert result.returncode == 0, result.stderr


def test_confined_fetcher_refuses_network_and_outside_files(tmp_path: Path, secret: Path, server: tuple[str, list[str]]) -> None:
    """WeasyPrint itself, given HTML that names the network and an outside file (as a book's own template
    could), fetches nothing but the book's files."""
    import weasyprint

    from zhpress.pdf.engine import confined_fetcher

    base, hits = server
    book = tmp_path / "book"
    (book / "styles").mkdir(parents=True)
    (book / "styles" / "own.css").write_text("p { color: black; }", "utf-8")
    html = f"""<html><head>
<link rel="stylesheet" href="{base}/link.css"><link rel="stylesheet" href="{secret.as_uri()}">
<link rel="stylesheet" href="own.css">
<style>@import url("{base}/import.css"); p {{ background: url({secret.with_name('secret.txt').as_uri()}); }}</style>
</head><body><p>正文</p><img src="{base}/img.png"><img src="{secret.with_name('secret.txt').as_uri()}">
<iframe src="{base}/frame.html"></iframe><object data="{base}/obj.svg"></object></body></html>"""
    fetcher = confined_fetcher([book / "styles"])
    pdf = weasyprint.HTML(string=html, base_url=str(book / "styles") + "/", url_fetcher=fetcher).write_pdf()
    assert pdf is not None and MARKER.encode() not in pdf
    assert hits == []
    refused_urls = set(fetcher.refused)
    assert f"{base}/link.css" in refused_urls and f"{base}/img.png" in refused_urls
    assert secret.as_uri() in refused_urls
    assert not any(url.endswith("own.css") for url in refused_urls)


def test_manuscript_symlinked_outside_the_book_is_refused(tmp_path: Path, secret: Path) -> None:
    root = make_project(tmp_path / "book", toml='[book]\nid = "robust"\ntitle = "书"\n')
    (root / "content" / "b.txt").symlink_to(secret.with_name("secret.txt"))
    refused(root, "ebook", expect=["book.toml", "'b.txt'", "outside content/"])


def test_raw_text_with_markup_characters_is_text(tmp_path: Path) -> None:
    """A raw archive manuscript is plain text: `<script>` in it is printed as those characters, escaped."""
    text = RAW_ARTICLE.replace("第二段正文", '第二段<script>alert("x")</script>&amp;正文')
    root = make_project(tmp_path / "book", {"a.txt": text})
    result = build(root, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    entries = epub_entries(root / "dist" / f"{BOOK_ID}-ebook.epub")
    doc = etree.fromstring(entries["EPUB/a1.xhtml"])
    assert doc.find(".//{*}script") is None
    assert '第二段<script>alert("x")</script>&amp;正文' in "".join(doc.itertext())


def test_metadata_with_markup_and_control_characters_is_escaped_and_valid(tmp_path: Path) -> None:
    title = '<i>书名</i> & "引号" \'单\' ]]> <!-- x -->'
    toml = (
        "[book]\n"
        f'id = "{BOOK_ID}"\n'
        f"title = '''{title}'''\n"
        'subtitle = "副\\u0007题\\u001b"\n'
        'authors = ["A & B <c@d>"]\n'
        'publisher = "出版<社>"\n'
        'description = "简介 & </dc:description> <x>"\n'
        'rights = "\\u0000版权"\n'
        'subjects = ["<主题>"]\n'
    )
    headline = 'A&B<C>"标题"'
    root = make_project(tmp_path / "book", {"a.txt": RAW_ARTICLE.replace("测试文章标题", headline)}, toml=toml)
    result = build(root, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    log = " ".join(result.stderr.split())
    assert "book.toml:4" in log and "control characters" in log and "book.subtitle" in log and "book.rights" in log
    entries = epub_entries(root / "dist" / f"{BOOK_ID}-ebook.epub")
    parsed = {n: etree.fromstring(d) for n, d in entries.items() if n.endswith((".xhtml", ".opf", ".ncx", ".xml"))}
    opf = parsed["EPUB/content.opf"]
    dc = "{http://purl.org/dc/elements/1.1/}"
    assert opf.findtext(f".//{dc}title") == title
    assert opf.findtext(f".//{dc}creator") == "A & B <c@d>"
    assert opf.findtext(f".//{dc}publisher") == "出版<社>"
    assert opf.findtext(f".//{dc}description") == "简介 & </dc:description> <x>"
    assert opf.findtext(f".//{dc}rights") == "版权"
    nav = "".join(parsed["EPUB/nav.xhtml"].itertext())
    assert headline in nav
    title_page = "".join(parsed["EPUB/title.xhtml"].itertext())
    assert title in title_page and "副题" in title_page
    for name, doc in parsed.items():
        for element in doc.iter():
            assert not (isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] in ("i", "c", "x", "script")), name


def test_front_matter_control_characters_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", {"a.md": '+++\nheadline = "标\\u0007题"\n+++\n\n正文。\n'})
    refused(root, "ebook", expect=["content/a.md:2", "U+0007"])


def test_nothing_outside_is_read_by_an_ordinary_build(tmp_path: Path, secret: Path) -> None:
    """The outputs of a build hold no byte of files next to the project."""
    root = make_project(tmp_path / "book", css="@import 'extra.css';\n")
    (root / "styles" / "extra.css").write_text(".kicker { color: black; }\n", "utf-8")
    result = build(root, "screen")  # a PDF edition: the one that fetches the stylesheet's own files
    assert result.returncode == 0, result.stderr
    for name, data in snapshot(root / "dist").items():
        assert MARKER.encode() not in data, name


def test_epub_stylesheet_must_be_self_contained(tmp_path) -> None:
    """An EPUB packs one stylesheet: a relative @import or url() would be missing from the book."""
    import shutil

    from tests.conftest import ROOT, run_zhpress

    book = tmp_path / "book"
    shutil.copytree(ROOT / "content", book / "content")
    (book / "styles").mkdir()
    (book / "styles" / "extra.css").write_text("p { color: black; }", "utf-8")
    (book / "styles" / "book.css").write_text("p { margin: 0; }\n@import 'extra.css';\n", "utf-8")
    result = run_zhpress("build", "ebook", "-C", str(book), "-q")
    assert result.returncode == 2
    assert "styles/book.css:2" in result.stderr and "self-contained" in result.stderr
    assert not (book / "dist" / "dangqi-shanghai-ebook.epub").exists()


def test_epub_stylesheet_comments_and_data_urls_are_not_references(tmp_path) -> None:
    """The self-contained rule reads the parsed stylesheet: a comment naming a file is no reference."""
    import shutil

    from tests.conftest import ROOT, run_zhpress

    book = tmp_path / "book"
    shutil.copytree(ROOT / "content", book / "content")
    (book / "styles").mkdir()
    (book / "styles" / "book.css").write_text(
        '/* once: @import "old.css"; url(old.png) */\n'
        '.headline { background: url("data:image/gif;base64,R0lGODlhAQABAAAAACw="); }\n', "utf-8")
    result = run_zhpress("build", "ebook", "-C", str(book), "-q")
    assert result.returncode == 0, result.stderr
    assert (book / "dist" / "dangqi-shanghai-ebook.epub").is_file()

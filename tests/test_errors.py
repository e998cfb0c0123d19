"""Bad input: one clear message naming the file (and line or byte offset), exit status 2, dist/ unchanged.

Every case builds a small book with the real command line, only the profile the case needs.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import opencc
import pytest

from tests.robust_support import (
    BOOK_ID,
    MARKDOWN_ARTICLE,
    RAW_ARTICLE,
    book_toml,
    build,
    make_project,
    no_traceback,
    refused,
    seed_dist,
    snapshot,
)


def epub_text(path: Path) -> str:
    """All text of an EPUB's documents (the typography's spans taken out), for presence checks."""
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        return "\n".join(
            "".join(etree.fromstring(archive.read(n)).itertext()) for n in archive.namelist() if n.endswith(".xhtml")
        )


# ------------------------------------------------------------------------------------------ encodings


def test_invalid_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    data = RAW_ARTICLE.encode("utf-8")
    cut = data.index("第二段".encode())
    make_project(tmp_path, {"a.txt": data[:cut] + b"\xc3\x28" + data[cut:]})
    refused(tmp_path, "ebook", expect=[f"a.txt (byte {cut})", "UTF-8", "re-export"])


def test_invalid_utf8_after_a_bom_names_the_byte_offset(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + RAW_ARTICLE.encode("utf-8")
    at = data.index("第二段".encode())
    # drop the last byte of 第: the sequence that starts at `at` is cut short
    make_project(tmp_path, {"a.txt": data[: at + 2] + data[at + 3 :]})
    refused(tmp_path, "ebook", expect=[f"a.txt (byte {at})", "byte order mark"])


def test_nul_byte_names_the_byte_offset(tmp_path: Path) -> None:
    data = RAW_ARTICLE.encode("utf-8")
    at = data.index("第一段".encode())
    make_project(tmp_path, {"a.txt": data[:at] + b"\x00" + data[at:]})
    refused(tmp_path, "ebook", expect=[f"a.txt (byte {at})", "NUL", "UTF-8"])


def test_utf16_is_refused(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.txt": RAW_ARTICLE.encode("utf-16")})
    refused(tmp_path, "ebook", expect=["a.txt (byte 0)", "UTF-16", "save the file as UTF-8"])


def test_bytes_in_no_chinese_encoding_are_refused(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.txt": b"\x80\x81\xff\xfe\x80" * 40})
    message = refused(tmp_path, "ebook", expect=["a.txt (byte ", "save the file as UTF-8"])
    assert re.search(r"\(byte \d+\)", message)


def test_control_character_is_refused_with_its_offset(tmp_path: Path) -> None:
    data = RAW_ARTICLE.encode("utf-8")
    at = data.index("第二段".encode())
    make_project(tmp_path, {"a.txt": data[:at] + b"\x07" + data[at:]})
    refused(tmp_path, "ebook", expect=[f"a.txt (byte {at})", "U+0007"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_utf8_with_bom_and_gb18030_are_read(tmp_path: Path, encoding: str) -> None:
    make_project(tmp_path, {"a.txt": RAW_ARTICLE.encode(encoding)})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "守护着大家的平安" in epub_text(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")


def test_big5_is_read_correctly_or_refused_never_mojibake(tmp_path: Path) -> None:
    traditional = opencc.OpenCC("s2tw").convert(RAW_ARTICLE)
    make_project(tmp_path, {"a.txt": traditional.encode("big5")})
    before = seed_dist(tmp_path)
    result = build(tmp_path, "ebook")
    no_traceback(result)
    if result.returncode == 0:
        text = epub_text(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
        for paragraph in traditional.split("\n"):
            assert paragraph.strip("　") in text
    else:
        assert result.returncode == 2
        assert "Big5" in result.stderr and "a.txt" in result.stderr
        assert snapshot(tmp_path / "dist") == before


# ------------------------------------------------------------------------------------ the article list


@pytest.mark.parametrize("data", [b"", b"\n\r\n  \n", b"\xef\xbb\xbf", "　　\n".encode()])
def test_empty_manuscript(tmp_path: Path, data: bytes) -> None:
    make_project(tmp_path, {"a.txt": data})
    refused(tmp_path, "ebook", expect=["a.txt", "empty", "remove it from the book"])


def test_missing_manuscript(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(articles=[{"file": "a.txt"}, {"file": "gone.txt"}]))
    refused(tmp_path, "ebook", expect=["content/gone.txt", "not found", "book.toml"])


def test_two_articles_with_the_same_id(tmp_path: Path) -> None:
    toml = book_toml(articles=[{"file": "a.txt", "id": "same"}, {"file": "b.md", "id": "same"}])
    make_project(tmp_path, {"a.txt": RAW_ARTICLE, "b.md": MARKDOWN_ARTICLE}, toml=toml)
    refused(tmp_path, "ebook", expect=["book.toml:", "'same'", "give one an `id`"])


def test_front_matter_id_clashing_with_another_article(tmp_path: Path) -> None:
    toml = book_toml(articles=[{"file": "a.txt", "id": "same"}, {"file": "b.md"}])
    make_project(tmp_path, {"a.txt": RAW_ARTICLE, "b.md": '+++\nid = "same"\n+++\n' + MARKDOWN_ARTICLE}, toml=toml)
    refused(tmp_path, "ebook", expect=["b.md", "'same'"])


def test_manuscript_listed_twice(tmp_path: Path) -> None:
    toml = book_toml(articles=[{"file": "a.txt", "id": "one"}, {"file": "a.txt", "id": "two"}])
    make_project(tmp_path, toml=toml)
    message = refused(tmp_path, "ebook", expect=["book.toml:", "listed twice"])
    line = int(re.search(r"book\.toml:(\d+)", message)[1])  # type: ignore[index]
    assert (tmp_path / "content/book.toml").read_text().splitlines()[line - 1].startswith("file")


def test_article_file_outside_content_is_refused(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(articles=[{"file": "../../../../etc/hostname"}]))
    refused(tmp_path, "ebook", expect=["book.toml", "outside content/"])


# ------------------------------------------------------------------------------------------ book.toml


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    make_project(tmp_path, toml='[book]\nid = "robust"\ntitle = "unterminated\n')
    refused(tmp_path, "ebook", expect=["book.toml:3:", "not valid TOML"])


def test_key_of_the_wrong_type(tmp_path: Path) -> None:
    make_project(tmp_path, toml='[book]\nid = "robust"\ntitle = "书"\nauthors = "one"\n')
    refused(tmp_path, "ebook", expect=["book.toml:4", "book.authors", "list"])


def test_unknown_key_names_the_nearest_valid_one(tmp_path: Path) -> None:
    make_project(tmp_path, toml='[book]\nid = "robust"\ntitle = "书"\npublsher = "x"\n')
    refused(tmp_path, "ebook", expect=["book.toml:4", "'book.publsher'", "did you mean 'publisher'"])


def test_unknown_profile_key_names_the_nearest_valid_one(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.print.page]\nmargin_inside = "20mm"\n'))
    refused(tmp_path, "ebook", expect=["book.toml:7", "margin_inside", "did you mean 'margin_inner'"])


def test_unknown_profile_on_the_command_line(tmp_path: Path) -> None:
    make_project(tmp_path)
    refused(tmp_path, "ebok", expect=["book.toml", "unknown profile 'ebok'", "did you mean 'ebook'"])


def test_unknown_opencc_config(tmp_path: Path) -> None:
    extra = '\n[profiles.ebook-mo]\nextends = "ebook"\nconversion = "s2mo"\n'
    make_project(tmp_path, toml=book_toml(extra=extra))
    refused(tmp_path, "ebook", expect=["book.toml:8", "'s2mo'", "s2twp", "s2hk"])


@pytest.mark.parametrize(
    "extra",
    [
        '\n[profiles.loop]\nextends = "loop"\n',
        '\n[profiles.one]\nextends = "two"\n[profiles.two]\nextends = "one"\n',
    ],
)
def test_profile_that_extends_itself(tmp_path: Path, extra: str) -> None:
    make_project(tmp_path, toml=book_toml(extra=extra))
    refused(tmp_path, "ebook", expect=["book.toml", "extends itself"])


def test_bad_length_in_a_profile(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.print.page]\nbleed = "3 furlongs"\n'))
    refused(tmp_path, "ebook", expect=["book.toml:7", "bleed", "'3mm'"])


# -------------------------------------------------------------------------------------------- fonts


def test_font_not_installed_names_the_debian_package(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.ebook]\nfont_family = "AR PL UMing CN"\n'))
    refused(tmp_path, "ebook", expect=["book.toml", "'AR PL UMing CN'", "not installed", "apt-get install fonts-arphic-uming"])


def test_unknown_font_without_a_package(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.ebook]\nfont_family = "No Such Face Pro"\n'))
    refused(tmp_path, "ebook", expect=["'No Such Face Pro'", "not installed", "install the font"])


def _no_face_has() -> str:
    """A CJK character (Extension G or later) that no installed face draws, asked of fontconfig."""
    import subprocess

    for code in (0x30000, 0x3134A, 0x31350, 0x323AF, 0x2EBF0):
        if not subprocess.run(["fc-list", f":charset={code:x}", "file"], capture_output=True, text=True).stdout.strip():
            return chr(code)
    raise AssertionError("every candidate character has an installed face: choose rarer ones")


RARE = _no_face_has()
RARE_CODE = f"U+{ord(RARE):04X}"


def _rare_article() -> str:
    return RAW_ARTICLE.replace("第二段正文", f"第二段正文（{RARE}）")


def _rare_line() -> str:
    """`content/a.txt:N`, the line of the rare character in the manuscript."""
    number = next(n for n, line in enumerate(_rare_article().splitlines(), start=1) if RARE in line)
    return f"content/a.txt:{number}"


def test_missing_glyphs_fail_a_print_profile_before_rendering(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.txt": _rare_article()})
    refused(tmp_path, "print", expect=[_rare_line(), RARE_CODE, "Noto Serif CJK SC", "any installed face", "missing_glyphs"])


def test_missing_glyphs_warn_in_an_ebook(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.txt": _rare_article()})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    message = " ".join(result.stderr.split())
    assert _rare_line() in message and RARE_CODE in message
    assert RARE in epub_text(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")


def test_missing_glyphs_setting_decides(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.txt": _rare_article()}, toml=book_toml(extra='\n[profiles.ebook]\nmissing_glyphs = "error"\n'))
    refused(tmp_path, "ebook", expect=[_rare_line(), RARE_CODE])


def test_a_fallback_font_not_installed_names_book_toml(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.print]\nfallback_font = ["No Such Kai"]\n'))
    refused(tmp_path, "print", expect=["book.toml:", "'No Such Kai'", "not installed"])


# ---------------------------------------------------------------------------- stylesheets, templates


def test_stylesheet_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    make_project(tmp_path, css="/* book */\n.kicker { color: black; }\n.headline { color red; }\n")
    refused(tmp_path, "ebook", expect=["styles/book.css:3", "stylesheet syntax error"])


def test_unclosed_rule_in_a_stylesheet(tmp_path: Path) -> None:
    make_project(tmp_path, css=".kicker { color: black; }\n\n.headline\n")
    refused(tmp_path, "ebook", expect=["styles/book.css:3", "stylesheet syntax error"])


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    template = '{% extends "epub/_page.xhtml" %}\n{% block body %}\n{% if %}\n{% endblock %}\n'
    make_project(tmp_path, templates={"epub/article.xhtml": template})
    refused(tmp_path, "ebook", expect=["styles/templates/epub/article.xhtml:3", "template syntax error"])


def test_template_syntax_error_in_a_print_template(tmp_path: Path) -> None:
    make_project(tmp_path, templates={"_article.html": "{% macro paragraph(block) %}\n{{ block.text | }}\n"})
    refused(tmp_path, "print", expect=["styles/templates/_article.html:2", "template syntax error"])


# ------------------------------------------------------------------------------ large input is not bad


NO_PAGE_LIST = '[profiles.ebook]\npage_list = "none"\n'
SENTENCE = "在疫情防控的关键时刻，社区工作者与志愿者们日夜坚守，为居民送去生活物资和温暖关怀。"


def test_one_paragraph_of_a_megabyte_builds(tmp_path: Path) -> None:
    body = SENTENCE * (1_000_000 // len(SENTENCE.encode()) + 1)
    assert len(body.encode()) >= 1_000_000
    # the page list would lay the paragraph out in print too: this test is about the EPUB
    make_project(tmp_path, {"a.txt": f"长段落测试\n　　{body}\n"}, toml=book_toml(extra=NO_PAGE_LIST))
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert epub_text(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub").count(SENTENCE) == body.count(SENTENCE)


def test_five_megabyte_manuscript_builds(tmp_path: Path) -> None:
    paragraph = f"　　{SENTENCE * 8}\n"
    count = 5_000_000 // len(paragraph.encode()) + 1
    text = "大稿件测试\n" + paragraph * count
    assert len(text.encode()) >= 5_000_000
    # the page list would lay out thousands of print pages: this test is about the manuscript
    make_project(tmp_path, {"a.txt": text}, toml=book_toml(extra=NO_PAGE_LIST))
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert epub_text(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub").count(SENTENCE) == 8 * count


# ------------------------------------------------------------------------------------ other settings


def test_impossible_date(tmp_path: Path) -> None:
    make_project(tmp_path, toml='[book]\nid = "robust"\ntitle = "书"\ndate = "2022-13-45"\n')
    refused(tmp_path, "ebook", expect=["book.toml:4", "book.date", "2022-05-10"])


def test_output_folder_that_is_a_file(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "taken").write_bytes(b"a file")
    result = build(tmp_path, "ebook", "-o", str(tmp_path / "taken"))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"{tmp_path / 'taken'}: cannot write to the output folder" in message and "-o" in message
    assert (tmp_path / "taken").read_bytes() == b"a file"


def test_bad_front_matter_names_the_line(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.md": "---\nheadline: 标题\nkicker: [1, 2\n---\n\n正文。\n"})
    refused(tmp_path, "ebook", expect=["content/a.md:", "front matter", "YAML"])


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        ("missing", ["content/a.md:5", "image content/images/gone.png not found"]),
        ("not-an-image", ["content/a.md:5", "image content/images/gone.png is not an image"]),
        ("symlink-outside", ["content/a.md:5", "lies outside the book"]),
    ],
)
def test_a_figure_whose_image_is_wrong_is_refused(tmp_path: Path, setup: str, expect: list[str]) -> None:
    root = make_project(tmp_path / "book", {"a.md": "# 标题\n\n正文。\n\n![图](images/gone.png)\n"})
    images = root / "content" / "images"
    images.mkdir()
    if setup == "not-an-image":
        (images / "gone.png").write_text("not a picture", "utf-8")
    elif setup == "symlink-outside":
        outside = tmp_path / "outside.png"
        outside.write_bytes(b"\x89PNG\r\n\x1a\n")
        (images / "gone.png").symlink_to(outside)
    refused(root, "ebook", expect=expect)


@pytest.mark.parametrize(
    ("parts", "expect"),
    [
        ('[[parts]]\ntitle = "第一辑"\narticles = ["a", "nope"]\n', ["book.toml:", "'nope', which the book does not have"]),
        ('[[parts]]\ntitle = "一"\narticles = ["a"]\n[[parts]]\ntitle = "二"\narticles = ["a"]\n', ["book.toml:", "'a' is in two parts"]),
        ('[[parts]]\ntitle = "一"\narticles = ["a", "c"]\n', ["book.toml:", "must follow one another"]),
    ],
    ids=["unknown-article", "in-two-parts", "not-consecutive"],
)
def test_parts_that_do_not_fit_the_articles_are_refused(tmp_path: Path, parts: str, expect: list[str]) -> None:
    toml = book_toml(articles=[{"file": "a.md", "id": "a"}, {"file": "b.md", "id": "b"}, {"file": "c.md", "id": "c"}], extra=parts)
    root = make_project(tmp_path / "book", {n: f"# 标题{n}\n\n正文。\n" for n in ("a.md", "b.md", "c.md")}, toml=toml)
    refused(root, "ebook", expect=expect)

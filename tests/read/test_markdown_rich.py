"""The Markdown reader's rich constructs: runs, blocks, notes, figures, roles, and a warning naming file
and line for whatever it cannot set."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zhpress.errors import ManuscriptError
from zhpress.model import Block, Inline
from zhpress.read.markdown import parse_markdown


def parse(text: str, **kwargs: object):  # noqa: ANN201
    return parse_markdown(text, path=Path("content/a.md"), article_id="a", source="content/a.md", **kwargs)  # type: ignore[arg-type]


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> tuple[object, str]:
    with caplog.at_level(logging.WARNING, logger="zhpress"):
        article = parse(text)
    return article, " ".join(caplog.text.split())


def test_inline_runs_keep_emphasis_code_links_ruby_and_breaks() -> None:
    a = parse("# 题\n\n甲*乙* **丙** `x=1` [丁](https://e.org) {漢字|hàn zì}。\n")
    assert a.blocks[0].runs == (
        Inline("text", "甲"), Inline("emphasis", children=(Inline("text", "乙"),)), Inline("text", " "),
        Inline("strong", children=(Inline("text", "丙"),)), Inline("text", " "), Inline("code", "x=1"),
        Inline("text", " "), Inline("link", children=(Inline("text", "丁"),), target="https://e.org"),
        Inline("text", " "), Inline("ruby", "漢字", annotation="hàn zì"), Inline("text", "。"),
    )  # fmt: skip
    assert a.blocks[0].text == "甲乙 丙 x=1 丁 漢字。"


def test_blocks_nest_lists_quotes_tables_verse_code() -> None:
    a = parse("# 题\n\n正文。\n\n> 一\n>\n> > 二\n\n3. 甲\n   - 乙\n4. 丙\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n"
              "| 第一行\n| 第二行\n\n```py\nx = 1\n```\n")  # fmt: skip
    quote, lst, table, verse, code = a.blocks[1:]
    assert quote.type == "quote" and quote.children[1].type == "quote"
    assert lst.start == 3 and lst.children[0].children[1].type == "list" and lst.children[0].children[1].start is None
    assert [r.level for r in table.children] == [1, None]
    assert [c.align for c in table.children[1].children] == ["left", "right"]
    assert [line.text for line in verse.children] == ["第一行", "第二行"]
    assert (code.type, code.text, code.ident) == ("code", "x = 1", "py")


def test_headings_at_three_levels_deeper_ones_warned(caplog: pytest.LogCaptureFixture) -> None:
    a, log = warnings(caplog, "# 题\n\n## 二\n\n### 三\n\n#### 四\n")
    assert [(b.text, b.level) for b in a.blocks] == [("二", None), ("三", 3), ("四", 3)]  # type: ignore[attr-defined]
    assert "content/a.md:7: heading level 4 (####) is set as level 3" in log


def test_footnotes_numbered_by_first_reference_with_every_problem_warned(caplog: pytest.LogCaptureFixture) -> None:
    text = ("# 题\n\n甲[^b]乙[^a]丙[^b]丁[^none]^[行内注。]\n\n[^a]: 注甲。\n[^b]: 注乙。\n\n    第二段。\n"
            "[^a]: 重复。\n[^c]: 无人引用。\n")  # fmt: skip
    a, log = warnings(caplog, text)
    refs = [r for r in a.blocks[0].runs if r.kind == "note_ref"]  # type: ignore[attr-defined]
    assert [(r.text, r.target) for r in refs] == [("1", "b"), ("2", "a"), ("1", "b"), ("3", "^3")]
    assert [(n.start, n.ident, [c.text for c in n.children]) for n in a.notes] == [  # type: ignore[attr-defined]
        (1, "b", ["注乙。", "第二段。"]), (2, "a", ["注甲。"]), (3, "^3", ["行内注。"])]  # fmt: skip
    assert "[^none]" in a.blocks[0].text  # type: ignore[attr-defined]
    assert "content/a.md:3: footnote reference [^none] has no definition" in log
    assert "content/a.md:9: footnote [^a] is defined twice: this definition is dropped (the one on line 5 is used)" in log
    assert "content/a.md:10: footnote [^c] is never referenced: its text is dropped" in log


def test_what_cannot_be_set_is_warned_with_file_and_line(caplog: pytest.LogCaptureFixture) -> None:
    a, log = warnings(caplog, "# 题\n\n甲~~删~~乙。\n\n[链](javascript:alert(1))和![图](x.png)。\n\n<div>块</div>\n")
    assert [b.text for b in a.blocks] == ["甲删乙。", "链和。"]  # type: ignore[attr-defined]
    assert "content/a.md:3: strikethrough is not set" in log
    assert "content/a.md:5: link target dropped (only https:, http: and mailto: links are kept): javascript:alert(1)" in log
    assert "content/a.md:5: image removed: an image is a figure only alone in its paragraph (x.png)" in log
    assert "content/a.md:7: raw HTML removed" in log
    assert "javascript" not in str(a.to_json())  # type: ignore[attr-defined]


def test_figures_caption_from_alt_or_title(caplog: pytest.LogCaptureFixture) -> None:
    a, log = warnings(caplog, '# 题\n\n![桥的*照片*](images/a.png)\n\n![替代](../content/b.jpg "标题说明")\n\n![](c.png)\n')
    one, two, three = a.blocks  # type: ignore[attr-defined]
    assert (one.src, one.alt, one.text, one.line) == ("content/images/a.png", "桥的照片", "桥的照片", 3)
    assert one.runs[1] == Inline("emphasis", children=(Inline("text", "照片"),))
    assert (two.src, two.alt, two.text) == ("content/b.jpg", "替代", "标题说明")
    assert three.alt == "" and "content/a.md:7: figure c.png has no alt text" in log


@pytest.mark.parametrize("src", ["https://example.org/a.png", "/etc/a.png", "../../a.png", "file:///a.png"])
def test_figures_from_outside_the_book_are_refused(src: str) -> None:
    with pytest.raises(ManuscriptError) as info:
        parse(f"# 题\n\n正文。\n\n![图]({src})\n")
    assert info.value.line == 5 and src.split("/")[-1] in info.value.message


def test_roles_from_front_matter_and_book_toml() -> None:
    assert parse('+++\nrole = "dedication"\n+++\n\n献给某人。\n').role == "dedication"
    assert parse("献给某人。\n", role="epigraph").headline == ""
    assert parse("# 后记\n\n正文。\n", role="afterword").role == "afterword"
    with pytest.raises(ManuscriptError, match="role 'chaptr'"):
        parse('+++\nrole = "chaptr"\n+++\n# 题\n')
    with pytest.raises(ManuscriptError, match="no headline"):
        parse("正文。\n", role="appendix")


def test_plain_paragraphs_stay_plain_blocks() -> None:
    a = parse("# 题\n\n正文，\n续行。\n")
    assert a.blocks == (Block("paragraph", "正文，续行。"),)

"""The Markdown reader: front matter, headline, blocks, and raw HTML removal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zhpress.errors import ManuscriptError
from zhpress.model import Block, Inline
from zhpress.read import read_manuscript


def read(tmp_path: Path, text: str, name: str = "a.md", **kwargs: object):  # noqa: ANN201
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_manuscript(path, article_id="a", source=f"content/{name}", **kwargs)  # type: ignore[arg-type]


DOC = """\
# 上海市广大党员干部积极投身抗疫一线发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）

本报记者　张三

> 上海本轮疫情发生以来，
> 上海以党建引领。
>
> 一个支部一座堡垒。
> ——编\u00a0\u00a0者

> “关键时刻冲得上去。”

本报北京4月5日电 **强调**的文字，[链接文字](https://example.com/x)继续。

## 下沉干部：“群众肯定就是最好褒奖”

正文,结束!

---

### 小标题

最后一段。

版式设计：张芳曼
"""


def test_markdown_article(tmp_path: Path) -> None:
    a = read(tmp_path, DOC)
    assert a.headline == "上海市广大党员干部积极投身抗疫一线发挥组织优势\u3000凝聚强大合力"
    assert a.column == "党旗在基层一线高高飘扬"
    assert a.byline == "本报记者\u3000张三"
    assert a.blocks == (
        Block("editor_note", "上海本轮疫情发生以来，上海以党建引领。"),
        Block("editor_note", "一个支部一座堡垒。"),
        Block("note_signature", "——编者"),
        Block("epigraph", "“关键时刻冲得上去。”"),
        Block(
            "paragraph",
            "本报北京4月5日电 强调的文字，链接文字继续。",
            lead="本报北京4月5日电",
            runs=(
                Inline("text", "本报北京4月5日电 "),
                Inline("strong", children=(Inline("text", "强调"),)),
                Inline("text", "的文字，"),
                Inline("link", children=(Inline("text", "链接文字"),), target="https://example.com/x"),
                Inline("text", "继续。"),
            ),
        ),
        Block("heading", "“群众肯定就是最好褒奖”", label="下沉干部："),
        Block("paragraph", "正文，结束！"),
        Block("part_break", ""),
        Block("heading", "小标题", level=3),
        Block("paragraph", "最后一段。"),
        Block("credit", "版式设计：张芳曼"),
    )
    assert a.notes == () and a.role is None


@pytest.mark.parametrize(
    "front",
    [
        '+++\nid = "fm-id"\nkicker = "上海市广大党员干部积极投身抗疫一线"\nheadline = "发挥组织优势 凝聚强大合力"\n+++\n',
        "---\nid: fm-id\nkicker: 上海市广大党员干部积极投身抗疫一线\nheadline: 发挥组织优势 凝聚强大合力\n---\n",
    ],
    ids=["toml", "yaml"],
)
def test_front_matter_states_the_title_parts(tmp_path: Path, front: str) -> None:
    a = read(tmp_path, front + DOC)
    assert a.id == "fm-id"
    assert (a.kicker, a.headline, a.column) == (
        "上海市广大党员干部积极投身抗疫一线",
        "发挥组织优势\u3000凝聚强大合力",
        "党旗在基层一线高高飘扬",
    )


def test_front_matter_headline_without_h1(tmp_path: Path) -> None:
    a = read(tmp_path, '+++\nheadline = "标题"\ncolumn = "栏目"\n+++\n\n正文。\n')
    assert (a.headline, a.column, a.blocks) == ("标题", "栏目", (Block("paragraph", "正文。"),))


def test_front_matter_that_does_not_split_the_h1_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="headline"):
        read(tmp_path, '+++\nheadline = "别的标题"\n+++\n# 标题\n\n正文。\n')


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('+++\nkicker = "x"\nheadline = \n+++\n# 标题\n', 3),
        ("---\nkicker: x\nheadline: [unclosed\n---\n# 标题\n", 3),
        ('+++\nkicker = "x"\nheadlin = "typo"\n+++\n# 标题\n', 3),
        ("+++\nheadline = 3\n+++\n# 标题\n", 2),
        ('+++\nheadline = "x"\n# 标题\n', 1),
    ],
    ids=["toml-syntax", "yaml-syntax", "unknown-key", "not-a-string", "unclosed"],
)
def test_bad_front_matter_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    with pytest.raises(ManuscriptError) as info:
        read(tmp_path, text)
    assert info.value.path == str(tmp_path / "a.md")
    assert info.value.line == line


def test_no_headline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="no headline"):
        read(tmp_path, "正文。\n")


def test_raw_html_is_removed_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = (
        "# 标题\n\n正文<span>内联</span><script>alert('x')</script>继续<img src=http://evil/x.png>。\n\n"
        '<iframe src="http://evil"></iframe>\n\n<script>\nsteal()\n</script>\n\n后文。\n'
    )
    with caplog.at_level(logging.WARNING, logger="zhpress"):
        a = read(tmp_path, text)
    dumped = str(a.to_json())
    for needle in ("<", "script", "alert", "iframe", "evil", "steal"):
        assert needle not in dumped
    assert [b.text for b in a.blocks] == ["正文内联继续。", "后文。"]
    assert f"{tmp_path / 'a.md'}:3" in caplog.text
    assert f"{tmp_path / 'a.md'}:5" in caplog.text


def test_leading_blockquote_is_the_epigraph(tmp_path: Path) -> None:
    a = read(tmp_path, "# 标题\n\n> “引语。”\n\n正文。\n\n> 中间的引用。\n")
    assert [b.type for b in a.blocks] == ["epigraph", "paragraph", "quote"]
    assert a.blocks[2].children == (Block("paragraph", "中间的引用。"),)


def test_markdown_in_gb18030_with_crlf(tmp_path: Path) -> None:
    path = tmp_path / "b.md"
    path.write_bytes(DOC.replace("\n", "\r\n").encode("gb18030"))
    assert read_manuscript(path, article_id="a", source="content/a.md") == read(tmp_path, DOC)

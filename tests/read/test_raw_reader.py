"""The raw archive reader: the format's conventions, the default book, the corpus."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from corpus_paths import DEFAULT_000, DEFAULT_001

from zhpress.errors import ManuscriptError
from zhpress.model import Article, Block
from zhpress.normalize import han_chars
from zhpress.read import TitleParts, read_manuscript
from zhpress.read.decode import read_text
from zhpress.read.raw import parse_raw

I = "\u3000\u3000"  # the paragraph indent
BREAK = I * 2  # an empty paragraph: a break between parts
LONG = "这是一段足够长的正文，用来说明前后都是普通的段落，而不是标题或者表格里的一个单元格。"


def parse(text: str, title: TitleParts | None = None) -> Article:
    return parse_raw(text, path="a.txt", article_id="a", source="content/a.txt", title=title)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def types(article: Article) -> list[str]:
    return [b.type for b in article.blocks]


# --------------------------------------------------------------------------------- headline block


def test_headline_block_column_and_spaces() -> None:
    a = parse(f"上海市广大党员干部积极投身抗疫一线发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{I}{LONG}")
    assert a.column == "党旗在基层一线高高飘扬"
    assert a.headline == "上海市广大党员干部积极投身抗疫一线发挥组织优势\u3000凝聚强大合力"
    assert a.kicker is None and a.subtitle is None


def test_title_override_is_used_when_it_splits_the_block() -> None:
    title: TitleParts = {"kicker": "上海市广大党员干部积极投身抗疫一线", "headline": "发挥组织优势 凝聚强大合力"}
    a = parse(f"上海市广大党员干部积极投身抗疫一线发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{I}{LONG}", title)
    assert (a.kicker, a.headline, a.column) == (
        "上海市广大党员干部积极投身抗疫一线",
        "发挥组织优势\u3000凝聚强大合力",
        "党旗在基层一线高高飘扬",
    )


def test_title_override_with_subtitle_and_column() -> None:
    title: TitleParts = {"kicker": "引题", "headline": "主题", "subtitle": "副题内容", "column": "栏目"}
    a = parse(f"引题主题副题内容（栏目）{I}{LONG}", title)
    assert (a.kicker, a.headline, a.subtitle, a.column) == ("引题", "主题", "副题内容", "栏目")


@pytest.mark.parametrize(
    ("title", "part"),
    [
        ({"kicker": "上海市党员干部", "headline": "发挥组织优势凝聚强大合力"}, "kicker"),
        ({"headline": "发挥组织优势凝聚合力"}, "headline"),
        ({"headline": "凝聚强大合力发挥组织优势"}, "headline"),  # reordered words
        ({"column": "党旗飘扬"}, "column"),
        ({"headline": "发挥组织优势凝聚强大合力", "subtitle": "多出来的副题"}, "subtitle"),
    ],
)
def test_title_override_that_is_not_a_split_is_refused(title: TitleParts, part: str) -> None:
    with pytest.raises(ManuscriptError, match=part) as info:
        parse(f"发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{I}{LONG}", title)
    assert info.value.path == "a.txt"


def test_override_byline_must_match_the_manuscript() -> None:
    text = f"标题{I}本报记者 张三{I}{LONG}"
    assert parse(text, {"byline": "本报记者　张三"}).byline == "本报记者　张三"
    with pytest.raises(ManuscriptError, match="byline"):
        parse(text, {"byline": "本报记者　李四"})


# ------------------------------------------------------------------------------------------- body


def test_editor_note_with_letter_spaced_signature() -> None:
    a = parse(f"标题{I}第一段编者按的内容。{I}第二段编者按的内容。{I}——编\u00a0\u00a0者{BREAK}{LONG}")
    assert a.blocks[:4] == (
        Block("editor_note", "第一段编者按的内容。"),
        Block("editor_note", "第二段编者按的内容。"),
        Block("note_signature", "——编者"),
        Block("part_break", ""),
    )


def test_epigraph_needs_one_quotation_and_more_body() -> None:
    a = parse(f"标题{I}“关键时刻冲得上去，危难关头豁得出来。”{I}{LONG}")
    assert types(a) == ["epigraph", "paragraph"]
    # Two quotations in a row are not one epigraph.
    b = parse(f"标题{I}“谢谢”“你们辛苦了”{I}{LONG}")
    assert b.blocks[0].type != "epigraph"
    # A quotation followed by nothing is just the body.
    c = parse(f"标题{I}“只有一句引语。”")
    assert types(c) == ["paragraph"]


def test_label_heading_in_two_parts() -> None:
    a = parse(f"标题{I}{LONG}{BREAK}下沉干部：{I}“群众肯定就是最好褒奖”{I}{LONG}")
    assert a.blocks[2] == Block("heading", "“群众肯定就是最好褒奖”", label="下沉干部：")
    assert types(a) == ["paragraph", "part_break", "heading", "paragraph"]


def test_plain_heading_between_paragraphs() -> None:
    a = parse(f"标题{I}{LONG}{I}感染者健康是医护人员天大的事{I}{LONG}{I}每个感染者的健康，都是医护人员天大的事。{I}{LONG}")
    assert types(a) == ["paragraph", "heading", "paragraph", "paragraph", "paragraph"]
    assert a.blocks[1].text == "感染者健康是医护人员天大的事"


def test_short_segment_at_the_end_is_not_a_heading() -> None:
    a = parse(f"标题{I}{LONG}{I}A股市场板块涨跌幅排行")
    assert types(a) == ["paragraph", "paragraph"]


def test_flattened_table_is_not_headings() -> None:
    cells = ["公司名称", "上会日期", "保荐机构"]
    for n in range(30):
        cells += [f"第{n}号科技股份有限公司", f"2026/1/{n + 1}", "中信证券"]
    a = parse(f"标题{I}{LONG}{I}过会企业一览：{I}{I.join(cells)}{I}{LONG}")
    assert Counter(types(a)) == Counter({"paragraph": 3 + len(cells)})


def test_two_short_segments_form_one_heading_with_a_label() -> None:
    a = parse(f"标题{I}{LONG}{I}以精细化运营{I}激活增量与存量市场{I}{LONG}")
    assert a.blocks[1] == Block("heading", "激活增量与存量市场", label="以精细化运营")


def test_credits_byline_and_dateline() -> None:
    a = parse(
        f"标题{I}本报记者　张三　李四{I}本报北京4月5日电 {LONG}{I}新华社北京6月12日电（记者 王五）{LONG}"
        f"{I}版式设计：张芳曼{I}本版责编：李明"
    )
    assert a.byline == "本报记者　张三　李四"
    # The gap after the dateline stays, as the full-width space the convention sets there.
    assert a.blocks[0] == Block("paragraph", f"本报北京4月5日电\u3000{LONG}", lead="本报北京4月5日电")
    assert a.blocks[1].lead == "新华社北京6月12日电（记者 王五）"
    assert a.blocks[1].text.startswith(a.blocks[1].lead)
    assert a.blocks[2:] == (Block("credit", "版式设计：张芳曼"), Block("credit", "本版责编：李明"))


def test_ascii_punctuation_between_han_is_normalized_in_paragraphs() -> None:
    a = parse(f"标题{I}正文,继续(说明)结束!")
    assert a.blocks[0].text == "正文，继续（说明）结束！"


# ----------------------------------------------------------------------------------- line endings


def _forms(text: str) -> dict[str, bytes]:
    """The same article as different archives deliver it."""
    plain_lines = text.replace(BREAK, "\n\n").replace(I, "\n")
    return {
        "one-line": text.encode(),
        "indented-lines": text.replace(I, "\n" + I).encode(),
        "lines": plain_lines.encode(),
        "crlf": (plain_lines.replace("\n", "\r\n") + "\r\n").encode(),
        "cr": plain_lines.replace("\n", "\r").encode(),
        "blank-line-separated": text.replace(BREAK, "\n\n\n\n").replace(I, "\n\n").encode(),
        "bom": b"\xef\xbb\xbf" + text.encode(),
        "gb18030": text.encode("gb18030"),
        "gb18030-crlf": plain_lines.replace("\n", "\r\n").encode("gb18030"),
    }


@pytest.mark.parametrize("manuscript", [DEFAULT_000, DEFAULT_001], ids=["000", "001"])
def test_every_delivery_form_gives_the_same_article(manuscript: Path, tmp_path: Path) -> None:
    text = manuscript.read_text(encoding="utf-8")
    articles = {
        name: read_manuscript(write(tmp_path, f"{name}.txt", data), article_id="x", source="content/x.txt")
        for name, data in _forms(text).items()
    }
    reference = articles["one-line"]
    for name, article in articles.items():
        assert article == reference, name


def test_small_article_forms_are_identical(tmp_path: Path) -> None:
    text = f"标题 一{I}本报记者 张三{I}编者按语。{I}——编 者{BREAK}“引语。”{I}{LONG}{I}小标题{I}{LONG}{BREAK}{LONG}{I}版式设计：某某"
    articles = [
        read_manuscript(write(tmp_path, f"{n}.txt", d), article_id="x", source="x") for n, d in _forms(text).items()
    ]
    assert all(a == articles[0] for a in articles)
    assert types(articles[0]) == [
        "editor_note", "note_signature", "part_break", "epigraph", "paragraph", "heading", "paragraph",
        "part_break", "paragraph", "credit",
    ]  # fmt: skip


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="unknown manuscript type"):
        read_manuscript(write(tmp_path, "a.docx", b"x"), article_id="a", source="a.docx")


# ---------------------------------------------------------------------------------- default book


def test_default_000_structure() -> None:
    a = read_manuscript(DEFAULT_000, article_id="000", source="content/000.txt")
    assert a.id == "000" and a.source == "content/000.txt"
    assert a.column == "党旗在基层一线高高飘扬"
    assert types(a)[:4] == ["editor_note", "editor_note", "note_signature", "part_break"]
    assert a.blocks[2].text == "——编者"
    headings = [b for b in a.blocks if b.type == "heading"]
    assert [h.label for h in headings] == ["下沉干部：", "基层干部：", "党员志愿者："]
    assert [h.text for h in headings] == ["“群众肯定就是最好褒奖”", "“我就是第一责任人”", "“党员就该闻令而动”"]
    assert a.blocks[-1] == Block("credit", "版式设计：张芳曼")
    assert Counter(types(a))["part_break"] == 2


def test_default_000_with_the_editors_title() -> None:
    title: TitleParts = {
        "kicker": "上海市广大党员干部积极投身抗疫一线",
        "headline": "发挥组织优势　凝聚强大合力",
        "column": "党旗在基层一线高高飘扬",
    }
    a = read_manuscript(DEFAULT_000, article_id="000", source="s", title=title)
    assert (a.kicker, a.headline, a.column) == tuple(title.values())


def test_default_001_structure() -> None:
    a = read_manuscript(DEFAULT_001, article_id="001", source="s")
    assert a.column == "抓细抓实各项防疫工作"
    assert a.blocks[0] == Block("epigraph", "“关键时刻冲得上去，危难关头豁得出来，才是真正的共产党人。”")
    headings = [b.text for b in a.blocks if b.type == "heading"]
    assert headings == ["感染者健康是医护人员天大的事", "想方设法解决群众生活困难", "党员志愿者在一线亮身份、见行动"]
    assert Block("paragraph", "每个感染者的健康，都是医护人员天大的事。") in a.blocks
    assert all(b.label is None for b in a.blocks)


# ---------------------------------------------------------------------------------------- corpus


def _han_kept(path: Path) -> bool:
    article = read_manuscript(path, article_id=path.stem, source=str(path))
    return han_chars("".join(article.texts())) == han_chars(read_text(path))


@pytest.mark.parametrize("manuscript", [DEFAULT_000, DEFAULT_001], ids=["000", "001"])
def test_default_manuscripts_keep_every_han_character(manuscript: Path) -> None:
    assert _han_kept(manuscript)


def test_corpus_keeps_every_han_character(corpus: list[Path]) -> None:
    assert len(corpus) == 28
    lost = [p.name for p in corpus if not _han_kept(p)]
    assert lost == []


def test_corpus_heading_decisions(corpus: list[Path]) -> None:
    articles = {p.name: read_manuscript(p, article_id=p.stem, source=str(p)) for p in corpus}
    headings = {name: [b.text for b in a.blocks if b.type == "heading"] for name, a in articles.items()}
    # The flattened table of 05: hundreds of one-cell paragraphs, no headings among them.
    assert len(headings["05.txt"]) <= 1
    assert sum(1 for b in articles["05.txt"].blocks if b.type == "paragraph") > 250
    # Section headings of ordinary articles.
    assert headings["12.txt"] == ["AI走出了一条人类没想到的路", "AI生成的数学证明面临验证难题", "AI将成为更强大的研究伙伴"]
    assert "“金刚石散热元年”" in headings["16.txt"]
    # Short sentences closed by 。 stay paragraphs.
    assert all(not h.endswith("。") for hs in headings.values() for h in hs)
    # Bylines, datelines and source lines.
    assert articles["19.txt"].byline == "本报记者\u3000杨笑寒"
    assert articles["28.txt"].blocks[0].lead == "新华社北京6月11日电"
    assert articles["13.txt"].blocks[0].lead == "科技日报兰州6月11日电\u3000（记者颉满斌 通讯员余若怡）"
    assert articles["26.txt"].column == "经济聚焦·农田里的新鲜事"
    assert articles["27.txt"].blocks[-1].type == "credit"
    # Every heading stands between real paragraphs: never first-and-last, never more than 32 characters.
    for hs in headings.values():
        assert all(len(re.sub(r"\s", "", h)) <= 32 for h in hs)

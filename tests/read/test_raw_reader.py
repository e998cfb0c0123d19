"""The raw archive reader: the format's conventions, the default book, the corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from corpus_paths import DEFAULT_000, DEFAULT_001, corpus_files

from zhpress.chars import han_chars
from zhpress.errors import ManuscriptError
from zhpress.model import Article, Block
from zhpress.read import TitleParts, read_manuscript
from zhpress.read.decode import read_text
from zhpress.read.raw import crawler_header, parse_raw

INDENT = "\u3000\u3000"  # the paragraph indent
BREAK = INDENT * 2  # an empty paragraph: a break between parts
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
    a = parse(f"上海市广大党员干部积极投身抗疫一线发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{INDENT}{LONG}")
    assert a.column == "党旗在基层一线高高飘扬"
    assert a.headline == "上海市广大党员干部积极投身抗疫一线发挥组织优势\u3000凝聚强大合力"
    assert a.kicker is None and a.subtitle is None


def test_title_override_is_used_when_it_splits_the_block() -> None:
    title: TitleParts = {"kicker": "上海市广大党员干部积极投身抗疫一线", "headline": "发挥组织优势 凝聚强大合力"}
    a = parse(f"上海市广大党员干部积极投身抗疫一线发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{INDENT}{LONG}", title)
    assert (a.kicker, a.headline, a.column) == (
        "上海市广大党员干部积极投身抗疫一线",
        "发挥组织优势\u3000凝聚强大合力",
        "党旗在基层一线高高飘扬",
    )


def test_title_override_with_subtitle_and_column() -> None:
    title: TitleParts = {"kicker": "引题", "headline": "主题", "subtitle": "副题内容", "column": "栏目"}
    a = parse(f"引题主题副题内容（栏目）{INDENT}{LONG}", title)
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
        parse(f"发挥组织优势  凝聚强大合力（党旗在基层一线高高飘扬）{INDENT}{LONG}", title)
    assert info.value.path == "a.txt"


def test_override_byline_must_match_the_manuscript() -> None:
    text = f"标题{INDENT}本报记者 张三{INDENT}{LONG}"
    assert parse(text, {"byline": "本报记者　张三"}).byline == "本报记者　张三"
    with pytest.raises(ManuscriptError, match="byline"):
        parse(text, {"byline": "本报记者　李四"})


# ------------------------------------------------------------------------------------------- body


def test_editor_note_with_letter_spaced_signature() -> None:
    a = parse(f"标题{INDENT}第一段编者按的内容。{INDENT}第二段编者按的内容。{INDENT}——编\u00a0\u00a0者{BREAK}{LONG}")
    assert a.blocks[:4] == (
        Block("editor_note", "第一段编者按的内容。"),
        Block("editor_note", "第二段编者按的内容。"),
        Block("note_signature", "——编者"),
        Block("part_break", ""),
    )


def test_epigraph_needs_one_quotation_and_more_body() -> None:
    a = parse(f"标题{INDENT}“关键时刻冲得上去，危难关头豁得出来。”{INDENT}{LONG}")
    assert types(a) == ["epigraph", "paragraph"]
    # Two quotations in a row are not one epigraph.
    b = parse(f"标题{INDENT}“谢谢”“你们辛苦了”{INDENT}{LONG}")
    assert b.blocks[0].type != "epigraph"
    # A quotation followed by nothing is just the body.
    c = parse(f"标题{INDENT}“只有一句引语。”")
    assert types(c) == ["paragraph"]


def test_label_heading_in_two_parts() -> None:
    a = parse(f"标题{INDENT}{LONG}{BREAK}下沉干部：{INDENT}“群众肯定就是最好褒奖”{INDENT}{LONG}")
    assert a.blocks[2] == Block("heading", "“群众肯定就是最好褒奖”", label="下沉干部：")
    assert types(a) == ["paragraph", "part_break", "heading", "paragraph"]


def test_plain_heading_between_paragraphs() -> None:
    a = parse(f"标题{INDENT}{LONG}{INDENT}感染者健康是医护人员天大的事{INDENT}{LONG}{INDENT}每个感染者的健康，都是医护人员天大的事。{INDENT}{LONG}")
    assert types(a) == ["paragraph", "heading", "paragraph", "paragraph", "paragraph"]
    assert a.blocks[1].text == "感染者健康是医护人员天大的事"


def test_short_segment_at_the_end_is_not_a_heading() -> None:
    a = parse(f"标题{INDENT}{LONG}{INDENT}A股市场板块涨跌幅排行")
    assert types(a) == ["paragraph", "paragraph"]


def test_flattened_table_is_not_headings() -> None:
    cells = ["公司名称", "上会日期", "保荐机构"]
    for n in range(30):
        cells += [f"第{n}号科技股份有限公司", f"2026/1/{n + 1}", "中信证券"]
    a = parse(f"标题{INDENT}{LONG}{INDENT}过会企业一览：{INDENT}{INDENT.join(cells)}{INDENT}{LONG}")
    assert Counter(types(a)) == Counter({"paragraph": 3 + len(cells)})


def test_two_short_segments_form_one_heading_with_a_label() -> None:
    a = parse(f"标题{INDENT}{LONG}{INDENT}以精细化运营{INDENT}激活增量与存量市场{INDENT}{LONG}")
    assert a.blocks[1] == Block("heading", "激活增量与存量市场", label="以精细化运营")


def test_credits_byline_and_dateline() -> None:
    a = parse(
        f"标题{INDENT}本报记者　张三　李四{INDENT}本报北京4月5日电 {LONG}{INDENT}新华社北京6月12日电（记者 王五）{LONG}"
        f"{INDENT}版式设计：张芳曼{INDENT}本版责编：李明"
    )
    assert a.byline == "本报记者　张三　李四"
    # The gap after the dateline stays, as the full-width space the convention sets there.
    assert a.blocks[0] == Block("paragraph", f"本报北京4月5日电\u3000{LONG}", lead="本报北京4月5日电")
    assert a.blocks[1].lead == "新华社北京6月12日电（记者 王五）"
    assert a.blocks[1].text.startswith(a.blocks[1].lead)
    assert a.blocks[2:] == (Block("credit", "版式设计：张芳曼"), Block("credit", "本版责编：李明"))


def test_ascii_punctuation_between_han_is_normalized_in_paragraphs() -> None:
    a = parse(f"标题{INDENT}正文,继续(说明)结束!")
    assert a.blocks[0].text == "正文，继续（说明）结束！"


# ----------------------------------------------------------------------------------- line endings


def _forms(text: str) -> dict[str, bytes]:
    """The same article as different archives deliver it."""
    plain_lines = text.replace(BREAK, "\n\n").replace(INDENT, "\n")
    return {
        "one-line": text.encode(),
        "indented-lines": text.replace(INDENT, "\n" + INDENT).encode(),
        "lines": plain_lines.encode(),
        "crlf": (plain_lines.replace("\n", "\r\n") + "\r\n").encode(),
        "cr": plain_lines.replace("\n", "\r").encode(),
        "blank-line-separated": text.replace(BREAK, "\n\n\n\n").replace(INDENT, "\n\n").encode(),
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
    text = f"标题 一{INDENT}本报记者 张三{INDENT}编者按语。{INDENT}——编 者{BREAK}“引语。”{INDENT}{LONG}{INDENT}小标题{INDENT}{LONG}{BREAK}{LONG}{INDENT}版式设计：某某"
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


# ------------------------------------------------------------------------- the crawler's layout

CRLF = "\r\n"


def crawled(kicker: str, headline: str, subtitle: str, *paragraphs: str) -> str:
    """An article as the archive crawler writes it: three header lines, then one paragraph a line."""
    return CRLF.join([kicker, headline, subtitle, *(f"{INDENT}{p}" if p else "" for p in paragraphs)]) + CRLF


def fused(kicker: str, headline: str, subtitle: str, *paragraphs: str) -> str:
    """The same article rewritten as one line: header lines joined, each paragraph behind the indent."""
    return kicker + headline + subtitle + "".join(f"{INDENT}{p}" for p in paragraphs)


def test_crawler_layout_reads_its_three_header_lines() -> None:
    a = parse(crawled("某省冬季旅游持续升温——", "雪乡迎客忙 冰灯映新春(新春走基层)", "", "本报记者 王某", LONG, LONG))
    assert (a.kicker, a.headline, a.column, a.subtitle) == (
        "某省冬季旅游持续升温——", "雪乡迎客忙\u3000冰灯映新春", "新春走基层", None,
    )  # fmt: skip
    assert a.byline == "本报记者\u3000王某"
    assert types(a) == ["paragraph", "paragraph"]


def test_crawler_layout_with_empty_kicker_and_a_dash_subtitle() -> None:
    a = parse(crawled("", "山乡巨变 共奔富裕", "——写在某县脱贫摘帽之际", LONG, "", LONG))
    assert (a.kicker, a.headline, a.subtitle) == (None, "山乡巨变\u3000共奔富裕", "——写在某县脱贫摘帽之际")
    # The empty subtitle line is no part break; the empty paragraph line is one.
    assert types(a) == ["paragraph", "part_break", "paragraph"]


def test_crawler_layout_keeps_every_line_of_a_plain_headline() -> None:
    # Line 1 a kicker with no mark at all: the layout says what it is.
    a = parse(crawled("某部门负责人在某会议上强调", "切实做好春季农业生产", "某某作出批示", LONG))
    assert (a.kicker, a.headline, a.subtitle) == ("某部门负责人在某会议上强调", "切实做好春季农业生产", "某某作出批示")
    assert not a.unsettled_title


def test_plain_lines_without_header_are_not_the_crawler_layout() -> None:
    # Headline, then running lines without indent: the headline is line 1 and nothing is a kicker.
    a = parse(f"一个标题\n{LONG}\n\n{LONG}\n{LONG}\n")
    assert (a.kicker, a.headline, a.subtitle) == (None, "一个标题", None)
    assert types(a) == ["paragraph", "part_break", "paragraph", "paragraph"]


# ---------------------------------------------------------------------- marks in a fused block


@pytest.mark.parametrize(
    ("block", "parts"),
    [
        # a kicker closed by a dash, a headline in two phrases
        ("冬季旅游持续升温，各地消费市场活跃——年味浓了  市场旺了", ("冬季旅游持续升温，各地消费市场活跃——", "年味浓了\u3000市场旺了", None, None)),
        # a headline in two phrases, a subtitle opened by a dash
        ("山乡巨变  共奔富裕——写在某县脱贫摘帽之际", (None, "山乡巨变\u3000共奔富裕", None, "——写在某县脱贫摘帽之际")),
        # a column, then the subtitle
        ("守护一江清水（人民时评）——写在某某保护条例施行之际②", (None, "守护一江清水", "人民时评", "——写在某某保护条例施行之际②")),
        # a part number closing the subtitle is no column
        ("新农民的新天地（纵深）——来自某地乡村的调研（上）", (None, "新农民的新天地", "纵深", "——来自某地乡村的调研（上）")),
        # a dash inside the column is not a mark
        ("山河铺展新画卷（在某某思想指引下——新时代新篇章）", (None, "山河铺展新画卷", "在某某思想指引下——新时代新篇章", None)),
        # a kicker before a headline with its column
        ("“时代楷模”某某某——一辈子守好一座岛（楷模风采）", ("“时代楷模”某某某——", "一辈子守好一座岛", "楷模风采", None)),
        # kicker and headline of like length; a deck much longer than its headline
        ("某市第一人民医院——首批患者康复出院", ("某市第一人民医院——", "首批患者康复出院", None, None)),
        ("科技与舞台相融合——某某开幕式文艺演出的幕后故事", (None, "科技与舞台相融合", None, "——某某开幕式文艺演出的幕后故事")),
        ("禁食野味，重罚！——某某部门负责人答记者问", (None, "禁食野味，重罚！", None, "——某某部门负责人答记者问")),
        # a date in parentheses is a subtitle, and so is a second parenthesis after the column
        ("在某某座谈会上的讲话（2020年2月3日）", (None, "在某某座谈会上的讲话", None, "（2020年2月3日）")),
        ("读者热议社区治理（来信综述）（面对疫情我们怎么做之三）", (None, "读者热议社区治理", "来信综述", "（面对疫情我们怎么做之三）")),
        ("社区防控不漏一户（社区防控，我们在行动）", (None, "社区防控不漏一户", "社区防控，我们在行动", None)),
    ],
)
def test_marks_in_a_fused_headline_block(block: str, parts: tuple[str | None, ...]) -> None:
    a = parse(f"{block}{INDENT}{LONG}")
    assert (a.kicker, a.headline, a.column, a.subtitle) == parts
    assert not a.unsettled_title
    # The same article from the crawler gives the same parts when its lines say so.
    kicker, headline, column, subtitle = parts
    line2 = headline + (f"（{column}）" if column else "")
    b = parse(crawled(kicker or "", line2, subtitle or "", LONG))
    assert (b.kicker, b.headline, b.column, b.subtitle) == parts


def test_unmarked_fused_kicker_stays_the_headline_and_is_reported() -> None:
    a = parse(f"某某在某地调研时强调切实做好春耕备耕各项工作{INDENT}{LONG}")
    assert (a.kicker, a.headline) == (None, "某某在某地调研时强调切实做好春耕备耕各项工作")
    assert a.unsettled_title
    assert parse(f"某部门：做好七项重点工作{INDENT}{LONG}").unsettled_title
    # A short headline with no mark is a headline.
    assert not parse(f"机器人  做热饭{INDENT}{LONG}").unsettled_title
    # The editor's statement settles it.
    stated = parse(
        f"某某在某地调研时强调切实做好春耕备耕各项工作{INDENT}{LONG}",
        {"kicker": "某某在某地调研时强调", "headline": "切实做好春耕备耕各项工作"},
    )
    assert (stated.kicker, stated.headline, stated.unsettled_title) == ("某某在某地调研时强调", "切实做好春耕备耕各项工作", False)


def test_one_warning_per_book_lists_the_unsettled_articles(tmp_path: Path) -> None:
    from tests.conftest import run_zhpress

    content = tmp_path / "content"
    content.mkdir()
    (content / "book.toml").write_text('[book]\ntitle = "测试"\n\n[[articles]]\nfile = "b.txt"\nkicker = "某部门："\n'
                                       'headline = "做好七项重点工作"\n\n[[articles]]\nfile = "a.txt"\n\n[[articles]]\nfile = "c.txt"\n'
                                       '\n[[articles]]\nfile = "d.txt"\n', encoding="utf-8")
    (content / "a.txt").write_text(f"某某在某地调研时强调切实做好春耕备耕各项工作{INDENT}{LONG}", encoding="utf-8")
    (content / "b.txt").write_text(f"某部门：做好七项重点工作{INDENT}{LONG}", encoding="utf-8")
    (content / "c.txt").write_text(f"某某会议在某地召开研究部署下一阶段的重点工作任务{INDENT}{LONG}", encoding="utf-8")
    (content / "d.txt").write_text(f"短标题{INDENT}{LONG}", encoding="utf-8")
    result = run_zhpress("inspect", "-C", str(tmp_path), env={"COLUMNS": "1000"})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "kicker" in line]
    assert len(warnings) == 1, result.stderr
    assert "a.txt" in warnings[0] and "c.txt" in warnings[0] and "b.txt" not in warnings[0] and "d.txt" not in warnings[0]
    assert "`kicker` and `headline`" in warnings[0]


def test_long_parenthesised_subtitle_raises_no_missing_headline_warning(caplog: pytest.LogCaptureFixture) -> None:
    deck = "（" + "这是一段很长的括号副题，交代了会议的时间、地点、参会人员和讨论的主要议题" * 2 + "）"
    with caplog.at_level("WARNING", logger="zhpress"):
        a = parse(f"会议决定加快推进重点项目建设{deck}{INDENT}{LONG}")
    assert a.headline == "会议决定加快推进重点项目建设" and a.subtitle == deck
    assert "missing" not in caplog.text


# --------------------------------------------------------------------------- sub-article heads


def test_three_line_head_label_heading_byline() -> None:
    a = parse(f"标题{INDENT}{LONG}{BREAK}某市农业农村局局长张某某：{INDENT}“让农民的钱袋子鼓起来”{INDENT}本报记者 李某{INDENT}{LONG}")
    assert a.blocks[2] == Block(
        "heading", "“让农民的钱袋子鼓起来”", label="某市农业农村局局长张某某：", byline="本报记者\u3000李某"
    )
    assert types(a) == ["paragraph", "part_break", "heading", "paragraph"]


@pytest.mark.parametrize(
    ("lines", "label", "heading", "byline"),
    [
        (["某地老街——", "灯笼映红 年味渐浓", "本报驻某地记者\u00a0\u00a0王\u00a0某"], "某地老街——", "灯笼映红\u3000年味渐浓", "本报驻某地记者\u3000王某"),
        (["特", "雪夜里的守护", "本报记者 赵某某"], "特", "雪夜里的守护", "本报记者\u3000赵某某"),
        (["评", "让好政策落地生根", "本报评论员"], "评", "让好政策落地生根", "本报评论员"),
        (["评", "让好政策落地生根", "本报"], None, None, None),  # no byline: three short lines are no head
        (["某某公司：", "“市场机会就在眼前”", "王某某\u00a0\u00a0李\u00a0\u00a0某"], "某某公司：", "“市场机会就在眼前”", "王某某\u3000李某"),
        (["某某大桥工地", "项目建设", "有条不紊", "本报记者 孙某"], "某某大桥工地", "项目建设\u3000有条不紊", "本报记者\u3000孙某"),
        (["某某博物馆", "本报记者　周某"], None, "某某博物馆", "本报记者\u3000周某"),
    ],
)
def test_sub_article_heads(lines: list[str], label: str | None, heading: str | None, byline: str | None) -> None:
    a = parse(f"标题{INDENT}{LONG}{BREAK}{INDENT.join(lines)}{INDENT}{LONG}")
    heads = [b for b in a.blocks if b.type == "heading"]
    if heading is None:
        assert all(b.byline is None for b in heads)
        return
    assert heads == [Block("heading", heading, label=label, byline=byline)]


def test_heading_byline_is_kept_in_every_text_listing_and_converted() -> None:
    from zhpress.convert import ConversionSettings, convert_book
    from zhpress.model import Book, BookMeta

    a = parse(f"标题{INDENT}{LONG}{BREAK}某某博物馆{INDENT}本报记者 周某{INDENT}{LONG}")
    assert "本报记者\u3000周某" in a.texts()
    assert a.to_json()["blocks"][2] == {"type": "heading", "text": "某某博物馆", "byline": "本报记者\u3000周某"}
    book, _ = convert_book(Book(BookMeta(id="b", title="书"), (a,)), ConversionSettings("s2twp", "corner"))
    assert book.articles[0].blocks[2].byline == "本報記者\u3000周某"


# ------------------------------------------------------------------------ lines that are not headings


def test_photo_captions_and_credits_are_captions() -> None:
    a = parse(
        f"标题{INDENT}{LONG}{INDENT}本报记者 王某摄{INDENT}{LONG}{INDENT}资料照片{INDENT}{LONG}{INDENT}图①：某地村民在田间劳作。{INDENT}"
        f"某某某摄（新华社发）{INDENT}{LONG}"
    )
    assert types(a) == ["paragraph", "caption", "paragraph", "caption", "paragraph", "caption", "caption", "paragraph"]
    assert a.blocks[1].text == "本报记者\u3000王某摄"
    from zhpress.model import Book, BookMeta
    from zhpress.render import article_views

    (view,) = article_views(Book(BookMeta(id="b", title="b"), (a,)))
    assert view.headings == ()  # captions never reach the contents


def test_attributions_and_lines_ending_in_a_dash_are_no_headings() -> None:
    a = parse(f"标题{INDENT}{LONG}{INDENT}——某某委员{INDENT}{LONG}{INDENT}他的话让人久久难忘——{INDENT}{LONG}")
    assert types(a) == ["paragraph"] * 5


def test_quotations_closed_by_an_attribution_are_one_epigraph() -> None:
    a = parse(f"标题{INDENT}“第一句引语。”{INDENT}“第二句引语”。{INDENT}——某某{BREAK}{LONG}")
    assert types(a)[:3] == ["epigraph", "epigraph", "epigraph"]
    assert a.blocks[2].text == "——某某"


def test_figures_set_large_are_no_headings() -> None:
    a = parse(f"标题{INDENT}{LONG}{BREAK}11.73亿人{INDENT}{LONG}{INDENT}8—10架次飞机{INDENT}{LONG}")
    assert "heading" not in types(a)


def test_a_field_line_under_a_head_is_running_text() -> None:
    a = parse(f"标题{INDENT}{LONG}{BREAK}关键词：坚守{INDENT}守着灯火到天明{INDENT}时间：1月2日，初一，晴{INDENT}{LONG}{BREAK}"
              f"亲历者说{INDENT}讲述人：某某，工程师{INDENT}{LONG}")
    assert [(b.label, b.text) for b in a.blocks if b.type == "heading"] == [("关键词：坚守", "守着灯火到天明"), (None, "亲历者说")]
    assert Block("paragraph", "时间：1月2日，初一，晴") in a.blocks


def test_section_numbers_are_headings() -> None:
    a = parse(f"标题{INDENT}{LONG}{INDENT}（一）{INDENT}{LONG}{INDENT}（二）{INDENT}{LONG}")
    assert [b.text for b in a.blocks if b.type == "heading"] == ["（一）", "（二）"]


# ------------------------------------------------------------------------------- editor's notes


def test_unsigned_editors_note_runs_to_the_first_break() -> None:
    a = parse(f"标题{INDENT}编者按：这是编者的话。{INDENT}这也是编者的话。{BREAK}{LONG}{INDENT}{LONG}")
    assert types(a) == ["editor_note", "editor_note", "part_break", "paragraph", "paragraph"]
    # With no break soon after it, only the opening paragraph is the note.
    b = parse(f"标题{INDENT}编者按：这是编者的话。{INDENT}{INDENT.join([LONG] * 10)}")
    assert types(b) == ["editor_note"] + ["paragraph"] * 10


# ---------------------------------------------------------------------------------------- spaces


def test_meaningful_spaces() -> None:
    a = parse(
        f"机器人  做热饭{INDENT}本报某地3月2日电\u00a0\u00a0全国某某会议今天开幕，代表们就多项议题展开了讨论。{INDENT}"
        f"本报某地3月2日电 （记者 王某）某某会议今天闭幕，代表们就多项议题达成了共识。{INDENT}{LONG}{BREAK}"
        f"饮水安全\u00a0全流程保障{INDENT}本报记者\u00a0张\u00a0某{INDENT}{LONG}{INDENT}"
        f"一种\u00a0“药食同源”的蔬菜，在这里长势很好，大家都说这是块宝地。{INDENT}版式设计：汪某\u00a0蔡某某{INDENT}制图：郭\u00a0某\u00a0"
    )
    assert a.headline == "机器人\u3000做热饭"
    assert a.blocks[0] == Block("paragraph", "本报某地3月2日电\u3000全国某某会议今天开幕，代表们就多项议题展开了讨论。", lead="本报某地3月2日电")
    assert a.blocks[1].text.startswith("本报某地3月2日电\u3000（记者 王某）某某会议")
    assert a.blocks[1].lead == "本报某地3月2日电\u3000（记者 王某）"
    heading = a.blocks[4]
    assert (heading.text, heading.byline) == ("饮水安全\u3000全流程保障", "本报记者\u3000张某")
    # Letter-spacing in running text and inside names is no content.
    assert a.blocks[6].text == "一种“药食同源”的蔬菜，在这里长势很好，大家都说这是块宝地。"
    assert a.blocks[-2:] == (Block("credit", "版式设计：汪某\u3000蔡某某"), Block("credit", "制图：郭某"))


# --------------------------------------------------------------------------------------- credits


def test_credits_with_captions_among_them() -> None:
    a = parse(
        f"标题{INDENT}{LONG}{INDENT}本期统筹：某某{INDENT}图片说明：{INDENT}图①：某地风光。{INDENT}某某摄{INDENT}资料来源：某某统计局{INDENT}"
        f"数据来源：某某研究院{INDENT}版式设计：某某"
    )
    assert types(a) == ["paragraph", "credit", "caption", "caption", "caption", "credit", "credit", "credit"]


# --------------------------------------------------------------------------------- the inspect outline


def test_inspect_outline_shows_parts_and_prints_text_literally(tmp_path: Path) -> None:
    from tests.conftest import run_zhpress

    content = tmp_path / "content"
    content.mkdir()
    (content / "book.toml").write_text('[book]\ntitle = "测试"\n', encoding="utf-8")
    (content / "a.txt").write_bytes(
        crawled("某地——", "雪乡迎客忙（新春走基层）", "——写在某节之际", "[red]不是标记[/]的正文，写得足够长以便成为一个真正的段落。", "",
                "某某博物馆", "本报记者 周某", LONG, "本报记者 王某摄").encode()
    )
    result = run_zhpress("inspect", "-C", str(tmp_path), env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("kicker    某地——", "headline  雪乡迎客忙", "column    新春走基层", "subtitle  ——写在某节之际",
                     "[red]不是标记[/]", "heading", "某某博物馆", "byline 本报记者\u3000周某", "caption", "本报记者\u3000王某摄"):
        assert expected in out, expected
    data = json.loads(run_zhpress("inspect", "--json", "-C", str(tmp_path)).stdout)
    (article,) = data["articles"]
    assert {"type": "heading", "text": "某某博物馆", "byline": "本报记者\u3000周某"} in article["blocks"]


# ------------------------------------------------------------------------------ every corpus file

SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"
RMRB = SHARED / "rmrb-2019-2020"


def _every_corpus_file() -> list[Path]:
    files = sorted(RMRB.glob("*/*.txt")) + sorted((SHARED / "news-2026-06").glob("*.txt"))
    return files + [p for p in corpus_files() if p not in files]


def test_no_han_character_lost_added_or_reordered_in_any_corpus_file() -> None:
    files = _every_corpus_file()
    if not files:
        pytest.skip("no corpus on this machine")
    assert [p.name for p in files if not _han_kept(p)] == []


def _corpus_heads() -> list[tuple[Path, str, str, str]]:
    """(file, kicker, headline line, subtitle) from the rmrb corpus README's table, as crawled."""
    rows = []
    for line in (RMRB / "README.md").read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].startswith("`2"):
            name = cells[1].strip("`")
            kicker, headline, subtitle = ("" if p.strip() == "–" else p.strip() for p in cells[3].split("‖"))
            folder = "native" if (RMRB / "native" / name).exists() else "raw"
            rows.append((RMRB / folder / name, kicker, headline, subtitle))
    return rows


def test_rmrb_corpus_layouts_and_marked_title_parts() -> None:
    if not (RMRB / "README.md").exists():
        pytest.skip("rmrb corpus not on this machine")
    rows = _corpus_heads()
    assert len(rows) == 95
    flat = lambda t: re.sub(r"\s", "", t or "")  # noqa: E731
    wrong = []
    for path, kicker, headline, subtitle in rows:
        assert (crawler_header(read_text(path)) is not None) == (path.parent.name == "native"), path.name
        marked = path.parent.name == "native" or kicker.endswith("——") or subtitle.startswith("——") or not (kicker or subtitle)
        if not marked:
            continue  # a kicker fused with no mark: the editor states it
        a = read_manuscript(path, article_id=path.stem, source=path.name)
        column = f"（{a.column}）" if a.column else ""
        got = (flat(a.kicker), flat(a.headline + column), flat(a.subtitle))
        want = (flat(kicker), flat(headline).replace("(", "（").replace(")", "）"), flat(subtitle))
        if got != want and not (a.subtitle and got[0] == want[0] and got[1] + got[2] == want[1]):
            wrong.append(path.name)
    assert wrong == []


def test_crawled_files_and_their_one_line_rewrite_give_the_same_body() -> None:
    native = sorted((RMRB / "native").glob("*.txt"))
    if not native:
        pytest.skip("rmrb corpus not on this machine")
    for path in native:
        lines = path.read_bytes().decode("utf-8").split("\r\n")[:-1]
        one_line = "".join(lines[:3]) + "".join(line if line.startswith(INDENT) else INDENT + line for line in lines[3:])
        crawled_article = parse(read_text(path))
        assert parse(one_line).blocks == crawled_article.blocks, path.name

"""The conversion stage: OpenCC characters + zhpress's regional news vocabulary inside segmentation, quotes,
book entries (overrides, protected and verbatim terms), the report."""

from __future__ import annotations

import glob
import html
from pathlib import Path

import opencc
import pytest

from zhpress.convert import (
    ConversionSettings,
    Converter,
    build_config,
    convert_book,
    corner_quotes,
    get_converter,
    shipped_entries,
)
from zhpress.errors import ConfigError
from zhpress.model import Article, Block, Book, BookMeta, Creator

CONTENT = Path(__file__).resolve().parents[1] / "content"
TW = ConversionSettings("s2tw", "corner")
HK = ConversionSettings("s2hk", "corner")
COMPUTING = ConversionSettings("s2tw", "corner", vocabulary="computing")


def manuscript_book(paths: list[str]) -> Book:
    """A Book built by hand from raw manuscripts: first piece the headline, the rest paragraphs."""
    articles = []
    for i, path in enumerate(paths):
        parts = [p for p in Path(path).read_text(encoding="utf-8").strip().split("\u3000\u3000")]
        blocks = tuple(Block("paragraph", p) if p else Block("part_break", "") for p in parts[1:])
        articles.append(Article(id=f"a{i}", source=path, headline=parts[0], blocks=blocks))
    meta = BookMeta(id="book", title="上海战疫纪实", creators=(Creator("人民日报社"),), publisher="人民出版社")
    return Book(meta=meta, articles=tuple(articles))


@pytest.fixture(scope="module")
def default_book() -> Book:
    return manuscript_book(sorted(glob.glob(str(CONTENT / "*.txt"))))


@pytest.fixture(scope="module")
def traditional(default_book: Book):
    return convert_book(default_book, TW)


def all_text(book: Book) -> str:
    parts = [book.meta.title, *(c.name for c in book.meta.creators)]
    for art in book.articles:
        parts += art.texts()
    return "\n".join(p for p in parts if p)


# --- computing vocabulary stays out of the news; regional news vocabulary goes in -------------------------


def test_shequ_stays_shequ() -> None:
    assert opencc.OpenCC("s2twp").convert("社区干部") == "社群幹部"  # OpenCC's computing phrase
    assert get_converter(TW).convert("社区干部") == "社區幹部"
    assert get_converter(COMPUTING).convert("社区干部") == "社群幹部"  # a technical book asks for it


def test_yuannei_hesuan_not_split_across_the_boundary() -> None:
    assert opencc.OpenCC("s2twp").convert("建立了院内核酸检测绿色通道") == "建立了院核心酸檢測綠色通道"
    assert get_converter(TW).convert("建立了院内核酸检测绿色通道") == "建立了院內核酸檢測綠色通道"
    assert get_converter(COMPUTING).convert("建立了院内核酸检测绿色通道") == "建立了院內核酸檢測綠色通道"


@pytest.mark.parametrize("word", ["优化", "用户", "调度", "界面", "队列"])
def test_computing_words_only_on_request(word: str) -> None:
    sentence = {"优化": "调整优化就诊流程", "用户": "收派员常与用户发生冲突", "调度": "码头调度指挥中心",
                "界面": "世界面临的挑战", "队列": "受阅部队列队完毕"}[word]
    news, computing = get_converter(TW).convert(sentence), get_converter(COMPUTING).convert(sentence)
    assert news == opencc.OpenCC("s2tw").convert(sentence).replace("發佈", "發布")
    assert computing != news
    assert opencc.OpenCC("t2s").convert(news) == sentence


@pytest.mark.parametrize(
    ("settings", "source", "expected"),
    [
        (TW, "志愿者在社区做核酸筛查和流调", "志工在社區做核酸篩檢和疫調"),
        (TW, "大巴车、二维码、乳腺癌、护士长", "遊覽車、QR碼、乳癌、護理長"),
        (TW, "信息、软件、出租车、视频、网络", "資訊、軟體、計程車、影片、網路"),
        (HK, "志愿者、信息、快递、食堂", "義工、資訊、速遞、飯堂"),
        (HK, "软件、出租车、视频、网络、二维码", "軟件、的士、視頻、網絡、二維碼"),
        (TW, "工业和信息化部发布信息", "工業和信息化部發布資訊"),  # a mainland body keeps its name
        (TW, "指明了方向，资金链", "指明了方向，資金鏈"),  # not 明瞭 (clear), not 鍊 (a necklace)
    ],
)
def test_regional_news_vocabulary(settings: ConversionSettings, source: str, expected: str) -> None:
    assert get_converter(settings).convert(source) == expected


def test_vocabulary_none_is_characters_only() -> None:
    settings = ConversionSettings("s2tw", "curly", vocabulary="none")
    assert get_converter(settings).convert("志愿者的信息") == opencc.OpenCC("s2tw").convert("志愿者的信息")


def test_longer_dictionary_phrase_wins_over_a_shorter_one() -> None:
    assert get_converter(TW).convert("数据库和信息技术") == "資料庫和資訊科技"


# --- every shipped dictionary entry ----------------------------------------------------------------------


def _entry_params() -> list:
    return [
        pytest.param(config, entry, id=f"{config}:{entry.line}:{entry.source}")
        for config in ("s2tw", "s2hk", "tw-computing")
        for entry in shipped_entries(config)
    ]


@pytest.mark.parametrize(("config", "entry"), _entry_params())
def test_shipped_entry(config: str, entry) -> None:
    computing = config.endswith("-computing")
    settings = ConversionSettings("s2tw" if computing else config, "curly", vocabulary="computing" if computing else "news")
    converted = get_converter(settings).convert(entry.context)
    assert converted.count(entry.target) >= entry.context.count(entry.source), converted
    entries = get_converter(settings).zhpress_entries
    config = settings.config or ""
    # the entry must change something, or protect the sentence from another entry, in news or computing use
    from zhpress.convert import load_opencc

    def effect(base: str) -> bool:
        with_it = load_opencc(build_config(base, entries)).convert(entry.context)
        if with_it != load_opencc(f"{base}.json").convert(entry.context):
            return True
        others = tuple(e for e in entries if e != entry)
        return with_it != load_opencc(build_config(base, others)).convert(entry.context)

    assert effect(config) or effect({"s2tw": "s2twp", "s2hk": "s2hkp"}[config]), f"{entry.source} has no effect"


def test_shipped_dictionaries_are_not_empty() -> None:
    assert len(shipped_entries("s2tw")) > 100
    assert shipped_entries("s2twp") == shipped_entries("s2tw")  # one Taiwan dictionary
    assert len(shipped_entries("s2hk")) > 50
    assert shipped_entries("s2t") == ()


# --- book-level overrides and protected terms ------------------------------------------------------------


def test_override_inside_segmentation_beats_string_replacement() -> None:
    # A book about operating systems wants 内核 written 核心程式; the same text has 医院内核酸 (院内|核酸),
    # where 内核 is not a word. Only an override inside segmentation gets both right.
    sentence = "升级操作系统内核，医院内核酸检测"
    settings = ConversionSettings("s2tw", "curly", overrides=(("内核", "核心程式"),), vocabulary="computing")
    converted = get_converter(settings).convert(sentence)
    assert converted == "升級作業系統核心程式，醫院內核酸檢測"
    plain = opencc.OpenCC("s2twp")
    replaced_before = plain.convert(sentence.replace("内核", "核心程式"))
    replaced_after = get_converter(COMPUTING).convert(sentence).replace("內核", "核心程式")
    assert converted not in (replaced_before, replaced_after)


def test_override_changes_a_phrase() -> None:
    settings = ConversionSettings("s2tw", "curly", overrides=(("核酸检测", "PCR檢測"),))
    assert get_converter(settings).convert("参加社区核酸检测") == "參加社區PCR檢測"


@pytest.mark.parametrize("config", ["s2tw", "s2hk", "s2t"])
def test_protected_term_takes_the_character_conversion_only(config: str) -> None:
    # 信息 would become 資訊 in Taiwan and Hong Kong news; protected, the name keeps its words
    settings = ConversionSettings(config, "curly", protected=("张芳曼", "华信息科技"))
    out = get_converter(settings).convert("设计：张芳曼，华信息科技公司的信息")
    assert "張芳曼" in out and "华" not in out and "張芳曼" == opencc.OpenCC(f"{config}.json").convert("张芳曼")
    assert "華信息科技" in out


@pytest.mark.parametrize("config", ["s2tw", "s2hk"])
def test_verbatim_term_stays_exactly_as_written(config: str) -> None:
    settings = ConversionSettings(config, "curly", verbatim=("华为技术有限公司",), protected=("张芳曼",))
    out = get_converter(settings).convert("张芳曼说：“华为技术有限公司的信息”")
    assert out.startswith("張芳曼") and "华为技术有限公司" in out and "資訊" in out


@pytest.mark.parametrize(
    ("overrides", "protected", "message"),
    [
        ((("", "空"),), (), "empty phrase"),
        ((("社区", ""),), (), "empty target"),
        ((("社 区", "社區"),), (), "white space"),
        ((("\uf900", "豈"),), (), "can never match"),  # a compatibility ideograph: normalized first
        ((("社区", "社區"), ("社区", "社群")), (), "two targets"),
        ((("干部", "幹員"),), ("干部",), "protected term"),
        ((), ("干 部",), "white space"),
    ],
)
def test_entries_that_cannot_work_raise(overrides, protected, message) -> None:
    settings = ConversionSettings("s2tw", "curly", protected=protected, overrides=overrides, origin="book.toml")
    with pytest.raises(ConfigError, match=message) as info:
        get_converter(settings)
    assert info.value.path == "book.toml"


def test_a_term_both_protected_and_verbatim_raises() -> None:
    settings = ConversionSettings("s2tw", "curly", protected=("张芳曼",), verbatim=("张芳曼",), origin="book.toml")
    with pytest.raises(ConfigError, match="verbatim term"):
        get_converter(settings)


def test_protected_term_lost_to_segmentation_is_warned(caplog) -> None:
    book = Book(BookMeta(id="b", title="t"), (Article("a", "a.txt", "标题", blocks=(Block("paragraph", "头发很长"),)),))
    with caplog.at_level("WARNING", logger="zhpress"):
        out, _ = convert_book(book, ConversionSettings("s2t", "curly", verbatim=("头发",)))
    assert out.articles[0].blocks[0].text == "头发很長"
    assert not caplog.records
    with caplog.at_level("WARNING", logger="zhpress"):
        out, _ = convert_book(book, ConversionSettings("s2t", "curly", protected=("发很",)))
    assert out.articles[0].blocks[0].text == "頭髮很長"  # 头发 was segmented first
    assert any("'发很'" in r.getMessage() for r in caplog.records)


# --- quotation marks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他说：“好。”", "他说：「好。」"),
        ("“他说‘走’。”", "「他说『走』。」"),
        ("“一‘二“三”二’一”", "「一『二「三」二』一」"),
        ("「已有『内层』」和“新的”", "「已有『内层』」和「新的」"),
        ("“开了没关", "「开了没关"),  # a quotation continued in the next paragraph
        ("没开就关”", "没开就关」"),
        ("Xi’an 与 don’t", "Xi’an 与 don’t"),  # apostrophes stay
        ("‘单引号在外’", "「单引号在外」"),  # by nesting level, not by mark
        ("“外‘内”后", "「外『内」后"),  # ” closes the outer quotation, abandoning the inner one
        ("（）《》——……，。", "（）《》——……，。"),
    ],
)
def test_corner_quotes(text: str, expected: str) -> None:
    assert corner_quotes(text) == expected


def test_curly_quotes_left_alone() -> None:
    assert get_converter(ConversionSettings("s2tw", "curly")).convert("“社区”") == "“社區”"


def test_quotes_without_script_conversion() -> None:
    book = Book(BookMeta(id="b", title="“书”"), (Article("a", "a.txt", "“标题”", blocks=(Block("paragraph", "他说“好”"),)),))
    out, report = convert_book(book, ConversionSettings(None, "corner"))
    assert out.articles[0].blocks[0].text == "他说「好」"
    assert out.meta.title == "「书」"
    assert report.changes == [] and report.suspects == []


def test_nothing_to_do_returns_the_same_book(default_book: Book) -> None:
    out, report = convert_book(default_book, ConversionSettings(None, "curly"))
    assert out is default_book
    assert report.changes == [] and report.to_tsv().count("\n") == 1


# --- the default book ------------------------------------------------------------------------------------


def test_traditional_default_book(traditional) -> None:
    book, _ = traditional
    text = all_text(book)
    assert "幹部" in text and "乾部" not in text
    for wrong in ("社群", "院核心酸", "最佳化", "釋出", "“", "”"):
        assert wrong not in text
    # the mainland words a Taipei editor changes (issue list of the default book)
    for mainland in ("志願者", "篩查", "流調", "大巴車", "二維碼", "乳腺癌", "護士長"):
        assert mainland not in text
    for taiwan in ("志工", "篩檢", "疫調", "遊覽車", "QR碼", "乳癌", "護理長"):
        assert taiwan in text
    assert "「" in text and "『" in text
    assert book.meta.title == "上海戰疫紀實" and book.meta.creators[0].name == "人民日報社"


def test_convert_book_keeps_structure(default_book: Book, traditional) -> None:
    book, _ = traditional
    assert [a.id for a in book.articles] == [a.id for a in default_book.articles]
    for old, new in zip(default_book.articles, book.articles, strict=True):
        assert [b.type for b in old.blocks] == [b.type for b in new.blocks]
        assert new.source == old.source
        assert all(len(o.text) == len(n.text) for o, n in zip(old.blocks, new.blocks, strict=True) if not o.text)


def test_hong_kong_default_book(default_book: Book) -> None:
    book, report = convert_book(default_book, HK)
    text = all_text(book)
    assert "幹部" in text and "社區" in text and "為" in text and "爲" not in text
    assert "社群" not in text and "“" not in text
    for mainland, hong_kong in (("志願者", "義工"), ("信息", "資訊"), ("快遞", "速遞"), ("食堂", "飯堂")):
        assert mainland not in text and hong_kong in text
    zhpress = {(c.source, c.result) for c in report.vocabulary_by_origin()["zhpress"]}
    assert ("志愿者", "義工") in zhpress and ("信息", "資訊") in zhpress


# --- the report ------------------------------------------------------------------------------------------


def test_report_changes(traditional) -> None:
    _, report = traditional
    by_pair = {(c.source, c.result): c for c in report.changes}
    assert by_pair[("志愿者", "志工")].decided_by == "zhpress"
    assert by_pair[("志愿者", "志工")].kind == "vocabulary"
    assert by_pair[("志愿者", "志工")].count >= 10
    assert by_pair[("小程序", "小程式")].kind == "vocabulary"
    assert by_pair[("屏幕", "螢幕")].decided_by == "zhpress"
    assert by_pair[("干", "幹")].kind == "glyph" and by_pair[("干", "幹")].decided_by == "opencc"
    assert "志愿者" in by_pair[("志愿者", "志工")].context
    assert {c.source for c in report.vocabulary_by_origin()["opencc"]} <= {"了解"}  # s2tw's one phrase: 瞭解
    # vocabulary first
    kinds = [c.kind for c in report.changes]
    assert kinds == sorted(kinds, key=lambda k: k != "vocabulary")
    # counts add up to the occurrences of 干部 → 幹部 in the text
    assert by_pair[("干", "幹")].count >= 10


def test_report_book_decisions(default_book: Book) -> None:
    settings = ConversionSettings("s2tw", "corner", overrides=(("居委会", "里辦公處"),))
    _, report = convert_book(default_book, settings)
    rows = report.vocabulary_by_origin()["book"]
    assert [(c.source, c.result, c.kind, c.decided_by) for c in rows] == [("居委会", "里辦公處", "vocabulary", "book")]
    assert rows[0].count == all_text(default_book).count("居委会") > 0


def test_report_suspects(traditional) -> None:
    _, report = traditional
    # correct Taiwan usage (支援, which tw2sp turns into 支持) and one-to-many characters are no suspects
    assert report.suspects == []
    assert report.summary().endswith(", 0 suspects")


def test_a_phrase_that_does_not_come_back_is_a_suspect() -> None:
    from zhpress.convert import ConversionReport

    conv = get_converter(COMPUTING)
    texts = ["高端数码打印设备", "干部的头发"]
    report = ConversionReport(COMPUTING, [(t, conv.convert_many([t])[0]) for t in texts])
    back = opencc.OpenCC("tw2sp").convert(conv.convert_many([texts[0]])[0])
    assert back != texts[0]  # the round trip does not restore 高端
    assert [s.source for s in report.suspects] == ["端"] and "高端" in report.suspects[0].context
    news = ConversionReport(TW, [(t, get_converter(TW).convert_many([t])[0]) for t in texts])
    assert news.suspects == []  # 干→幹, 发→髮 come back as other characters: known one-to-many


def test_report_lists_protected_and_verbatim_terms(default_book: Book) -> None:
    settings = ConversionSettings("s2tw", "corner", protected=("张芳曼",), verbatim=("人民日报社",))
    out, report = convert_book(default_book, settings)
    terms = {(t.kind, t.term, t.form) for t in report.terms}
    assert terms == {("protected", "张芳曼", "張芳曼"), ("verbatim", "人民日报社", "人民日报社")}
    assert all(t.count >= 1 for t in report.terms)
    assert "張芳曼" in all_text(out) and "张芳曼" not in all_text(out)
    page = report.to_html(title="t", lang="zh-Hant-TW")
    terms_part = page[page.index('id="terms"'):page.index('id="glyph"')]
    assert "張芳曼" in terms_part and "人民日报社" in terms_part


def test_report_tsv(traditional) -> None:
    _, report = traditional
    lines = report.to_tsv().splitlines()
    assert lines[0] == "source\tresult\tcount\tdecided_by\tkind"
    assert len(lines) == len(report.changes) + 1
    assert "志愿者\t志工\t" in report.to_tsv()
    assert all(len(line.split("\t")) == 5 for line in lines)


def test_report_html(traditional) -> None:
    _, report = traditional
    page = report.to_html(title="轉換報告 <草稿>", lang="zh-Hant-TW")
    assert '<html lang="zh-Hant-TW">' in page
    assert "轉換報告 &lt;草稿&gt;" in page  # autoescaped
    vocabulary_at = page.index("小程式")
    details_at = page.index("<details>")
    assert vocabulary_at < details_at  # vocabulary first, glyph changes folded away
    assert page.index('id="decided-zhpress"') < vocabulary_at < page.index('id="decided-book"')
    assert "幹" in page[details_at:]
    glyphs = sum(c.count for c in report.changes if c.kind == "glyph")
    assert f"{glyphs} one-to-one character changes" in page
    assert "No suspects." in page[page.index('id="suspects"'):]
    assert report.summary() in page
    assert html.unescape(page).count("<table>") == 3  # zhpress's dictionary, OpenCC's 瞭解, the glyph changes


def test_report_is_lazy(default_book: Book) -> None:
    _, report = convert_book(default_book, TW)
    assert "_analysis" not in report.__dict__
    assert report.changes
    assert "_analysis" in report.__dict__


# --- configs -------------------------------------------------------------------------------------------------


def test_generated_config_is_cached_by_content() -> None:
    entries = shipped_entries("s2twp")
    assert build_config("s2twp", entries) == build_config("s2twp", entries)
    assert build_config("s2twp", entries) != build_config("s2twp", entries[:-1])
    assert build_config("s2twp", ()) == "s2twp.json"


@pytest.mark.parametrize("config", ["s2t", "s2tw", "s2twp", "s2hk"])
def test_every_config_with_an_override(config: str) -> None:
    settings = ConversionSettings(config, "curly", overrides=(("院内", "院-內"),))
    assert get_converter(settings).convert("院内核酸干部") .startswith("院-內核酸")


def test_converter_is_cached() -> None:
    assert get_converter(TW) is get_converter(ConversionSettings("s2tw", "corner"))
    assert isinstance(get_converter(TW), Converter)


def test_batched_conversion_equals_per_string(default_book: Book) -> None:
    conv = get_converter(TW)
    texts = [t for art in default_book.articles for t in art.texts()] + ["两行\n头发", "干部"]
    assert conv.convert_many(texts) == [conv.convert_many([t])[0] for t in texts]


# --- long books: the conversion on two cores -------------------------------------------------------------


def _long_book() -> Book:
    """The corpus and the default manuscripts, each paragraph made distinct, past the two-core threshold."""
    from zhpress.convert import book as convert

    paths = sorted(glob.glob(str(CONTENT / "*.txt")))
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    paths += sorted(glob.glob(str(corpus / "*" / "*.txt")))
    book = manuscript_book(paths)
    copies = []
    for n in range(40):
        for a in book.articles:
            blocks = tuple(Block(b.type, f"{b.text}（{n}）" if b.text else b.text) for b in a.blocks)
            copies.append(Article(id=f"{a.id}-{n}", source=a.source, headline=f"{a.headline}{n}", blocks=blocks))
    long = Book(meta=book.meta, articles=tuple(copies))
    assert sum(len(t) for a in long.articles for t in a.texts()) >= convert.SPLIT_CHARS
    return long


def test_a_long_book_converted_on_two_cores_is_the_same_as_one_string_at_a_time(monkeypatch) -> None:
    from zhpress.convert import book as convert

    book = _long_book()
    forks: list[int] = []
    real_fork = convert.os.fork
    monkeypatch.setattr(convert.os, "fork", lambda: forks.append(1) or real_fork())
    out, report = convert_book(book, TW)
    assert forks == [1]
    conv = get_converter(TW)
    for old, new in zip(book.articles, out.articles, strict=True):
        assert new.headline == conv.convert(old.headline)
        assert [b.text for b in new.blocks] == [conv.convert(b.text) if b.text else b.text for b in old.blocks]
    assert report.pairs and all(conv.convert_many([src])[0] == out for src, out in report.pairs[:2000])


def test_a_failing_conversion_child_is_redone_in_the_build(monkeypatch) -> None:
    import os

    from zhpress.convert import book as convert

    parent = os.getpid()

    def work(texts: list[str]) -> list[str]:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return [t.upper() for t in texts]

    items = [f"text {i}" for i in range(1000)]
    assert convert._on_two_cores(work, items) == [t.upper() for t in items]


# --- the book's settings and the build output ------------------------------------------------------------


def _project(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text("# 志愿者的信息\n\n张芳曼在华为技术有限公司做志愿者。\n", encoding="utf-8")
    (tmp_path / "content" / "book.toml").write_text(
        '[book]\ntitle = "书"\n\n[conversion]\nprotected = ["张芳曼"]\nverbatim = ["华为技术有限公司"]\n' + extra,
        encoding="utf-8",
    )
    return tmp_path


def test_book_settings_reach_the_conversion(tmp_path: Path) -> None:
    from zhpress.config import load_project
    from zhpress.convert.edition import conversion_settings

    project = load_project(_project(tmp_path, '\n[profiles.ebook-tw]\nvocabulary = "computing"\n'))
    tw = conversion_settings(project, project.profiles["ebook-tw"])
    hk = conversion_settings(project, project.profiles["ebook-hk"])
    assert (tw.config, tw.vocabulary, tw.opencc_config) == ("s2tw", "computing", "s2twp")
    assert (hk.config, hk.vocabulary, hk.opencc_config) == ("s2hk", "news", "s2hk")
    assert tw.protected == ("张芳曼",) and tw.verbatim == ("华为技术有限公司",)
    assert get_converter(hk).convert("张芳曼在华为技术有限公司做志愿者") == "張芳曼在华为技术有限公司做義工"


@pytest.mark.parametrize(
    ("table", "line", "words"),
    [
        ('[conversion]\nprotected = ["张芳曼", "有 空格"]\n', 5, "white space"),
        ('[conversion]\nverbatim = ["华为"]\nprotected = ["华为"]\n', 6, "both"),
        ('[profiles.ebook-tw]\noverrides = { "软件" = "" }\n', 5, "empty target"),
    ],
)
def test_a_bad_conversion_entry_names_book_toml_and_its_line(tmp_path: Path, table: str, line: int, words: str) -> None:
    from zhpress.config import load_project
    from zhpress.convert.edition import edition_book
    from zhpress.read.book import read_book

    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.txt").write_text("标题\n\n正文。\n", encoding="utf-8")
    (tmp_path / "content" / "book.toml").write_text('[book]\ntitle = "书"\n\n' + table, encoding="utf-8")
    project = load_project(tmp_path)
    with pytest.raises(ConfigError, match=words) as caught:
        edition_book(project, project.profiles["ebook-tw"], read_book(project))
    assert caught.value.path == str(tmp_path / "content" / "book.toml")
    assert caught.value.line == line


def test_a_bad_vocabulary_is_a_user_error(tmp_path: Path) -> None:
    from zhpress.config import load_project

    with pytest.raises(ConfigError, match="vocabulary"):
        load_project(_project(tmp_path, '\n[profiles.ebook-tw]\nvocabulary = "it"\n'))


def test_build_prints_one_summary_line_per_traditional_edition(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = _project(tmp_path, "")
    result = subprocess.run(
        [sys.executable, "-m", "zhpress", "build", "ebook", "ebook-tw", "ebook-hk", "-C", str(root), "-o", str(root / "dist")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines()]  # progress goes to stderr
    for profile in ("ebook-tw", "ebook-hk"):
        (report,) = (root / "dist").glob(f"*-{profile}.conversion.html")
        summary = [line for line in lines if line.startswith(f"{profile}: ")]
        # 志愿者 twice, 信息 once; the protected name is a character change, the verbatim one none
        assert summary == [f"{profile}: 3 vocabulary changes, 0 suspects: {report}"], result.stderr
        assert report.is_file() and "志愿者" in report.read_text("utf-8")
    assert not [line for line in lines if line.startswith("ebook: ")]

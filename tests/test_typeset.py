"""typeset(): Chinese print markup that never changes the text."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from zhpress.typeset import TYPESET_CSS, typeset


def strip(markup: str) -> str:
    """The text content of the markup: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def spans(markup: str, cls: str) -> list[str]:
    """Text of the innermost spans carrying class `cls`."""
    return re.findall(rf'<span class="[^"]*\b{cls}\b[^"]*">([^<]*)', markup)


CHINESE = st.text(alphabet=st.sampled_from(list("中文字党员达万名年月“”‘’（）《》，。、：；？！——……·A-z09 .%<>&\"'")))


@given(CHINESE, st.booleans(), st.sampled_from(["full", "compress"]))
def test_spans_do_not_change_the_text(text, latin_spacing, punctuation):
    markup = typeset(text, latin_spacing=latin_spacing, punctuation=punctuation)
    assert isinstance(markup, Markup)
    assert strip(markup) == text


def test_escapes_markup():
    assert typeset('中<b>"&"</b>') == Markup('中&lt;<span class="zh-latin">b</span>&gt;&#34;&amp;&#34;&lt;/'
                                             '<span class="zh-latin">b</span>&gt;')


def test_adjacent_marks_are_compressed():
    markup = typeset("他说：“好。”“对，”《书》、（注）、完")
    # ：“  。”  ”“  ，”  ”《  》、  、（  ）、 — the first mark of each pair
    assert spans(markup, "zh-halt") == ["：", "。", "”", "，", "”", "》", "、", "）"]


def test_full_punctuation_keeps_every_mark_in_its_square():
    text = "“他说：「好。」「对，」《书》、（注）、完"
    assert spans(typeset(text, punctuation="full"), "zh-halt") == []
    assert strip(typeset(text, punctuation="full")) == text
    assert len(spans(typeset(text), "zh-halt")) == 9


def test_traditional_print_profiles_default_to_full_punctuation(tmp_path):
    from zhpress.config import load_project

    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "book.toml").write_text(
        '[book]\ntitle = "书"\n[profiles.mo]\nextends = "print"\nlanguage = "zh-Hant-MO"\n'
        '[profiles.mine]\nextends = "print-tw"\npunctuation = "compress"\n', "utf-8")
    (tmp_path / "content" / "a.txt").write_text("标题\n　　正文。\n", "utf-8")
    profiles = load_project(tmp_path).profiles
    assert {name: profiles[name].punctuation for name in ("print", "print-tw", "print-hk", "mo", "mine")} == {
        "print": "compress", "print-tw": "full", "print-hk": "full", "mo": "full", "mine": "compress"}


def test_two_opening_marks_compress_the_second():
    assert spans(typeset("看（“这里”）"), "zh-halt") == ["“", "”"]


def test_opening_mark_at_paragraph_start_is_halved():
    assert typeset("“开头”").startswith('<span class="zh-halt">“</span>')
    assert spans(typeset("中“间”"), "zh-halt") == []


def test_dashes_and_ellipses_stay_unwrapped():
    markup = typeset("他——我……好")
    assert "——" in markup and "……" in markup


def test_latin_runs_get_spacing_classes_on_han_sides():
    markup = typeset("用iPhone 15拍摄，共72%。")
    assert '<span class="zh-latin zh-sp-l zh-sp-r">iPhone 15</span>' in markup
    assert '<span class="zh-latin zh-sp-l">72%</span>' in markup


def test_a_number_sign_belongs_to_the_run_on_both_sides():
    markup = typeset("占50%以上，升3.5℃后，用A%不算")
    assert '<span class="zh-latin zh-sp-l zh-sp-r">50%</span>' in markup
    assert '<span class="zh-latin zh-sp-l zh-sp-r">3.5℃</span>' in markup
    assert '<span class="zh-latin zh-sp-l zh-sp-r">A%</span>' in markup  # between Han, the run's own


def test_punctuation_between_han_and_a_run_is_spaced_with_it():
    markup = typeset("公司(001229.SZ)发布，*ST海航，用Python，")
    assert '司<span class="zh-latin zh-sp-l zh-sp-r">(001229.SZ)</span>发' in markup
    assert '，*<span class="zh-latin zh-sp-r">ST</span>海' in markup
    assert '用<span class="zh-latin zh-sp-l">Python</span>，' in markup
    assert '<span class="zh-latin zh-sp-l zh-sp-r">-2.06</span>' in typeset("跌-2.06点")


def test_numbers_with_units_are_kept_together():
    markup = typeset("党员达72万余名，31.3万名，2022年4月")
    assert [strip(m) for m in re.findall(r'<span class="zh-nobr">(.*?万|.*?年|.*?月)</span>', markup)] == [
        "72万", "31.3万", "2022年", "4月"]


def test_latin_spacing_can_be_turned_off():
    markup = typeset("达72万余名，用Python写", latin_spacing=False)
    assert "zh-latin" not in markup
    assert '<span class="zh-nobr">72万</span>' in markup


def test_stylesheet_has_a_rule_for_every_class():
    markup = typeset("“甲。”乙用Python写了72万行")
    for cls in set(re.findall(r'class="([^"]*)"', str(markup))):
        for name in cls.split():
            assert f".{name}" in TYPESET_CSS


def test_typeset_pieces_sees_the_whole_inline_sequence() -> None:
    from markupsafe import Markup

    from zhpress.typeset import typeset_pieces

    texts = ["他说“", "重要", "”。Omicron变异"]
    pieces = typeset_pieces(texts, [False, True, False])
    stripped = [re.sub(r"<[^>]+>", "", str(p)) for p in pieces]
    assert stripped == texts  # never a character added or lost
    assert str(pieces[1]) == '<span class="zh-dot">重</span><span class="zh-dot">要</span>'
    # The pair ”。 across no boundary, the Latin run touching Han on its right only.
    assert '<span class="zh-halt">”</span>' in str(pieces[2])
    assert 'class="zh-latin zh-sp-r"' in str(pieces[2]) and "zh-sp-l" not in str(pieces[2])
    # A paragraph-opening mark is halted only at the sequence's start, not at a later run's start.
    assert "zh-halt" not in str(typeset_pieces(["甲", "“乙”"], [False, False])[1]).split("乙")[0]
    assert isinstance(pieces[0], Markup)


def test_print_markup_leaves_what_a_layout_sets_to_it() -> None:
    """`in_layout` (PDF editions): no span for a pair, a Latin run or a number inside the text; the
    words are the same; a paragraph's opening mark keeps its span (a layout of one line cannot tell)."""
    text = "“甲。”乙用Python写了72万行，（“引”）"
    markup = str(typeset(text, in_layout=True))
    assert strip(markup) == text
    assert re.findall(r"<span[^>]*>", markup) == ['<span class="zh-halt">']
    assert markup.startswith('<span class="zh-halt">“</span>')
    assert len(re.findall(r"<span", str(typeset(text)))) == 8  # the markup a layout does not set


def test_print_pieces_keep_spans_where_a_rule_reads_across_pieces() -> None:
    from zhpress.typeset import typeset_pieces

    pairs = typeset_pieces(["他说。", "”好"], [False, False], in_layout=True)
    assert str(pairs[0]) == '他说<span class="zh-halt">。</span>'  # its pair is in the next piece
    latin = typeset_pieces(["在", "2020年", "用Python写"], [False, False, False], in_layout=True)
    assert 'class="zh-latin zh-sp-l zh-sp-r"' in str(latin[1]) and "zh-nobr" in str(latin[1])  # 在 is in another piece
    assert "<span" not in str(latin[2])  # all of its run's neighbours are in its own piece
    dotted = typeset_pieces(["重点2020年"], [True], in_layout=True)
    assert "zh-latin" in str(dotted[0])  # the dots split the text: its spans stay


def test_layout_marks_are_what_the_spans_were() -> None:
    from zhpress.typeset import _spans, layout_marks

    text = "甲。”乙用Python写了72万行，（“引”）50%以上"
    halts, spans = layout_marks(text, pairs=True, latin=True)
    old = _spans(text, latin_spacing=True)
    assert sorted(halts) == [s for s, _, c in old if c == "zh-halt"]
    assert sorted(spans) == sorted(span for span in old if span[2] != "zh-halt")

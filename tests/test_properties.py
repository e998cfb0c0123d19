"""Property tests: text built from the format's pieces, and raw bytes, against the readers.

Bounded and fast by default; set ZHPRESS_FUZZ_EXAMPLES (e.g. 20000) for a longer byte fuzz.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhpress.chars import han_chars
from zhpress.errors import InputError
from zhpress.normalize import normalize_text
from zhpress.read.decode import decode_manuscript
from zhpress.read.raw import parse_raw

FUZZ_EXAMPLES = int(os.environ.get("ZHPRESS_FUZZ_EXAMPLES", "0") or 0)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BYTES = settings(
    max_examples=FUZZ_EXAMPLES or 100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# The 3755 commonest characters (GB2312 level 1): text an encoding guess must get right.
COMMON_HAN = sorted(
    {bytes((lead, trail)).decode("gb2312", errors="ignore") for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF)}
    - {""}
)
common_han = st.sampled_from(COMMON_HAN)
rare_han = st.sampled_from("々〇𠮷\uf900\u2f00")
ascii_text = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
punctuation = st.sampled_from(list("，。、；：？！“”‘’（）《》—…,:;?!()·"))
spaces = st.sampled_from([" ", "  ", "\u00a0", "\u00a0\u00a0", "\u3000"])
char = st.one_of(han, han, han, rare_han, ascii_text, punctuation, spaces)
phrase = st.lists(st.one_of(char, st.sampled_from(["——", "……"])), min_size=1, max_size=30).map("".join)

fixed = st.sampled_from(
    ["——编\u00a0\u00a0者", "——编者", "版式设计：张芳曼", "本版责编：李明", "本报记者　张三　李四", "■ 李 文", "（", "）",
     "“", "”", "编者按：", "下沉干部："]
)  # fmt: skip
# The format's own pieces: headline parts, quotations, labels, signatures, credits, bylines, datelines.
piece = st.one_of(
    phrase,
    phrase.map(lambda t: f"“{t}”"),
    phrase.map(lambda t: f"{t}。"),
    phrase.map(lambda t: f"{t[:8]}："),
    phrase.map(lambda t: f"{t}（{t[:6]}）"),
    fixed,
    phrase.map(lambda t: f"本报北京4月5日电{t}"),
    phrase.map(lambda t: f"新华社北京6月12日电（记者 {t[:4]}）{t}"),
)
separator = st.sampled_from(["\u3000\u3000", "\u3000" * 4, "\u3000" * 3, "\n", "\r\n", "\r", "\n\n", "\n\u3000\u3000", "\u3000\u3000\n"])


@st.composite
def manuscripts(draw: st.DrawFn, pieces: st.SearchStrategy[str] = piece) -> str:
    parts = draw(st.lists(pieces, min_size=1, max_size=25))
    out = []
    for part in parts:
        out.append(part)
        out.append(draw(separator))
    return "".join(out[: -1 if draw(st.booleans()) else None])


def _article_han(text: str) -> str:
    article = parse_raw(text, path="p.txt", article_id="p", source="p.txt")
    return han_chars("".join(article.texts()))


@FAST
@given(manuscripts())
def test_reader_raises_only_input_errors_and_keeps_every_han_character(text: str) -> None:
    try:
        kept = _article_han(text)
    except InputError:
        return
    assert kept == han_chars(text)


common_text = st.lists(
    st.one_of(common_han, common_han, common_han, ascii_text, punctuation, spaces), min_size=1, max_size=30
).map("".join)


@FAST
@given(
    manuscripts(st.one_of(common_text, common_text.map(lambda t: f"“{t}”"), common_text.map(lambda t: f"{t}。"), fixed)),
    st.sampled_from(["gb18030", "utf-8-sig", "utf-8"]),
)
def test_encodings_give_the_same_article(text: str, encoding: str) -> None:
    path = Path("p.txt")
    try:
        reference = parse_raw(text, path=path, article_id="p", source="p")
    except InputError:
        return
    decoded = decode_manuscript(text.encode(encoding), path)
    assert parse_raw(decoded, path=path, article_id="p", source="p") == reference


@FAST
@given(st.lists(char, max_size=80).map("".join))
def test_normalize_is_idempotent_and_keeps_han(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert han_chars(once) == han_chars(text)


@FAST
@given(st.text(max_size=80))
def test_normalize_is_idempotent_on_any_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert han_chars(once) == han_chars(text)


@BYTES
@given(st.one_of(st.binary(max_size=300), manuscripts().map(lambda t: t.encode("gb18030", errors="replace"))))
def test_decoder_and_reader_on_arbitrary_bytes_raise_only_input_errors(data: bytes) -> None:
    path = Path("fuzz.txt")
    try:
        text = decode_manuscript(data, path)
        parse_raw(text, path=path, article_id="f", source="fuzz.txt")
    except InputError as exc:
        assert exc.path == "fuzz.txt"


markdown_piece = st.one_of(
    phrase,
    st.sampled_from(["# ", "## ", "> ", "- ", "1. ", "---", "+++", "<script>", "</script>", "<b>", "[a](http://x)",
                     "——编者", "headline = \"x\"", "kicker: y", "*", "\n", "\n\n"]),
)  # fmt: skip


@FAST
@given(st.lists(markdown_piece, max_size=30).map("".join))
def test_markdown_reader_raises_only_input_errors(text: str) -> None:
    from zhpress.read.markdown import parse_markdown

    try:
        article = parse_markdown(text, path=Path("m.md"), article_id="m", source="m.md")
    except InputError:
        return
    assert "<script>" not in str(article.to_json())


@given(st.text(alphabet=st.sampled_from("中文，。、“”‘’·—…abc 12\u3000ｅ！（）〇ア\U00020000\u00a0\u2e80"), max_size=40) | st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_the_justification_finds_its_characters_as_one_by_one(text: str) -> None:
    """The CJK characters the justification counts and spaces, found as runs by one regular expression,
    are those its per-character rule (`weight`) gives 1, at the same UTF-8 byte ranges."""
    from zhpress.pdf.weasy70.cjk import weight, weighted_count, weighted_runs

    ranges: list[tuple[int, int]] = []
    offset = 0
    for char in text:
        size = len(char.encode())
        if weight(char):
            if ranges and ranges[-1][1] == offset:
                ranges[-1] = (ranges[-1][0], offset + size)
            else:
                ranges.append((offset, offset + size))
        offset += size
    assert weighted_count(text) == sum(weight(char) for char in text)
    assert weighted_runs(text) == ranges

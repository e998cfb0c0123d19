"""The raw archive reader: one article per text file, as a newspaper archive exports it.

Two layouts (see manuscript-format.md): the fused one, segments separated by the paragraph indent (two
U+3000) and/or line breaks, the first segment the fused headline block; and the crawler's, three header
lines (kicker, headline with its column, subtitle; each may be empty) and then one paragraph a line.
An empty paragraph is a break between parts. After the title: an optional byline, editor's note,
epigraph, body with headings (some with a label and a byline), photo captions, and trailing credits.
The conventions shared with the Markdown reader live here too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

from zhpress.chars import HAN_CLASS, HAN_RE
from zhpress.errors import ManuscriptError
from zhpress.model import Article, Block
from zhpress.normalize import normalize_text
from zhpress.read.decode import read_text

log = logging.getLogger("zhpress")


class TitleParts(TypedDict, total=False):
    """An editor's statement of an article's title parts (book.toml or Markdown front matter)."""

    kicker: str
    headline: str
    subtitle: str
    column: str
    byline: str


TitleKey = Literal["kicker", "headline", "subtitle", "column", "byline"]
_SPLIT_KEYS: tuple[TitleKey, ...] = ("kicker", "headline", "subtitle", "column")  # the parts of the headline block


_HAN = HAN_CLASS

# A heading is short; longer segments are paragraphs whatever their punctuation.
MAX_HEADING = 32
# Label of a two-part heading (`下沉干部：`).
MAX_LABEL = 12
# Length beyond which a headline probably is not a headline at all.
LONG_HEADLINE = 80
# How far into the body an editor's note signature (or the break that ends an unsigned note) may stand.
MAX_NOTE_PARAGRAPHS = 8
# A fused headline block longer than this (Han characters, no mark in it) may hide a kicker.
FUSED_KICKER_SUSPECT = 20
# ... unless each of its phrases (between spaces) is no longer than a headline's phrase usually is.
FUSED_PHRASE = 16
# In `A——B`, B is a subtitle (deck) when it is this many times longer than A; otherwise A is a kicker.
DECK_RATIO = 1.4

_SPACE_CHARS = " \t\u3000\u00a0"
_WS_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"[。！？!?…][”’」』）)\]》]*$")
_NO_HEADING_END_RE = re.compile(r"[：:，,；;、—]$")
_LABEL_RE = re.compile(rf"^[^。！？，；“”]{{1,{MAX_LABEL - 1}}}[：:]$")
_LEAD_IN_RE = re.compile(rf"^[^。！？；]{{2,{MAX_HEADING}}}(?:[：:]|——)$")
_SIGNATURE_RE = re.compile(r"^[—－-]{1,2}\s*(?:编\s*者|本?\s*[报刊]?\s*编\s*辑\s*部)$")
_NOTE_OPENING_RE = re.compile(r"^[【\[（(]?编者按")
_BYLINE_RE = re.compile(
    r"^(?:(?:本报|本刊|新华社|人民日报|中新社)?(?:(?:驻|赴)[^\s，。：]{1,8}?)?(?:特派|特约|实习|首席)?"
    r"(?:记者|通讯员|实习生|评论员|特约撰稿人)|■|□|◎|文[/／]|撰文)"
)
# The paper's own commentator signs alone (`本报评论员`).
_COMMENTATOR_RE = re.compile(r"^(?:本报|本刊|人民日报|新华社)(?:特约)?评论员$")
_BYLINE_FORBIDDEN_RE = re.compile(r"[。，：；！？“”（）]")
_DATELINE_HEAD = rf"(?:[{_HAN}]{{2,16}}?\d{{1,2}}月\d{{1,2}}日(?:电|讯)|(?:本报|本刊|新华社|中新社)(?:讯|电))"
_DATELINE_RE = re.compile(rf"^{_DATELINE_HEAD}(?:[ \u3000]*[（(][^（）()]{{1,40}}[）)])?")
# The same on text whose spaces are still there: dateline, gap, (reporter), gap.
_DATELINE_GAP_RE = re.compile(rf"^({_DATELINE_HEAD})(\s*)((?:[（(][^（）()]{{1,40}}[）)])?)(\s*)(?=\S)")
_CREDIT_RE = re.compile(
    r"^[（(]?\s*(?:本版|本期|本刊)?(?:版式设计|版面设计|责编|责任编辑|责任校对|编辑|美术编辑|美编|图片编辑|校对|制图|"
    r"统筹|策划|监制|来源|资料来源|数据来源|摄影|供图|图片来源|插图|漫画|电子邮箱)\s*[：:]"
    r"|^《\s*[^》]{1,20}\s*》\s*[（(][^（）()]{0,40}版\s*[）)]$"
)
MAX_CREDIT = 60
# Photo credits (`本报记者 王某摄`, `某某摄（新华社发）`, `资料照片`) and captions (`图①：…`, `图片说明：`).
_PHOTO_CREDIT_RE = re.compile(r"^[^。！？，；：]{2,30}?(?:摄影报道|摄影|摄)(?:[（(][^（）()]{1,12}[）)])?$")
_PHOTO_SOURCE_RE = re.compile(r"^[（(]?(?:资料照片|新华社发|影像中国|人民视觉|视觉中国|人民图片)[）)]?$")
_CAPTION_RE = re.compile(r"^(?:(?:图片说明|图注)[：:]$|[上下左右中]{0,2}图[①-⑳0-9一二三四五六七八九十]*[：:]|图为)")
MAX_CAPTION_CREDIT = 30
# A quotation's attribution (`——某某委员`).
_ATTRIBUTION_RE = re.compile(r"^[—－]{2}[^。！？]{1,24}$")
# A figure set large above its explanation (`11.7亿人`, `8—10架次飞机`): not a heading.
_FIGURE_RE = re.compile(rf"^\d[\d.,，—～~-]*[%％]?[{_HAN}]{{0,4}}$")
# A field line under a head (`时间：1月24日`, `讲述人：某某`): running text, never a heading.
_FIELD_RE = re.compile(rf"^[{_HAN}]{{2,3}}[：:].")
_SECTION_NUMBER_RE = re.compile(r"^[（(]?[一二三四五六七八九十]{1,3}[）)]?$")
_LATIN_ALNUM = re.compile(r"[A-Za-z0-9]")
# Trailing `（上）`, `（②）`, `（2）`: part of the text before it, never a column.
_SEQUENCE_MARK_RE = re.compile(r"^[上中下一二三四五六七八九十①-⑳0-9]{1,3}$")
_NOT_COLUMN_RE = re.compile(r"[。；：！？]|\d{4}年")
MAX_COLUMN = 40
# `A——B` in a headline block: B reads as a deck (subtitle) when it is a genre of its own.
_DECK_START_RE = re.compile(r"^(?:写在|记|访|回访|来自|谈谈?|专访|对话)")
_DECK_END_RE = re.compile(
    r"(?:侧记|纪实|综述|答记者问|述评|手记|札记|调查|见闻|观察|之际|启示|巡礼|扫描|纪事)(?:（[^（）]{1,3}）)?[①-⑳]?$"
)
_SPEECH_RE = re.compile(r"强调|指出|表示|要求")


def _strip_ws(text: str) -> str:
    return _WS_RE.sub("", text)


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    return normalize_text(text)


def title_spaces(text: str) -> str:
    """Collapse each whitespace run in a title line to one U+3000, the typeset gap between phrases.

    A run between two Latin letters or digits (`Open AI`) stays one ASCII space.
    """
    def repl(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if _LATIN_ALNUM.match(before) and _LATIN_ALNUM.match(after):
            return " "
        return "\u3000"

    return _WS_RE.sub(repl, text.strip())


_NAME_START_RE = re.compile(r"[：:（(]")
_NAME_SUFFIX_RE = re.compile(r"(?:摄影报道|摄影|摄|采访整理|整理|报道)?(?:[（(][^（）()]*[）)])?[）)]?$")


def _one_han(piece: str) -> bool:
    return len(piece) == 1 and HAN_RE.match(piece) is not None


def _join_letter_spacing(text: str) -> str:
    """Join single characters spaced out to a name's width (`李　某` → `李某`, `王　某摄` → `王某摄`)."""
    out: list[str] = []
    for piece in text.split("\u3000"):
        if out and _one_han(_NAME_START_RE.split(out[-1])[-1]) and _one_han(_NAME_SUFFIX_RE.sub("", piece)):
            out[-1] += piece
        else:
            out.append(piece)
    return "\u3000".join(out)


_PUNCT_GAP_RE = re.compile(r"(?<=[（《“‘「『【])\s+|\s+(?=[）》”’」』】，。：；！？、])")


def spaced_text(raw: str) -> str:
    """Normalized text whose spaces mean something (titles, headings, bylines, credits, captions).

    NO-BREAK SPACEs count as spaces here; each run becomes one U+3000 (the gap between phrases, or between
    a reporter's title and name), except the letter-spacing inside a short name and any space beside a
    bracket or a full-width punctuation mark, which are removed.
    """
    text = _PUNCT_GAP_RE.sub("", normalize_text(raw.replace("\u00a0", " ")))
    return _join_letter_spacing(title_spaces(text))


def paragraph_text(raw: str) -> str:
    """Normalized body text; the gap after an opening dateline stays, as one U+3000."""
    match = _DATELINE_GAP_RE.match(raw)
    if match and (match.group(2) or match.group(4)):
        head, gap, reporter, gap2 = match.groups()
        kept = head + ("\u3000" if gap else "") + reporter + ("\u3000" if gap2 and reporter else "")
        return normalize_text(kept + raw[match.end() :])
    return normalize_text(raw)


def wholly_quoted(text: str) -> bool:
    """Whether a text is one quotation: `“…”` with the first mark closing only at the very end."""
    if len(text) < 2 or text[0] != "“" or text[-1] != "”":
        return False
    depth = 0
    for i, ch in enumerate(text):
        if ch == "“":
            depth += 1
        elif ch == "”":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def is_signature(text: str) -> bool:
    """Whether a segment is the signature that closes an editor's note (`——编者`)."""
    return _SIGNATURE_RE.match(text.strip()) is not None


def signature_text(text: str) -> str:
    """The signature without its letter-spacing: `——编  者` → `——编者`."""
    return _strip_ws(text)


def is_note_opening(text: str) -> bool:
    """Whether a paragraph opens with 编者按, marking it as an editor's note."""
    return _NOTE_OPENING_RE.match(text) is not None


def is_byline(text: str) -> bool:
    """Whether a standalone segment is a byline (`本报记者　张三　李四`, `本报驻某国记者 王某`, `■ 李 文`)."""
    flat = _strip_ws(text)
    if not 2 < len(flat) <= 40 or _BYLINE_FORBIDDEN_RE.search(flat):
        return False
    match = _BYLINE_RE.match(flat)
    return (match is not None and match.end() < len(flat)) or _COMMENTATOR_RE.match(flat) is not None


def _names_only(raw: str) -> bool:
    """A line of two or more personal names and nothing else (`李某　王某某`): a byline without a title."""
    pieces = spaced_text(raw).split("\u3000")
    return len(pieces) >= 2 and all(2 <= len(p) <= 3 and len(HAN_RE.findall(p)) == len(p) for p in pieces)


def dateline(text: str) -> str | None:
    """The dateline a paragraph opens with (`本报北京4月5日电`, `新华社北京6月12日电（记者 X）`), or None."""
    match = _DATELINE_RE.match(text)
    if match is None:
        return None
    return match.group().rstrip(_SPACE_CHARS)


def is_credit(text: str) -> bool:
    """Whether a segment is a production credit (`版式设计：张芳曼`, `资料来源：…`) or a source line."""
    return len(text) <= MAX_CREDIT and _CREDIT_RE.match(text) is not None


def is_caption(text: str) -> bool:
    """Whether a segment is a photo caption (`图①：…`, `图片说明：`) or a photo credit (`本报记者 王某摄`)."""
    flat = _strip_ws(text)
    if _CAPTION_RE.match(flat):
        return True
    if len(flat) > MAX_CAPTION_CREDIT or _SENTENCE_END_RE.search(flat):
        return False
    return _PHOTO_CREDIT_RE.match(flat) is not None or _PHOTO_SOURCE_RE.match(flat) is not None or (
        "资料照片" in flat or "新华社发" in flat
    )


def is_attribution(text: str) -> bool:
    """A quotation's attribution standing alone (`——某某委员`): never a heading."""
    return _ATTRIBUTION_RE.match(_strip_ws(text)) is not None


def is_real_paragraph(text: str) -> bool:
    """A segment that is certainly running text: long, or closing a sentence."""
    return len(_strip_ws(text)) > MAX_HEADING or _SENTENCE_END_RE.search(text) is not None


def is_heading_candidate(text: str) -> bool:
    """A short segment that could be a heading: no sentence-final or continuing punctuation at its end,
    not a byline, caption, credit, attribution or a bare figure (`11.7亿人`)."""
    flat = _strip_ws(text)
    hans = len(HAN_RE.findall(flat))
    if len(flat) > MAX_HEADING or hans < 2:
        return False
    if _FIGURE_RE.match(flat):
        return False
    if _SENTENCE_END_RE.search(flat) or _NO_HEADING_END_RE.search(flat) or flat.startswith("——"):
        return False
    return not (is_byline(flat) or is_caption(flat) or is_credit(flat))


def is_label(text: str) -> bool:
    """A short lead-in ending in a colon (`下沉干部：`), the first part of a two-part heading."""
    return _LABEL_RE.match(_strip_ws(text)) is not None


def _is_lead_in(text: str) -> bool:
    """The first line of a multi-line head: a lead-in ending in `：` or `——`, or a one-character label."""
    flat = _strip_ws(text)
    if _one_han(flat):
        return True
    return _LEAD_IN_RE.match(flat) is not None and not is_caption(flat) and not is_credit(flat)


# ---------------------------------------------------------------------------------------------- title


def _flat_map(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, and for each kept character its index in the original."""
    indices = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in indices), indices


def _matching_open(flat: str, start: int) -> int | None:
    """Index of the `（` matching the final `）` of flat[start:], or None."""
    if not flat.endswith("）"):
        return None
    depth = 0
    for i in range(len(flat) - 1, start - 1, -1):
        if flat[i] == "）":
            depth += 1
        elif flat[i] == "（":
            depth -= 1
            if depth == 0:
                return i
    return None


def _column_like(inner: str) -> bool:
    """Whether a trailing `（…）` reads as a column name (not `（上）`, not a date or a sentence)."""
    return (
        0 < len(inner) <= MAX_COLUMN
        and _SEQUENCE_MARK_RE.match(inner) is None
        and _NOT_COLUMN_RE.search(inner) is None
    )


def _top_level_dashes(flat: str) -> list[int]:
    """Positions of `——` outside brackets and quotation marks."""
    depth = 0
    out: list[int] = []
    i = 0
    while i < len(flat):
        ch = flat[i]
        if ch in "（(《“‘「『【":
            depth += 1
        elif ch in "）)》”’」』】":
            depth = max(0, depth - 1)
        elif flat.startswith("——", i) and depth == 0:
            out.append(i)
            i += 2
            continue
        i += 1
    return out


def _is_deck(before: str, after: str) -> bool:
    """In a headline block `before——after`: whether `after` is a subtitle (else `before` is a kicker)."""
    if before.endswith("）") or _SENTENCE_END_RE.search(before):
        return True  # headline（column）——deck, or a headline closed by `！`
    if _DECK_START_RE.search(after) or _DECK_END_RE.search(after):
        return True
    if _matching_open(after, 0) is not None:
        return False  # kicker——headline（column）
    if " " in before or "\u3000" in before:
        return True  # a headline in two phrases before the dash
    if " " in after or "\u3000" in after:
        return False
    return len(_strip_ws(after)) >= DECK_RATIO * len(_strip_ws(before))


class HeadlineParts(NamedTuple):
    """A headline block read into its parts; `unsettled` when a kicker may hide in the headline."""

    kicker: str | None
    headline: str
    subtitle: str | None
    column: str | None
    unsettled: bool = False


def _split_column(flat: str, lo: int, hi: int) -> int | None:
    """Where the trailing `（column）` of flat[lo:hi] opens, or None when it has none."""
    opening = _matching_open(flat[:hi], lo)
    if opening is not None and lo < opening < hi - 2 and _column_like(flat[opening + 1 : hi - 1]):
        return opening
    return None


def _dash(flat: str, lo: int, hi: int) -> int | None:
    """The first top-level `——` of flat[lo:hi] with at least two Han characters on each side."""
    for d in _top_level_dashes(flat[lo:hi]):
        d += lo
        if len(HAN_RE.findall(flat[lo:d])) >= 2 and len(HAN_RE.findall(flat[d + 2 : hi])) >= 2:
            return d
    return None


def _guess_parts(block: str) -> HeadlineParts:
    """Split a fused block by its marks: `…——` kicker, `——…` subtitle, trailing `（column）`, a second
    trailing `（…）` or one that is no column name (a date) as the subtitle. The parts are substrings."""
    flat, index = _flat_map(block)

    def original(lo: int, hi: int) -> str:
        return block[index[lo] : index[hi - 1] + 1].strip() if lo < hi else ""

    lo, hi = 0, len(flat)
    kicker = subtitle = column = None
    opening = _matching_open(flat, lo)
    if opening is not None and opening > lo:
        inner = flat[opening + 1 : hi - 1]
        earlier = _matching_open(flat[:opening], lo)
        if (earlier is not None and earlier > lo) or not (_column_like(inner) or _SEQUENCE_MARK_RE.match(inner)):
            subtitle, hi = original(opening, hi), opening
    d = _dash(flat, lo, hi)
    if d is not None and subtitle is None and _is_deck(original(lo, d), original(d + 2, hi)):
        subtitle, hi = original(d, hi), d
    elif d is not None:
        kicker, lo = original(lo, d + 2), d + 2
        d = _dash(flat, lo, hi)
        if d is not None and subtitle is None and _is_deck(original(lo, d), original(d + 2, hi)):
            subtitle, hi = original(d, hi), d
    opening = _split_column(flat, lo, hi)
    if opening is not None:
        column, hi = original(opening + 1, hi - 1), opening
    headline = original(lo, hi)
    rest = _strip_ws(headline)
    longest = max((len(HAN_RE.findall(phrase)) for phrase in headline.split()), default=0)
    unsettled = kicker is None and (
        (len(HAN_RE.findall(rest)) > FUSED_KICKER_SUSPECT and longest > FUSED_PHRASE)
        or "：" in rest[1:-1]
        or _SPEECH_RE.search(rest[2:-4]) is not None
    )
    return HeadlineParts(kicker, headline, subtitle, column, unsettled)


def _headline_and_column(line: str) -> tuple[str, str | None]:
    """A crawler's headline line: the headline and its trailing `（column）`."""
    line = normalize_text(line.replace("\u00a0", " "))
    flat, index = _flat_map(line)
    opening = _split_column(flat, 0, len(flat))
    if opening is None:
        return spaced_text(line), None
    return spaced_text(line[: index[opening]]), spaced_text(line[index[opening] + 1 : index[-1]])


def split_headline_block(
    block: str, override: TitleParts | None, path: Path | str, *, marks: bool = False
) -> tuple[str | None, str, str | None, str | None]:
    """Split a headline block into (kicker, headline, subtitle, column).

    Without an override: a trailing `（…）` is the column and the rest the headline; with `marks`, also
    the kicker and subtitle the block marks with dashes or parentheses (see `read_headline_block`). With
    an override, its parts are used after checking that, in order, they are exactly the block's text
    (whitespace aside); a part that does not fit is a ManuscriptError naming it.
    """
    parts = read_headline_block(block, override, path) if marks else None
    if parts is None:
        parts = _split_stated(block, override, path)
    return parts.kicker, parts.headline, parts.subtitle, parts.column


def read_headline_block(block: str, override: TitleParts | None, path: Path | str) -> HeadlineParts:
    """The parts of a fused headline block: the editor's statement when there is one, else the marks."""
    stated = {k: v for k, v in (override or {}).items() if k != "byline" and v}
    if stated:
        return _split_stated(block, override, path)
    raw = normalize_text(block.replace("\u00a0", " "))
    p = _guess_parts(raw)
    if not p.headline:
        return HeadlineParts(None, spaced_text(raw), None, None)
    return HeadlineParts(
        spaced_text(p.kicker) if p.kicker else None,
        spaced_text(p.headline),
        spaced_text(p.subtitle) if p.subtitle else None,
        spaced_text(p.column) if p.column else None,
        p.unsettled,
    )


def _split_stated(block: str, override: TitleParts | None, path: Path | str) -> HeadlineParts:
    """The title parts as book.toml states them (the column found mechanically when not stated)."""
    block = normalize_text(block)
    stated = override or TitleParts()
    parts = {k: normalize_text(v) for k in _SPLIT_KEYS if (v := stated.get(k))}
    flat, index = _flat_map(block)
    hint = "the title parts must split the manuscript's headline block without adding, dropping or reordering words"

    def original(lo: int, hi: int) -> str:
        return block[index[lo] : index[hi - 1] + 1] if lo < hi else ""

    def mismatch(name: str, value: str, lo: int, hi: int) -> ManuscriptError:
        rest = original(lo, hi)
        return ManuscriptError(
            f"title part {name} {value!r} does not match the headline block: the text there is {rest!r}",
            path=path,
            hint=hint,
        )

    lo, hi = 0, len(flat)
    kicker = parts.get("kicker")
    if kicker:
        kf = _strip_ws(kicker)
        if not flat.startswith(kf, lo) or lo + len(kf) >= hi:
            raise mismatch("kicker", kicker, lo, min(hi, lo + len(kf) + 4))
        lo += len(kf)
    subtitle = parts.get("subtitle")
    sf = _strip_ws(subtitle) if subtitle else ""
    if sf and flat[lo:hi].endswith(sf) and hi - len(sf) > lo:
        hi -= len(sf)  # the source order: headline（column）subtitle
        sf = ""
    column = parts.get("column")
    if column:
        cf = _strip_ws(column)
        cf = cf[1:-1] if cf.startswith("（") and cf.endswith("）") else cf
        tail = flat[lo:hi]
        if tail.endswith(f"（{cf}）") and len(tail) > len(cf) + 2:
            hi -= len(cf) + 2
        elif tail.endswith(cf) and len(tail) > len(cf):
            hi -= len(cf)
        else:
            raise mismatch("column", column, max(lo, hi - len(cf) - 2), hi)
    else:
        opening = _matching_open(flat, lo)
        if opening is not None and opening > lo and opening < hi - 2:
            column = original(opening + 1, hi - 1).strip()
            hi = opening
    if subtitle and sf:  # sf is the subtitle stripped, still to be found
        if not flat[lo:hi].endswith(sf) or hi - len(sf) <= lo:
            raise mismatch("subtitle", subtitle, max(lo, hi - len(sf)), hi)
        hi -= len(sf)
    headline = parts.get("headline")
    if headline:
        if _strip_ws(headline) != flat[lo:hi]:
            raise mismatch("headline", headline, lo, hi)
    else:
        headline = original(lo, hi)
        if not headline:
            raise ManuscriptError("the title parts leave no text for the headline", path=path, hint=hint)
    return HeadlineParts(kicker or None, title_spaces(headline), subtitle or None, column or None)


# ----------------------------------------------------------------------------------------- segmenting

_BREAK = None  # a break between parts in the segment list
Segment = str | None

_LINE_END_RE = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_GAP_RE = re.compile("[ \t\u3000]*\n[ \t\u3000\n]*|\u3000{2,}")


def _pieces(text: str) -> list[Segment]:
    """Split archive text into stripped segments (spaces inside kept), with None where an empty
    paragraph breaks the parts.

    A gap of n U+3000 (no line break) holds n // 2 - 1 empty paragraphs; a gap with line breaks holds
    one per blank line (plus any whole empty paragraph in the next line's indent). When every line gap of
    a file has blank lines, blank lines are the file's paragraph separator and only the surplus counts.
    """
    text = _LINE_END_RE.sub("\n", text)
    pieces: list[str] = []
    empties: list[int] = []
    line_gaps: list[int] = []  # indexes into empties of gaps with line breaks
    pos = 0
    for match in _GAP_RE.finditer(text):
        pieces.append(text[pos : match.start()])
        gap = match.group()
        if "\n" in gap:
            lines = gap.split("\n")
            indent_units = lines[-1].count("\u3000") // 2
            empties.append(len(lines) - 2 + max(0, indent_units - 1))
            line_gaps.append(len(empties) - 1)
        else:
            empties.append(len(gap) // 2 - 1)
        pos = match.end()
    pieces.append(text[pos:])
    if len(line_gaps) >= 2:
        separator = min(empties[i] for i in line_gaps)
        for i in line_gaps:
            empties[i] -= separator
    out: list[Segment] = []
    for i, piece in enumerate(pieces):
        out.append(piece.strip() if _norm(piece) else _BREAK)
        if i < len(empties) and empties[i] > 0:
            out.append(_BREAK)
    return out


def crawler_header(text: str) -> tuple[list[str], str] | None:
    """The crawler's layout, recognised by its lines: three header lines without indent (kicker, headline,
    subtitle; the headline never empty) followed by paragraph lines, most of them indented. Returns the
    three header lines and the body text, or None for any other layout."""
    lines = _LINE_END_RE.sub("\n", text).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 4:
        return None
    header, body = lines[:3], lines[3:]
    if any(line[:1] in ("\u3000", " ", "\t") and line.strip() for line in header) or not _norm(header[1]):
        return None
    if any(is_real_paragraph(_norm(line)) and len(_strip_ws(line)) > LONG_HEADLINE for line in header):
        return None
    filled = [line for line in body if _norm(line)]
    indented = [line for line in filled if line.startswith("\u3000")]
    if not filled or 2 * len(indented) < len(filled):
        return None
    if _norm(header[0]) and _norm(header[2]) and _SENTENCE_END_RE.search(_norm(header[2])):
        return None  # three running lines: a file with one paragraph a line and no header
    return header, "\n".join(body)


def _trim_breaks(items: Sequence[Segment]) -> list[Segment]:
    """Drop breaks at both ends and collapse runs of breaks to one."""
    out: list[Segment] = []
    for item in items:
        if item is _BREAK and (not out or out[-1] is _BREAK):
            continue
        out.append(item)
    while out and out[-1] is _BREAK:
        out.pop()
    return out


# ------------------------------------------------------------------------------------------- the body


def paragraph(text: str) -> Block:
    """A paragraph block, with its opening dateline (if any) as `lead`. A short line that is no sentence
    (a name, a closing `本报记者 某某整理`) keeps its spaces as a title line does."""
    flat = _strip_ws(text)
    if len(flat) <= MAX_HEADING and not _SENTENCE_END_RE.search(flat) and dateline(_norm(text)) is None:
        return Block("paragraph", spaced_text(text))
    text = paragraph_text(text)
    return Block("paragraph", text, lead=dateline(text))


def _quotation(text: str) -> bool:
    """One quotation, perhaps with the sentence's full stop after the closing mark (`“…”。`)."""
    return wholly_quoted(text) or (text.endswith("”。") and wholly_quoted(text[:-1]))


def _is_section_byline(raw: str) -> bool:
    return is_byline(_norm(raw)) or _names_only(raw)


def _heading(lines: Sequence[str], byline: str | None) -> Block:
    """One heading from its lines: with two or more, the first is the label and the rest the heading."""
    label = spaced_text(lines[0]) if len(lines) > 1 else None
    text = "\u3000".join(spaced_text(t) for t in lines[1:] if t) if len(lines) > 1 else spaced_text(lines[0])
    return Block("heading", text, label=label, byline=spaced_text(byline) if byline else None)


def classify_body(items: Sequence[Segment]) -> list[Block]:
    """Headings, paragraphs, captions and breaks for the middle of an article (after note and epigraph).

    Long because the archive's body conventions are rules tried in order on each segment; split up they lose that order."""
    blocks: list[Block] = []
    n = len(items)
    norm = [_norm(t) if t is not _BREAK else "" for t in items]

    def real(j: int) -> bool:
        return 0 <= j < n and items[j] is not _BREAK and is_real_paragraph(norm[j])

    def opens_section(j: int) -> bool:
        # Before a heading: the start of the body, a break, or running text.
        return j < 0 or items[j] is _BREAK or real(j)

    def head_line(j: int, first: bool) -> bool:
        if j >= n or items[j] is _BREAK:
            return False
        if first:
            return is_heading_candidate(norm[j]) or _is_lead_in(norm[j])
        return is_heading_candidate(norm[j]) and not _FIELD_RE.match(norm[j]) and not _names_only(items[j])  # type: ignore[arg-type]

    def body_follows(j: int) -> bool:
        return real(j) or (0 <= j < n and items[j] is not _BREAK and _FIELD_RE.match(norm[j]) is not None)

    i = 0
    while i < n:
        item = items[i]
        if item is _BREAK:
            blocks.append(Block("part_break", ""))
            i += 1
            continue
        text = norm[i]
        if is_caption(text):
            blocks.append(Block("caption", spaced_text(item)))
            i += 1
            continue
        if _SECTION_NUMBER_RE.match(_strip_ws(text)) and opens_section(i - 1) and real(i + 1):
            blocks.append(Block("heading", text))
            i += 1
            continue
        if not opens_section(i - 1) or not head_line(i, True):
            blocks.append(paragraph(item))
            i += 1
            continue
        run = 1
        while head_line(i + run, False):
            run += 1
        lines = [t for t in items[i : i + run] if t is not _BREAK]
        after = i + run
        lead_in = not is_heading_candidate(text)
        # A head of up to three lines with a byline under it (`某局局长张某：` / heading / `本报记者 李某`).
        if (
            run <= 3
            and (run > 1 or not lead_in)
            and after < n
            and items[after] is not _BREAK
            and _is_section_byline(items[after])  # type: ignore[arg-type]
            and after + 1 < n
            and items[after + 1] is not _BREAK
        ):
            blocks.append(_heading(lines, items[after]))
            i = after + 1
            continue
        if run == 1 and not lead_in and body_follows(i + 1):
            blocks.append(_heading(lines, None))
            i += 1
            continue
        # Two lines: a label or lead-in and the heading. A colon label needs a quoted heading
        # (`下沉干部：` + `“…”`); otherwise a speaker's name before a paragraph would become one.
        colon = lead_in and text.endswith(("：", ":"))
        if run == 2 and body_follows(i + 2) and (not colon or (is_label(text) and wholly_quoted(norm[i + 1]))):
            blocks.append(_heading(lines, None))
            i += 2
            continue
        for j in range(i, i + run):
            blocks.append(paragraph(items[j]))  # type: ignore[arg-type]
        i += run
    return blocks


def _take_note(body: list[Segment], blocks: list[Block]) -> list[Segment]:
    """The editor's note at the body's start: up to the signature `——编者`, or from `编者按：` up to the
    first break (only its first paragraph when no break comes soon); returns the rest of the body."""
    signature = next(
        (j for j, item in enumerate(body[: MAX_NOTE_PARAGRAPHS + 1]) if item is not _BREAK and is_signature(item)),
        None,
    )
    if signature is not None and signature > 0 and _BREAK not in body[:signature]:
        blocks.extend(Block("editor_note", _norm(t)) for t in body[:signature] if t is not _BREAK)
        blocks.append(Block("note_signature", signature_text(body[signature])))  # type: ignore[arg-type]
        return body[signature + 1 :]
    if body and body[0] is not _BREAK and is_note_opening(_norm(body[0])):
        end = next((j for j, item in enumerate(body[: MAX_NOTE_PARAGRAPHS + 1]) if item is _BREAK), None)
        note = body[:end] if end is not None and all(is_real_paragraph(_norm(t)) for t in body[:end]) else body[:1]
        blocks.extend(Block("editor_note", _norm(t)) for t in note)
        return body[len(note) :]
    return body


def build_article(
    items: Sequence[Segment],
    *,
    path: Path | str,
    article_id: str,
    source: str,
    title: TitleParts | None,
    header: Sequence[str] | None = None,
) -> Article:
    """Turn a manuscript's segments into an Article by the archive conventions: the first segment is the
    headline block, unless `header` gives the crawler's three header lines.

    Long because it is the raw reader's sequence: title block, editor's note, epigraph, body, credits, each consuming segments in order."""
    items = _trim_breaks(items)
    if header is not None:
        if any(v for k, v in (title or {}).items() if k != "byline"):
            parts = _split_stated("".join(header), title, path)
        else:
            headline, column = _headline_and_column(header[1])
            parts = HeadlineParts(spaced_text(header[0]) or None, headline, spaced_text(header[2]) or None, column)
        body = _trim_breaks(items)
    else:
        if not items:
            raise ManuscriptError("the manuscript has no text", path=path)
        head = items[0]
        assert head is not _BREAK
        parts = read_headline_block(head, title, path)
        body = _trim_breaks(items[1:])
    if len(_strip_ws(parts.headline)) > LONG_HEADLINE and not parts.unsettled:
        log.warning("%s: the headline is %d characters long; is the headline missing?", path, len(parts.headline))

    byline: str | None = None
    if body and body[0] is not _BREAK and is_byline(_norm(body[0])):
        byline = spaced_text(body[0])
        body = _trim_breaks(body[1:])
    override_byline = normalize_text((title or {}).get("byline") or "")
    if override_byline:
        if byline is not None and _strip_ws(override_byline) != _strip_ws(byline):
            raise ManuscriptError(
                f"title part byline {override_byline!r} does not match the manuscript's byline {byline!r}",
                path=path,
                hint="correct the byline in book.toml, or the manuscript",
            )
        byline = title_spaces(override_byline)

    blocks: list[Block] = []
    body = _take_note(body, blocks)

    # The epigraph: a first paragraph that is wholly one quotation, with more body after it; several
    # quotations in a row when an attribution (`——某某`) closes them.
    lead_breaks = 0
    while lead_breaks < len(body) and body[lead_breaks] is _BREAK:
        lead_breaks += 1
    quotes = lead_breaks
    while quotes < len(body) and body[quotes] is not _BREAK and _quotation(_norm(body[quotes])):
        quotes += 1
    attributed = quotes < len(body) and body[quotes] is not _BREAK and is_attribution(_norm(body[quotes]))
    first = body[lead_breaks] if lead_breaks < len(body) else _BREAK
    alone = 1 if first is not _BREAK and wholly_quoted(_norm(first)) else 0
    take = quotes - lead_breaks + 1 if attributed and quotes > lead_breaks else alone
    if take and any(t is not _BREAK for t in body[lead_breaks + take :]):
        if blocks:
            blocks.extend(Block("part_break", "") for _ in range(min(lead_breaks, 1)))
        blocks.extend(Block("epigraph", _norm(t)) for t in body[lead_breaks : lead_breaks + take])
        body = body[lead_breaks + take :]

    # Credits: the trailing run of credit lines, with the photo captions and breaks among them.
    end = len(body)
    while end > 0 and (body[end - 1] is _BREAK or is_credit(_norm(body[end - 1])) or is_caption(_norm(body[end - 1]))):
        end -= 1
    tail = [Block("credit" if is_credit(_norm(t)) else "caption", spaced_text(t)) for t in body[end:] if t is not _BREAK]

    middle = body[:end]
    if not blocks:
        middle = _trim_breaks(middle)
    elif middle and middle[-1] is _BREAK:
        middle = _trim_breaks(middle)
    blocks.extend(classify_body(middle))
    blocks.extend(tail)
    return Article(
        id=article_id,
        source=source,
        headline=parts.headline,
        kicker=parts.kicker,
        subtitle=parts.subtitle,
        column=parts.column,
        byline=byline,
        blocks=tuple(blocks),
        unsettled_title=parts.unsettled,
    )


def parse_raw(text: str, *, path: Path | str, article_id: str, source: str, title: TitleParts | None = None) -> Article:
    """Read decoded archive text (either layout) into an Article."""
    crawled = crawler_header(text)
    if crawled is not None:
        header, body = crawled
        return build_article(_pieces(body), path=path, article_id=article_id, source=source, title=title, header=header)
    return build_article(_pieces(text), path=path, article_id=article_id, source=source, title=title)


def read_raw(path: Path, *, article_id: str, source: str, title: TitleParts | None = None) -> Article:
    """Read a raw archive manuscript (.txt) into an Article."""
    return parse_raw(read_text(path), path=path, article_id=article_id, source=source, title=title)


__all__ = [
    "MAX_HEADING",
    "HeadlineParts",
    "TitleKey",
    "TitleParts",
    "build_article",
    "classify_body",
    "crawler_header",
    "dateline",
    "is_byline",
    "is_caption",
    "is_credit",
    "paragraph_text",
    "parse_raw",
    "read_headline_block",
    "read_raw",
    "spaced_text",
    "split_headline_block",
    "title_spaces",
    "wholly_quoted",
]

"""The raw archive reader: one article per text file, as a newspaper archive exports it.

The format (see manuscript-format.md): segments separated by the paragraph indent (two U+3000) and/or
line breaks; an empty paragraph (four U+3000, or a blank line) is a break between parts; the first
segment is the fused headline block; then an optional byline, editor's note, epigraph, body with
headings, and trailing credits. The conventions shared with the Markdown reader live here too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

from zhpress.errors import ManuscriptError
from zhpress.model import Article, Block
from zhpress.normalize import HAN_RE, normalize_text
from zhpress.read.decode import read_text

log = logging.getLogger("zhpress")


class TitleParts(TypedDict, total=False):
    """An editor's statement of an article's title parts (book.toml or Markdown front matter)."""

    kicker: str
    headline: str
    subtitle: str
    column: str
    byline: str


_HAN = HAN_RE.pattern[1:-1]  # the class body, for building other patterns

# A heading is short; longer segments are paragraphs whatever their punctuation.
MAX_HEADING = 32
# Label of a two-part heading (`下沉干部：`).
MAX_LABEL = 12
# Length beyond which a headline block probably is not a headline at all.
LONG_HEADLINE = 80
# How far into the body an editor's note signature may stand.
MAX_NOTE_PARAGRAPHS = 8

_SPACE_CHARS = " \t\u3000\u00a0"
_WS_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"[。！？!?…][”’」』）)\]》]*$")
_NO_HEADING_END_RE = re.compile(r"[：:，,；;、]$")
_LABEL_RE = re.compile(rf"^[^。！？，；“”]{{1,{MAX_LABEL - 1}}}[：:]$")
_SIGNATURE_RE = re.compile(r"^[—－-]{1,2}\s*(?:编\s*者|本?\s*[报刊]?\s*编\s*辑\s*部)$")
_NOTE_OPENING_RE = re.compile(r"^[【\[（(]?编者按")
_BYLINE_RE = re.compile(
    r"^(?:(?:本报|本刊|新华社|人民日报)?(?:特约|实习)?(?:记者|通讯员|实习生|评论员|特约撰稿人)|■|□|◎|文[/／]|撰文)"
)
_BYLINE_FORBIDDEN_RE = re.compile(r"[。，：；！？“”（）]")
_DATELINE_RE = re.compile(
    rf"^(?:[{_HAN}]{{2,16}}?\d{{1,2}}月\d{{1,2}}日(?:电|讯)|(?:本报|本刊|新华社|中新社)(?:讯|电))"
    r"(?:[ \u3000]*[（(][^（）()]{1,40}[）)])?"
)
_CREDIT_RE = re.compile(
    r"^[（(]?\s*(?:版式设计|版面设计|本版责编|本版编辑|本版统筹|责任编辑|责任校对|责编|编辑|美术编辑|美编|"
    r"图片编辑|校对|制图|统筹|策划|监制|来源|摄影|供图|图片来源)\s*[：:]"
    r"|^《\s*[^》]{1,20}\s*》\s*[（(][^（）()]{0,40}版\s*[）)]$"
)
MAX_CREDIT = 60
_LATIN_ALNUM = re.compile(r"[A-Za-z0-9]")


def _strip_ws(text: str) -> str:
    return _WS_RE.sub("", text)


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
    """Whether a standalone segment is a byline (`本报记者　张三　李四`, `■ 李 文`)."""
    flat = _strip_ws(text)
    if not 2 < len(flat) <= 40 or _BYLINE_FORBIDDEN_RE.search(flat):
        return False
    match = _BYLINE_RE.match(flat)
    return match is not None and match.end() < len(flat)


def dateline(text: str) -> str | None:
    """The dateline a paragraph opens with (`本报北京4月5日电`, `新华社北京6月12日电（记者 X）`), or None."""
    match = _DATELINE_RE.match(text)
    if match is None:
        return None
    return match.group().rstrip(_SPACE_CHARS)


def is_credit(text: str) -> bool:
    """Whether a segment is a production credit (`版式设计：张芳曼`) or a source line (`《人民日报》（… 版）`)."""
    return len(text) <= MAX_CREDIT and _CREDIT_RE.match(text) is not None


def is_real_paragraph(text: str) -> bool:
    """A segment that is certainly running text: long, or closing a sentence."""
    return len(_strip_ws(text)) > MAX_HEADING or _SENTENCE_END_RE.search(text) is not None


def is_heading_candidate(text: str) -> bool:
    """A short segment that could be a heading: no sentence-final or continuing punctuation at its end."""
    flat = _strip_ws(text)
    if len(flat) > MAX_HEADING or len(HAN_RE.findall(flat)) < 2:
        return False
    return _SENTENCE_END_RE.search(flat) is None and _NO_HEADING_END_RE.search(flat) is None


def is_label(text: str) -> bool:
    """A short lead-in ending in a colon (`下沉干部：`), the first part of a two-part heading."""
    return _LABEL_RE.match(_strip_ws(text)) is not None


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


def split_headline_block(
    block: str, override: TitleParts | None, path: Path | str
) -> tuple[str | None, str, str | None, str | None]:
    """Split a headline block into (kicker, headline, subtitle, column).

    Without an override: a trailing `（…）` is the column and the rest the headline. With one, its parts
    are used after checking that, in order, they are exactly the block's text (whitespace aside); a part
    that does not fit is a ManuscriptError naming it.
    """
    block = normalize_text(block)
    parts = {k: normalize_text(v) for k, v in (override or {}).items() if k != "byline" and v}
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
    subtitle = parts.get("subtitle")
    if subtitle:
        sf = _strip_ws(subtitle)
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
    return kicker or None, title_spaces(headline), subtitle or None, column or None


# ----------------------------------------------------------------------------------------- segmenting

_BREAK = None  # a break between parts in the segment list
Segment = str | None

_LINE_END_RE = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_GAP_RE = re.compile("[ \t\u3000]*\n[ \t\u3000\n]*|\u3000{2,}")


def segments(text: str) -> list[Segment]:
    """Split archive text into normalized segments, with None where an empty paragraph breaks the parts.

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
        normalized = normalize_text(piece)
        out.append(normalized if normalized else _BREAK)
        if i < len(empties) and empties[i] > 0:
            out.append(_BREAK)
    return out


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
    """A paragraph block, with its opening dateline (if any) as `lead`."""
    return Block("paragraph", text, lead=dateline(text))


def classify_body(items: Sequence[Segment]) -> list[Block]:
    """Headings, paragraphs and breaks for the middle of an article (after note and epigraph)."""
    blocks: list[Block] = []
    n = len(items)

    def real(j: int) -> bool:
        item = items[j] if 0 <= j < n else _BREAK
        return item is not _BREAK and is_real_paragraph(item)

    def opens_section(j: int) -> bool:
        # Before a heading: the start of the body, a break, or running text.
        return j < 0 or items[j] is _BREAK or real(j)

    i = 0
    while i < n:
        item = items[i]
        if item is _BREAK:
            blocks.append(Block("part_break", ""))
            i += 1
            continue
        # A label and a short quotation: one heading in two parts (`下沉干部：` + `“…”`).
        nxt = items[i + 1] if i + 1 < n else _BREAK
        if (
            is_label(item)
            and nxt is not _BREAK
            and wholly_quoted(nxt)
            and len(_strip_ws(nxt)) <= MAX_HEADING
            and opens_section(i - 1)
            and real(i + 2)
        ):
            blocks.append(Block("heading", nxt, label=item))
            i += 2
            continue
        if is_heading_candidate(item) and opens_section(i - 1):
            run = 1
            while i + run < n and items[i + run] is not _BREAK and is_heading_candidate(items[i + run]):  # type: ignore[arg-type]
                run += 1
            if run == 1 and real(i + 1):
                blocks.append(Block("heading", item))
                i += 1
                continue
            if run == 2 and real(i + 2):
                blocks.append(Block("heading", items[i + 1], label=item))  # type: ignore[arg-type]
                i += 2
                continue
            for j in range(i, i + run):
                blocks.append(paragraph(items[j]))  # type: ignore[arg-type]
            i += run
            continue
        blocks.append(paragraph(item))
        i += 1
    return blocks


def build_article(
    items: Sequence[Segment],
    *,
    path: Path | str,
    article_id: str,
    source: str,
    title: TitleParts | None,
) -> Article:
    """Turn a manuscript's segments (headline block first) into an Article by the archive conventions."""
    items = _trim_breaks(items)
    if not items:
        raise ManuscriptError("the manuscript has no text", path=path)
    head = items[0]
    assert head is not _BREAK
    if len(head) > LONG_HEADLINE:
        log.warning("%s: the headline block is %d characters long; is the headline missing?", path, len(head))
    kicker, headline, subtitle, column = split_headline_block(head, title, path)
    body = _trim_breaks(items[1:])

    byline: str | None = None
    if body and body[0] is not _BREAK and is_byline(body[0]):
        byline = title_spaces(body[0])
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
    # The editor's note: paragraphs from the first up to the signature `——编者`.
    signature = next(
        (
            j
            for j, item in enumerate(body[: MAX_NOTE_PARAGRAPHS + 1])
            if item is not _BREAK and is_signature(item)
        ),
        None,
    )
    if signature is not None and signature > 0 and _BREAK not in body[:signature]:
        blocks.extend(Block("editor_note", t) for t in body[:signature] if t is not _BREAK)
        blocks.append(Block("note_signature", signature_text(body[signature])))  # type: ignore[arg-type]
        body = body[signature + 1 :]
    elif body and body[0] is not _BREAK and is_note_opening(body[0]):
        blocks.append(Block("editor_note", body[0]))
        body = body[1:]

    # The epigraph: a first paragraph that is wholly one quotation, with more body after it.
    lead_breaks = 0
    while lead_breaks < len(body) and body[lead_breaks] is _BREAK:
        lead_breaks += 1
    first = body[lead_breaks] if lead_breaks < len(body) else _BREAK
    if first is not _BREAK and wholly_quoted(first) and any(t is not _BREAK for t in body[lead_breaks + 1 :]):
        if blocks:
            blocks.extend(Block("part_break", "") for _ in range(min(lead_breaks, 1)))
        blocks.append(Block("epigraph", first))
        body = body[lead_breaks + 1 :]

    # Credits: the trailing run of credit lines.
    end = len(body)
    while end > 0 and (body[end - 1] is _BREAK or is_credit(body[end - 1])):  # type: ignore[arg-type]
        end -= 1
    credits = [Block("credit", t) for t in body[end:] if t is not _BREAK]

    middle = body[:end]
    if not blocks:
        middle = _trim_breaks(middle)
    elif middle and middle[-1] is _BREAK:
        middle = _trim_breaks(middle)
    blocks.extend(classify_body(middle))
    blocks.extend(credits)
    return Article(
        id=article_id,
        source=source,
        headline=headline,
        kicker=kicker,
        subtitle=subtitle,
        column=column,
        byline=byline,
        blocks=tuple(blocks),
    )


def parse_raw(text: str, *, path: Path | str, article_id: str, source: str, title: TitleParts | None = None) -> Article:
    """Read decoded archive text into an Article."""
    return build_article(segments(text), path=path, article_id=article_id, source=source, title=title)


def read_raw(path: Path, *, article_id: str, source: str, title: TitleParts | None = None) -> Article:
    """Read a raw archive manuscript (.txt) into an Article."""
    return parse_raw(read_text(path), path=path, article_id=article_id, source=source, title=title)


__all__ = [
    "MAX_HEADING",
    "TitleParts",
    "build_article",
    "classify_body",
    "dateline",
    "is_byline",
    "is_credit",
    "parse_raw",
    "read_raw",
    "segments",
    "split_headline_block",
    "title_spaces",
    "wholly_quoted",
]

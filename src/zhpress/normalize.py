"""Typesetting normalization shared by every reader.

The changes are the ones `chinese-typesetting.md` allows and nothing else: Unicode NFC, newspaper
letter-spacing with NO-BREAK SPACEs removed between CJK characters, ASCII `,:;?!()` typed between Han
characters made full-width, and the edges stripped. Quotation marks are left to the conversion stage.
Characters the editor cannot see (zero-width characters, bidi controls) are removed, with a warning
naming file and line, where they have no typographic purpose (`strip_invisible`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

from .chars import CONTROL_RE, HAN_RE, WIDE_CLASS, WIDE_RE

log = logging.getLogger("zhpress")

_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}

# A run of NO-BREAK SPACEs between two wide characters is letter-spacing, not content.
_NBSP_SPACING_RE = re.compile(f"(?<=[{WIDE_CLASS}])\u00a0+(?=[{WIDE_CLASS}])")
# `,:;?!` after a wide character and before a wide character or the end of the text.
_PUNCT_RE = re.compile(f"(?<=[{WIDE_CLASS}])[,:;?!](?=[{WIDE_CLASS}]|\\Z)")


def _is_wide_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and WIDE_RE.match(text, index) is not None


def _convert_parentheses(text: str) -> str:
    """Make matched ASCII parentheses full-width where they enclose Han text between wide neighbours."""
    if "(" not in text and ")" not in text:
        return text
    chars = list(text)
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i, ch in enumerate(chars):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            pairs.append((stack.pop(), i))
    paired = {i for pair in pairs for i in pair}
    for start, end in pairs:
        before_ok = start == 0 or _is_wide_at(text, start - 1)
        after_ok = end == len(text) - 1 or _is_wide_at(text, end + 1)
        if before_ok and after_ok and HAN_RE.search(text, start + 1, end):
            chars[start] = "（"
            chars[end] = "）"
    # An unmatched parenthesis is converted only when wide characters stand on both sides of it.
    for i, ch in enumerate(chars):
        if ch in "()" and i not in paired and _is_wide_at(text, i - 1) and _is_wide_at(text, i + 1):
            chars[i] = _FULL_WIDTH[ch]
    return "".join(chars)


def _convert_punctuation(text: str) -> str:
    """Full-width `,:;?!()` typed in a Chinese context, repeated until nothing changes."""
    while True:
        new = _PUNCT_RE.sub(lambda m: _FULL_WIDTH[m.group()], text)
        new = _convert_parentheses(new)
        if new == text:
            return new
        text = new


def normalize_text(text: str) -> str:
    """Apply the typesetting normalization every reader shares; idempotent, never touches Han characters.

    Steps, in an order that makes the result a fixed point: NFC, strip the edges, full-width
    punctuation between Han characters, drop NO-BREAK SPACE letter-spacing between CJK characters.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return text
    text = _convert_punctuation(text)
    return _NBSP_SPACING_RE.sub("", text)


# Characters the editor cannot see. Zero-width: ZWSP, ZWNJ, ZWJ, word joiner, invisible operators,
# deprecated format characters, a BOM inside the text. Bidi controls: LRM, RLM, ALM, the embeddings and
# overrides (U+202A–U+202E) and the isolates (U+2066–U+2069), which reorder what a reader sees ("Trojan
# Source"); Chinese text and the Unicode bidi algorithm need none of them.
INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060-\u2064\u206a-\u206f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = "\u200c\u200d"


def _joins(text: str, index: int) -> bool:
    """Whether the character at `index` is one a ZWJ or ZWNJ can join or part: a letter, mark or symbol
    outside the CJK blocks (emoji sequences, Arabic, Persian and Indic letters, Latin ligatures)."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    return unicodedata.category(char)[0] in "LMS" and not 0x2E80 <= ord(char) <= 0xFFEF


def strip_invisible(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The text without its invisible characters, and each one removed as (index, character). ZWJ and
    ZWNJ between two letters, marks or symbols outside the CJK blocks are kept: there they shape an emoji
    sequence or a word; between Han characters, at an edge or beside a space they do nothing."""
    if INVISIBLE_RE.search(text) is None:
        return text, []
    pieces: list[str] = []
    removed: list[tuple[int, str]] = []
    last = 0
    for match in INVISIBLE_RE.finditer(text):
        index, char = match.start(), match.group()
        if char in _JOINERS and _joins(text, index - 1) and _joins(text, index + 1):
            continue
        pieces.append(text[last:index])
        removed.append((index, char))
        last = index + 1
    pieces.append(text[last:])
    return "".join(pieces), removed


def _describe(char: str) -> str:
    kind = "a bidi control: it reorders the text the reader sees" if char in _BIDI else "a zero-width character"
    return f"U+{ord(char):04X} {unicodedata.name(char, 'FORMAT CHARACTER')} ({kind})"


def warn_invisible(removed: list[tuple[int, str]], where: Any) -> None:
    """One warning per character removed from a text: what it is, how many, where the first one was
    (`where(index)` gives the place, such as `content/a.txt:3:5`)."""
    first: dict[str, int] = {}
    counts: dict[str, int] = {}
    for index, char in removed:
        first.setdefault(char, index)
        counts[char] = counts.get(char, 0) + 1
    for char, index in first.items():
        more = f"; {counts[char]} in all, the first here" if counts[char] > 1 else ""
        log.warning("%s: %s removed: the editor cannot see it%s", where(index), _describe(char), more)


def clean_source(text: str, path: Path | str) -> str:
    """A manuscript's decoded text without its invisible characters, each kind named in a warning with
    the line and column of its first appearance."""
    cleaned, removed = strip_invisible(text)
    if removed:
        def where(index: int) -> str:
            line = len(re.findall("\r\n|\r|\n", text[:index])) + 1
            column = index - max(text.rfind("\n", 0, index), text.rfind("\r", 0, index))
            return f"{path}:{line}:{column}"

        warn_invisible(removed, where)
    return cleaned


def check_decoded(text: str, path: Path | str, line: int) -> str:
    """Text a reader decoded from markup (character references such as `&#12;` or `&#8203;`), starting at
    `line` of the manuscript with `\n` between its lines: a control character is a ManuscriptError with
    its line; invisible characters are removed as from the source."""
    control = CONTROL_RE.search(text)
    if control is not None:
        from .errors import ManuscriptError

        raise ManuscriptError(
            f"control character U+{ord(control.group()):04X} from a character reference (entity)",
            path=path,
            line=line + text.count("\n", 0, control.start()),
            hint="a manuscript is plain text; remove the entity",
        )
    cleaned, removed = strip_invisible(text)
    if removed:
        warn_invisible(removed, lambda index: f"{path}:{line + text.count(chr(10), 0, index)}")
    return cleaned


__all__ = [
    "INVISIBLE_RE",
    "check_decoded",
    "clean_source",
    "normalize_text",
    "strip_invisible",
]

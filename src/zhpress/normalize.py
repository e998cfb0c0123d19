"""Typesetting normalization shared by every reader.

The changes are the ones `chinese-typesetting.md` allows and nothing else: Unicode NFC, newspaper
letter-spacing with NO-BREAK SPACEs removed between CJK characters, ASCII `,:;?!()` typed between Han
characters made full-width, and the edges stripped. Quotation marks are left to the conversion stage.
"""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (the Unicode script Han, in ranges): radicals, 々 〇 and the Hangzhou numerals, the
# unified ideographs with their extensions, and the compatibility ideographs.
_HAN_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3005, 0x3005),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303B),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
_HAN_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _HAN_RANGES)
HAN_RE = re.compile(f"[{_HAN_CLASS}]")

# Characters that set a full-width context: Han, CJK symbols and punctuation, full-width forms, and
# the curly quotes, dashes and ellipsis Chinese text shares with Western text.
_WIDE_CLASS = _HAN_CLASS + "\u3000-\u303f\uff00-\uffef\u2014\u2015\u2018\u2019\u201c\u201d\u2026"

_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}

# A run of NO-BREAK SPACEs between two wide characters is letter-spacing, not content.
_NBSP_SPACING_RE = re.compile(f"(?<=[{_WIDE_CLASS}])\u00a0+(?=[{_WIDE_CLASS}])")
# `,:;?!` after a wide character and before a wide character or the end of the text.
_PUNCT_RE = re.compile(f"(?<=[{_WIDE_CLASS}])[,:;?!](?=[{_WIDE_CLASS}]|\\Z)")
_WIDE_RE = re.compile(f"[{_WIDE_CLASS}]")


def is_han(char: str) -> bool:
    """Whether one character is a Han ideograph."""
    return HAN_RE.fullmatch(char) is not None


def han_chars(text: str) -> str:
    """The Han characters of a text, in order, after NFC (for "no Han character lost" checks).

    NFC is applied first because normalization maps CJK compatibility ideographs to their unified
    forms; the comparison is therefore up to canonical equivalence.
    """
    return "".join(HAN_RE.findall(unicodedata.normalize("NFC", text)))


def _is_wide_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and _WIDE_RE.match(text, index) is not None


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


__all__ = ["HAN_RE", "han_chars", "is_han", "normalize_text"]

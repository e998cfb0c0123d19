"""Character classes, defined once: Han ideographs, the characters that set a full-width (CJK) context, the
characters justified by inter-character spacing, and the control characters no text may hold."""

from __future__ import annotations

import re
import unicodedata

# Han ideographs (the Unicode script Han, in ranges): radicals, 々 〇 and the Hangzhou numerals, the
# unified ideographs with their extensions, and the compatibility ideographs.
HAN_RANGES = (
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
#: The body of a regular-expression class of the Han ranges, for building other patterns.
HAN_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in HAN_RANGES)
HAN_RE = re.compile(f"[{HAN_CLASS}]")

# Characters that set a full-width context: Han, CJK symbols and punctuation, full-width forms, and
# the curly quotes, dashes and ellipsis Chinese text shares with Western text.
WIDE_CLASS = HAN_CLASS + "\u3000-\u303f\uff00-\uffef\u2014\u2015\u2018\u2019\u201c\u201d\u2026"
WIDE_RE = re.compile(f"[{WIDE_CLASS}]")

# Characters justified by inter-character spacing in print: Han, kana, CJK and full-width marks.
CJK_RE = re.compile(f"[{HAN_CLASS}\u3000-\u30ff\uff01-\uff60\uffe0-\uffe6“”‘’·]")

# Control characters a text cannot hold (XML 1.0 forbids or discourages them): C0 but tab, LF, CR; DEL;
# C1; the noncharacters U+FFFE and U+FFFF.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def is_han(char: str) -> bool:
    """Whether one character is a Han ideograph."""
    return HAN_RE.fullmatch(char) is not None


def is_cjk(char: str) -> bool:
    """Whether one character is justified by inter-character spacing (Han, kana, CJK and full-width marks)."""
    return CJK_RE.fullmatch(char) is not None


def han_chars(text: str) -> str:
    """The Han characters of a text, in order, after NFC (for "no Han character lost" checks).

    NFC is applied first because normalization maps CJK compatibility ideographs to their unified
    forms; the comparison is therefore up to canonical equivalence.
    """
    return "".join(HAN_RE.findall(unicodedata.normalize("NFC", text)))


__all__ = [
    "CJK_RE", "CONTROL_RE", "HAN_CLASS", "HAN_RANGES", "HAN_RE", "WIDE_CLASS", "WIDE_RE", "han_chars", "is_cjk",
    "is_han",
]  # fmt: skip

"""Which characters the CJK justification spaces, and how a boundary between two characters counts."""

from __future__ import annotations

import re

__all__ = ["is_cjk", "kind", "weight", "weighted_count", "weighted_runs"]

#: The characters `weight` gives 1, in runs: what the justification counts and spaces, found by the
#: regular expression engine rather than a Python loop over every character of every line.
_WEIGHTED_RUNS = re.compile(
    "[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\uffe0-\uffe6"
    "\U00020000-\U0003ffff\u201c\u201d\u2018\u2019\u00b7]+"
)


def is_cjk(char: str) -> bool:
    """True for a character justified by inter-character spacing: Han, kana, CJK and full-width marks."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK symbols and punctuation, kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF01 <= code <= 0xFF60  # full-width forms
        or 0xFFE0 <= code <= 0xFFE6
        or 0x20000 <= code <= 0x3FFFF
        or char in "“”‘’·"
    )


def weight(char: str) -> int:
    """Spacing weight of one character: 1 for CJK; 0 for the rest and for the marks doubled as a unit."""
    return 1 if is_cjk(char) and char not in "—…" else 0


def kind(char: str) -> str:
    """'cjk' (spaced), 'mark' (a doubled dash or ellipsis), 'space', or 'other' (Latin, digits)."""
    if char in " \u00a0":
        return "space"
    if is_cjk(char):
        return "cjk" if weight(char) else "mark"
    return "other"


def weighted_count(text: str) -> int:
    """How many characters of `text` have weight 1."""
    return sum(end - start for start, end in (m.span() for m in _WEIGHTED_RUNS.finditer(text)))


def weighted_runs(text: str) -> list[tuple[int, int]]:
    """The byte ranges (UTF-8) of the runs of weight-1 characters in `text`."""
    ranges = []
    offset = done = 0  # bytes before character `done`
    for match in _WEIGHTED_RUNS.finditer(text):
        start, end = match.span()
        offset += len(text[done:start].encode())
        size = len(match.group().encode())
        ranges.append((offset, offset + size))
        offset += size
        done = end
    return ranges

"""Which characters the CJK justification spaces, and how a boundary between two characters counts."""

from __future__ import annotations

__all__ = ["is_cjk", "kind", "weight"]


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

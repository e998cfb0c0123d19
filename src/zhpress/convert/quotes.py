"""Quotation marks: curly quotes to corner brackets by nesting level."""

from __future__ import annotations

import re

_QUOTE_RE = re.compile("[“”‘’「」『』]")
# Only balanced, unnested double quotes: the common case, converted by a table.
_FLAT_DOUBLE_RE = re.compile("[^“”‘’「」『』]*(?:“[^“”‘’「」『』]*”[^“”‘’「」『』]*)*")


_OPEN = {"“": "double", "‘": "single", "「": "double", "『": "single"}
_CLOSE = {"”": "double", "’": "single", "」": "double", "』": "single"}


def _is_apostrophe(text: str, i: int) -> bool:
    """’ between two Latin letters or digits (Xi’an, don’t) is an apostrophe, not a quotation mark."""
    return 0 < i < len(text) - 1 and text[i - 1].isascii() and text[i - 1].isalnum() and (
        text[i + 1].isascii() and text[i + 1].isalnum()
    )


def corner_quotes(text: str) -> str:
    """Curly quotes to corner brackets by nesting level: level 0 「」, level 1 『』, level 2 「」 again, …

    Corner brackets already present stay and count for the nesting. Unbalanced quotes never fail: an opening
    mark left open at the end of the string keeps its bracket (Chinese multi-paragraph quotations open every
    paragraph and close only the last); a closing ” with no open quotation becomes 」; a closing ’ with no
    open single quotation, or one between Latin letters, is an apostrophe and stays. A closing mark closes
    the nearest open quotation of its kind, abandoning quotations opened inside it.
    """
    if _QUOTE_RE.search(text) is None:
        return text
    if _FLAT_DOUBLE_RE.fullmatch(text) is not None:
        return text.replace("“", "「").replace("”", "」")
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (kind, closing bracket)
    last = 0
    for m in _QUOTE_RE.finditer(text):
        mark, i = m.group(), m.start()
        out.append(text[last:i])
        last = m.end()
        if mark in ("「", "『"):
            stack.append((_OPEN[mark], "」" if mark == "「" else "』"))
            out.append(mark)
        elif mark in ("“", "‘"):
            level = len(stack)
            stack.append((_OPEN[mark], "」" if level % 2 == 0 else "』"))
            out.append("「" if level % 2 == 0 else "『")
        elif mark == "’" and _is_apostrophe(text, i):
            out.append(mark)
        else:
            kind = _CLOSE[mark]
            depth = next((d for d in range(len(stack) - 1, -1, -1) if stack[d][0] == kind), None)
            if depth is None:
                out.append("」" if mark == "”" else mark)
            else:
                closer = stack[depth][1]
                del stack[depth:]
                out.append(mark if mark in ("」", "』") else closer)
    out.append(text[last:])
    return "".join(out)

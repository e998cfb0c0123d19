"""The custom properties zhpress's stylesheets hand to its layout patches (``--zh-line-grid``,
``--zh-punctuation``, ``--zh-typeset``), read from WeasyPrint's computed styles."""

from __future__ import annotations

from typing import Any

__all__ = ["idents"]


def idents(style: Any, name: str) -> set[str]:
    """The identifiers of the inherited custom property ``--{name}`` in a computed style; empty when it is
    not set (an SVG text's style has no custom properties). WeasyPrint keys them with underscores."""
    try:
        value = style["__" + name.replace("-", "_")]
    except KeyError:
        return set()
    return {token.value for token in value or () if getattr(token, "type", None) == "ident"}

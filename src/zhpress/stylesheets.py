"""Stylesheets as inputs: each one parses, and refers to nothing outside the book.

Checked before anything is rendered or written, so a mistake is a user error naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import InputError


def check_stylesheet(css: str, name: str, styles_dir: Path, roots: list[Path], *, self_contained: bool) -> None:
    """One of the book's stylesheets: it parses; its URLs are `data:` or files under `roots` (the book's
    folders); and where the edition packs one stylesheet and no other resource (EPUB), it refers to no file
    at all, since the file would be missing from the book."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    _check_syntax(rules, styles_dir / name)
    for url, line in _css_urls(rules):
        _check_url(url, line, name, styles_dir, roots, self_contained=self_contained)


def check_syntax(css: str, name: str, styles_dir: Path) -> None:
    """A stylesheet that does not parse is a user error naming the file and line."""
    import tinycss2

    _check_syntax(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), styles_dir / name)


def _check_syntax(rules: list[Any], path: Path) -> None:
    import tinycss2

    for rule in rules:
        if rule.type == "error":
            raise InputError(f"stylesheet syntax error: {rule.message}", path=path, line=rule.source_line)
        if rule.type == "qualified-rule":
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type == "error":
                    raise InputError(f"stylesheet syntax error: {decl.message}", path=path, line=decl.source_line)


def _check_url(url: str, line: int, name: str, styles_dir: Path, roots: list[Path], *, self_contained: bool) -> None:
    target = url.strip()
    parsed = urlparse(target)
    if parsed.scheme.lower() == "data" or target.startswith("#"):
        return
    if parsed.scheme or parsed.netloc or target.startswith(("/", "\\")):
        reason = "refers to the network or to a file outside the book"
    else:
        resolved = (styles_dir / unquote(parsed.path)).resolve()
        if not any(resolved.is_relative_to(root.resolve()) for root in roots):
            reason = "leads outside the book's folders"
        elif self_contained:
            raise InputError(
                "EPUB editions take self-contained stylesheets: this one imports or refers to another file",
                path=styles_dir / name,
                line=line,
                hint="inline the rules or use a data: URL, or give the rule to print profiles only (styles/print.css)",
            )
        else:
            return
    raise InputError(
        f"stylesheet URL {url!r} {reason}",
        path=styles_dir / name,
        line=line,
        hint="zhpress uses only files under content/ and styles/; copy the file there and refer to it relatively",
    )


def _css_urls(nodes: list[Any]) -> Iterator[tuple[str, int]]:
    """Every URL a list of tinycss2 nodes refers to, with its line: `url(...)`, `url("...")`, `@import "..."`."""
    import tinycss2.ast as ast

    for node in nodes:
        if isinstance(node, ast.URLToken):
            yield node.value, node.source_line
        elif isinstance(node, ast.FunctionBlock):
            if node.lower_name in ("url", "src"):
                strings = [a for a in node.arguments if isinstance(a, ast.StringToken)]
                if strings:
                    yield strings[0].value, node.source_line
            yield from _css_urls(node.arguments)
        elif isinstance(node, ast.AtRule):
            if node.lower_at_keyword == "import":
                strings = [t for t in node.prelude if isinstance(t, ast.StringToken)]
                if strings:
                    yield strings[0].value, node.source_line
            yield from _css_urls(node.prelude)
            yield from _css_urls(node.content or [])
        elif isinstance(node, (ast.QualifiedRule,)):
            yield from _css_urls(node.prelude)
            yield from _css_urls(node.content)
        elif isinstance(node, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            yield from _css_urls(node.content)

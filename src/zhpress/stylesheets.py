"""Stylesheets as inputs: each one parses, and refers to nothing outside the book.

Checked before anything is rendered or written, so a mistake is a user error naming the file and line.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlparse

from .errors import InputError


def check_stylesheet(css: str, name: str, styles_dir: Path, roots: list[Path], *, self_contained: bool) -> None:
    """One of the book's stylesheets: it parses; its URLs are `data:` or files under `roots` (the book's
    folders); and where the edition packs one stylesheet and no other resource (EPUB), it refers to no file
    at all, since the file would be missing from the book. A stylesheet inside a `data:` URL (an `@import`
    of one, or any `data:text/css`) is checked by the same rules, since the engine reads it as CSS."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    _check_syntax(rules, styles_dir / name)
    _check_urls(rules, name, styles_dir, roots, self_contained=self_contained, depth=0, line=None)


MAX_DATA_DEPTH = 3  # stylesheets inside data: URLs inside stylesheets: deeper is refused


def _check_urls(
    rules: list[Any], name: str, styles_dir: Path, roots: list[Path], *, self_contained: bool, depth: int,
    line: int | None,
) -> None:
    import tinycss2

    for url, url_line, imported in _css_urls(rules):
        where = line if line is not None else url_line  # inside a data: URL, the line of that URL
        css = _data_stylesheet(url, imported)
        if css is None:
            _check_url(url, where, name, styles_dir, roots, self_contained=self_contained)
            continue
        if depth >= MAX_DATA_DEPTH:
            raise InputError("stylesheet nests data: URLs too deeply", path=styles_dir / name, line=where)
        inner = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        _check_urls(inner, name, styles_dir, roots, self_contained=self_contained, depth=depth + 1, line=where)


def _data_stylesheet(url: str, imported: bool) -> str | None:
    """The CSS a `data:` URL holds when the engine would read it as a stylesheet (an `@import`, or a
    `text/css` URL anywhere), else None (not a data: URL, or an image)."""
    target = url.strip()
    if not target[:5].lower() == "data:":
        return None
    header, sep, payload = target[5:].partition(",")
    if not sep:
        return "" if imported else None
    params = [p.strip().lower() for p in header.split(";")]
    if not imported and params[0] != "text/css":
        return None
    raw = unquote_to_bytes(payload)
    if "base64" in params[1:]:
        try:
            raw = base64.b64decode(raw + b"=" * (-len(raw) % 4))
        except ValueError:
            return ""
    return raw.decode("utf-8", errors="replace")


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


# Functions whose string arguments are URLs (CSS Images 4 and the prefixed form Chromium reads).
_URL_FUNCTIONS = ("url", "src")
_IMAGE_FUNCTIONS = ("image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade")


def _css_urls(nodes: list[Any]) -> Iterator[tuple[str, int, bool]]:
    """Every URL a list of tinycss2 nodes refers to, with its line and whether it is an `@import`:
    `url(...)`, `url("...")`, `src("...")`, the strings of `image-set()`, `-webkit-image-set()`, `image()`
    and `cross-fade()`, `@import "..."`."""
    import tinycss2.ast as ast

    for node in nodes:
        if isinstance(node, ast.URLToken):
            yield node.value, node.source_line, False
        elif isinstance(node, ast.FunctionBlock):
            if node.lower_name in _URL_FUNCTIONS:
                strings = [a for a in node.arguments if isinstance(a, ast.StringToken)]
                if strings:
                    yield strings[0].value, node.source_line, False
            elif node.lower_name in _IMAGE_FUNCTIONS:
                for argument in node.arguments:
                    if isinstance(argument, ast.StringToken):
                        yield argument.value, argument.source_line, False
            yield from _css_urls(node.arguments)
        elif isinstance(node, ast.AtRule):
            if node.lower_at_keyword == "import":
                for token in node.prelude:
                    if isinstance(token, ast.StringToken):
                        yield token.value, node.source_line, True
                        break
                    if isinstance(token, ast.URLToken) or (
                        isinstance(token, ast.FunctionBlock) and token.lower_name == "url"
                    ):
                        value = token.value if isinstance(token, ast.URLToken) else next(
                            (a.value for a in token.arguments if isinstance(a, ast.StringToken)), ""
                        )
                        yield value, node.source_line, True
                        break
                prelude = [t for t in node.prelude if not isinstance(t, (ast.StringToken, ast.URLToken))
                           and not (isinstance(t, ast.FunctionBlock) and t.lower_name == "url")]
                yield from _css_urls(prelude)
            else:
                yield from _css_urls(node.prelude)
            yield from _css_urls(node.content or [])
        elif isinstance(node, (ast.QualifiedRule,)):
            yield from _css_urls(node.prelude)
            yield from _css_urls(node.content)
        elif isinstance(node, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            yield from _css_urls(node.content)

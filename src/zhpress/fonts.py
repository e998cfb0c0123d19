"""Fonts and stylesheets as inputs: is the face installed, can it draw every character, does the CSS parse.

Found before rendering, from fontconfig and the font's own character map.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import InputError
from .model import Article, Book
from .project import FONT_PACKAGES, Profile

log = logging.getLogger("zhpress")


@dataclass(frozen=True, slots=True)
class Face:
    """An installed font face: its family name and file (with the face index inside a collection)."""

    family: str
    path: Path
    index: int


@lru_cache(maxsize=None)
def find_font(family: str) -> Face | None:
    """The installed regular face of `family`, found through fontconfig; None when it is not installed."""
    if shutil.which("fc-match") is None:
        raise InputError("fontconfig's fc-match is not installed", hint="apt-get install fontconfig")
    result = subprocess.run(
        ["fc-match", "-f", "%{family}\t%{file}\t%{index}", f"{family}:style=Regular"],
        capture_output=True,
        text=True,
        check=False,
    )
    families, _, rest = result.stdout.partition("\t")
    file, _, index = rest.partition("\t")
    if family.lower() not in [f.strip().lower() for f in families.split(",")]:
        return None
    return Face(family, Path(file), int(index or 0))


def require_font(family: str, *, profile: str) -> Face:
    """The face a profile names, or a user error naming the Debian package that provides it."""
    face = find_font(family)
    if face is None:
        package = FONT_PACKAGES.get(family)
        hint = f"install it with: apt-get install {package}" if package else "install the font or name another family"
        raise InputError(f"profile {profile!r} uses font {family!r}, which is not installed", hint=hint)
    return face


@lru_cache(maxsize=None)
def _coverage(family: str) -> tuple[tuple[int, int], ...]:
    """The code point ranges the face can draw, from fontconfig's cached character set (fast: no font parsing)."""
    result = subprocess.run(
        ["fc-match", "-f", "%{charset}", f"{family}:style=Regular"], capture_output=True, text=True, check=False
    )
    ranges = []
    for part in result.stdout.split():
        first, _, last = part.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return tuple(sorted(ranges))


def covers(family: str, char: str) -> bool:
    """Whether the face draws `char`."""
    import bisect

    ranges = _coverage(family)
    code = ord(char)
    index = bisect.bisect_right(ranges, (code, 0x10FFFF)) - 1
    return index >= 0 and ranges[index][0] <= code <= ranges[index][1]


IGNORED = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x0A, 0x0D, 0x09}


def _places(article: Article) -> list[tuple[str, str]]:
    """(where, text) for every piece of an article's text: its title parts by name, its blocks as
    `paragraph N` (N counts the body's blocks from 1, as `zhpress inspect` lists them)."""
    places = [(key, getattr(article, key)) for key in ("kicker", "headline", "subtitle", "column", "byline")]
    for number, block in enumerate(article.blocks, start=1):
        places.append((f"paragraph {number}", (block.label or "") + block.text))
    return [(where, text) for where, text in places if text]


def check_coverage(face: Face, profile: Profile, book: Book) -> None:
    """Every character of the edition must be in the face's character map: an error for profiles set to
    `missing_glyphs = "error"` (print), a warning otherwise; listed with article and paragraph."""
    every = {c for article in book.articles for _, text in _places(article) for c in text}
    absent = {c for c in every if ord(c) not in IGNORED and not c.isspace() and not covers(face.family, c)}
    missing: list[str] = []
    for article in book.articles if absent else ():  # where they are, only when something is missing
        for where, text in _places(article):
            chars = sorted(absent.intersection(text))
            if chars:
                shown = " ".join(f"{c} (U+{ord(c):04X})" for c in chars[:8])
                missing.append(f"{article.source}, {where}: {shown}")
    if not missing:
        return
    message = f"font {face.family!r} cannot draw characters of edition {profile.name!r}: " + "; ".join(missing[:10])
    if len(missing) > 10:
        message += f"; and {len(missing) - 10} more paragraphs"
    if profile.missing_glyphs == "error":
        raise InputError(message, hint="choose a font that has them, or set missing_glyphs = \"warn\" in the profile")
    log.warning(message)


def check_css_syntax(css: str, name: str, styles_dir: Path) -> None:
    """A stylesheet that does not parse is a user error naming the file and line."""
    import tinycss2

    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "error":
            raise InputError(f"stylesheet syntax error: {rule.message}", path=styles_dir / name, line=rule.source_line)
        if rule.type == "qualified-rule":
            for decl in tinycss2.parse_declaration_list(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type == "error":
                    raise InputError(
                        f"stylesheet syntax error: {decl.message}", path=styles_dir / name, line=decl.source_line
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


def check_css_urls(css: str, name: str, styles_dir: Path, roots: list[Path]) -> None:
    """A stylesheet may refer only to inline `data:` URLs and to files under `roots` (the book's own
    folders): a URL with a scheme, a host or a path leading elsewhere is a user error naming file and line,
    found before anything is rendered or written."""
    import tinycss2

    allowed = [r.resolve() for r in roots]
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    for url, line in _css_urls(rules):
        target = url.strip()
        parsed = urlparse(target)
        if parsed.scheme.lower() == "data":
            continue
        if target.startswith("#"):
            continue
        if parsed.scheme or parsed.netloc or target.startswith(("/", "\\")):
            reason = "refers to the network or to a file outside the book"
        else:
            resolved = (styles_dir / unquote(parsed.path)).resolve()
            if any(resolved.is_relative_to(root) for root in allowed):
                continue
            reason = "leads outside the book's folders"
        raise InputError(
            f"stylesheet URL {url!r} {reason}",
            path=styles_dir / name,
            line=line,
            hint="zhpress uses only files under content/ and styles/; copy the file there and refer to it relatively",
        )

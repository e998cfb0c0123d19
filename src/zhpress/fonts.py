"""Fonts and stylesheets as inputs: is the face installed, can it draw every character, does the CSS parse.

Found before rendering, from fontconfig and the font's own character map.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import InputError
from .model import Book
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
def _cmap(path: Path, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        font = TTCollection(str(path), lazy=True).fonts[index]
    else:
        font = TTFont(str(path), lazy=True)
    return frozenset(font.getBestCmap())


IGNORED = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x0A, 0x0D, 0x09}


def check_coverage(face: Face, profile: Profile, book: Book) -> None:
    """Every character of the edition must be in the face's character map: an error for profiles set to
    `missing_glyphs = "error"` (print), a warning otherwise; listed with article and paragraph."""
    cmap = _cmap(face.path, face.index)
    missing: list[str] = []
    for article in book.articles:
        for number, text in enumerate(article.texts(), start=1):
            chars = sorted({c for c in text if ord(c) not in cmap and ord(c) not in IGNORED and not c.isspace()})
            if chars:
                shown = " ".join(f"{c} (U+{ord(c):04X})" for c in chars[:8])
                missing.append(f"{article.source}, paragraph {number}: {shown}")
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

"""Fonts as inputs: is the face installed, can it draw every character of the edition.

Found before rendering, from fontconfig and the font's own character map.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .config import FONT_PACKAGES
from .errors import InputError

log = logging.getLogger("zhpress")


@dataclass(frozen=True, slots=True)
class Face:
    """An installed font face: its family name and file (with the face index inside a collection)."""

    family: str
    path: Path
    index: int


@cache
def find_font(family: str, style: str = "Regular") -> Face | None:
    """The installed face of `family` in `style` (Regular, Bold), found through fontconfig; None when that
    family, or that style of it, is not installed."""
    if shutil.which("fc-match") is None:
        raise InputError("fontconfig's fc-match is not installed", hint="apt-get install fontconfig")
    result = subprocess.run(
        ["fc-match", "-f", "%{family}\t%{file}\t%{index}\t%{style}", f"{family}:style={style}"],
        capture_output=True,
        text=True,
        check=False,
    )
    families, _, rest = result.stdout.partition("\t")
    file, index, styles = (rest.split("\t") + ["", ""])[:3]
    if family.lower() not in [f.strip().lower() for f in families.split(",")]:
        return None
    if style != "Regular" and style.lower() not in [s.strip().lower() for s in styles.split(",")]:
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


@cache
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

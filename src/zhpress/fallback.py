"""Characters the body face lacks: set in a fallback face of the edition, named in a warning.

The fallback faces are the profile's `fallback_font` (a family or a list), else found by fontconfig: the
installed faces in fontconfig's own order for the body face and the edition's language (`fc-match -s`),
the first that draws a character setting it. Only those characters take the fallback: it follows the
body face in the font stack (PDF) and is embedded as a subset of just them (EPUB). A character no face
draws stays what it was: an error for `missing_glyphs = "error"`, else a warning, with file and line.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import files, memo
from .config import Profile, Project
from .errors import InputError
from .fonts import IGNORED, Face, covers, find_font, require_font
from .model import Book
from .read.decode import decode_manuscript

log = logging.getLogger("zhpress")

#: At most this many places are listed in one message.
SHOWN_PLACES = 10


@dataclass(frozen=True, slots=True)
class Fallback:
    """An edition's fallback faces in font-stack order, which of them sets each character the body face
    lacks, and the characters no installed face draws."""

    faces: tuple[Face, ...] = ()
    chars: dict[str, Face] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(face.family for face in self.faces)

    def chars_of(self, face: Face) -> set[str]:
        """The characters `face` sets."""
        return {c for c, f in self.chars.items() if f == face}


def book_characters(book: Book) -> set[str]:
    """Every character the edition's texts and its metadata show (the font stack serves both). A warm
    build process keeps each article's characters by the article itself (`memo`): an edit walks one."""
    kept = memo.table("characters")
    if kept is not None and len(kept) > 4 * len(book.articles) + 64:  # articles no longer in any edition
        kept.clear()
    every: set[str] = set()
    for article in book.articles:
        chars = _remembered(kept, article)
        if chars is None:
            chars = frozenset(c for _, group in article.places() for text in group for c in text)
            if kept is not None:
                with contextlib.suppress(TypeError):
                    kept[article] = chars
        every |= chars
    meta = book.meta
    for text in (meta.title, meta.subtitle or "", meta.publisher or "", *(c.name for c in meta.creators)):
        every.update(text)
    return every


def _remembered(kept: dict[Any, frozenset[str]] | None, article: Any) -> frozenset[str] | None:
    if kept is None:
        return None
    try:
        return kept.get(article)
    except TypeError:  # an article holding something unhashable is walked every time
        return None


def lacking(family: str, chars: Iterable[str]) -> set[str]:
    """The characters of `chars` the face of `family` does not draw (spaces and invisible marks aside)."""
    return {c for c in chars if ord(c) not in IGNORED and not c.isspace() and not covers(family, c)}


def _sorted_families(family: str, language: str) -> list[str]:
    """Installed families in fontconfig's fallback order for `family` in `language` (each family once)."""
    result = subprocess.run(
        ["fc-match", "-s", "-f", "%{family[0]}\n", f"{family}:lang={language.lower()}"],
        capture_output=True, text=True, check=False,
    )
    seen: list[str] = []
    for name in result.stdout.splitlines():
        if name and name not in seen and name.lower() != family.lower():
            seen.append(name)
    return seen


_CACHE: dict[tuple[Profile, int], tuple[Book, Fallback]] = {}


def edition_fallback(profile: Profile, book: Book) -> Fallback:
    """The edition's fallback (computed once per book object and profile: the checks and the renderers
    ask for it in the same build)."""
    known = _CACHE.get((profile, id(book)))
    if known is not None and known[0] is book:
        return known[1]
    absent = lacking(profile.font_family, book_characters(book))
    fallback = choose_fallback(profile, absent) if absent else Fallback()
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[(profile, id(book))] = (book, fallback)
    return fallback


def choose_fallback(profile: Profile, absent: set[str]) -> Fallback:
    """Which face sets each of `absent`: the first of the profile's `fallback_font` (or of fontconfig's
    order, when the profile names none) that draws it."""
    if profile.fallback_font is not None:
        candidates = list(profile.fallback_font)
    else:
        candidates = _sorted_families(profile.font_family, profile.language)
    chars: dict[str, Face] = {}
    order: list[Face] = []
    left = set(absent)
    for family in candidates:
        if not left:
            break
        face = find_font(family)
        if face is None:
            continue
        drawn = {c for c in left if covers(family, c)}
        if drawn:
            order.append(face)
            chars.update(dict.fromkeys(drawn, face))
            left -= drawn
    return Fallback(tuple(order), chars, frozenset(left))


def require_fallback_fonts(profile: Profile) -> None:
    """Every family a profile's `fallback_font` names is installed (a user error otherwise)."""
    for family in profile.fallback_font or ():
        require_font(family, profile=profile.name)


def _source_lines(project: Project, source: str) -> list[str] | None:
    """The manuscript's lines as read for this build, or None when it cannot be read again."""
    path = project.root / source
    try:
        return decode_manuscript(files.read_once(path, project.content_dir, what="manuscript"), path).splitlines()
    except (InputError, OSError):
        return None


def places_of(project: Project, book: Book, chars: set[str]) -> Iterator[tuple[str, str]]:
    """(where, character) for each occurrence of `chars`: `file:line` in the manuscript where the edition's
    character is found there, else `file, paragraph N` (a character made by the edition's conversion)."""
    placed: set[str] = set()
    for article in book.articles:
        lines: list[str] | None = None
        found: set[str] = set()
        for where, group in article.places():
            text = "".join(group)
            for char in sorted(chars.intersection(text)):
                placed.add(char)
                if lines is None:
                    lines = _source_lines(project, article.source) or []
                numbers = [n for n, line in enumerate(lines, start=1) if char in line]
                if numbers:
                    if char not in found:
                        found.add(char)
                        for number in numbers:
                            yield f"{article.source}:{number}", char
                else:
                    yield f"{article.source}, {where}", char
    config = project.config_path.name if project.config_path is not None else "the book's metadata"
    for char in sorted(chars - placed):  # in the title, subtitle, names or publisher
        yield f"{config} [book]", char


def _shown(char: str) -> str:
    return f"{char} (U+{ord(char):04X})"


def check_glyphs(project: Project, face: Face, profile: Profile, book: Book) -> Fallback:
    """The edition's characters against its body face: those a fallback face sets are named in a warning
    (file:line, the character and its code point, the face); those no installed face draws are an error
    for `missing_glyphs = "error"`, else a warning, as before."""
    fallback = edition_fallback(profile, book)
    if fallback.chars:
        listed = [
            f"{where}: {_shown(char)} in {fallback.chars[char].family!r}"
            for where, char in places_of(project, book, set(fallback.chars))
        ]
        message = f"font {face.family!r} cannot draw characters of edition {profile.name!r}; set in a fallback face: "
        log.warning(_listing(message, listed))
    if not fallback.missing:
        return fallback
    by_place: dict[str, list[str]] = {}
    for where, char in places_of(project, book, set(fallback.missing)):
        by_place.setdefault(where, []).append(_shown(char))
    listed = [f"{where}: {' '.join(chars[:8])}" for where, chars in by_place.items()]
    if profile.fallback_font is None:
        tried = "any installed face"
    else:
        tried = ", ".join(repr(f) for f in profile.fallback_font) or "a fallback face (fallback_font = [])"
    message = f"font {face.family!r} cannot draw characters of edition {profile.name!r}, nor can {tried}: "
    message = _listing(message, listed)
    if profile.missing_glyphs == "error":
        raise InputError(
            message,
            hint='install a font that has them (fallback_font in the profile names it), or set missing_glyphs = "warn"',
        )
    log.warning(message)
    return fallback


def _listing(message: str, listed: list[str]) -> str:
    text = message + "; ".join(listed[:SHOWN_PLACES])
    if len(listed) > SHOWN_PLACES:
        text += f"; and {len(listed) - SHOWN_PLACES} more"
    return text

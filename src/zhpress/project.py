"""Finding the book project, loading and validating content/book.toml, resolving profiles.

Profiles are plain data resolved once here; later stages receive a `Profile`, never the raw TOML.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .normalize import CONTROL_RE, strip_invisible, warn_invisible

log = logging.getLogger("zhpress")

MANUSCRIPT_SUFFIXES = (".txt", ".md", ".markdown")
CONFIG_NAME = "book.toml"

# Crop marks start this far from the trim at least (and never inside the bleed), and are this long at least.
MARK_OFFSET_MM = 3.0
MARK_MIN_LENGTH_MM = 2.0

# Named trim sizes (width, height) in millimetres.
TRIM_SIZES: dict[str, tuple[float, float]] = {
    "A5": (148, 210),
    "32k": (130, 184),
    "32开": (130, 184),
    "16k": (185, 260),
    "16开": (185, 260),
    "B5": (176, 250),
}

# Debian packages that provide the fonts profiles may name.
FONT_PACKAGES: dict[str, str] = {
    "Noto Serif CJK SC": "fonts-noto-cjk",
    "Noto Serif CJK TC": "fonts-noto-cjk",
    "Noto Serif CJK HK": "fonts-noto-cjk",
    "Noto Serif CJK JP": "fonts-noto-cjk",
    "Noto Serif CJK KR": "fonts-noto-cjk",
    "Noto Sans CJK SC": "fonts-noto-cjk",
    "Noto Sans CJK TC": "fonts-noto-cjk",
    "Noto Sans CJK HK": "fonts-noto-cjk",
    "Source Han Serif SC": "fonts-noto-cjk (or Adobe's Source Han Serif)",
    "AR PL UMing CN": "fonts-arphic-uming",
    "AR PL UKai CN": "fonts-arphic-ukai",
    "AR PL UKai TW": "fonts-arphic-ukai",
    "AR PL UKai HK": "fonts-arphic-ukai",
    "AR PL UMing TW": "fonts-arphic-uming",
    "WenQuanYi Zen Hei": "fonts-wqy-zenhei",
}


# Ids name output files (`.{book-id}-{profile}.conversion.html.part-{pid}` must fit a file name's 255 bytes)
# and are typed on the command line: ASCII letters, digits, '.', '_' and '-', at most MAX_ID characters.
MAX_ID = 64
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# Lengths in book.toml: a number and a unit; the ranges (in millimetres) a book can be printed with.
_LENGTH_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*")
_UNITS = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}
_PT = 25.4 / 72
LENGTH_RANGES: dict[str, tuple[float, float]] = {
    "bleed": (0.0, 20.0),
    "margin": (3.0, 150.0),
    "font_size": (5 * _PT, 72 * _PT),
    "trim": (50.0, 1000.0),
    "slug": (0.0, 50.0),
}
# The text area must hold this many characters of the body size across and down (the title page sets 2 em).
MIN_TEXT_EMS = 10

# A BCP 47 language tag, well formed (RFC 5646: language, extlang, script, region, variants, extensions,
# private use); what it names is checked against the IANA registry by langcodes.
_LANGTAG_RE = re.compile(
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?|[xX](?:-[A-Za-z0-9]{1,8})+"
)
_KNOWN_TAGS = frozenset({"zh-Hans", "zh-Hant", "zh-Hant-TW", "zh-Hant-HK"})  # the default profiles'


def check_id(value: str) -> str:
    """An id as output file names and the command line can take it; ValueError says what is wrong."""
    if len(value) > MAX_ID:
        raise ValueError(f"is {len(value)} characters long; an id has at most {MAX_ID} (it names the output files)")
    if not _ID_RE.fullmatch(value):
        raise ValueError("must be letters, digits, '.', '_' or '-' (it names the output files)")
    return value


@lru_cache(maxsize=64)
def check_language(value: str) -> str:
    """A BCP 47 tag, well formed and registered (it goes into content.opf and every `lang` attribute)."""
    if len(value) > MAX_ID or not _LANGTAG_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a BCP 47 language tag such as 'zh-Hans' or 'zh-Hant-TW'")
    if value not in _KNOWN_TAGS:
        import langcodes  # a fifth of a second to import: only for tags the default profiles do not use

        if not langcodes.tag_is_valid(value):
            raise ValueError(f"{value!r} is not a registered BCP 47 language tag (such as 'zh-Hans' or 'zh-Hant-TW')")
    return value


def parse_length(value: str, kind: str) -> float:
    """A length such as '3mm' or '10.5pt' in millimetres, within the range of its kind; ValueError otherwise."""
    match = _LENGTH_RE.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a length such as '3mm' (units: mm, cm, in, pt)")
    mm = float(match[1]) * _UNITS[match[2]]
    low, high = LENGTH_RANGES[kind]
    if not low <= mm <= high:
        unit = "pt" if kind == "font_size" else "mm"
        scale = _PT if unit == "pt" else 1.0
        raise ValueError(f"{value!r} is outside {low / scale:g}–{high / scale:g} {unit}")
    return mm


def length_mm(value: str, *, path: Path | None, what: str, line: int | None = None) -> float:
    """A length with its unit (mm, cm, in, pt) in millimetres, or a user error naming `what`; the caller
    checks the range its setting allows."""
    match = _LENGTH_RE.fullmatch(value)
    if not match:
        raise ConfigError(f"{what} = {value!r} is not a length such as '3mm' (units: mm, cm, in, pt)", path=path, line=line)
    return float(match[1]) * _UNITS[match[2]]


def parse_trim(value: str) -> tuple[str, float, float]:
    """(name, width, height) of a named trim size or 'WxHmm'; ValueError for anything else."""
    if value in TRIM_SIZES:
        w, h = TRIM_SIZES[value]
        return value, w, h
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*mm\s*", value)
    if not match:
        raise ValueError(f"{value!r}: use one of {', '.join(TRIM_SIZES)} or a size such as '140x203mm'")
    low, high = LENGTH_RANGES["trim"]
    width, height = float(match[1]), float(match[2])
    if not (low <= width <= high and low <= height <= high):
        raise ValueError(f"{value!r}: each side must be {low:g}–{high:g} mm")
    return value.strip(), width, height


def _file_name(value: str) -> str:
    """A manuscript's name as book.toml gives it: no invisible or control characters, a sane length."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"holds the invisible character U+{ord(bad):04X}; type the file name plainly")
    if value != value.strip() or not value:
        raise ValueError("must not be empty or begin or end with white space")
    if len(value.encode()) > 1024 or any(len(part.encode()) > 255 for part in value.split("/")):
        raise ValueError("is too long for a file name")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreatorConfig(_Strict):
    name: str
    role: Literal["aut", "edt"] = "aut"


class BookConfig(_Strict):
    """The [book] table."""

    title: str
    id: str | None = None
    subtitle: str | None = None
    authors: list[str] = Field(default_factory=list)
    editors: list[str] = Field(default_factory=list)
    publisher: str | None = None
    date: str | None = None
    rights: str | None = None
    description: str | None = None
    subjects: list[str] = Field(default_factory=list)
    language: str = "zh-Hans"
    isbn: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    edition: str | None = None
    printing: str | None = None
    price: str | None = None
    cover: str | None = None  # the front cover image (JPEG or PNG, under content/ or styles/)
    # the print copyright page (版权页): the CIP block as the CIP office gives it, the press's credits
    cip: str | None = None
    editor_in_charge: str | None = None
    cover_designer: str | None = None
    print_run: str | None = None
    address: str | None = None
    phone: str | None = None

    @field_validator("isbn")
    @classmethod
    def _isbn(cls, value: str | None) -> str | None:
        if value is not None:
            check_isbn(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
                raise ValueError("must be an ISO date such as 2022-05-10")
            parts = [int(p) for p in value.split("-")] + [1, 1]
            try:
                dt.date(parts[0], parts[1], parts[2])
            except ValueError as exc:
                raise ValueError(f"must be an ISO date such as 2022-05-10 ({exc})") from None
        return value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        return None if value is None else check_id(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return check_language(value)


def check_isbn(value: str) -> None:
    """An ISBN-13 (978/979) or ISBN-10 with its check digit right, with or without hyphens or spaces;
    ValueError says what is wrong."""
    from .cover import isbn13

    isbn13(value)


class ArticleConfig(_Strict):
    """One entry of [[articles]]: the manuscript and the editor's statements about it."""

    file: str
    id: str | None = None
    kicker: str | None = None
    headline: str | None = None
    subtitle: str | None = None
    column: str | None = None
    byline: str | None = None
    role: Literal[
        "chapter", "dedication", "epigraph", "foreword", "preface", "acknowledgements",
        "afterword", "appendix", "bibliography", "colophon",
    ] | None = None  # fmt: skip
    running_head: str | None = None

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        return None if value is None else check_id(value)

    @field_validator("file")
    @classmethod
    def _safe_file(cls, value: str) -> str:
        return _file_name(value)


class PartConfig(_Strict):
    """One entry of [[parts]]: a title (第一辑 …) and the ids of the articles in it, in order."""

    title: str
    articles: list[str]


class ConversionConfig(_Strict):
    """The [conversion] table: protected and verbatim terms, phrase overrides for every converted edition."""

    protected: list[str] = Field(default_factory=list)  # no phrase substitution; characters still converted
    overrides: dict[str, str] = Field(default_factory=dict)
    verbatim: list[str] = Field(default_factory=list)  # kept exactly as written


class PageConfig(_Strict):
    """Page geometry and PDF settings of a print profile (all optional so profiles can extend)."""

    trim: str | None = None
    bleed: str | None = None
    marks: bool | None = None
    slug: str | None = None
    signature: Literal[1, 2, 4, 8, 12, 16, 24, 32, 48, 64] | None = None
    margin_top: str | None = None
    margin_bottom: str | None = None
    margin_inner: str | None = None
    margin_outer: str | None = None
    font_size: str | None = None
    pdf_variant: Literal["pdf/x-4", "pdf/x-3", "pdf/x-1a", "pdf/ua-1", "none"] | None = None
    links: bool | None = None
    latin_spacing: bool | None = None

    @field_validator("trim")
    @classmethod
    def _trim_size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_trim(value)
        return value

    @field_validator("bleed", "margin_top", "margin_bottom", "margin_inner", "margin_outer", "font_size")
    @classmethod
    def _length(cls, value: str | None, info: Any) -> str | None:
        if value is not None:
            parse_length(value, "margin" if info.field_name.startswith("margin") else info.field_name)
        return value


class ProfileConfig(_Strict):
    """A [profiles.NAME] table as written; `extends` fills what it leaves out."""

    extends: str | None = None
    description: str | None = None
    format: Literal["epub", "pdf"] | None = None
    conversion: Literal["none", "s2t", "s2tw", "s2twp", "s2hk"] | None = None
    vocabulary: Literal["news", "computing", "none"] | None = None
    quotes: Literal["curly", "corner"] | None = None
    punctuation: Literal["full", "compress"] | None = None
    language: str | None = None
    font_family: str | None = None
    stylesheets: list[str] | None = None
    missing_glyphs: Literal["error", "warn"] | None = None
    emphasis: Literal["dots", "kai", "bold"] | None = None
    overrides: dict[str, str] | None = None
    page: PageConfig | None = None
    embed_fonts: bool | None = None
    writing: Literal["horizontal", "vertical"] | None = None
    page_list: str | None = None  # EPUB: "print" (the print profile of the same text), "none", or a profile's name

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else check_language(value)


class PaperConfig(_Strict):
    """The book block's paper: the thickness of one leaf, pages per inch, or a named stock."""

    caliper: str | None = None
    ppi: float | None = Field(default=None, gt=0)
    stock: str | None = None


class CoverConfig(_Strict):
    """The [cover] table: the print cover spread's settings (see zhpress.cover)."""

    paper: PaperConfig | str | None = None
    background: str | None = None  # a colour, "#rrggbb"
    background_image: str | None = None
    color: str | None = None  # the text colour, "#rrggbb"
    rich_black: bool = False
    flap: str | None = None
    slug: str | None = None
    price: str | None = None


class ProjectConfig(_Strict):
    """The whole of book.toml."""

    book: BookConfig
    cover: CoverConfig | None = None
    articles: list[ArticleConfig] | None = None
    parts: list[PartConfig] = Field(default_factory=list)
    conversion: ConversionConfig = Field(default_factory=ConversionConfig)
    profiles: dict[str, ProfileConfig] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """Resolved page settings of a PDF profile, lengths in millimetres."""

    trim_name: str
    width: float
    height: float
    bleed: float
    marks: bool
    margin_top: float
    margin_bottom: float
    margin_inner: float
    margin_outer: float
    font_size: str
    pdf_variant: str
    links: bool
    latin_spacing: bool
    slug: float = 0.0  # the media box beyond the bleed box, each side, for the crop marks (0 without marks)
    signature: int = 2  # the page count is padded with blank pages at the end to a multiple of this


@dataclass(frozen=True, slots=True)
class Profile:
    """One edition, fully resolved."""

    name: str
    description: str
    format: Literal["epub", "pdf"]
    conversion: str | None  # None: no script conversion
    quotes: Literal["curly", "corner"]
    language: str
    font_family: str
    stylesheets: tuple[str, ...]
    missing_glyphs: Literal["error", "warn"]
    overrides: tuple[tuple[str, str], ...]
    page: PageGeometry | None
    embed_fonts: bool = False  # EPUB: subsets of the edition's faces inside the file
    writing: Literal["horizontal", "vertical"] = "horizontal"
    vocabulary: Literal["news", "computing", "none"] = "news"
    emphasis: Literal["dots", "kai", "bold"] = "dots"  # how Chinese emphasis is set: 着重号, a Kai face, bold
    punctuation: Literal["full", "compress"] = "compress"  # print: each mark in a full square, or pairs at 1.5 em
    page_list: str = "none"  # EPUB: whose print pages the page list gives ("print": the matching print profile)

    def to_json(self) -> dict[str, Any]:
        """The resolved settings, as `zhpress profiles --json` prints them."""
        from dataclasses import asdict

        data = asdict(self)
        data["overrides"] = dict(self.overrides)
        return data


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """A manuscript to read, with the editor's title statements."""

    path: Path
    source: str  # path relative to the project
    id: str
    title: dict[str, str]
    role: str | None = None  # the article's role when book.toml states it
    running_head: str | None = None  # book.toml's short headline for running heads


@dataclass(frozen=True, slots=True)
class Project:
    """A loaded book project: where it is, its metadata, articles, and profiles."""

    root: Path
    config_path: Path | None
    config: ProjectConfig
    book_id: str
    articles: tuple[ArticleSource, ...]
    profiles: dict[str, Profile]

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def styles_dir(self) -> Path:
        return self.root / "styles"

    def select(self, names: list[str] | None) -> list[Profile]:
        """The named profiles (all, in declaration order, when none are named); unknown names are a user error."""
        if not names:
            return list(self.profiles.values())
        unknown = [n for n in names if n not in self.profiles]
        if unknown:
            raise ConfigError(
                f"unknown profile {unknown[0]!r}; valid profiles: {', '.join(self.profiles)}",
                path=self.config_path,
                hint=_nearest(unknown[0], self.profiles),
            )
        return [self.profiles[n] for n in dict.fromkeys(names)]


def _nearest(word: str, candidates: Any) -> str | None:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else None


class TomlLines:
    """Where each key of a TOML text is written: one pass over the text maps key paths (with the index of
    each `[[array]]` entry) to their lines, so that an error names its own line in a book of any length."""

    _TOKEN = re.compile(r'"""|\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}\n]')
    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        self._counts: dict[tuple[Any, ...], int] = {}
        self._current: tuple[Any, ...] = ()
        self._scan(text)

    def line(self, loc: tuple[Any, ...]) -> int | None:
        """The line of `loc` (keys and list indexes, as pydantic gives them), else of its nearest parent."""
        for end in range(len(loc), 0, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None

    def _resolve(self, parts: list[str]) -> tuple[Any, ...]:
        out: tuple[Any, ...] = ()
        for part in parts:
            out += (part,)
            if out in self._counts:
                out += (self._counts[out] - 1,)
        return out

    def _key(self, text: str, i: int) -> tuple[list[str], int]:
        """The parts of the dotted key at text[i] and the index after it."""
        parts: list[str] = []
        n = len(text)
        while True:
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == '"':
                j = i + 1
                while j < n and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
                try:
                    parts.append(tomllib.loads(f"k = {text[i:j + 1]}")["k"])
                except tomllib.TOMLDecodeError:
                    parts.append(text[i + 1 : j])
                i = j + 1
            elif i < n and text[i] == "'":
                j = text.find("'", i + 1)
                j = n if j < 0 else j
                parts.append(text[i + 1 : j])
                i = j + 1
            else:
                match = self._BARE.match(text, i)
                if match is None:
                    return parts, i
                parts.append(match.group())
                i = match.end()
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == ".":
                i += 1
                continue
            return parts, i

    def _skip_value(self, text: str, i: int) -> int:
        """The index after the value starting at text[i] (strings, arrays and inline tables over lines)."""
        depth = 0
        while True:
            match = self._TOKEN.search(text, i)
            if match is None:
                return len(text)
            token = match.group()
            i = match.end()
            if token in ('"""', "'''"):
                j = text.find(token, i)
                while token == '"""' and j > 0 and _escaped(text, j):
                    j = text.find(token, j + 1)
                i = len(text) if j < 0 else j + 3
            elif token in "[{":
                depth += 1
            elif token in "]}":
                depth -= 1
            elif token == "\n" and depth <= 0:
                return i

    def _scan(self, text: str) -> None:
        i, line, n = 0, 1, len(text)
        while i < n:
            char = text[i]
            if char == "\n":
                i, line = i + 1, line + 1
                continue
            if char in " \t\r":
                i += 1
                continue
            if char == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end
                continue
            start = i
            if char == "[":
                array = text.startswith("[[", i)
                parts, i = self._key(text, i + (2 if array else 1))
                if array and parts:
                    base = (*self._resolve(parts[:-1]), parts[-1])
                    index = self._counts.get(base, 0)
                    self._counts[base] = index + 1
                    self.lines.setdefault(base, line)
                    self._current = (*base, index)
                else:
                    self._current = self._resolve(parts)
                self.lines.setdefault(self._current, line)
                end = text.find("\n", i)
                i = n if end < 0 else end
                continue
            parts, i = self._key(text, i)
            if not parts or i >= n or text[i] != "=":  # not a key (tomllib already accepted the text)
                end = text.find("\n", i)
                i = n if end < 0 else end
                continue
            self.lines.setdefault((*self._current, *parts), line)
            i = self._skip_value(text, i + 1)
            line += text.count("\n", start, i)


def _escaped(text: str, index: int) -> bool:
    """Whether the character at `index` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


@lru_cache(maxsize=4)
def toml_lines(text: str) -> TomlLines:
    """The key lines of a TOML text (kept for the few texts a run looks at)."""
    return TomlLines(text)


def _line_of_key(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line of a key (a path of keys and list indexes) in the TOML source, for error messages."""
    return toml_lines(text).line(loc) if text else None


def slugify(text: str) -> str:
    """An id for file names from a title or folder name (ASCII when possible, else a short hash)."""
    ascii_part = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    import hashlib

    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_part).strip("-").lower()
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    if len(slug) > MAX_ID:  # a long title or file name: its start, made unique by a hash of the whole
        return slug[: MAX_ID - 9].rstrip("-") + "-" + digest
    return slug or "book-" + digest


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    from .files import read_confined

    raw = read_confined(path, path.parent, what="book configuration", error=ConfigError)  # a regular file in content/
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("book.toml is not UTF-8", path=path, offset=exc.start) from exc
    try:
        return tomllib.loads(text), text
    except RecursionError:
        raise ConfigError(
            "not valid TOML: arrays or tables nested too deeply", path=path, hint="a book.toml needs a few levels at most"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"not valid TOML: {message}",
            path=path,
            line=int(match[1]) if match else None,
            column=int(match[2]) if match else None,
        ) from exc


# Keys whose values name things (files, ids, tags): invisible characters there are refused by the schema
# instead of removed, so that what is built is what the editor sees named.
_NAME_KEYS = frozenset({"id", "file", "language", "stylesheets", "extends", "font_family"})


def _strip_controls(value: Any, loc: tuple[Any, ...], path: Path, text: str) -> Any:
    """Remove control characters from every string of book.toml, and invisible characters (zero-width,
    bidi controls) from its text, with a warning naming key and line: XML metadata cannot hold the
    former, and nobody means either."""
    if isinstance(value, str):
        found = CONTROL_RE.findall(value)
        names = {str(k) for k in loc if not isinstance(k, int)} & _NAME_KEYS or loc == ("profiles",)
        invisible = [] if names else strip_invisible(value)[1]
        if not found and not invisible:
            return value
        dotted = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc).replace(".[", "[")
        line = _line_of_key(text, loc) if loc else None
        where = f"{path}:{line}" if line else str(path)
        if found:
            codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
            log.warning("%s: control characters (%s) removed from %s", where, codes, dotted)
            value = CONTROL_RE.sub("", value)
        if invisible:
            warn_invisible(invisible, lambda index: f"{where}: {dotted}")
            value = strip_invisible(value)[0]
        return value
    if isinstance(value, dict):
        return {_strip_controls(k, loc, path, text): _strip_controls(v, (*loc, k), path, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_controls(v, (*loc, i), path, text) for i, v in enumerate(value)]
    return value


def _validation_error(exc: ValidationError, path: Path | None, text: str, model: type[BaseModel]) -> ConfigError:
    """The first pydantic error as one message with the key's line and, for unknown keys, the nearest name."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    dotted = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc).replace(".[", "[")
    hint = None
    if err["type"] == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = _nearest(str(loc[-1]), valid)
        message = f"unknown key {dotted!r}; valid keys here: {', '.join(valid)}"
    elif err["type"] == "missing":
        message = f"missing required key {dotted!r}"
    else:
        message = f"{dotted}: {err['msg'].removeprefix('Value error, ')}"
        if err["type"] == "literal_error":
            message = f"{dotted} = {err.get('input')!r} is not allowed; {err['msg'].lower()}"
    return ConfigError(message, path=path, line=_line_of_key(text, loc), hint=hint)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found by walking `loc` (keys of models, of dicts, list indexes)."""
    import typing

    def unwrap(annotation: Any) -> tuple[str, Any]:
        """('model', M), ('dict', value type), ('list', item type) or ('other', None)."""
        for _ in range(4):
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return "model", annotation
            origin = typing.get_origin(annotation)
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if origin is dict and args:
                return "dict", args[-1]
            if origin is list and args:
                return "list", args[0]
            if not args:
                break
            annotation = args[0]  # Optional[X] / Union: the first non-None member
        return "other", None

    kind, current = "model", model
    for key in loc:
        if kind == "list" or kind == "dict":
            kind, current = unwrap(current)  # an index or a dict key: step into the item type
            continue
        if kind != "model":
            return []
        field = current.model_fields.get(str(key))
        if field is None:
            return []
        kind, current = unwrap(field.annotation)
    return list(current.model_fields) if kind == "model" else []


def _default_profiles() -> dict[str, ProfileConfig]:
    text = resources.files("zhpress").joinpath("data/profiles.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {name: ProfileConfig.model_validate(value) for name, value in data.items()}


def _merge(base: ProfileConfig, child: ProfileConfig) -> ProfileConfig:
    data = base.model_dump(exclude_none=True)
    over = child.model_dump(exclude_none=True)
    page = {**data.get("page", {}), **over.get("page", {})}
    data.update(over)
    if page:
        data["page"] = page
    return ProfileConfig.model_validate(data)


def _resolve_profiles(
    declared: dict[str, ProfileConfig], conversion: ConversionConfig, path: Path | None, text: str = ""
) -> dict[str, Profile]:
    defaults = _default_profiles()
    raw: dict[str, ProfileConfig] = dict(defaults)
    for name, cfg in declared.items():
        # A book's table for a default profile changes that profile; `extends` restarts from another.
        raw[name] = _merge(defaults[name], cfg) if name in defaults and cfg.extends is None else cfg
    resolved: dict[str, ProfileConfig] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> ProfileConfig:
        if name in resolved:
            return resolved[name]
        cfg = raw[name]
        if cfg.extends is not None:
            if cfg.extends == name or cfg.extends in chain:
                raise ConfigError(
                    f"profile {name!r} extends itself (through {' → '.join((*chain, name, cfg.extends))})",
                    path=path,
                    line=_line_of_key(text, ("profiles", name, "extends")) if text else None,
                    hint="make it extend one of the default profiles, or none",
                )
            if cfg.extends not in raw:
                raise ConfigError(
                    f"profile {name!r} extends unknown profile {cfg.extends!r}; valid profiles: {', '.join(raw)}",
                    path=path,
                    line=_line_of_key(text, ("profiles", name, "extends")) if text else None,
                    hint=_nearest(cfg.extends, raw),
                )
            cfg = _merge(resolve(cfg.extends, (*chain, name)), cfg.model_copy(update={"extends": None}))
        resolved[name] = cfg
        return cfg

    profiles: dict[str, Profile] = {}
    for name in raw:
        cfg = resolve(name, ())
        profiles[name] = _finish_profile(name, cfg, conversion, path, text)
    return profiles


def _finish_profile(
    name: str, cfg: ProfileConfig, conversion: ConversionConfig, path: Path | None, text: str = ""
) -> Profile:
    def line(*keys: str) -> int | None:
        """The line of the first of these page keys the book sets, else of the profile's table."""
        lines = toml_lines(text).lines if text else {}
        for key in keys:
            if ("profiles", name, "page", key) in lines:
                return lines[("profiles", name, "page", key)]
        return _line_of_key(text, ("profiles", name, "page"))

    missing = [k for k in ("format", "language", "font_family") if getattr(cfg, k) is None]
    if missing:
        raise ConfigError(f"profile {name!r} sets no {missing[0]} (and extends no profile that does)", path=path)
    try:
        check_id(name)
    except ValueError as exc:
        raise ConfigError(f"profile name {name!r} {exc}", path=path, line=_line_of_key(text, ("profiles", name))) from None
    if cfg.writing == "vertical" and cfg.format != "epub":
        raise ConfigError(
            f"profile {name!r}: vertical writing is for EPUB editions (the PDF engine sets horizontal text only)",
            path=path,
            line=_line_of_key(text, ("profiles", name, "writing")) if text else None,
        )
    page = None
    if cfg.format == "pdf":
        page = _page_geometry(name, cfg.page or PageConfig(), path, line)
        if page.marks and page.bleed + page.slug - max(page.bleed, MARK_OFFSET_MM) < MARK_MIN_LENGTH_MM + 1:
            raise ConfigError(
                f"profiles.{name}.page.slug = {page.slug:g}mm leaves no room for crop marks outside the bleed",
                path=path, line=line("slug") or line("marks"),
                hint=f"a slug of {MARK_MIN_LENGTH_MM + 1 + max(0.0, MARK_OFFSET_MM - page.bleed):g}mm at least, or marks = false",
            )
    overrides = {**conversion.overrides, **(cfg.overrides or {})}
    return Profile(
        name=name,
        description=cfg.description or "",
        format=cfg.format,  # type: ignore[arg-type]
        conversion=None if cfg.conversion in (None, "none") else cfg.conversion,
        quotes=cfg.quotes or "curly",
        language=cfg.language,  # type: ignore[arg-type]
        font_family=cfg.font_family,  # type: ignore[arg-type]
        stylesheets=tuple(cfg.stylesheets or ()),
        missing_glyphs=cfg.missing_glyphs or ("error" if cfg.format == "pdf" else "warn"),
        overrides=tuple(sorted(overrides.items())),
        page=page,
        embed_fonts=(cfg.format == "epub") if cfg.embed_fonts is None else cfg.embed_fonts,
        writing=cfg.writing or "horizontal",
        vocabulary=cfg.vocabulary or "news",
        emphasis=cfg.emphasis or "dots",
        punctuation=cfg.punctuation or ("full" if cfg.language.startswith("zh-Hant") else "compress"),  # type: ignore[union-attr]
        page_list=(cfg.page_list or "print") if cfg.format == "epub" else "none",
    )


def _page_geometry(name: str, p: PageConfig, path: Path | None, line: Callable[..., int | None]) -> PageGeometry:
    """The resolved page of a PDF profile; a text area too small for the body size is refused here, at
    load, not after rendering (the values themselves were checked by PageConfig)."""
    trim_name, width, height = parse_trim(p.trim or "A5")
    margins = {
        key: parse_length(getattr(p, key) or default, "margin")
        for key, default in (("margin_top", "18mm"), ("margin_bottom", "20mm"), ("margin_inner", "20mm"), ("margin_outer", "16mm"))
    }
    font_size = p.font_size or "10.5pt"
    em = parse_length(font_size, "font_size")
    for across, (a, b), side in ((True, ("margin_inner", "margin_outer"), width), (False, ("margin_top", "margin_bottom"), height)):
        room = side - margins[a] - margins[b]
        if room < MIN_TEXT_EMS * em:
            raise ConfigError(
                f"profile {name!r}: margins {margins[a]:g} mm + {margins[b]:g} mm leave {max(room, 0):g} mm "
                f"{'across' if across else 'down'} a page {side:g} mm {'wide' if across else 'high'}; the text "
                f"needs at least {MIN_TEXT_EMS} characters of {font_size} ({MIN_TEXT_EMS * em:.1f} mm)",
                path=path,
                line=line(a, b, "trim", "font_size"),
                hint="make the margins or the font size smaller, or the trim larger",
            )
    return PageGeometry(
        trim_name=trim_name,
        width=width,
        height=height,
        bleed=parse_length(p.bleed or "0mm", "bleed"),
        marks=bool(p.marks),
        font_size=font_size,
        pdf_variant=p.pdf_variant or "none",
        links=bool(p.links),
        latin_spacing=True if p.latin_spacing is None else p.latin_spacing,
        slug=parse_length(p.slug or "10mm", "slug") if p.marks else 0.0,
        signature=p.signature or 2,
        **margins,
    )


def load_project(root: Path) -> Project:
    """Load the project in `root`: content/book.toml (optional), the manuscripts, the profiles."""
    root = root.resolve()
    content = root / "content"
    if not content.is_dir():
        raise ConfigError("no content/ folder here; run zhpress in a book project or pass -C DIR", path=root)
    config_path: Path | None  # None: no book.toml
    config_path = content / CONFIG_NAME
    text = ""
    if os.path.lexists(config_path):  # a FIFO or a link leading out is refused, never skipped
        data, text = _load_toml(config_path)
        try:
            data = _strip_controls(data, (), config_path, text)
            config = ProjectConfig.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc, config_path, text, ProjectConfig) from exc
        except RecursionError:
            raise ConfigError("arrays or tables nested too deeply", path=config_path) from None
    else:
        config_path = None
        config = ProjectConfig(book=BookConfig(title=root.name))
    book_id = config.book.id or slugify(config.book.title if config_path else root.name)
    articles = _article_sources(root, config, config_path, text)
    profiles = _resolve_profiles(config.profiles, config.conversion, config_path, text)
    return Project(root, config_path, config, book_id, articles, profiles)


def _article_sources(root: Path, config: ProjectConfig, config_path: Path | None, text: str) -> tuple[ArticleSource, ...]:
    content = root / "content"
    if config.articles is None:
        # every manuscript-named entry but folders: a FIFO, device or broken link is refused when read, never skipped
        files = sorted(p for p in content.iterdir() if p.suffix.lower() in MANUSCRIPT_SUFFIXES and not p.is_dir())
        if not files:
            raise ConfigError("content/ holds no manuscripts (.txt or .md)", path=content)
        entries = [ArticleConfig(file=p.name) for p in files]
    else:
        entries = config.articles
        if not entries:
            raise ConfigError("the article list is empty", path=config_path)
    seen_files: dict[Path, int] = {}
    seen_ids: dict[str, int] = {}
    out: list[ArticleSource] = []
    inside = content.resolve()
    for index, entry in enumerate(entries):
        line = _line_of_key(text, ("articles", index, "file")) if text else None
        path = Path(os.path.realpath(content / entry.file))  # a symbolic link loop is refused when read
        if not path.is_relative_to(inside):
            raise ConfigError(f"article file {entry.file!r} is outside content/", path=config_path, line=line)
        if path in seen_files:
            raise ConfigError(
                f"manuscript {entry.file!r} is listed twice (entries {seen_files[path] + 1} and {index + 1})",
                path=config_path,
                line=line,
            )
        seen_files[path] = index
        article_id = entry.id or slugify(Path(entry.file).stem)
        if article_id in seen_ids:
            raise ConfigError(
                f"two articles have the id {article_id!r} (entries {seen_ids[article_id] + 1} and {index + 1}); "
                "give one an `id`",
                path=config_path,
                line=line,
            )
        seen_ids[article_id] = index
        title = {
            k: v
            for k, v in entry.model_dump(include={"kicker", "headline", "subtitle", "column", "byline"}).items()
            if v is not None
        }
        out.append(ArticleSource(path, f"content/{entry.file}", article_id, title, entry.role, entry.running_head))
    return tuple(out)


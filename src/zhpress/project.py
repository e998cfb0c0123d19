"""Finding the book project, loading and validating content/book.toml, resolving profiles.

Profiles are plain data resolved once here; later stages receive a `Profile`, never the raw TOML.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

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
    "AR PL UMing TW": "fonts-arphic-uming",
    "WenQuanYi Zen Hei": "fonts-wqy-zenhei",
}


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
            check_isbn(value)
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
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError("must be letters, digits, '.', '_' or '-' (it names the output files)")
        return value


def check_isbn(value: str) -> None:
    """An ISBN-13 (978/979, check digit mod 10) or ISBN-10 (check digit mod 11, X for 10), with or without
    hyphens or spaces; ValueError says what is wrong."""
    digits = re.sub(r"[\s-]", "", value.removeprefix("ISBN").strip())
    if re.fullmatch(r"97[89]\d{10}", digits):
        total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
        expected = str((10 - total % 10) % 10)
    elif re.fullmatch(r"\d{9}[\dXx]", digits):
        total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
        check = (11 - total % 11) % 11
        expected = "X" if check == 10 else str(check)
    else:
        raise ValueError(f"{value!r} is not an ISBN: give 13 digits starting 978 or 979 (or an ISBN-10)")
    if digits[-1].upper() != expected:
        raise ValueError(f"{value!r} is not a valid ISBN: its check digit is {digits[-1]}, it should be {expected}")


class ArticleConfig(_Strict):
    """One entry of [[articles]]: the manuscript and the editor's statements about it."""

    file: str
    id: str | None = None
    kicker: str | None = None
    headline: str | None = None
    subtitle: str | None = None
    column: str | None = None
    byline: str | None = None
    running_head: str | None = None


class ConversionConfig(_Strict):
    """The [conversion] table: terms that never change, phrase overrides for every converted edition."""

    protected: list[str] = Field(default_factory=list)
    overrides: dict[str, str] = Field(default_factory=dict)


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


class ProfileConfig(_Strict):
    """A [profiles.NAME] table as written; `extends` fills what it leaves out."""

    extends: str | None = None
    description: str | None = None
    format: Literal["epub", "pdf"] | None = None
    conversion: Literal["none", "s2t", "s2tw", "s2twp", "s2hk"] | None = None
    quotes: Literal["curly", "corner"] | None = None
    punctuation: Literal["full", "compress"] | None = None
    language: str | None = None
    font_family: str | None = None
    stylesheets: list[str] | None = None
    missing_glyphs: Literal["error", "warn"] | None = None
    overrides: dict[str, str] | None = None
    page: PageConfig | None = None


class ProjectConfig(_Strict):
    """The whole of book.toml."""

    book: BookConfig
    articles: list[ArticleConfig] | None = None
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
    punctuation: Literal["full", "compress"] = "compress"  # print: each mark in a full square, or pairs at 1.5 em

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


def _line_of_key(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a dotted key in the TOML source, for error messages."""
    keys = [str(k) for k in loc if not isinstance(k, int)]
    lines = text.splitlines()
    # Walk to the table header, then look for the last key.
    start = 0
    for depth in range(len(keys) - 1, 0, -1):
        header = re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(re.escape(k) for k in keys[:depth]) + r"\s*\]\]?\s*$")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
        else:
            continue
        break
    key = re.compile(r"^\s*[\"']?" + re.escape(keys[-1]) + r"[\"']?\s*=") if keys else None
    if key is None:
        return None
    for i in range(start, len(lines)):
        if key.match(lines[i]):
            return i + 1
    for i, line in enumerate(lines):
        if key.match(line):
            return i + 1
    return start + 1 if start else None


def _mm(value: str, *, path: Path | None, what: str, line: int | None = None) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*", value)
    if not match:
        raise ConfigError(f"{what} = {value!r} is not a length such as '3mm'", path=path, line=line)
    number, unit = float(match[1]), match[2]
    return number * {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}[unit]


def _trim(value: str, *, path: Path | None, line: int | None = None) -> tuple[str, float, float]:
    if value in TRIM_SIZES:
        w, h = TRIM_SIZES[value]
        return value, w, h
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*mm\s*", value)
    if not match:
        raise ConfigError(
            f"trim = {value!r}: use one of {', '.join(TRIM_SIZES)} or a size such as '140x203mm'", path=path, line=line
        )
    return value.strip(), float(match[1]), float(match[2])


def slugify(text: str) -> str:
    """An id for file names from a title or folder name (ASCII when possible, else a short hash)."""
    ascii_part = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_part).strip("-").lower()
    if slug:
        return slug
    import hashlib

    return "book-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the book configuration: {exc.strerror}", path=path) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("book.toml is not UTF-8", path=path, offset=exc.start) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"not valid TOML: {message}",
            path=path,
            line=int(match[1]) if match else None,
            column=int(match[2]) if match else None,
        ) from exc


# Characters XML 1.0 cannot hold or discourages (C0 except tab, LF, CR; DEL; C1; U+FFFE, U+FFFF).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _strip_controls(value: Any, loc: tuple[Any, ...], path: Path, text: str) -> Any:
    """Remove control characters from every string of book.toml, with a warning naming key and line: they
    cannot appear in XML metadata, and they are never meant."""
    if isinstance(value, str):
        found = _CONTROL_RE.findall(value)
        if not found:
            return value
        dotted = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc).replace(".[", "[")
        line = _line_of_key(text, loc) if loc else None
        codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
        log.warning("%s%s: control characters (%s) removed from %s", path, f":{line}" if line else "", codes, dotted)
        return _CONTROL_RE.sub("", value)
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
        message = f"{dotted}: {err['msg']}"
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
    def line(key: str) -> int | None:
        if not text or not re.search(r"^\s*\[\[?\s*profiles\s*\.\s*[\"']?" + re.escape(name), text, re.M):
            return None
        return _line_of_key(text, ("profiles", name, "page", key))

    missing = [k for k in ("format", "language", "font_family") if getattr(cfg, k) is None]
    if missing:
        raise ConfigError(f"profile {name!r} sets no {missing[0]} (and extends no profile that does)", path=path)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise ConfigError(f"profile name {name!r}: use letters, digits, '-' or '_'", path=path)
    page = None
    if cfg.format == "pdf":
        p = cfg.page or PageConfig()
        trim_name, width, height = _trim(p.trim or "A5", path=path, line=line("trim"))

        def mm(value: str | None, default: str, what: str) -> float:
            return _mm(value or default, path=path, what=f"profiles.{name}.page.{what}", line=line(what))

        page = PageGeometry(
            trim_name=trim_name,
            width=width,
            height=height,
            bleed=mm(p.bleed, "0mm", "bleed"),
            marks=bool(p.marks),
            margin_top=mm(p.margin_top, "18mm", "margin_top"),
            margin_bottom=mm(p.margin_bottom, "20mm", "margin_bottom"),
            margin_inner=mm(p.margin_inner, "20mm", "margin_inner"),
            margin_outer=mm(p.margin_outer, "16mm", "margin_outer"),
            font_size=p.font_size or "10.5pt",
            pdf_variant=p.pdf_variant or "none",
            links=bool(p.links),
            latin_spacing=True if p.latin_spacing is None else p.latin_spacing,
            slug=mm(p.slug, "10mm", "slug") if p.marks else 0.0,
            signature=p.signature or 2,
        )
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
        punctuation=cfg.punctuation or ("full" if cfg.language.startswith("zh-Hant") else "compress"),  # type: ignore[union-attr]
    )


def load_project(root: Path) -> Project:
    """Load the project in `root`: content/book.toml (optional), the manuscripts, the profiles."""
    root = root.resolve()
    content = root / "content"
    if not content.is_dir():
        raise ConfigError("no content/ folder here; run zhpress in a book project or pass -C DIR", path=root)
    config_path = content / CONFIG_NAME
    text = ""
    if config_path.is_file():
        data = _load_toml(config_path)
        text = config_path.read_text("utf-8-sig")
        data = _strip_controls(data, (), config_path, text)
        try:
            config = ProjectConfig.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc, config_path, text, ProjectConfig) from exc
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
        files = sorted(p for p in content.iterdir() if p.is_file() and p.suffix.lower() in MANUSCRIPT_SUFFIXES)
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
    for index, entry in enumerate(entries):
        line = _line_of_key(text, ("articles", index, "file")) if text else None
        path = (content / entry.file).resolve()
        if not path.is_relative_to(content.resolve()):
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
        out.append(ArticleSource(path, f"content/{entry.file}", article_id, title, entry.running_head))
    return tuple(out)


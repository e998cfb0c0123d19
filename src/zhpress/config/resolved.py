"""The loaded project and its resolved profiles: plain data that every later stage receives (never the raw TOML)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from .schema import ProjectConfig
from .values import nearest

log = logging.getLogger("zhpress")

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
    page_list: str = "none"  # EPUB: whose print pages the page list gives ("auto"/"print": the matching print profile)
    fallback_font: tuple[str, ...] | None = None  # faces for characters the body face lacks; None: fontconfig's

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
                hint=nearest(unknown[0], self.profiles),
            )
        return [self.profiles[n] for n in dict.fromkeys(names)]



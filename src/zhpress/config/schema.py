"""book.toml's schema: one pydantic model per table, defaults in the schema, unknown keys refused."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .values import check_id, check_isbn, check_language, file_name, parse_format, parse_length, parse_trim

log = logging.getLogger("zhpress")

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    format: str | None = None  # 开本 as the press states it ("787×1092　1/32"); else from the trim size

    @field_validator("isbn")
    @classmethod
    def _isbn(cls, value: str | None) -> str | None:
        if value is not None:
            check_isbn(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None:
            parse_format(value)  # the 开本's 1/N, or ValueError naming what is wrong
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
        return file_name(value)


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
    fallback_font: str | list[str] | None = None  # faces for characters the body face lacks; default: found
    stylesheets: list[str] | None = None
    missing_glyphs: Literal["error", "warn"] | None = None
    emphasis: Literal["dots", "kai", "bold"] | None = None
    overrides: dict[str, str] | None = None
    page: PageConfig | None = None
    embed_fonts: bool | None = None
    writing: Literal["horizontal", "vertical"] | None = None
    page_list: str | None = None  # EPUB: "print" (default), "auto", "none", or a print profile's name

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



"""The book project's configuration: book.toml's schema, the values it takes, its key lines, and the
profiles resolved once. Later stages receive a resolved `Profile` and `Project`, never the raw TOML."""

from .lines import TomlLines, line_of_key, toml_lines
from .load import load_project
from .profiles import resolve_profiles
from .resolved import ArticleSource, PageGeometry, Profile, Project
from .schema import (
    ArticleConfig,
    BookConfig,
    ConversionConfig,
    CoverConfig,
    PageConfig,
    PaperConfig,
    PartConfig,
    ProfileConfig,
    ProjectConfig,
)
from .values import (
    CONFIG_NAME,
    FONT_PACKAGES,
    LENGTH_RANGES,
    MANUSCRIPT_SUFFIXES,
    MARK_MIN_LENGTH_MM,
    MARK_OFFSET_MM,
    MAX_ID,
    MIN_TEXT_EMS,
    TRIM_SIZES,
    check_id,
    check_isbn,
    check_language,
    isbn13,
    length_mm,
    nearest,
    parse_length,
    parse_trim,
    slugify,
)

__all__ = [
    "CONFIG_NAME", "FONT_PACKAGES", "LENGTH_RANGES", "MANUSCRIPT_SUFFIXES", "MARK_MIN_LENGTH_MM", "MARK_OFFSET_MM",
    "MAX_ID", "MIN_TEXT_EMS", "TRIM_SIZES", "ArticleConfig", "ArticleSource", "BookConfig", "ConversionConfig",
    "CoverConfig", "PageConfig", "PageGeometry", "PaperConfig", "PartConfig", "Profile", "ProfileConfig", "Project",
    "ProjectConfig", "TomlLines", "check_id", "check_isbn", "check_language", "isbn13", "length_mm", "line_of_key",
    "load_project", "nearest", "parse_length", "parse_trim", "resolve_profiles", "slugify", "toml_lines",
]  # fmt: skip

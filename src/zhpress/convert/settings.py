"""What a profile asks of the conversion stage, and the dictionary entries it adds to OpenCC's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConversionConfig = Literal["s2t", "s2tw", "s2twp", "s2hk"]
QuoteStyle = Literal["curly", "corner"]
Vocabulary = Literal["news", "computing", "none"]
DecidedBy = Literal["opencc", "zhpress", "book"]
ChangeKind = Literal["vocabulary", "glyph"]

CONFIGS: tuple[str, ...] = ("s2t", "s2tw", "s2twp", "s2hk")
VOCABULARIES: tuple[str, ...] = ("news", "computing", "none")
# The config that brings an edition's text back to simplified: the safety net of the report.
REVERSE_CONFIG: dict[str, str] = {"s2t": "t2s", "s2tw": "tw2s", "s2twp": "tw2sp", "s2hk": "hk2s", "s2hkp": "hk2s"}
# The region of a config, which picks zhpress's news dictionary.
REGION: dict[str, str] = {"s2tw": "tw", "s2twp": "tw", "s2hk": "hk"}
# zhpress's curated news vocabulary, one file per region (source<TAB>target<TAB>context sentence), and its
# corrections of OpenCC's phrase tables for vocabulary = "computing".
SHIPPED_DICTIONARIES: dict[str, str] = {"tw": "tw-news.tsv", "hk": "hk-news.tsv", "tw-computing": "tw-computing.tsv"}
# OpenCC's configs with its regional phrase tables, for vocabulary = "computing".
_WITH_PHRASES: dict[str, str] = {"s2tw": "s2twp", "s2hk": "s2hkp"}
# The characters-only config of each config (protected terms take it; glyph decisions are made with it).
CHARACTERS_ONLY: dict[str, str] = {"s2twp": "s2tw", "s2hkp": "s2hk"}



@dataclass(frozen=True)
class ConversionSettings:
    """What a profile asks of the conversion stage."""

    config: ConversionConfig | None  # None: no script conversion
    quotes: QuoteStyle = "curly"  # corner: “”→「」, ‘’→『』 by nesting level
    protected: tuple[str, ...] = ()  # no phrase substitution, but the edition's character conversion
    overrides: tuple[tuple[str, str], ...] = ()  # book-level phrase → target, inside segmentation
    origin: str | None = None  # the file the book-level entries come from (book.toml), for error messages
    lines: tuple[tuple[str, str, int], ...] = ()  # (kind, term, line): where `origin` states a book-level term
    verbatim: tuple[str, ...] = ()  # terms kept exactly as written (not even character conversion)
    vocabulary: Vocabulary = "news"  # news: zhpress's regional dictionary; computing: + OpenCC's phrases

    @property
    def opencc_config(self) -> str | None:
        """The OpenCC config that does the characters (and, for computing vocabulary, OpenCC's phrases)."""
        if self.config is None or self.vocabulary != "computing":
            return self.config
        return _WITH_PHRASES.get(self.config, self.config)

    @property
    def region(self) -> str | None:
        """tw or hk: whose news dictionary the edition takes (None: no regional vocabulary)."""
        return None if self.config is None or self.vocabulary == "none" else REGION.get(self.config)


@dataclass(frozen=True)
class Entry:
    """One extra dictionary entry: `source` (source script) becomes `target` (edition script)."""

    source: str
    target: str
    origin: Literal["zhpress", "book"]
    context: str | None = None  # a sentence that exercises the entry (shipped dictionaries)
    path: str | None = None
    line: int | None = None
    protected: bool = False  # a protected or verbatim term: wins outright, even inside a longer phrase
    verbatim: bool = False  # kept exactly as written (a protected term takes the character conversion)

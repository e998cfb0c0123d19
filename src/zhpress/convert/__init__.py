"""Script conversion for traditional editions: OpenCC for characters, zhpress's regional news vocabulary,
quotation marks, the report.

An edition's conversion is OpenCC's character and variant conversion (s2tw, s2hk) plus zhpress's curated
Taiwan or Hong Kong news dictionary; OpenCC's own phrase tables (computing vocabulary) only when a profile
asks for `vocabulary = "computing"`. The dictionaries, book overrides, protected and verbatim terms are
chained into OpenCC's own configuration (segmentation and conversion dictionaries), so they take part in
segmentation instead of patching the converted string. The report is computed lazily from the (source,
converted) pairs, by comparing passes with and without the extra dictionaries.
"""

from .book import convert_book
from .configs import build_config, load_opencc
from .converter import Converter, get_converter
from .dictionaries import book_entries, characters_only, shipped_entries
from .quotes import corner_quotes
from .report import Change, ConversionReport, Suspect, Term
from .settings import CONFIGS, REVERSE_CONFIG, VOCABULARIES, ConversionConfig, ConversionSettings, Entry

__all__ = [
    "CONFIGS", "REVERSE_CONFIG", "VOCABULARIES", "Change", "ConversionConfig", "ConversionReport",
    "ConversionSettings", "Converter", "Entry", "Suspect", "Term", "book_entries", "build_config",
    "characters_only", "convert_book", "corner_quotes", "get_converter", "load_opencc", "shipped_entries",
]  # fmt: skip

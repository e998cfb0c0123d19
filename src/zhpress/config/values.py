"""The values book.toml's settings take: ids, language tags, lengths, trim sizes, ISBNs, file names; checked
here (ValueError saying what is wrong) so that the schema and the resolution share one reading."""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

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


def file_name(value: str) -> str:
    """A manuscript's name as book.toml gives it: no invisible or control characters, a sane length."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"holds the invisible character U+{ord(bad):04X}; type the file name plainly")
    if value != value.strip() or not value:
        raise ValueError("must not be empty or begin or end with white space")
    if len(value.encode()) > 1024 or any(len(part.encode()) > 255 for part in value.split("/")):
        raise ValueError("is too long for a file name")
    return value



def slugify(text: str) -> str:
    """An id for file names from a title or folder name (ASCII when possible, else a short hash)."""
    ascii_part = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    import hashlib

    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_part).strip("-").lower()
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    if len(slug) > MAX_ID:  # a long title or file name: its start, made unique by a hash of the whole
        return slug[: MAX_ID - 9].rstrip("-") + "-" + digest
    return slug or "book-" + digest



def nearest(word: str, candidates: Any) -> str | None:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else None


def isbn13(value: str) -> str:
    """The ISBN-13 of an ISBN-13 or ISBN-10 (hyphens and spaces allowed); ValueError saying what is wrong."""
    from stdnum import ean, isbn
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

    try:
        number = isbn.validate(value)
    except InvalidChecksum:
        digits = isbn.compact(value)
        expected = ean.calc_check_digit(digits[:-1]) if len(digits) == 13 else isbn._calc_isbn10_check_digit(digits[:-1])
        raise ValueError(f"{value!r} is not a valid ISBN: the check digit should be {expected}") from None
    except (InvalidLength, InvalidFormat):
        raise ValueError(f"{value!r} is not a valid ISBN: it needs 13 digits (or 10, the last may be X)") from None
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid ISBN: {exc}") from None
    return isbn.to_isbn13(number)


def check_isbn(value: str) -> None:
    """An ISBN-13 (978/979) or ISBN-10 with its check digit right, with or without hyphens or spaces;
    ValueError says what is wrong."""
    isbn13(value)


#: A 开本 as a press writes it: the full sheet and the fraction, `787×1092　1/32` or `787mm×1092mm 1/32`.
FORMAT_PATTERN = re.compile(r"\s*(\d{3,4})\s*(?:mm)?\s*[×xX*]\s*(\d{3,4})\s*(?:mm)?[\s\u3000]+1\s*/\s*(\d+)\s*")
#: The fractions a sheet is folded into.
FOLDS = (4, 8, 16, 32, 64, 128)


def parse_format(text: str) -> int:
    """The pages per sheet of a 开本 string (`787×1092　1/32` → 32); ValueError naming what is wrong."""
    match = FORMAT_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a 开本 such as '787×1092　1/32' (the full sheet in mm, then 1/N)")
    count = int(match.group(3))
    if count not in FOLDS:
        raise ValueError(f"{text!r}: 1/{count} is not a sheet folded in halves ({', '.join(f'1/{n}' for n in FOLDS)})")
    return count

"""Decoding manuscript bytes: UTF-8 (with or without BOM), else GB18030, else Big5, never mojibake.

Big5 bytes decode as GB18030 without any error, and GB18030 bytes often decode as Big5, so a decode that
succeeds proves little. Each candidate is scored by how many of its characters are common in Chinese
text; the plausible candidate with the fewest uncommon characters wins, and a file no candidate explains
is refused with the byte offset of the trouble.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zhpress.chars import CONTROL_RE, is_han
from zhpress.errors import ManuscriptError
from zhpress.normalize import clean_source

log = logging.getLogger("zhpress")

UTF8_BOM = b"\xef\xbb\xbf"
_SAVE_HINT = "save the file as UTF-8 (or GB18030) and build again"

# Share of uncommon characters (among the non-ASCII ones) above which a decode is implausible.
_MAX_UNCOMMON_SHARE = 0.1
# A few uncommon characters are tolerated in any text (a rare name, a symbol).
_UNCOMMON_ALLOWANCE = 2

# Non-Han ranges that ordinary Chinese text uses: Latin-1 (NBSP, ·, ×, °), Greek, general punctuation,
# letterlike symbols, number forms, arrows, math operators, enclosed numerals (①), geometric shapes (■),
# CJK symbols and punctuation, full-width forms.
_COMMON_RANGES = (
    (0x00A0, 0x00FF),
    (0x0391, 0x03C9),
    (0x2000, 0x206F),
    (0x2100, 0x22FF),
    (0x2460, 0x24FF),
    (0x25A0, 0x25FF),
    (0x2600, 0x26FF),
    (0x3000, 0x303F),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)


@lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """The most frequent Han characters: GB2312 level 1 (simplified) and Big5 常用字 (traditional)."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    for lead in range(0xA4, 0xC7):
        for trail in [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            if lead == 0xC6 and trail > 0x7E:
                break
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def _is_common(char: str) -> bool:
    if is_han(char):
        return char in _common_han()
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _COMMON_RANGES)


@dataclass(frozen=True)
class _Candidate:
    encoding: str
    text: str
    uncommon: int
    total: int  # non-ASCII characters
    first_uncommon: int | None  # index in text
    han: int = 0  # Han characters

    @property
    def plausible(self) -> bool:
        return self.uncommon <= _UNCOMMON_ALLOWANCE + _MAX_UNCOMMON_SHARE * self.total


def _score(encoding: str, text: str) -> _Candidate:
    uncommon = 0
    total = 0
    han = 0
    first: int | None = None
    for i, ch in enumerate(text):
        if ord(ch) < 0x80:
            continue
        total += 1
        han += is_han(ch)
        if not _is_common(ch):
            uncommon += 1
            if first is None:
                first = i
    return _Candidate(encoding, text, uncommon, total, first, han)


def _try(data: bytes, encoding: str) -> str | UnicodeDecodeError:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc


def _has_utf8_multibyte(prefix: bytes) -> bool:
    """Whether a byte prefix holds at least one valid multi-byte UTF-8 character."""
    # The prefix before a UTF-8 error is valid UTF-8, so any lead byte starts a multi-byte character.
    return re.search(rb"[\xc2-\xf4]", prefix) is not None


def _check_controls(text: str, data: bytes, encoding: str, path: Path) -> None:
    match = CONTROL_RE.search(text)
    if match is None:
        return
    offset = len(text[: match.start()].encode(encoding, errors="replace"))
    if data.startswith(UTF8_BOM) and encoding == "utf-8":
        offset += len(UTF8_BOM)
    raise ManuscriptError(
        f"control character U+{ord(match.group()):04X} in the text",
        path=path,
        offset=offset,
        hint="a manuscript is plain text; remove the character or re-export the file",
    )


def decode_manuscript(data: bytes, path: Path) -> str:
    """Decode a manuscript's bytes to text, or raise ManuscriptError naming the path and the byte offset.

    Line endings are left as they are; the readers handle CR, LF and CRLF.
    """
    nul = data.find(b"\x00")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ManuscriptError("the file is UTF-16, which zhpress does not read", path=path, offset=0, hint=_SAVE_HINT)
    if nul >= 0:
        raise ManuscriptError(
            "NUL byte: this is not a text file (or it is UTF-16/UTF-32)", path=path, offset=nul, hint=_SAVE_HINT
        )
    if data.startswith(UTF8_BOM):
        body = data[len(UTF8_BOM) :]
        result = _try(body, "utf-8")
        if isinstance(result, UnicodeDecodeError):
            raise ManuscriptError(
                "invalid UTF-8 although the file starts with a UTF-8 byte order mark",
                path=path,
                offset=result.start + len(UTF8_BOM),
                hint="the bytes there are damaged; fix them or re-export the file as UTF-8",
            )
        text = result
        encoding = "utf-8"
    else:
        result = _try(data, "utf-8")
        if isinstance(result, str):
            text, encoding = _prefer_legacy(result, data, path)
        else:
            text, encoding = _decode_legacy(data, result, path)
    _check_controls(text, data, encoding, path)
    text = clean_source(text, path)
    if not text.strip():
        raise ManuscriptError(
            "the manuscript is empty", path=path, hint="write the article's text into it, or remove it from the book"
        )
    return text


def _legacy_candidates(data: bytes) -> tuple[list[_Candidate], UnicodeDecodeError | None]:
    """GB18030 and Big5 readings of the bytes that decode, and the GB18030 error if it does not."""
    candidates: list[_Candidate] = []
    gb_error: UnicodeDecodeError | None = None
    for encoding in ("gb18030", "big5hkscs"):
        result = _try(data, encoding)
        if isinstance(result, str):
            candidates.append(_score(encoding, result))
        elif encoding == "gb18030":
            gb_error = result
    return candidates, gb_error


def _best(candidates: list[_Candidate]) -> _Candidate | None:
    plausible = [c for c in candidates if c.plausible]
    return min(plausible, key=lambda c: (c.uncommon, c.encoding != "gb18030")) if plausible else None


_AMBIGUOUS_LENGTH = 256


def _prefer_legacy(utf8_text: str, data: bytes, path: Path) -> tuple[str, str]:
    """Short GB18030 texts can be valid UTF-8 (`一` is D2 BB, Cyrillic `һ` in UTF-8): keep the likelier.

    Only short texts can be both: every GB18030 byte pair would have to form valid UTF-8 sequences by
    chance, so past a few hundred characters UTF-8 is taken without scoring (the scoring is per character
    and would dominate the reading of a large archive)."""
    if len(utf8_text) > _AMBIGUOUS_LENGTH:
        return utf8_text, "utf-8"
    utf8 = _score("utf-8", utf8_text)
    if utf8.uncommon == 0 and (utf8.han or not utf8.total):
        return utf8_text, "utf-8"
    best = _best(_legacy_candidates(data)[0])
    # likelier: fewer uncommon characters, then (a Chinese manuscript) more Han: GB18030 `娄` (C2 A6) is
    # also UTF-8 `¦`, a common symbol, but a manuscript of symbols alone is not what a Chinese book holds
    if best is not None and (best.uncommon, -best.han) < (utf8.uncommon, -utf8.han):
        _log_choice(best, path)
        return best.text, best.encoding
    return utf8_text, "utf-8"


def _log_choice(candidate: _Candidate, path: Path) -> None:
    if candidate.encoding != "gb18030":
        log.warning("%s: decoded as Big5 (traditional Chinese); convert it to UTF-8 to be sure", path)


def _decode_legacy(data: bytes, utf8_error: UnicodeDecodeError, path: Path) -> tuple[str, str]:
    """Decode bytes that are not UTF-8: GB18030 or Big5, whichever is plausible."""
    candidates, gb_error = _legacy_candidates(data)
    best = _best(candidates)
    if best is not None:
        _log_choice(best, path)
        return best.text, best.encoding
    if _has_utf8_multibyte(data[: utf8_error.start]):
        raise ManuscriptError(
            "invalid UTF-8 (the text before this byte is UTF-8)",
            path=path,
            offset=utf8_error.start,
            hint="the bytes there are damaged; fix them or re-export the file as UTF-8",
        )
    if not candidates:
        assert gb_error is not None
        raise ManuscriptError(
            "neither UTF-8 nor GB18030 nor Big5: invalid byte sequence",
            path=path,
            offset=gb_error.start,
            hint=_SAVE_HINT,
        )
    worst = min(candidates, key=lambda c: c.uncommon)
    index = worst.first_uncommon or 0
    offset = len(worst.text[:index].encode(worst.encoding))
    raise ManuscriptError(
        f"cannot tell the encoding: read as {worst.encoding} the text is mostly unlikely characters "
        f"({worst.uncommon} of {worst.total}, starting with {worst.text[index : index + 8]!r})",
        path=path,
        offset=offset,
        hint=_SAVE_HINT,
    )


def read_text(path: Path) -> str:
    """Read and decode a manuscript file: a regular file inside its folder (or the bytes the build already
    read from it, see `zhpress.files.read_once`); anything else is a ManuscriptError."""
    from zhpress.files import read_once

    data = read_once(
        path, path.parent, what="manuscript", error=ManuscriptError, missing_hint="check the file name in book.toml"
    )
    return decode_manuscript(data, path)


__all__ = ["decode_manuscript", "read_text"]

"""Where each key of book.toml is written, so that an error names its own line."""

from __future__ import annotations

import logging
import re
import tomllib
from functools import lru_cache
from typing import Any

log = logging.getLogger("zhpress")

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


def line_of_key(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line of a key (a path of keys and list indexes) in the TOML source, for error messages."""
    return toml_lines(text).line(loc) if text else None



"""The extra dictionary entries: zhpress's shipped regional vocabulary and a book's overrides, protected and
verbatim terms, each checked so that it can match."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import ConfigError, Place
from .configs import load_opencc, normalizer
from .settings import CHARACTERS_ONLY, REGION, SHIPPED_DICTIONARIES, ConversionSettings, Entry

_DATA = "data/opencc"
_SPACE_RE = re.compile(r"\s")


def _data_file(name: str) -> Path:
    """The path of a file shipped in zhpress/data/opencc."""
    return Path(str(resources.files("zhpress").joinpath(f"{_DATA}/{name}")))


@cache
def shipped_entries(config: str) -> tuple[Entry, ...]:
    """zhpress's dictionary for a config or region (empty when none ships), read once per process."""
    name = SHIPPED_DICTIONARIES.get(REGION.get(config, config))
    if name is None:
        return ()
    path = _data_file(name)
    entries: list[Entry] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 3 or not all(cells):
            raise ConfigError(
                "a dictionary line needs three tab-separated cells: source, target, context sentence",
                path=path,
                line=number,
            )
        source, target, context = cells
        if source not in context:
            raise ConfigError(f"the context sentence does not contain {source!r}", path=path, line=number)
        entries.append(Entry(source, target, "zhpress", context, str(path), number))
    _validate(entries)
    return tuple(entries)


def characters_only(config: str, term: str) -> str:
    """`term` alone through OpenCC's character conversion for `config` (no regional phrase table)."""
    return load_opencc(f"{CHARACTERS_ONLY.get(config, config)}.json").convert(term)


def book_entries(settings: ConversionSettings) -> tuple[Entry, ...]:
    """The book-level overrides, protected terms (to their character conversion) and verbatim terms (to
    themselves) as dictionary entries."""
    where = {(kind, term): line for kind, term, line in settings.lines}
    path = settings.origin
    entries = [Entry(src, tgt, "book", path=path, line=where.get(("override", src))) for src, tgt in settings.overrides]
    for term in settings.verbatim:
        line = where.get(("verbatim", term))
        entries.append(Entry(term, term, "book", path=path, line=line, protected=True, verbatim=True))
    for term in settings.protected:
        target = characters_only(settings.config, term) if settings.config and term else term
        entries.append(Entry(term, target, "book", path=path, line=where.get(("protected", term)), protected=True))
    if settings.config is not None:
        _validate(entries)
    return tuple(entries)


def _validate(entries: list[Entry]) -> None:
    """Raise ConfigError for an entry that can never match or cannot be written to an OpenCC dictionary."""
    seen: dict[str, Entry] = {}
    normalize = normalizer()
    for entry in entries:
        what = "verbatim term" if entry.verbatim else "protected term" if entry.protected else "entry"
        where: Place = {"path": entry.path, "line": entry.line}
        if not entry.source:
            raise ConfigError(f"a conversion {what} has an empty phrase", **where)
        if not entry.target:
            raise ConfigError(f"the conversion {what} {entry.source!r} has an empty target", **where)
        if _SPACE_RE.search(entry.source) or _SPACE_RE.search(entry.target):
            raise ConfigError(
                f"the conversion {what} {entry.source!r} → {entry.target!r} contains white space",
                hint="OpenCC dictionaries match phrases without spaces; list each phrase separately",
                **where,
            )
        normalized = normalize.convert(entry.source)
        if normalized != entry.source:
            raise ConfigError(
                f"the conversion {what} {entry.source!r} can never match: OpenCC's normalization stage "
                f"turns it into {normalized!r} before any dictionary sees it",
                hint=f"write {normalized!r}",
                **where,
            )
        previous = seen.get(entry.source)
        if previous is not None and (entry.protected or previous.protected):
            if (previous.protected, previous.verbatim) == (entry.protected, entry.verbatim):
                continue  # the same term listed twice

            def kind(e: Entry) -> str:
                return "a verbatim term" if e.verbatim else "a protected term" if e.protected else (
                    f"overridden to {e.target!r}")

            raise ConfigError(f"{entry.source!r} is both {kind(previous)} and {kind(entry)}", **where)
        if previous is not None and previous.target != entry.target:
            raise ConfigError(
                f"the conversion phrase {entry.source!r} is given two targets: "
                f"{previous.target!r} and {entry.target!r}",
                **where,
            )
        seen[entry.source] = entry

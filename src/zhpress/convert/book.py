"""Converting a whole book: every text of the model's one walk, long books on two cores."""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

from ..model import Book, replace
from .converter import Converter, get_converter
from .quotes import corner_quotes
from .report import ConversionReport
from .settings import ConversionSettings

logger = logging.getLogger("zhpress")


def convert_book(book: Book, settings: ConversionSettings) -> tuple[Book, ConversionReport]:
    """Convert every text of the model (metadata, and every text group of the model's one walk: title parts,
    blocks, runs, cells, captions, notes), never markup, code, URLs or ruby annotations."""
    if settings.config is None and settings.quotes == "curly":
        return book, ConversionReport(settings, [])
    conv = get_converter(settings)
    meta = book.meta
    sources: list[str] = list(meta.texts())
    groups = list(book.text_groups())
    sources += [t for group in groups for t in group if t]
    unique = list(dict.fromkeys(sources))
    corner = settings.quotes == "corner"

    def work(texts: list[str]) -> list[tuple[str, str]]:
        converted = conv.convert_many(texts)
        return [(c, corner_quotes(c)) for c in converted] if corner else [(c, c) for c in converted]

    done = _on_two_cores(work, unique) if sum(map(len, unique)) >= SPLIT_CHARS else work(unique)
    script = {k: c for k, (c, _) in zip(unique, done, strict=True)}
    final = {k: f for k, (_, f) in zip(unique, done, strict=True)}

    new_meta = meta.map_texts(final.__getitem__)

    def group_text(group: tuple[str, ...]) -> tuple[str, ...]:
        # Each run converted on its own; quotation marks by their nesting over the whole inline sequence.
        if len(group) == 1:
            only = group[0]
            return (final.get(only) or conv.convert(only) if only else only,)
        if not corner:
            return tuple(script.get(t, t) for t in group)
        joined = corner_quotes("".join(script.get(t, t) for t in group))
        out, at = [], 0
        for t in group:
            size = len(script.get(t, t))
            out.append(joined[at : at + size])
            at += size
        return tuple(out)

    articles = book.map_text_groups(group_text)
    pairs = [(src, script[src]) for src in sources] if conv.config_path is not None else []
    if (settings.protected or settings.verbatim) and pairs:
        _check_protected(conv, pairs)
    return replace(articles, meta=new_meta), ConversionReport(settings, pairs)


#: Texts of at least this many characters are converted on two cores (below it a fork costs more than it saves).
SPLIT_CHARS = 200_000


def _on_two_cores(work: Any, items: list[str]) -> list[Any]:
    """`work(items)`, its second half done by a process forked for it (OpenCC's binding holds the GIL, so
    threads would not help; the fork shares the loaded dictionaries). Should the child fail for any
    reason, its half is done here: the result never depends on it."""
    import pickle

    if len(items) < 2 or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return list(work(items))
    half = len(items) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: convert, send, leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read_end)
            payload = pickle.dumps(work(items[half:]), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        first = list(work(items[:half]))
    finally:
        with os.fdopen(read_end, "rb") as incoming:
            payload = incoming.read()
        _, status = os.waitpid(pid, 0)
    second = None
    if status == 0 and payload:
        try:
            second = pickle.loads(payload)
        except Exception:  # noqa: BLE001  (a broken reply is redone here)
            second = None
    if second is None or len(second) != len(items) - half:
        logger.debug("the conversion child failed (status %s): converting its half here", status)
        second = list(work(items[half:]))
    return first + second


def _check_protected(conv: Converter, pairs: list[tuple[str, str]]) -> None:
    """Warn when a protected or verbatim term did not survive (an overlapping word was segmented first)."""
    lost: Counter[tuple[str, str]] = Counter()
    terms = [(e.source, e.target, "verbatim" if e.verbatim else "protected") for e in conv.book_entries if e.protected]
    for src, out in pairs:
        for term, target, kind in terms:
            if term in src and out.count(target) < src.count(term):
                lost[(term, kind)] += src.count(term) - out.count(target)
    for (term, kind), n in lost.items():
        logger.warning(
            "%s term %r was converted %d time(s): an overlapping phrase was segmented first; "
            "list the longer phrase too",
            kind,
            term,
            n,
        )

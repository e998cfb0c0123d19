"""A cache of read manuscripts, so that a rebuild after editing one article reads only that article.

One file per project (PROJECT/.zhpress-cache/read/articles.pickle) maps a key to the Article a manuscript
gave and the warnings reading it logged (replayed on reuse, so a rebuild warns as the first build did).
The key is a hash of the manuscript's bytes, the id, source and title parts it was read with, and the
source code of the readers and the content model: any change to either reads the manuscript again. A
manuscript that fails to read is never stored. The file is a cache only: when it is missing or unreadable
every manuscript is read.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from zhpress.model import Article

log = logging.getLogger("zhpress")

FILE_NAME = "articles.pickle"
FORMAT = 1


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The readers' and the content model's source, the package version and the pickle's Python."""
    from zhpress import __version__, model, normalize

    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + [Path(model.__file__), Path(normalize.__file__)]
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class ReadCache:
    """Read manuscripts kept between builds (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self.entries: dict[str, tuple[Article, list[tuple[int, str]]]] = {}
        self.used: set[str] = set()
        self.changed = False
        try:
            with self.path.open("rb") as handle:
                stored = pickle.load(handle)
            if isinstance(stored, dict) and stored.get("code") == _code_digest():
                self.entries = stored["entries"]
        except Exception:  # a damaged or foreign file is only a cache miss
            log.debug("read cache %s not used", self.path, exc_info=True)

    @staticmethod
    def key(path: Path, **arguments: Any) -> str | None:
        """The key of a manuscript read with `arguments`, or None when the file cannot be read (the reader
        then reports it)."""
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest = hashlib.sha256(data)
        digest.update(repr(sorted(arguments.items())).encode())
        return digest.hexdigest()

    def read(self, path: Path, reader: Callable[..., Article], **arguments: Any) -> Article:
        """`reader(path, **arguments)`, or the Article it gave before for the same bytes and arguments."""
        key = self.key(path, **arguments)
        if key is not None and key in self.entries:
            article, warnings = self.entries[key]
            for level, message in warnings:
                log.log(level, "%s", message)
            self.used.add(key)
            return article
        with _recorded_warnings() as warnings:
            article = reader(path, **arguments)
        if key is not None:
            self.entries[key] = (article, warnings)
            self.used.add(key)
            self.changed = True
        return article

    def save(self) -> None:
        """Keep the entries this build used (older ones are dropped), when anything changed."""
        if not self.changed and self.used == set(self.entries):
            return
        kept = {key: self.entries[key] for key in self.used}
        from zhpress.pdf.chunked import write_atomic_file

        data = pickle.dumps({"code": _code_digest(), "entries": kept}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            write_atomic_file(self.path, data)
        except OSError:  # a read-only project still builds
            log.debug("read cache %s not written", self.path, exc_info=True)


@contextmanager
def _recorded_warnings() -> Iterator[list[tuple[int, str]]]:
    """The warnings the zhpress logger emits inside the block, as (level, message), recorded even when
    they are not shown (`--quiet`), so that a later build reusing the entry can show them; every record
    is then passed on as it would have been."""
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    shown_from = log.getEffectiveLevel()
    saved = log.level, log.propagate, log.handlers
    log.setLevel(min(shown_from, logging.WARNING))
    log.propagate, log.handlers = False, [Recorder()]
    warnings: list[tuple[int, str]] = []
    try:
        yield warnings
    finally:
        log.level, log.propagate, log.handlers = saved
        for record in records:
            if record.levelno >= logging.WARNING:
                warnings.append((record.levelno, record.getMessage()))
            if record.levelno >= shown_from:
                log.handle(record)

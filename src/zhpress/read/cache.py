"""A cache of read manuscripts, so that a rebuild after editing one article reads only that article.

One file per project (PROJECT/.zhpress-cache/read/articles.json) maps a key to the Article a manuscript
gave and the warnings reading it logged (replayed on reuse, so a rebuild warns as the first build did).
The key is a hash of the manuscript's bytes as the build read them (the same bytes the reader parses),
the id, source and title parts it was read with, and the source code of the readers and the content
model: any change to either reads the manuscript again. A manuscript that fails to read is never stored.

The file holds data only: JSON of the content model's dataclasses (by their fields, tagged with the class
name, so a new block type needs nothing here), signed with the user's key (`zhpress.files.signing_key`),
and checked before it is used: an unsigned, foreign or damaged file, or an entry that is not the model, is
a cache miss, and every manuscript is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from zhpress import files, memo
from zhpress.model import Article

log = logging.getLogger("zhpress")

FILE_NAME = "articles.json"
FORMAT = 2  # 1: a pickle (never loaded again); 2: signed JSON


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The readers' and the content model's source and the package version."""
    from zhpress import __version__, model, normalize

    package = Path(__file__).parent
    paths = sorted(package.glob("*.py")) + [Path(model.__file__), Path(normalize.__file__)]
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version_info[:2]}".encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- the content model as JSON ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _registry() -> dict[str, tuple[type, tuple[str, ...]]]:
    """Every dataclass of the content model by name, with its field names: the only types an entry holds."""
    from zhpress import model

    return {
        name: (cls, tuple(f.name for f in dataclasses.fields(cls)))
        for name, cls in vars(model).items()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
    }


def encode(value: Any) -> Any:
    """A content-model value as JSON data: a dataclass as {"@": class, field: value, …}, a tuple as an
    array, a list as {"@list": [...]}, a dict as {"@dict": [[key, value], …]}."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is tuple:
        return [encode(v) for v in value]
    registered = _registry().get(kind.__name__)
    if registered is not None and registered[0] is kind:
        out: dict[str, Any] = {"@": kind.__name__}
        for name in registered[1]:
            out[name] = encode(getattr(value, name))
        return out
    if kind is list:
        return {"@list": [encode(v) for v in value]}
    if kind is dict:
        return {"@dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"the read cache cannot hold a {kind.__name__}")


def decode(data: Any) -> Any:
    """The value `encode` gave `data` for; ValueError for anything that is not the content model."""
    kind = type(data)
    if kind is list:
        return tuple([decode(v) for v in data])
    if kind is dict:
        tag = data.get("@")
        if tag is not None:
            registered = _registry().get(tag) if type(tag) is str else None
            if registered is None or len(data) != len(registered[1]) + 1:
                raise ValueError(f"not a type of the content model: {tag!r}")
            cls, names = registered
            try:
                return cls(**{name: decode(data[name]) for name in names})
            except KeyError as exc:
                raise ValueError(f"{tag} without {exc}") from None
        if len(data) == 1 and type(data.get("@list")) is list:
            return [decode(v) for v in data["@list"]]
        if len(data) == 1 and type(data.get("@dict")) is list:
            return {decode(k): decode(v) for k, v in data["@dict"]}
        raise ValueError("an object that is not part of the content model")
    if data is None or kind in (str, int, float, bool):
        return data
    raise ValueError(f"unexpected {kind.__name__}")


def _entry(data: Any) -> tuple[Article, list[tuple[int, str]]]:
    """One stored entry, checked: an Article and its warnings as (level, message)."""
    if type(data) is not dict or set(data) != {"article", "warnings"}:
        raise ValueError("not a read-cache entry")
    article = decode(data["article"])
    warnings = data["warnings"]
    if type(article) is not Article or type(warnings) is not list:
        raise ValueError("not a read-cache entry")
    checked = []
    for item in warnings:
        if type(item) is not list or len(item) != 2 or type(item[0]) is not int or type(item[1]) is not str:
            raise ValueError("not a warning")
        checked.append((item[0], item[1]))
    return article, checked


# --- the cache --------------------------------------------------------------------------------------------


class ReadCache:
    """Read manuscripts kept between builds (see the module docstring)."""

    def __init__(self, folder: Path, *, base: Path | None = None) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME
        self.entries: dict[str, tuple[Article, list[tuple[int, str]]]] = {}
        self.used: set[str] = set()
        self.changed = False
        self.key_bytes = files.signing_key()
        self.usable = self.key_bytes is not None and files.own_folder(folder, base=base) is not None
        if self.usable:
            self.entries = self._load()

    def _load(self) -> dict[str, tuple[Article, list[tuple[int, str]]]]:
        assert self.key_bytes is not None
        try:
            blob = files.read_confined(self.path, self.folder, what="cache entry")
        except Exception:  # noqa: BLE001  (absent, or not a regular file: a cache miss)
            return {}
        data = files.verified(blob, self.key_bytes)
        if data is None:
            log.debug("read cache %s: not signed by this user, not used", self.path)
            return {}
        kept = memo.table("read-cache")  # a warm process: the entries of these very bytes, decoded before
        digest = hashlib.sha256(data).digest()
        if kept is not None and digest in kept:
            return dict(kept[digest])
        try:
            stored = json.loads(data)
            if type(stored) is not dict or stored.get("code") != _code_digest():
                return {}
            entries = {key: _entry(value) for key, value in stored["entries"].items() if type(key) is str}
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            log.debug("read cache %s not used", self.path, exc_info=True)
            return {}
        _remember_decoded(digest, entries)
        encoded = memo.table("read-cache-encoded")
        if encoded is not None:  # what `save` would encode each entry as: the JSON it was read from
            encoded.update((key, stored["entries"][key]) for key in entries)
        return entries

    @staticmethod
    def key(data: bytes, **arguments: Any) -> str:
        """The key of a manuscript's bytes read with `arguments`."""
        digest = hashlib.sha256(data)
        digest.update(repr(sorted(arguments.items())).encode())
        return digest.hexdigest()

    def read(self, path: Path, reader: Callable[..., Article], *, data: bytes | None = None, **arguments: Any) -> Article:
        """`reader(path, **arguments)`, or the Article it gave before for the same bytes and arguments.
        `data` is the manuscript as the build read it (read here when not given); the reader parses those
        same bytes (`zhpress.files.read_once`), so what is stored is what the key says."""
        if data is None:
            try:
                data = files.read_confined(path, path.parent, what="manuscript")
            except Exception:  # noqa: BLE001  (the reader reports it)
                return reader(path, **arguments)
        key = self.key(data, **arguments)
        if key in self.entries:
            article, warnings = self.entries[key]
            for level, message in warnings:
                log.log(level, "%s", message)
            self.used.add(key)
            return article
        with files.given(path, data), _recorded_warnings() as warnings:
            article = reader(path, **arguments)
        self.entries[key] = (article, warnings)
        self.used.add(key)
        self.changed = True
        return article

    def save(self) -> None:
        """Keep the entries this build used (older ones are dropped), when anything changed; in the warm
        process once the build has replied (`memo.defer`: 0.35 s of each edit at 1000 articles)."""
        if not self.usable or (not self.changed and self.used == set(self.entries)):
            return
        memo.defer(f"read-cache:{self.path}", self._write)

    def _write(self) -> None:
        assert self.key_bytes is not None
        encoded = memo.table("read-cache-encoded")  # a warm process: each entry encoded once (key: its bytes)
        try:
            kept = {key: _encoded(key, a, ws, encoded) for key, (a, ws) in self.entries.items() if key in self.used}
        except TypeError:
            log.debug("read cache %s not written", self.path, exc_info=True)
            return
        if encoded is not None:
            memo.trim("read-cache-encoded", set(kept))
        data = json.dumps({"code": _code_digest(), "entries": kept}, ensure_ascii=False, separators=(",", ":"))
        blob = files.sign(data.encode("utf-8"), self.key_bytes)
        try:
            files.write_atomic(self.path, blob, mode=0o600)
        except OSError as exc:  # a read-only project still builds
            log.warning("%s: the read cache cannot be written (%s); the build goes on without it", self.path, exc.strerror)
            return
        # the next build reads these bytes back: their entries are these
        _remember_decoded(hashlib.sha256(data.encode("utf-8")).digest(),
                          {key: entry for key, entry in self.entries.items() if key in self.used})


def _remember_decoded(digest: bytes, entries: dict[str, tuple[Article, list[tuple[int, str]]]]) -> None:
    """In a warm process, the entries the cache file of these bytes (its digest) holds, instead of the last."""
    kept = memo.table("read-cache")
    if kept is not None:
        kept.clear()
        kept[digest] = dict(entries)


def _encoded(key: str, article: Article, warnings: list[tuple[int, str]], kept: dict[Any, Any] | None) -> dict[str, Any]:
    """One stored entry; in a warm process, made once for each key (a key is the manuscript's bytes)."""
    if kept is not None and key in kept:
        return kept[key]
    entry = {"article": encode(article), "warnings": [list(w) for w in warnings]}
    if kept is not None:
        kept[key] = entry
    return entry


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

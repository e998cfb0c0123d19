"""Script conversion for traditional editions: OpenCC for characters, zhpress's regional news vocabulary,
quotation marks, the report.

An edition's conversion is OpenCC's character and variant conversion (s2tw, s2hk) plus zhpress's curated
Taiwan or Hong Kong news dictionary; OpenCC's own phrase tables (computing vocabulary) only when a profile
asks for `vocabulary = "computing"`. The dictionaries, book overrides, protected and verbatim terms are
chained into OpenCC's own configuration (segmentation and conversion dictionaries), so they take part in
segmentation instead of patching the converted string. The report is computed lazily from the (source,
converted) pairs, by comparing passes with and without the extra dictionaries.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import opencc

from zhpress.errors import ConfigError, Place, RenderError
from zhpress.model import Book, Creator, replace

logger = logging.getLogger("zhpress")

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
_CHARACTERS: dict[str, str] = {"s2twp": "s2tw", "s2hkp": "s2hk"}

_DATA = "data/opencc"
_SPACE_RE = re.compile(r"\s")
_QUOTE_RE = re.compile("[“”‘’「」『』]")
# Only balanced, unnested double quotes: the common case, converted by a table.
_FLAT_DOUBLE_RE = re.compile("[^“”‘’「」『』]*(?:“[^“”‘’「」『』]*”[^“”‘’「」『』]*)*")
_WINDOW = 4  # how far a vocabulary change is widened on each side to find the phrase OpenCC converted


# ---------------------------------------------------------------------------------------------------------
# Settings and dictionary entries


@dataclass(frozen=True)
class ConversionSettings:
    """What a profile asks of the conversion stage."""

    config: ConversionConfig | None  # None: no script conversion
    quotes: QuoteStyle = "curly"  # corner: “”→「」, ‘’→『』 by nesting level
    protected: tuple[str, ...] = ()  # no phrase substitution, but the edition's character conversion
    overrides: tuple[tuple[str, str], ...] = ()  # book-level phrase → target, inside segmentation
    origin: str | None = None  # the file the book-level entries come from (book.toml), for error messages
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
    return _opencc(f"{_CHARACTERS.get(config, config)}.json").convert(term)


def book_entries(settings: ConversionSettings) -> tuple[Entry, ...]:
    """The book-level overrides, protected terms (to their character conversion) and verbatim terms (to
    themselves) as dictionary entries."""
    entries = [Entry(src, tgt, "book", path=settings.origin) for src, tgt in settings.overrides]
    for term in settings.verbatim:
        entries.append(Entry(term, term, "book", path=settings.origin, protected=True, verbatim=True))
    for term in settings.protected:
        target = characters_only(settings.config, term) if settings.config and term else term
        entries.append(Entry(term, target, "book", path=settings.origin, protected=True))
    if settings.config is not None:
        _validate(entries)
    return tuple(entries)


def _validate(entries: list[Entry]) -> None:
    """Raise ConfigError for an entry that can never match or cannot be written to an OpenCC dictionary."""
    seen: dict[str, Entry] = {}
    normalize = _normalizer()
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


# ---------------------------------------------------------------------------------------------------------
# OpenCC configs


def _share_dir() -> Path:
    """The opencc package's directory of shipped configs and .ocd2 dictionaries."""
    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    if not (share / "s2t.json").is_file():
        raise RenderError(f"OpenCC's dictionaries were not found in {share}", hint="reinstall the opencc package")
    return share


def _cache_root() -> Path:
    """A writable directory for generated OpenCC configs (XDG cache, else the system temp directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for root in (Path(base) / "zhpress" / "opencc", Path(tempfile.gettempdir()) / "zhpress-opencc"):
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(root, os.W_OK):
            return root
    raise RenderError("no writable cache directory for OpenCC configs")


def _write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary name so concurrent builds never read half a file."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _absolutize(node: Any, share: Path) -> Any:
    """A copy of an OpenCC dictionary node with its file names made absolute."""
    node = copy.deepcopy(node)
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("ocd2", "text", "ocd") and "file" in item:
                item["file"] = str(share / item["file"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node


def _text_dict(pairs: dict[str, str]) -> str:
    """OpenCC's text dictionary format: one `key<TAB>value` a line."""
    return "".join(f"{k}\t{v}\n" for k, v in sorted(pairs.items()))


def _wrap(node: dict[str, Any], refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Protected terms win outright (short circuit); book overrides, then zhpress entries, compete by length
    with OpenCC's phrases (union: the longest match wins, the earlier dictionary on a tie)."""
    extra = [refs[k] for k in ("book", "zhpress") if k in refs]
    if extra:
        node = {"type": "group", "match_policy": "union", "dicts": [*extra, node]}
    if "protected" in refs:
        node = {"type": "group", "match_policy": "short_circuit", "dicts": [refs["protected"], node]}
    return node


def build_config(config: str, extras: tuple[Entry, ...]) -> str:
    """The path (or name) of an OpenCC config: `config` with `extras` chained before its own dictionaries.

    The first conversion stage maps each source phrase to its target; every later stage maps the target to
    itself, so the regional stages leave it alone; the phrases join the segmentation dictionary, so a
    phrase such as 院内 is matched as a word before 内核 can be. Configs are cached by content hash.
    """
    if not extras:
        return f"{config}.json"
    share = _share_dir()
    base = json.loads((share / f"{config}.json").read_text(encoding="utf-8"))
    groups: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for origin in ("protected", "book", "zhpress"):
        chosen = [e for e in extras if (e.protected and origin == "protected") or (
            not e.protected and e.origin == origin)]
        first = {e.source: e.target for e in chosen}
        later = {e.target: e.target for e in chosen}
        if first:
            groups[origin] = (first, later)
    texts = {f"{origin}-{i}.txt": _text_dict(pairs[i]) for origin, pairs in groups.items() for i in (0, 1)}
    digest = hashlib.sha256(
        json.dumps([str(share), base, sorted(texts.items())], ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:24]
    directory = _cache_root() / f"{config}-{digest}"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        _write_atomic(directory / name, text)

    def refs(stage: int) -> dict[str, dict[str, Any]]:
        return {o: {"type": "text", "file": str(directory / f"{o}-{stage}.txt")} for o in groups}

    out: dict[str, Any] = dict(base)
    out["name"] = f"{base.get('name', config)} + zhpress"
    if "normalization" in base:
        out["normalization"] = [_absolutize(n, share) for n in base["normalization"]]
    chain = [_absolutize(stage, share) for stage in base["conversion_chain"]]
    seg = _absolutize(base["segmentation"], share) if "segmentation" in base else None
    seg_dict = seg["dict"] if seg is not None else chain[0]["dict"]
    seg_extra = list(refs(0).values())
    out["segmentation"] = {
        "type": seg["type"] if seg is not None else "mmseg",
        "dict": {"type": "group", "match_policy": "union", "dicts": [*seg_extra, seg_dict]},
    }
    out["conversion_chain"] = [
        {**stage, "dict": _wrap(stage["dict"], refs(min(i, 1)))}
        for i, stage in enumerate(chain)
    ]
    path = directory / "config.json"
    _write_atomic(path, json.dumps(out, ensure_ascii=False, indent=1))
    return str(path)


@cache
def _opencc(config_path: str) -> opencc.OpenCC:
    """One loaded OpenCC converter per config file per process (loading costs 50–70 ms)."""
    try:
        return opencc.OpenCC(config_path)
    except RuntimeError as exc:  # the binding reports every loading problem as RuntimeError
        raise RenderError(f"OpenCC could not load {config_path}: {exc}") from exc


@lru_cache(maxsize=1)
def _normalizer() -> opencc.OpenCC:
    """A converter made of OpenCC's normalization stage alone (the stage before any dictionary)."""
    share = _share_dir()
    norm = json.loads((share / "s2t.json").read_text(encoding="utf-8"))["normalization"][0]["dict"]
    node = _absolutize(norm, share)
    cfg = {"name": "zhpress normalization", "segmentation": {"type": "mmseg", "dict": node},
           "conversion_chain": [{"dict": node}]}
    digest = hashlib.sha256(json.dumps(cfg).encode("utf-8")).hexdigest()[:24]
    directory = _cache_root() / f"normalize-{digest}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    _write_atomic(path, json.dumps(cfg, ensure_ascii=False))
    return _opencc(str(path))


# ---------------------------------------------------------------------------------------------------------
# Quotation marks

_OPEN = {"“": "double", "‘": "single", "「": "double", "『": "single"}
_CLOSE = {"”": "double", "’": "single", "」": "double", "』": "single"}


def _is_apostrophe(text: str, i: int) -> bool:
    """’ between two Latin letters or digits (Xi’an, don’t) is an apostrophe, not a quotation mark."""
    return 0 < i < len(text) - 1 and text[i - 1].isascii() and text[i - 1].isalnum() and (
        text[i + 1].isascii() and text[i + 1].isalnum()
    )


def corner_quotes(text: str) -> str:
    """Curly quotes to corner brackets by nesting level: level 0 「」, level 1 『』, level 2 「」 again, …

    Corner brackets already present stay and count for the nesting. Unbalanced quotes never fail: an opening
    mark left open at the end of the string keeps its bracket (Chinese multi-paragraph quotations open every
    paragraph and close only the last); a closing ” with no open quotation becomes 」; a closing ’ with no
    open single quotation, or one between Latin letters, is an apostrophe and stays. A closing mark closes
    the nearest open quotation of its kind, abandoning quotations opened inside it.
    """
    if _QUOTE_RE.search(text) is None:
        return text
    if _FLAT_DOUBLE_RE.fullmatch(text) is not None:
        return text.replace("“", "「").replace("”", "」")
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (kind, closing bracket)
    last = 0
    for m in _QUOTE_RE.finditer(text):
        mark, i = m.group(), m.start()
        out.append(text[last:i])
        last = m.end()
        if mark in ("「", "『"):
            stack.append((_OPEN[mark], "」" if mark == "「" else "』"))
            out.append(mark)
        elif mark in ("“", "‘"):
            level = len(stack)
            stack.append((_OPEN[mark], "」" if level % 2 == 0 else "』"))
            out.append("「" if level % 2 == 0 else "『")
        elif mark == "’" and _is_apostrophe(text, i):
            out.append(mark)
        else:
            kind = _CLOSE[mark]
            depth = next((d for d in range(len(stack) - 1, -1, -1) if stack[d][0] == kind), None)
            if depth is None:
                out.append("」" if mark == "”" else mark)
            else:
                closer = stack[depth][1]
                del stack[depth:]
                out.append(mark if mark in ("」", "』") else closer)
    out.append(text[last:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------
# The converter


class Converter:
    """Converts strings for one edition: OpenCC (with the extra dictionaries), then quotation marks."""

    def __init__(self, settings: ConversionSettings) -> None:
        self.settings = settings
        self.book_entries = book_entries(settings)
        self.zhpress_entries: tuple[Entry, ...] = shipped_entries(settings.region) if settings.region else ()
        if settings.region and settings.vocabulary == "computing":
            self.zhpress_entries += shipped_entries(f"{settings.region}-computing")
        self.config_path: str | None = None
        self._opencc: opencc.OpenCC | None = None
        if settings.opencc_config is not None:
            self.config_path = build_config(settings.opencc_config, self.book_entries + self.zhpress_entries)
            self._opencc = _opencc(self.config_path)
        self._corner = settings.quotes == "corner"

    def convert_script(self, text: str) -> str:
        """The OpenCC part alone (what the report diffs)."""
        return self._opencc.convert(text) if self._opencc is not None and text else text

    def convert_many(self, texts: list[str]) -> list[str]:
        """The OpenCC part for many strings in one call: joined by newlines, which no phrase spans.

        Segments never cross a newline (no dictionary phrase contains one), so the result equals converting
        each string alone, without paying the binding's per-call cost for every paragraph.
        """
        if self._opencc is None:
            return list(texts)
        joined = [t for t in texts if "\n" not in t]
        done = self._opencc.convert("\n".join(joined)).split("\n") if joined else []
        if len(done) != len(joined):  # never expected; stay correct anyway
            done = [self._opencc.convert(t) for t in joined]
        it = iter(done)
        return [next(it) if "\n" not in t else self._opencc.convert(t) for t in texts]

    def convert(self, text: str) -> str:
        """One string in the edition's script and quotation style (also used for book furniture)."""
        if self._opencc is not None and text:
            text = self._opencc.convert(text)
        return corner_quotes(text) if self._corner else text

    def passes(self) -> tuple[opencc.OpenCC, opencc.OpenCC, opencc.OpenCC]:
        """Converters for the report's comparison: OpenCC alone, with zhpress's corrections, with everything."""
        config = self.settings.opencc_config
        if config is None or self._opencc is None:
            raise RenderError("no script conversion: there are no passes to compare")
        base = _opencc(f"{config}.json")
        zhpress = _opencc(build_config(config, self.zhpress_entries))
        return base, zhpress, self._opencc


@cache
def get_converter(settings: ConversionSettings) -> Converter:
    """The converter for `settings`, cached per process so each OpenCC config loads once."""
    return Converter(settings)


# ---------------------------------------------------------------------------------------------------------
# Converting a book


def convert_book(book: Book, settings: ConversionSettings) -> tuple[Book, ConversionReport]:
    """Convert every text of the model (metadata, and every text group of the model's one walk: title parts,
    blocks, runs, cells, captions, notes), never markup, code, URLs or ruby annotations."""
    if settings.config is None and settings.quotes == "curly":
        return book, ConversionReport(settings, [])
    conv = get_converter(settings)
    meta = book.meta
    sources: list[str] = [
        t
        for t in (meta.title, meta.subtitle, meta.publisher, meta.rights, meta.description, meta.edition,
                  meta.printing, meta.price, *(c.name for c in meta.creators), *meta.subjects)
        if t
    ]
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

    def text(value: str | None) -> str | None:
        return final[value] if value else value

    new_meta = replace(
        meta,
        title=final[meta.title] if meta.title else meta.title,
        subtitle=text(meta.subtitle),
        creators=tuple(Creator(final[c.name] if c.name else c.name, c.role) for c in meta.creators),
        publisher=text(meta.publisher),
        rights=text(meta.rights),
        description=text(meta.description),
        subjects=tuple(final[s] if s else s for s in meta.subjects),
        edition=text(meta.edition),
        printing=text(meta.printing),
        price=text(meta.price),
    )

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


# ---------------------------------------------------------------------------------------------------------
# The report


@dataclass
class Change:
    """One distinct change: `source` became `result`, `count` times."""

    source: str
    result: str
    count: int
    context: str
    decided_by: DecidedBy
    kind: ChangeKind


@dataclass
class Term:
    """A protected or verbatim term of the book: how the edition writes it and how often it occurs."""

    kind: Literal["protected", "verbatim"]
    term: str
    form: str
    count: int


@dataclass
class Suspect:
    """A phrase whose conversion does not come back to the source through the reverse config."""

    source: str
    result: str
    back: str
    count: int
    context: str


#: One difflib opcode: (tag, i1, i2, j1, j2).
_Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


def _align(src: str, out: str, back_char: dict[str, str], reverse: opencc.OpenCC) -> list[_Opcode]:
    """Opcodes aligning `src` with `out`, compared through each output character's reverse conversion."""
    backs = []
    for c in out:
        b = back_char.get(c)
        if b is None:
            b = reverse.convert(c)
            b = b if len(b) == 1 else c
            back_char[c] = b
        backs.append(b)
    matcher = difflib.SequenceMatcher(None, src, "".join(backs), autojunk=False)
    return matcher.get_opcodes()


def _position_map(opcodes: list[_Opcode], n: int) -> list[int]:
    """For each boundary 0..n of the source, its place in the output, or -1 inside a changed block."""
    pos = [-1] * (n + 1)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for k in range(i2 - i1 + 1):
                pos[i1 + k] = j1 + k
        else:
            pos[i1] = j1
            pos[i2] = j2
    return pos


class _Analyzer:
    """The report's work: aligning source and output, finding phrases, comparing passes."""

    def __init__(self, conv: Converter) -> None:
        config = conv.settings.opencc_config
        assert config is not None
        characters = _CHARACTERS.get(config, config)
        self.conv = conv
        self.base, self.zhpress, self.full = conv.passes()
        self.reverse = _opencc(f"{REVERSE_CONFIG[characters]}.json")  # characters only: aligns, tells glyphs
        self.round_trip = _opencc(f"{REVERSE_CONFIG[config]}.json")  # the safety net
        self.char_base = _opencc(f"{characters}.json")
        self.back_char: dict[str, str] = {}
        self.glyph_memo: dict[tuple[str, str], bool] = {}
        patterns = {}
        for origin, entries in (("book", conv.book_entries), ("zhpress", conv.zhpress_entries)):
            keys = sorted({e.source for e in entries}, key=len, reverse=True)
            patterns[origin] = re.compile("|".join(map(re.escape, keys))) if keys else None
        self.patterns = patterns

    def is_glyph(self, source: str, result: str) -> bool:
        """True when each character maps to one character that is a script form of it."""
        if len(source) != len(result):
            return False
        for s, r in zip(source, result, strict=True):
            if s == r:
                continue
            known = self.glyph_memo.get((s, r))
            if known is None:
                known = self.char_base.convert(s) == r or self.reverse.convert(r) == s
                self.glyph_memo[(s, r)] = known
            if not known:
                return False
        return True

    def pieces(self, src: str, out: str) -> list[tuple[int, int, str]]:
        """The changes in one string as (start, end, result): glyph changes per character, vocabulary by phrase."""
        ops = _align(src, out, self.back_char, self.reverse)
        pos = _position_map(ops, len(src))
        pieces: list[tuple[int, int, str]] = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                pieces.extend((i1 + k, i1 + k + 1, out[j1 + k]) for k in range(i2 - i1) if src[i1 + k] != out[j1 + k])
            elif tag == "replace" and i2 - i1 == j2 - j1 and self.is_glyph(src[i1:i2], out[j1:j2]):
                pieces.extend((i1 + k, i1 + k + 1, out[j1 + k]) for k in range(i2 - i1) if src[i1 + k] != out[j1 + k])
            else:
                pieces.append(self.widen(src, out, pos, i1, i2))
        return self.merge(pieces, src, out, pos)

    def widen(self, src: str, out: str, pos: list[int], i1: int, i2: int) -> tuple[int, int, str]:
        """Widen a vocabulary change to the smallest phrase that converts on its own to what the text shows."""
        candidates = [
            (a, b)
            for a in range(i1, max(-1, i1 - _WINDOW - 1), -1)
            for b in range(i2, min(len(src), i2 + _WINDOW) + 1)
            if pos[a] >= 0 and pos[b] >= 0 and b > a
        ]
        candidates.sort(key=lambda ab: (ab[1] - ab[0], -ab[0]))
        for a, b in candidates:
            if self.full.convert(src[a:b]) == out[pos[a]:pos[b]]:
                return a, b, out[pos[a]:pos[b]]
        return i1, i2, out[pos[i1]:pos[i2]] if pos[i1] >= 0 and pos[i2] >= 0 else ""

    @staticmethod
    def merge(pieces: list[tuple[int, int, str]], src: str, out: str, pos: list[int]) -> list[tuple[int, int, str]]:
        """Sort pieces and fold overlapping ones into one."""
        pieces.sort()
        merged: list[tuple[int, int, str]] = []
        for a, b, r in pieces:
            if merged and a < merged[-1][1]:
                pa = merged[-1][0]
                pb = max(b, merged[-1][1])
                if pos[pa] >= 0 and pos[pb] >= 0:
                    merged[-1] = (pa, pb, out[pos[pa]:pos[pb]])
                    continue
            merged.append((a, b, r))
        return merged

    def decide(self, src: str, out: str, pieces: list[tuple[int, int, str]]) -> list[tuple[int, int, str, DecidedBy]]:
        """Which dictionary decided each piece: OpenCC when its own pass gives the same, else zhpress or book."""
        base_out = self.base.convert(src)
        if base_out == out:
            return [(a, b, r, "opencc") for a, b, r in pieces]
        zh_out = self.zhpress.convert(src) if self.zhpress is not self.full else out
        maps = {}
        for name, text in (("base", base_out), ("zhpress", zh_out)):
            maps[name] = (text, _position_map(_align(src, text, self.back_char, self.reverse), len(src)))
        pos_full = _position_map(_align(src, out, self.back_char, self.reverse), len(src))

        def same(name: str, a: int, b: int, r: str) -> bool:
            text, pos = maps[name]
            return pos[a] >= 0 and pos[b] >= 0 and text[pos[a]:pos[b]] == r

        decided: list[tuple[int, int, str, DecidedBy]] = []
        for a, b, r in pieces:
            who: DecidedBy = "opencc" if same("base", a, b, r) else "zhpress" if same("zhpress", a, b, r) else "book"
            if who != "opencc":
                a, b, r = self.phrase(src, out, pos_full, a, b, r, who)
            if decided and a < decided[-1][1]:
                continue  # already inside the phrase of the previous piece
            decided.append((a, b, r, who))
        return decided

    def explained(self, src: str, a: int, b: int) -> bool:
        """True when a zhpress or book dictionary phrase overlaps src[a:b]."""
        for pattern in self.patterns.values():
            if pattern is None:
                continue
            for m in pattern.finditer(src, max(0, a - 12), min(len(src), b + 12)):
                if m.start() < b and a < m.end():
                    return True
        return False

    def phrase(
        self, src: str, out: str, pos: list[int], a: int, b: int, r: str, who: DecidedBy
    ) -> tuple[int, int, str]:
        """Widen a piece decided by an extra dictionary to the dictionary phrase that covers it."""
        pattern = self.patterns.get(who)
        if pattern is None:
            return a, b, r
        for m in pattern.finditer(src, max(0, a - 12), min(len(src), b + 12)):
            if m.start() <= a and b <= m.end() and pos[m.start()] >= 0 and pos[m.end()] >= 0:
                return m.start(), m.end(), out[pos[m.start()]:pos[m.end()]]
        return a, b, r


def _snippet(src: str, a: int, b: int) -> str:
    """A short context around src[a:b]."""
    return src[max(0, a - 10):b + 10]


class ConversionReport:
    """Every distinct change the conversion made, and the suspects of the round trip; computed on demand."""

    def __init__(self, settings: ConversionSettings, pairs: list[tuple[str, str]]) -> None:
        self.settings = settings
        self.pairs = pairs

    @cached_property
    def _analysis(self) -> tuple[list[Change], list[Suspect]]:
        if self.settings.config is None or not self.pairs:
            return [], []
        analyzer = _Analyzer(get_converter(self.settings))
        changes: dict[tuple[str, str, str], Change] = {}
        suspects: dict[tuple[str, str, str], Suspect] = {}
        seen: Counter[tuple[str, str]] = Counter()
        for pair in self.pairs:
            seen[pair] += 1
        for (src, out), times in seen.items():
            if src == out:
                pieces: list[tuple[int, int, str, DecidedBy]] = []
            else:
                pieces = analyzer.decide(src, out, analyzer.pieces(src, out))
            for a, b, r, who in pieces:
                key = (src[a:b], r, who)
                change = changes.get(key)
                if change is None:
                    kind: ChangeKind = "glyph" if analyzer.is_glyph(src[a:b], r) else "vocabulary"
                    changes[key] = Change(src[a:b], r, times, _snippet(src, a, b), who, kind)
                else:
                    change.count += times
            self._suspects(analyzer, src, out, pieces, times, suspects)
        ordered = sorted(changes.values(), key=lambda c: (c.kind != "vocabulary", -c.count, c.source, c.result))
        return ordered, sorted(suspects.values(), key=lambda s: (-s.count, s.source))

    @staticmethod
    def _suspects(
        analyzer: _Analyzer,
        src: str,
        out: str,
        pieces: list[tuple[int, int, str, DecidedBy]],
        times: int,
        suspects: dict[tuple[str, str, str], Suspect],
    ) -> None:
        """Convert `out` back and record every phrase that does not return to the source, that the conversion
        changed beyond one-to-one characters (干→幹/乾 is no suspect) and that no zhpress or book entry explains."""
        back = analyzer.round_trip.convert(out)
        if back == src:
            return
        pos_out = _position_map(_align(src, out, analyzer.back_char, analyzer.reverse), len(src))
        matcher = difflib.SequenceMatcher(None, src, back, autojunk=False)
        pos_back = _position_map(matcher.get_opcodes(), len(src))
        windows: set[tuple[int, int]] = set()
        for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            candidates = [
                (a, b)
                for a in range(i1, max(-1, i1 - _WINDOW - 1), -1)
                for b in range(i2, min(len(src), i2 + _WINDOW) + 1)
                if b > a and min(pos_out[a], pos_out[b], pos_back[a], pos_back[b]) >= 0
            ]
            candidates.sort(key=lambda ab: (ab[1] - ab[0], -ab[0]))
            for a, b in candidates:  # the smallest phrase that goes back on its own as it does in the text
                if analyzer.reverse.convert(out[pos_out[a]:pos_out[b]]) == back[pos_back[a]:pos_back[b]]:
                    windows.add((a, b))
                    break
            else:
                if candidates:
                    windows.add(candidates[0])
        for a, b in sorted(windows):
            key = (src[a:b], out[pos_out[a]:pos_out[b]], back[pos_back[a]:pos_back[b]])
            if key[0] == key[2] or analyzer.is_glyph(key[0], key[1]) or analyzer.explained(src, a, b):
                continue
            found = suspects.get(key)
            if found is None:
                suspects[key] = Suspect(key[0], key[1], key[2], times, _snippet(src, a, b))
            else:
                found.count += times

    @property
    def changes(self) -> list[Change]:
        """Distinct changes, vocabulary first, most frequent first."""
        return self._analysis[0]

    @property
    def suspects(self) -> list[Suspect]:
        """Phrases that do not come back to the source through the reverse config."""
        return self._analysis[1]

    @cached_property
    def terms(self) -> list[Term]:
        """The book's protected and verbatim terms, with the form the edition gives them and their count."""
        if self.settings.config is None:
            return []
        seen: Counter[str] = Counter()
        for src, _ in self.pairs:
            seen[src] += 1
        out = []
        for entry in get_converter(self.settings).book_entries:
            if entry.protected:
                count = sum(src.count(entry.source) * n for src, n in seen.items())
                out.append(Term("verbatim" if entry.verbatim else "protected", entry.source, entry.target, count))
        return out

    def vocabulary_by_origin(self) -> dict[DecidedBy, list[Change]]:
        """Vocabulary changes grouped by who decided them: OpenCC's tables, zhpress's dictionary, the book."""
        groups: dict[DecidedBy, list[Change]] = {"opencc": [], "zhpress": [], "book": []}
        for c in self.changes:
            if c.kind == "vocabulary":
                groups[c.decided_by].append(c)
        return groups

    def summary(self) -> str:
        """One line for the build output: vocabulary changes (occurrences) and suspects (distinct phrases)."""
        vocabulary = sum(c.count for c in self.changes if c.kind == "vocabulary")
        suspects = len(self.suspects)
        return f"{vocabulary} vocabulary change{'s' * (vocabulary != 1)}, {suspects} suspect{'s' * (suspects != 1)}"

    def to_tsv(self) -> str:
        """One row per distinct change: source, result, count, decided_by, kind (with a header row)."""
        rows = ["source\tresult\tcount\tdecided_by\tkind"]
        rows += [f"{c.source}\t{c.result}\t{c.count}\t{c.decided_by}\t{c.kind}" for c in self.changes]
        return "\n".join(rows) + "\n"

    def to_html(self, *, title: str, lang: str) -> str:
        """The report as an HTML page (templates/report.html, autoescaped)."""
        template = _report_environment().get_template("report.html")
        glyph = [c for c in self.changes if c.kind == "glyph"]
        config = self.settings.opencc_config
        return template.render(
            title=title,
            lang=lang,
            settings=self.settings,
            opencc_config=config,
            region={"tw": "Taiwan", "hk": "Hong Kong"}.get(self.settings.region or ""),
            reverse=REVERSE_CONFIG.get(config or "", None),
            groups=self.vocabulary_by_origin(),
            glyph=glyph,
            glyph_count=sum(c.count for c in glyph),
            terms=self.terms,
            suspects=self.suspects,
            summary=self.summary(),
            strings=len(self.pairs),
        )


@lru_cache(maxsize=1)
def _report_environment() -> jinja2.Environment:
    """The jinja2 environment of the report template (package templates, autoescaped)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("zhpress", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


__all__ = [
    "CONFIGS",
    "Change",
    "ConversionConfig",
    "ConversionReport",
    "ConversionSettings",
    "Converter",
    "Entry",
    "REVERSE_CONFIG",
    "Suspect",
    "Term",
    "VOCABULARIES",
    "build_config",
    "characters_only",
    "convert_book",
    "corner_quotes",
    "get_converter",
    "shipped_entries",
]

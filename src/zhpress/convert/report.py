"""The conversion report: what changed, by whose dictionary, and what looks suspect, as TSV and HTML."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import jinja2
import opencc

from .configs import load_opencc
from .converter import Converter, get_converter
from .settings import CHARACTERS_ONLY, REVERSE_CONFIG, ChangeKind, ConversionSettings, DecidedBy

_WINDOW = 4  # how far a vocabulary change is widened on each side to find the phrase OpenCC converted


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
        characters = CHARACTERS_ONLY.get(config, config)
        self.conv = conv
        self.base, self.zhpress, self.full = conv.passes()
        self.reverse = load_opencc(f"{REVERSE_CONFIG[characters]}.json")  # characters only: aligns, tells glyphs
        self.round_trip = load_opencc(f"{REVERSE_CONFIG[config]}.json")  # the safety net
        self.char_base = load_opencc(f"{characters}.json")
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

"""Vocabulary of the traditional editions on real news: every vocabulary change listed with its context,
counted against an editor's judgments, and the share of mainland words changed to the regional form.

A vocabulary change is a difference between the edition's text and OpenCC's character conversion alone
(s2tw, s2hk) that is more than a variant glyph. Each distinct change is judged once in
bench/vocabulary/judgments.tsv (`ok` or `wrong`, optionally only in a given context); the mainland words a
regional news editor changes are listed in bench/vocabulary/mainland.tsv with the forms the editor accepts
and the names in which they stay. Two designs are compared:

- `news` (the default): s2tw / s2hk + zhpress's regional news dictionary (src/zhpress/data/opencc/);
- `computing`: the earlier design, s2twp / s2hk + the correction layer of bench/vocabulary/*-corrections.tsv.

    python bench/vocabulary.py                      # every edition and design on every text set
    python bench/vocabulary.py --edition tw --design news --sets rmrb2020 --list /tmp/tw.tsv
"""

from __future__ import annotations

import argparse
import difflib
import glob
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import opencc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from zhpress.convert import ConversionSettings, Entry, build_config, get_converter  # noqa: E402

DATA = ROOT / "bench" / "vocabulary"
CORPUS = ROOT.parent / "shared" / "corpus"
# The text sets. rmrb2020 (People's Daily, February 2020) was held out: the dictionaries were curated on
# the others and not changed after it was first measured.
SETS = {
    "book": [str(ROOT / "content" / "*.txt")],
    "news2026": [str(CORPUS / "news-2026-06" / "*.txt")],
    "rmrb2019": [str(CORPUS / "rmrb-2019-2020" / "*" / "2019*.txt")],
    "rmrb2020": [str(CORPUS / "rmrb-2019-2020" / "*" / "2020*.txt")],
}
CHARACTERS = {"tw": "s2tw", "hk": "s2hk"}
_WINDOW = 4


def paragraphs(path: str) -> list[str]:
    """The pieces of one manuscript: archive one-line form (U+3000 U+3000) or one piece a line."""
    text = Path(path).read_text(encoding="utf-8").replace("\r", "")
    return [p.strip() for p in re.split("\u3000\u3000|\n", text) if p.strip()]


def converter(edition: str, design: str) -> opencc.OpenCC:
    """The OpenCC converter of one design for one edition."""
    if design == "news":
        conv = get_converter(ConversionSettings(CHARACTERS[edition], "curly"))
        return conv._opencc  # noqa: SLF001  (the script part, without quotation marks)
    name = {"tw": "s2twp", "hk": "s2hk"}[edition]
    entries = []
    for number, line in enumerate((DATA / f"{name}-corrections.tsv").read_text("utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            source, target, _ = line.split("\t")
            entries.append(Entry(source, target, "zhpress", line=number))
    return opencc.OpenCC(build_config(name, tuple(entries)))


@dataclass
class Judgment:
    verdict: str
    context: str
    note: str


def load_judgments(edition: str) -> dict[tuple[str, str], list[Judgment]]:
    """(source, result) → judgments of one edition; a judgment with a context applies only there."""
    out: dict[tuple[str, str], list[Judgment]] = {}
    for line in (DATA / "judgments.tsv").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = (line.split("\t") + ["", ""])[:6]
        ed, source, result, verdict, context, note = cells
        if ed in (edition, "*"):
            out.setdefault((source, result), []).append(Judgment(verdict, context, note))
    return out


def load_mainland(edition: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(mainland word, accepted regional forms, names in which the word stays) for one edition."""
    rows = []
    for line in (DATA / "mainland.tsv").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ed, word, forms, keep = (line.split("\t") + [""])[:4]
        if ed == edition:
            rows.append((word, tuple(forms.split("|")), tuple(k for k in keep.split("|") if k)))
    return sorted(rows, key=lambda r: -len(r[0]))


def boundary_map(ref: str, out: str) -> list[int]:
    """For each boundary of `ref` (the character conversion, as long as the source), its place in `out`;
    -1 inside a changed block."""
    pos = [-1] * (len(ref) + 1)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ref, out, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1 + 1):
                pos[i1 + k] = j1 + k
        else:
            pos[i1], pos[i2] = j1, j2
    return pos


def vocabulary_changes(src: str, ref: str, out: str, conv: opencc.OpenCC, back: opencc.OpenCC) -> list[tuple[int, int, str]]:
    """The vocabulary changes of one paragraph as (start, end, result), each widened to the smallest source
    phrase that converts on its own to what the text shows; variant glyphs (佈/布, 裏/裡) are not changes."""
    pos = boundary_map(ref, out)
    found = []
    blocks: list[list[int]] = []  # changed blocks, merged across short unchanged runs (質量→品質)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ref, out, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if blocks and i1 - blocks[-1][1] <= 2:
            blocks[-1][1], blocks[-1][3] = i2, j2
        else:
            blocks.append([i1, i2, j1, j2])
    for i1, i2, j1, j2 in blocks:
        if back.convert(ref[i1:i2]) == back.convert(out[j1:j2]) or back.convert(out[j1:j2]) == src[i1:i2]:
            continue  # a variant glyph, or the source's own characters kept (了解)
        span = (i1, i2, out[j1:j2])
        candidates = sorted(
            ((a, b) for a in range(i1, max(-1, i1 - _WINDOW - 1), -1)
             for b in range(i2, min(len(src), i2 + _WINDOW) + 1) if b > a and pos[a] >= 0 and pos[b] >= 0),
            key=lambda ab: (ab[1] - ab[0], -ab[0]),
        )
        for a, b in candidates:
            if conv.convert(src[a:b]) == out[pos[a]:pos[b]]:
                span = (a, b, out[pos[a]:pos[b]])
                break
        found.append(span)
    return found


def measure(edition: str, design: str, sets: list[str], listing: list[str] | None) -> dict[str, float]:
    conv = converter(edition, design)
    chars = opencc.OpenCC(f"{CHARACTERS[edition]}.json")
    back = opencc.OpenCC("t2s.json")
    judgments = load_judgments(edition)
    mainland = load_mainland(edition)
    total_chars = wrong = ok = unjudged = 0
    words_seen = words_changed = 0
    missed: Counter[str] = Counter()
    wrong_kinds: Counter[tuple[str, str]] = Counter()
    unjudged_kinds: Counter[tuple[str, str]] = Counter()
    for name in sets:
        for path in sorted(p for pattern in SETS[name] for p in glob.glob(pattern)):
            for src in paragraphs(path):
                ref, out = chars.convert(src), conv.convert(src)
                total_chars += len(re.sub(r"\s", "", src))
                if len(ref) != len(src):
                    raise SystemExit(f"{path}: the character conversion changed the length of a paragraph")
                for a, b, result in vocabulary_changes(src, ref, out, conv, back):
                    context = src[max(0, a - 12):b + 12]
                    verdict = "unjudged"
                    for j in judgments.get((src[a:b], result), []):
                        if not j.context or j.context in context:
                            verdict = j.verdict
                            break
                    if verdict == "wrong":
                        wrong += 1
                        wrong_kinds[(src[a:b], result)] += 1
                    elif verdict == "ok":
                        ok += 1
                    else:
                        unjudged += 1
                        unjudged_kinds[(src[a:b], result)] += 1
                    if listing is not None:
                        listing.append(f"{edition}\t{design}\t{Path(path).name}\t{src[a:b]}\t{result}\t{verdict}\t{context}")
                pos = boundary_map(ref, out)
                taken = [False] * len(src)
                for word, forms, keep in mainland:
                    kept = [m.span() for k in keep for m in re.finditer(re.escape(k), src)]
                    for m in re.finditer(re.escape(word), src):
                        i, j = m.start(), m.end()
                        if any(taken[i:j]) or any(ka <= i and j <= kb for ka, kb in kept):
                            continue
                        for k in range(i, j):
                            taken[k] = True
                        a, b = i, j
                        while pos[a] < 0:
                            a -= 1
                        while pos[b] < 0:
                            b += 1
                        words_seen += 1
                        # difflib may align the kept characters of a longer form (算法 in 演算法): look around
                        if any(f in out[max(0, pos[a] - 3):pos[b] + 3] for f in forms):
                            words_changed += 1
                        else:
                            missed[word] += 1
                            if listing is not None:
                                listing.append(f"{edition}\t{design}\t{Path(path).name}\t{word}\t{out[pos[a]:pos[b]]}"
                                               f"\tleft in\t{src[max(0, i - 12):j + 12]}")
    result = {
        "chars": total_chars, "ok": ok, "wrong": wrong, "unjudged": unjudged,
        "wrong_per_10k": wrong * 10_000 / max(1, total_chars),
        "mainland": words_seen, "changed": words_changed, "share": words_changed / max(1, words_seen),
    }
    print(f"{edition} {design:9} {'+'.join(sets):32} {total_chars:7} chars  vocabulary changes: {ok} ok, "
          f"{wrong} wrong ({result['wrong_per_10k']:.2f} per 10,000), {unjudged} unjudged;  mainland words "
          f"{words_changed}/{words_seen} changed ({result['share']:.1%})")
    if wrong_kinds:
        print("    wrong: " + ", ".join(f"{s}→{r} ×{n}" for (s, r), n in wrong_kinds.most_common()))
    if unjudged_kinds:
        print("    unjudged: " + ", ".join(f"{s}→{r} ×{n}" for (s, r), n in unjudged_kinds.most_common()))
    if missed:
        print("    left in: " + ", ".join(f"{w} ×{n}" for w, n in missed.most_common()))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=["tw", "hk"], action="append")
    parser.add_argument("--design", choices=["news", "computing"], action="append")
    parser.add_argument("--sets", default="book,news2026,rmrb2019;rmrb2020",
                        help="text sets joined by ',' measured together, groups separated by ';'")
    parser.add_argument("--list", type=Path, help="write every vocabulary change with its context here (TSV)")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=GLOB",
                        help="another text set (one article a file), e.g. unseen=/tmp/news/*.txt")
    args = parser.parse_args()
    for extra in args.extra:
        name, _, pattern = extra.partition("=")
        SETS[name] = [pattern]
    listing: list[str] | None = ["edition\tdesign\tfile\tsource\tresult\tverdict\tcontext"] if args.list else None
    for edition in args.edition or ["tw", "hk"]:
        for design in args.design or ["news", "computing"]:
            for group in args.sets.split(";"):
                measure(edition, design, group.split(","), listing)
    if args.list and listing is not None:
        args.list.write_text("\n".join(listing) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

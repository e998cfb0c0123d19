"""What the print typography costs: one body chunk rendered with all of it and with none, in one process.

The chunk is the first `--articles` articles of a news corpus (default: ../shared/corpus/news-2026-06) in a
scratch book project with the default styles, the `print` profile (A5, PDF/X, its stylesheets), laid out and
drawn as a chunked build's worker does (`render()` + `write_pdf()`). "none" is the same HTML and CSS with
every text filter replaced by plain escaping. Runs alternate; the medians and their ratio are printed.
`--profile FILE` writes a cProfile of one typeset render instead. `--split K` measures instead what a
document costs whatever its length: the same articles as one document and as documents of K articles
each (CPU seconds, interleaved, medians), and the difference shared among the extra documents.

    PYTHONPATH=src python bench/typography.py --runs 5
    PYTHONPATH=src python bench/typography.py --runs 3 --articles 12 --split 1
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from markupsafe import escape

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news-2026-06"


def scratch_project(folder: Path, corpus: Path, articles: int) -> Path:
    """A book project of the corpus' first `articles` manuscripts with the default styles."""
    content = folder / "content"
    content.mkdir(parents=True)
    shutil.copytree(ROOT / "styles", folder / "styles")
    (content / "book.toml").write_text('[book]\nid = "bench"\ntitle = "排印基准"\ndate = "2026-06-12"\n', "utf-8")
    for path in sorted(corpus.glob("*.txt"))[:articles]:
        shutil.copy(path, content / path.name)
    return folder


def split_jobs(job: Any, root: Path, size: int) -> list[Any]:
    """The articles of the typeset chunk `job` as documents of `size` articles each (the same sheets)."""
    import dataclasses

    from zhpress.config import load_project
    from zhpress.convert import get_converter
    from zhpress.convert.edition import conversion_settings, edition_book
    from zhpress.pdf import sources
    from zhpress.read.book import read_book

    project = load_project(root)
    profile = project.select(["print"])[0]
    book, _ = edition_book(project, profile, read_book(project, cache=False))
    convert = get_converter(conversion_settings(project, profile)).convert
    src = sources.edition_sources(project, profile, book, dt.datetime(2026, 6, 12), convert)
    views = src.context["articles"]
    return [dataclasses.replace(job, html=src.book_html(include_front=False, body_articles=views[i:i + size]))
            for i in range(0, len(views), size)]


def cpu(jobs: list[Any]) -> float:
    """CPU seconds of this process to render `jobs` one after another."""
    from zhpress.pdf.engine import render_job

    start = time.process_time()
    for job in jobs:
        render_job(job)
    return time.process_time() - start


def chunk_jobs(root: Path) -> dict[str, Any]:
    """The body-chunk render job of the print edition, with all typography ("typeset") and with none."""
    from zhpress.config import load_project
    from zhpress.convert import get_converter
    from zhpress.convert.edition import conversion_settings, edition_book
    from zhpress.pdf import sources
    from zhpress.pdf.engine import RenderJob
    from zhpress.pdf.schedule import NO_FOLIOS_CSS
    from zhpress.read.book import read_book
    from zhpress.typeset import TYPESET_CSS

    project = load_project(root)
    profile = project.select(["print"])[0]
    book, _ = edition_book(project, profile, read_book(project, cache=False))
    convert = get_converter(conversion_settings(project, profile)).convert
    jobs = {}
    for kind in ("typeset", "none"):
        if kind == "none":
            sources.typeset = lambda text, **_: escape(text)  # type: ignore[assignment]
            sources.typeset_pieces = lambda texts, dotted, **_: [escape(t) for t in texts]  # type: ignore[assignment]
        src = sources.edition_sources(project, profile, book, dt.datetime(2026, 6, 12), convert)
        html = src.book_html(include_front=False, body_articles=src.context["articles"])
        sheets = (*src.sheets, ("chunk-body.css", NO_FOLIOS_CSS))
        if kind == "none":  # nor what the layout sets from the text (the custom properties of typeset.css)
            sheets = tuple((name, TYPESET_CSS if name == "typeset.css" else css) for name, css in sheets)
        roots = tuple(str(r) for r in sources.fetch_roots(project))
        jobs[kind] = RenderJob("body", 0, html, sheets, str(project.content_dir), str(project.styles_dir), roots,
                               tuple(sorted(sources.pdf_options(profile).items())), kind, str(root / f"{kind}.pdf"))
    return jobs


def render(job: Any) -> float:
    """Seconds to lay out and draw one job (the worker's `render_job`, PDF written as a chunk part)."""
    from zhpress.pdf.engine import render_job

    start = time.perf_counter()
    render_job(job)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one typeset render to this file")
    parser.add_argument("--split", type=int, help="compare one document with documents of this many articles")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhpress-typo-") as tmp:
        root = scratch_project(Path(tmp), args.corpus, args.articles)
        jobs = chunk_jobs(root)
        if args.split:
            whole, parts = [jobs["typeset"]], split_jobs(jobs["typeset"], root, args.split)
            cpu(parts[:1])  # warm: fonts, caches, imports
            runs: dict[str, list[float]] = {"whole": [], "split": []}
            for _ in range(args.runs):
                runs["whole"].append(cpu(whole))
                runs["split"].append(cpu(parts))
            one, many = statistics.median(runs["whole"]), statistics.median(runs["split"])
            print(f"{args.articles} articles of {args.corpus.name}, {args.runs} runs each, CPU seconds")
            print(f"one document: {one:.3f} s   {len(parts)} documents of {args.split}: {many:.3f} s")
            print(f"each document beyond the first: {(many - one) / max(1, len(parts) - 1):.3f} s "
                  f"(an article in one document: {one / args.articles:.3f} s)")
            return
        spans = jobs["typeset"].html.count("<span")
        render(jobs["typeset"])  # warm: fonts, caches, imports
        if args.profile:
            cProfile.runctx("render(job)", globals(), {"render": render, "job": jobs["typeset"]}, str(args.profile))
            print(f"profile written to {args.profile}")
            return
        times: dict[str, list[float]] = {"typeset": [], "none": []}
        for _ in range(args.runs):
            for kind in times:
                times[kind].append(render(jobs[kind]))
    typeset, none = statistics.median(times["typeset"]), statistics.median(times["none"])
    print(f"{args.articles} articles of {args.corpus.name}, {spans} spans in the typeset HTML, {args.runs} runs each")
    print(f"all typography: {typeset:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times['typeset'])})")
    print(f"no typography:  {none:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times['none'])})")
    print(f"ratio: {typeset / none:.3f}")


if __name__ == "__main__":
    sys.exit(main())

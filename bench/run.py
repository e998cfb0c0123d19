"""zhpress benchmarks beside the peers: plain WeasyPrint on the same HTML, Typst, pandoc.

Generates books of N articles from the default manuscripts (nothing committed), runs every engine as a
whole process (interpreter start and imports included), several interleaved runs each, and records wall
time, peak memory of the whole process tree, pages and output size. Writes bench/results/<stamp>.json
(every run kept), bench/results/latest.json, bench/results/scaling.png, and prints the table and the
targets with their measured ratios.

    python bench/run.py --sizes 10 100 1000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEP = "\u3000\u3000"


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak RSS (the process and all its children, sampled every 20 ms) of one command."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return {"wall": wall, "peak_mb": peak / 2**20}


def make_book(folder: Path, n: int) -> Path:
    """A book project of `n` articles of about 2,800 characters, cut from the default manuscripts."""
    paragraphs: list[str] = []
    for path in sorted((ROOT / "content").glob("*.txt")):
        paragraphs += [p for p in path.read_text("utf-8").split(SEP)[1:] if len(p) > 40]
    content = folder / "content"
    content.mkdir(parents=True)
    shutil.copytree(ROOT / "styles", folder / "styles")
    (content / "book.toml").write_text(f'[book]\nid = "bench"\ntitle = "基准测试{n}篇"\ndate = "2022-05-10"\n', "utf-8")
    cursor = 0
    for i in range(n):
        body: list[str] = []
        while sum(map(len, body)) < 2700:
            body.append(paragraphs[cursor % len(paragraphs)])
            cursor += 1
        heading = "第{}部分综述".format("一二三四五六七八九十"[i % 10])
        body.insert(len(body) // 2, heading)
        text = f"第{i + 1}篇　党旗飘扬在上海抗疫一线" + SEP + SEP.join(body)
        (content / f"{i:05d}.txt").write_text(text, "utf-8")
    return folder


EXPORT = textwrap.dedent(
    """
    import sys, datetime as dt
    from pathlib import Path
    from zhpress.project import load_project
    from zhpress.build import read_book, edition_book, build_date
    from zhpress.convert import get_converter
    from zhpress.build import conversion_settings
    from zhpress.pdf.writer import render_html
    from zhpress.typeset import typeset, TYPESET_CSS
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    project = load_project(root)
    profile = project.profiles["print"]
    book = read_book(project)
    edition, _ = edition_book(project, profile, book)
    convert = get_converter(conversion_settings(project, profile)).convert
    html, sheets, _ = render_html(project, profile, edition, build_date(project, book), convert,
                                  text_filter=lambda t: typeset(t, latin_spacing=profile.page.latin_spacing))
    sheets.insert(2, ("typeset.css", TYPESET_CSS))
    (out / "book.html").write_text(html, "utf-8")
    (out / "book.css").write_text("\\n".join(css for _, css in sheets), "utf-8")
    md = []
    for a in edition.articles:
        md.append("# " + a.headline)
        for b in a.blocks:
            if b.type == "heading":
                md.append("## " + ((b.label or "") + b.text))
            elif b.text:
                md.append(b.text)
    (out / "book.md").write_text("\\n\\n".join(md), "utf-8")
    typ = ['#set page(width: 148mm, height: 210mm, margin: (top: 18mm, bottom: 20mm, inside: 20mm, outside: 16mm))',
           '#set text(font: "Noto Serif CJK SC", size: 10.5pt, lang: "zh", region: "cn")',
           '#set par(justify: true, first-line-indent: (amount: 2em, all: true), leading: 0.75em)',
           '#outline()']
    esc = lambda s: "".join("\\\\" + c if c in "#*_`$<>@[]\\\\" else c for c in s)
    for a in edition.articles:
        typ.append("#pagebreak(to: \\"odd\\")")
        typ.append("= " + esc(a.headline))
        for b in a.blocks:
            if b.type == "heading":
                typ.append("== " + esc((b.label or "") + b.text))
            elif b.text:
                typ.append(esc(b.text))
    (out / "book.typ").write_text("\\n\\n".join(typ), "utf-8")
    """
)

PLAIN_WEASYPRINT = (
    "import sys, weasyprint; "
    "weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[3], stylesheets=[weasyprint.CSS(filename=sys.argv[2])])"
)
TYPST = (
    "import sys, typst; "
    "typst.compile(sys.argv[1], output=sys.argv[2], font_paths=['/usr/share/fonts/opentype/noto'])"
)
PANDOC = "import sys, pypandoc; pypandoc.convert_file(sys.argv[1], 'epub3', outputfile=sys.argv[2], extra_args=['--metadata', 'title=bench', '--metadata', 'lang=zh-Hans'])"


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def run_size(n: int, runs: int, work: Path, engines: list[str]) -> dict[str, list[dict[str, float]]]:
    book = make_book(work / f"book-{n}", n)
    out = work / f"out-{n}"
    out.mkdir()
    subprocess.run([sys.executable, "-c", EXPORT, str(book), str(out)], check=True)
    py = sys.executable
    commands: dict[str, tuple[list[str], Path]] = {
        "zhpress print": ([py, "-m", "zhpress", "build", "print", "-C", str(book), "-o", str(out / "z"), "-q"], out / "z" / "bench-print.pdf"),
        "zhpress ebook": ([py, "-m", "zhpress", "build", "ebook", "-C", str(book), "-o", str(out / "z"), "-q"], out / "z" / "bench-ebook.epub"),
        "weasyprint": ([py, "-c", PLAIN_WEASYPRINT, str(out / "book.html"), str(out / "book.css"), str(out / "plain.pdf")], out / "plain.pdf"),
        "typst": ([py, "-c", TYPST, str(out / "book.typ"), str(out / "typst.pdf")], out / "typst.pdf"),
        "pandoc epub": ([py, "-c", PANDOC, str(out / "book.md"), str(out / "pandoc.epub")], out / "pandoc.epub"),
    }
    commands = {k: v for k, v in commands.items() if k in engines}
    results: dict[str, list[dict[str, float]]] = {k: [] for k in commands}
    for _ in range(runs):  # interleaved, so a noisy moment hits every engine alike
        for name, (cmd, output) in commands.items():
            run = measure(cmd)
            run["size_kb"] = output.stat().st_size / 1024
            if output.suffix == ".pdf":
                run["pages"] = pages(output)
            results[name].append(run)
            print(f"  N={n:<5} {name:14} {run['wall']:7.2f} s {run['peak_mb']:7.0f} MB", flush=True)
    return results


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-runs", type=int, default=1, help="runs at N >= 1000 (each takes minutes)")
    parser.add_argument("--engines", nargs="+", default=["zhpress print", "zhpress ebook", "weasyprint", "typst", "pandoc epub"])
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        # The default book itself, as the first row.
        work = Path(tmp)
        for n in args.sizes:
            runs = args.runs if n < 1000 else args.big_runs
            data["sizes"][str(n)] = run_size(n, runs, work, args.engines)  # type: ignore[index]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    text = json.dumps(data, indent=1)
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    report(data)
    plot(data)


def report(data: dict) -> None:
    print("\n| N | engine | wall (median) | peak MB | pages | size KB | runs |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, engines in data["sizes"].items():
        for name, runs in engines.items():
            pages_ = runs[0].get("pages", "")
            print(f"| {n} | {name} | {median(runs, 'wall'):.2f} s | {median(runs, 'peak_mb'):.0f} | {pages_} | {median(runs, 'size_kb'):.0f} | {len(runs)} |")
    print("\nTargets (ratios of medians from this run):")
    for n, engines in data["sizes"].items():
        z = engines.get("zhpress print")
        if z and "weasyprint" in engines:
            print(f"  N={n}: zhpress print / plain WeasyPrint = {median(z, 'wall') / median(engines['weasyprint'], 'wall'):.2f}")
        if z and "typst" in engines:
            print(f"  N={n}: zhpress print / Typst = {median(z, 'wall') / median(engines['typst'], 'wall'):.2f}")
        e = engines.get("zhpress ebook")
        if e and "pandoc epub" in engines:
            print(f"  N={n}: zhpress ebook / pandoc = {median(e, 'wall') / median(engines['pandoc epub'], 'wall'):.2f}")
            print(f"  N={n}: zhpress ebook wall = {median(e, 'wall'):.2f} s")
    sizes = sorted(data["sizes"], key=int)
    if "100" in sizes and "1000" in sizes:
        z100, z1000 = data["sizes"]["100"].get("zhpress print"), data["sizes"]["1000"].get("zhpress print")
        if z100 and z1000:
            print(f"  zhpress print 1000/100 = {median(z1000, 'wall') / median(z100, 'wall'):.2f}")


def plot(data: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    names = {name for engines in data["sizes"].values() for name in engines}
    for name in sorted(names):
        xs = [int(n) for n in data["sizes"] if name in data["sizes"][n]]
        ys = [median(data["sizes"][str(n)][name], "wall") for n in xs]
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("articles")
    ax.set_ylabel("wall time (s, median)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png", dpi=120)


if __name__ == "__main__":
    main()

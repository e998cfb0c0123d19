"""zhpress benchmarks beside the peers: plain WeasyPrint on the same HTML and on a plain document, Typst, pandoc.

Generates books of N articles from the default manuscripts (nothing committed), runs every engine as a
whole process (interpreter start and imports included), several interleaved runs each, and records wall
time, peak memory of the whole process tree, pages and output size. A chunked print build runs with its
job log (bench/joblog.py), which bench/project.py projects onto more workers. Writes
bench/results/<stamp>.json (every run kept, job logs included), bench/results/latest.json,
bench/results/scaling.png, bench/projection.png, and prints the table and the targets with their measured
ratios.

    python bench/run.py --sizes 10 100 1000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import project
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
JOBLOG = ROOT / "bench" / "joblog.py"
PLAIN = ROOT / "bench" / "plain"
PROJECTION = ROOT / "bench" / "projection.png"
SEP = "\u3000\u3000"


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak memory of one command: the sum of RSS over the process and all its children
    (forked workers' shared pages counted in each, as the issue asks), and the sum of PSS (shared pages
    divided among the processes sharing them: what the build really occupies), sampled every 50 ms."""
    start, cpu = time.perf_counter(), children_cpu()
    proc = psutil.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        try:
            for p in [proc, *proc.children(recursive=True)]:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += info.pss
        except psutil.Error:
            pass
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return {"wall": wall, "peak_mb": peak_rss / 2**20, "peak_pss_mb": peak_pss / 2**20, "cpu": children_cpu() - cpu}


def children_cpu() -> float:
    """CPU seconds of the ended processes this one started, and of theirs (each reaped by its parent)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_book(folder: Path, n: int) -> Path:
    """A book project of `n` articles of about 2,800 characters, cut from the default manuscripts;
    n = 0 is the default book itself (content/ and styles/ as they are)."""
    if n == 0:
        shutil.copytree(ROOT / "content", folder / "content")
        shutil.copytree(ROOT / "styles", folder / "styles")
        text = (folder / "content" / "book.toml").read_text("utf-8")
        (folder / "content" / "book.toml").write_text(text.replace('id = "dangqi-shanghai"', 'id = "bench"'), "utf-8")
        return folder
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
    from zhpress.config import load_project
    from zhpress.build import build_date
    from zhpress.convert.edition import edition_book
    from zhpress.read.book import read_book
    from zhpress.convert import get_converter
    from zhpress.convert.edition import conversion_settings
    from zhpress.pdf.sources import edition_sources
    import jinja2
    root, out, plain = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    project = load_project(root)
    profile = project.profiles["print"]
    book = read_book(project)
    edition, _ = edition_book(project, profile, book)
    convert = get_converter(conversion_settings(project, profile)).convert
    src = edition_sources(project, profile, edition, build_date(project, book), convert)
    html, sheets = src.book_html(), src.sheets
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
    # the plain document: the same text, page and face, none of the book's styling (bench/plain/)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(plain), autoescape=jinja2.select_autoescape(["html"]))
    articles = [{"headline": a.headline, "blocks": [{"heading": b.type == "heading", "text": (b.label or "") + b.text}
                                                     for b in a.blocks if b.text]} for a in edition.articles]
    page = profile.page
    (out / "plain-doc.html").write_text(env.get_template("document.html").render(
        lang=profile.language, title=edition.meta.title, articles=articles), "utf-8")
    (out / "plain-doc.css").write_text(env.get_template("document.css").render(
        width=page.width, height=page.height, top=page.margin_top, bottom=page.margin_bottom,
        inner=page.margin_inner, outer=page.margin_outer, font=profile.font_family, size=page.font_size), "utf-8")
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


#: Books of this many articles or more are built in chunks (zhpress.pdf.schedule.MIN_CHUNKED_ARTICLES): their
#: print build runs with its job log.
CHUNKED = 24


def run_size(n: int, runs: int, work: Path, engines: list[str], single_pass_max: int = 100,
             one_worker_max: int = 200, edits: bool = True) -> dict[str, list[dict[str, Any]]]:
    book = make_book(work / f"book-{n}", n)
    out = work / f"out-{n}"
    out.mkdir()
    subprocess.run([sys.executable, "-c", EXPORT, str(book), str(out), str(PLAIN)], check=True)
    py = sys.executable
    logged = n >= CHUNKED
    print_cmd = ([py, str(JOBLOG), str(book), str(out / "z"), str(out / "jobs.json")] if logged
                 else [py, "-m", "zhpress", "build", "print", "-C", str(book), "-o", str(out / "z"), "-q", "--no-cache"])
    commands: dict[str, tuple[list[str], Path]] = {
        "zhpress print": (print_cmd, out / "z" / "bench-print.pdf"),
        "zhpress ebook": ([py, "-m", "zhpress", "build", "ebook", "-C", str(book), "-o", str(out / "z"), "-q"], out / "z" / "bench-ebook.epub"),
        "typst": ([py, "-c", TYPST, str(out / "book.typ"), str(out / "typst.pdf")], out / "typst.pdf"),
        "weasyprint": ([py, "-c", PLAIN_WEASYPRINT, str(out / "book.html"), str(out / "book.css"), str(out / "plain.pdf")], out / "plain.pdf"),
        "plain document": ([py, "-c", PLAIN_WEASYPRINT, str(out / "plain-doc.html"), str(out / "plain-doc.css"), str(out / "plain-doc.pdf")], out / "plain-doc.pdf"),
        "pandoc epub": ([py, "-c", PANDOC, str(out / "book.md"), str(out / "pandoc.epub")], out / "pandoc.epub"),
    }
    commands = {k: v for k, v in commands.items() if k in engines}
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in commands}
    for _ in range(runs):  # interleaved, so a noisy moment hits every engine alike
        for name, (cmd, output) in commands.items():
            run: dict[str, Any] = measure(cmd)
            run["size_kb"] = output.stat().st_size / 1024
            if output.suffix == ".pdf" and output.exists():
                run["pages"] = pages(output)
            if name == "zhpress print" and logged:
                run["job_log"] = job_log(out / "jobs.json", run)
            results[name].append(run)
            print(f"  N={n:<5} {name:14} {run['wall']:7.2f} s {run['peak_mb']:7.0f} MB (CPU {run['cpu']:.1f} s)", flush=True)
    if "zhpress print" in commands and logged and n <= one_worker_max:  # the other measured point
        run = measure([py, str(JOBLOG), str(book), str(out / "z1"), str(out / "jobs-1.json"), "-j", "1"])
        run["job_log"] = job_log(out / "jobs-1.json", run)
        results["zhpress print, 1 worker"] = [run]
        print(f"  N={n:<5} {'zhpress print, 1 worker':14} {run['wall']:7.2f} s {run['peak_mb']:7.0f} MB", flush=True)
    if "zhpress print" in commands and logged and edits:
        results.update(incremental(book, out))
        results.update(watch_loop(book, out))
        if n <= single_pass_max:
            results["zhpress print, single pass"] = [single_pass(book, out)]
    if n == 0:
        results.update(all_profiles(book, out))
    if n >= 100:
        results["opencc"] = [conversion_throughput(book)]
    return results


def job_log(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    """A build's job log with the whole process's measured wall time and peak memory."""
    log = json.loads(path.read_text())
    log["wall"], log["peak_mb"] = run["wall"], run["peak_mb"]
    return log


def incremental(book: Path, out: Path) -> dict[str, list[dict[str, float]]]:
    """Rebuild `print` with the chunk cache after editing one article: once keeping its page count (one
    character changed), once moving later pages (paragraphs of about 3,000 characters added: several pages,
    so every later article, the contents' numbers and the folios move). The page counts before and after
    are recorded, so a run shows that the second edit did move pages."""
    py = sys.executable
    cmd = [py, "-m", "zhpress", "build", "print", "-C", str(book), "-o", str(out / "inc"), "-q"]
    pdf = out / "inc" / "bench-print.pdf"
    measure(cmd)  # fills the cache
    before = pages(pdf)
    files = sorted((book / "content").glob("*.txt"))
    target = files[len(files) // 2]
    text = target.read_text("utf-8")
    target.write_text(text.replace("。", "！", 1), "utf-8")
    same_pages = measure(cmd)
    same_pages["pages_before"], same_pages["pages_after"] = before, pages(pdf)
    paragraphs = [p for p in text.split(SEP)[1:] if len(p) > 40]
    added: list[str] = []
    while sum(map(len, added)) < 3000:
        added.append(paragraphs[len(added) % len(paragraphs)])
    target.write_text(text + SEP + SEP.join(added), "utf-8")
    moved = measure(cmd)
    moved["pages_before"], moved["pages_after"] = before, pages(pdf)
    target.write_text(text, "utf-8")
    print(f"  incremental: same page count {same_pages['wall']:.2f} s ({before} -> {same_pages['pages_after']} pages), "
          f"pages moved {moved['wall']:.2f} s ({before} -> {moved['pages_after']} pages)", flush=True)
    return {"zhpress print, one article edited": [same_pages], "zhpress print, edit moving later pages": [moved]}


def watch_loop(book: Path, out: Path, rounds: int = 3) -> dict[str, list[dict[str, float]]]:
    """The edit loop: `zhpress build print --watch` kept running (its warm build process), each edit timed
    from the manuscript's save to the new PDF's rename (its inode changes: the output is written to a
    temporary file and renamed). Edits as in `incremental`: one character (the page count stays), and
    about 3,000 characters added (later pages move); each then undone (also timed), `rounds` times."""
    pdf = out / "watch" / "bench-print.pdf"
    cmd = [sys.executable, "-m", "zhpress", "build", "print", "-C", str(book), "-o", str(out / "watch"), "-q", "--watch"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def wait_for(predicate: Any, what: str, limit: float = 1800) -> None:
        deadline = time.monotonic() + limit
        while not predicate():
            if proc.poll() is not None:
                raise RuntimeError(f"the watcher ended while waiting for {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {what} in {limit} s")
            time.sleep(0.005)

    import threading

    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    results: dict[str, list[dict[str, float]]] = {"watch: one character": [], "watch: pages moved": [], "watch: undo": []}
    try:
        wait_for(lambda: pdf.exists() and any("watching" in line for line in lines), "first build")
        files = sorted((book / "content").glob("*.txt"))
        target = files[len(files) // 2]
        text = target.read_text("utf-8")
        paragraphs = [p for p in text.split(SEP)[1:] if len(p) > 40]
        added: list[str] = []
        while sum(map(len, added)) < 3000:
            added.append(paragraphs[len(added) % len(paragraphs)])
        stops = [i for i, c in enumerate(text) if c == "。"]
        pick = random.Random(time.time_ns())
        used_file = book / ".bench-watch-edits.json"  # the places edited by earlier runs on this book
        used = set(map(tuple, json.loads(used_file.read_text("utf-8")))) if used_file.exists() else set()
        for _ in range(rounds):
            # each edit new to the caches, even on a book reused: a place no earlier run edited that way
            fresh = {kind: [i for i in stops if (target.name, kind, i) not in used] for kind in ("one", "more")}
            if not fresh["one"] or not fresh["more"]:
                raise RuntimeError(f"every place of {target.name} was edited by an earlier run: use a new book")
            one, more = pick.choice(fresh["one"]), pick.choice(fresh["more"])
            used.update({(target.name, "one", one), (target.name, "more", more)})
            used_file.write_text(json.dumps(sorted(used)), "utf-8")
            edits = [("watch: one character", text[:one] + "！" + text[one + 1:]), ("watch: undo", text),
                     ("watch: pages moved", text[:more + 1] + SEP + SEP.join(added) + SEP + text[more + 1:]), ("watch: undo", text)]
            for name, new_text in edits:
                before, pages_before = pdf.stat().st_ino, pages(pdf)
                time.sleep(1.0)  # the watcher idle, as after typing
                start = time.perf_counter()
                target.write_text(new_text, "utf-8")
                wait_for(lambda b=before: pdf.exists() and pdf.stat().st_ino != b, f"rebuild after {name}")
                seconds = time.perf_counter() - start
                results[name].append({"wall": seconds, "pages_before": pages_before, "pages_after": pages(pdf)})
                print(f"  {name:22} {seconds:6.2f} s (save to rename; {pages_before} -> {pages(pdf)} pages)", flush=True)
        target.write_text(text, "utf-8")
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


SINGLE_PASS = textwrap.dedent(
    """
    import sys
    import zhpress.pdf.schedule as schedule
    schedule.MIN_CHUNKED_ARTICLES = 10**9  # the whole book as one WeasyPrint document
    from zhpress.cli import main
    sys.exit(main(["build", "print", "-C", sys.argv[1], "-o", sys.argv[2], "-q", "--no-cache"]))
    """
)


def single_pass(book: Path, out: Path) -> dict[str, float]:
    """The print edition of a book long enough to be chunked, built in one pass instead: the file size the
    chunked build is held to (once: it takes as long as plain WeasyPrint)."""
    run = measure([sys.executable, "-c", SINGLE_PASS, str(book), str(out / "single")])
    pdf = out / "single" / "bench-print.pdf"
    run["size_kb"] = pdf.stat().st_size / 1024
    run["pages"] = pages(pdf)
    print(f"  single pass: {run['wall']:.2f} s, {run['size_kb']:.0f} KB, {run['pages']} pages", flush=True)
    return run


def all_profiles(book: Path, out: Path) -> dict[str, list[dict[str, float]]]:
    """Every default profile in one parallel build, against the sum of building them one by one."""
    py = sys.executable
    profiles = ["ebook", "ebook-tw", "ebook-hk", "print", "print-tw", "print-hk", "screen"]
    together = measure([py, "-m", "zhpress", "build", "-C", str(book), "-o", str(out / "all"), "-q", "--no-cache"])
    alone = sum(
        measure([py, "-m", "zhpress", "build", p, "-C", str(book), "-o", str(out / "one"), "-q", "--no-cache", "-j", "1"])["wall"]
        for p in profiles
    )
    print(f"  all profiles together {together['wall']:.2f} s, one by one {alone:.2f} s", flush=True)
    return {"zhpress all profiles": [together], "zhpress profiles one by one (sum)": [{"wall": alone, "peak_mb": 0, "peak_pss_mb": 0, "size_kb": 0}]}


def archive(work: Path, sizes: list[int], rounds: int = 1) -> dict[str, Any]:
    """A shelf of books of `sizes` articles (0: the default book), every edition of each: `zhpress build-all`
    on it against `zhpress build` of each book one after another (as a script would), interleaved, caches
    off, all cores."""
    shelf = work / "shelf"
    for number, n in enumerate(sizes):
        book = make_book(shelf / f"book{number:02d}", n)
        toml = book / "content" / "book.toml"
        toml.write_text(toml.read_text("utf-8").replace('id = "bench"', f'id = "bench{number:02d}"'), "utf-8")
    py = sys.executable
    found: dict[str, list[dict[str, float]]] = {"build-all": [], "one after another": []}
    for _ in range(rounds):
        found["build-all"].append(measure([py, "-m", "zhpress", "build-all", str(shelf), "-q", "--no-cache"]))
        each = [measure([py, "-m", "zhpress", "build", "-C", str(book), "-q", "--no-cache"]) for book in sorted(shelf.iterdir())]
        found["one after another"].append({"wall": sum(r["wall"] for r in each), "cpu": sum(r["cpu"] for r in each),
                                           "peak_mb": max(r["peak_mb"] for r in each), "peak_pss_mb": max(r["peak_pss_mb"] for r in each)})
        together, alone = found["build-all"][-1], found["one after another"][-1]
        print(f"  archive of {len(sizes)} books ({', '.join(map(str, sizes))} articles): build-all {together['wall']:.1f} s "
              f"(CPU {together['cpu']:.1f} s, peak {together['peak_mb']:.0f} MB), one after another {alone['wall']:.1f} s "
              f"(CPU {alone['cpu']:.1f} s, peak {alone['peak_mb']:.0f} MB)", flush=True)
    return {"sizes": sizes, **found}


CONVERT = textwrap.dedent(
    """
    import json, sys, time, opencc
    from dataclasses import replace
    from pathlib import Path
    from zhpress.config import load_project
    from zhpress.read.book import read_book
    from zhpress.convert.edition import conversion_settings
    from zhpress.convert import convert_book, get_converter
    import zhpress.convert.book as convert
    project = load_project(Path(sys.argv[1]))
    book = read_book(project)
    # The generated book repeats the manuscripts' paragraphs; zhpress converts each distinct string once,
    # so every string is made distinct here to measure throughput on equal work.
    book = replace(book, articles=tuple(
        replace(a, headline=f"{a.headline}{i}", blocks=tuple(replace(b, text=f"{b.text}（{i}-{j}）") for j, b in enumerate(a.blocks)))
        for i, a in enumerate(book.articles)))
    text = "\\n".join(t for a in book.articles for t in a.texts())
    # What the editions convert with: each distinct conversion setting of the book's profiles (s2tw, s2hk
    # with the news dictionaries and corner quotes), against one raw call of the same OpenCC config, and
    # against one raw call of the config with the dictionaries zhpress chains in front of OpenCC's.
    found = {}
    for profile in project.profiles.values():
        settings = conversion_settings(project, profile)
        if settings.config is not None:
            found.setdefault(settings, []).append(profile.name)
    editions = {f"{s.opencc_config} ({', '.join(names)})": {"settings": s} for s, names in found.items()}
    split = convert.SPLIT_CHARS
    for name, edition in editions.items():
        settings = edition.pop("settings")
        raw = opencc.OpenCC(f"{settings.opencc_config}.json")
        same = opencc.OpenCC(str(get_converter(settings).config_path))
        best = dict(raw=1e9, raw_same_dictionaries=1e9, zhpress=1e9, zhpress_one_core=1e9)
        for _ in range(5):
            for key, run in (("raw", lambda: raw.convert(text)), ("raw_same_dictionaries", lambda: same.convert(text)),
                             ("zhpress", lambda: convert_book(book, settings))):
                t = time.perf_counter(); run(); best[key] = min(best[key], time.perf_counter() - t)
            convert.SPLIT_CHARS = 10**12  # the same on one core
            t = time.perf_counter(); convert_book(book, settings); best["zhpress_one_core"] = min(best["zhpress_one_core"], time.perf_counter() - t)
            convert.SPLIT_CHARS = split
        edition.update(best)
    print(json.dumps({"editions": editions, "chars": len(text)}))
    """
)


def conversion_throughput(book: Path) -> dict[str, Any]:
    """Each edition's conversion (its OpenCC config, dictionaries and quotes) over the whole book: zhpress's
    conversion stage against one raw OpenCC call of the same config (best of 5)."""
    result = subprocess.run([sys.executable, "-c", CONVERT, str(book)], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    for name, e in data["editions"].items():
        e["throughput"], e["throughput_same"] = e["raw"] / e["zhpress"], e["raw_same_dictionaries"] / e["zhpress"]
        e["throughput_one_core"] = e["raw"] / e["zhpress_one_core"]
        print(f"  OpenCC {name}: raw {e['raw'] * 1000:.0f} ms, raw with zhpress's dictionaries "
              f"{e['raw_same_dictionaries'] * 1000:.0f} ms, zhpress {e['zhpress'] * 1000:.0f} ms "
              f"(on one core {e['zhpress_one_core'] * 1000:.0f} ms), throughput {e['throughput']:.0%} / "
              f"{e['throughput_same']:.0%} (one core {e['throughput_one_core']:.0%})", flush=True)
    return {"wall": sum(e["zhpress"] for e in data["editions"].values()), "editions": data["editions"],
            "chars": data["chars"], "peak_mb": 0, "peak_pss_mb": 0, "size_kb": 0}


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r.get(key, 0) for r in runs)


def main() -> None:
    if sys.argv[1:2] == ["--plot"]:  # redraw the plots from a results file
        data = json.loads(Path(sys.argv[2]).read_text())
        plot(data)
        for line in projection(data):
            print(line)
        return
    if sys.argv[1:2] == ["--watch-book"]:  # the edit loop alone, on a book project already built once
        with tempfile.TemporaryDirectory() as tmp:
            found = watch_loop(Path(sys.argv[2]), Path(tmp), rounds=int(sys.argv[3]) if len(sys.argv) > 3 else 3)
        for name, runs in found.items():
            print(f"{name}: median {median(runs, 'wall'):.2f} s of {len(runs)}")
        return
    if sys.argv[1:2] == ["--archive-only"]:  # the archive build alone: python bench/run.py --archive-only N [N ...]
        with tempfile.TemporaryDirectory() as tmp:
            found = archive(Path(tmp), [int(n) for n in sys.argv[2:]] or ARCHIVE)
        print(archive_line(found))
        return
    if sys.argv[1:2] == ["--opencc"]:  # the conversion throughput alone, on a generated book of N articles
        with tempfile.TemporaryDirectory() as tmp:
            conversion_throughput(make_book(Path(tmp) / "book", int(sys.argv[2])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10, 100, 1000], help="articles; 0 = the default book")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs below 100 articles")
    parser.add_argument("--mid-runs", type=int, default=3, help="runs at 100 to 999 articles")
    parser.add_argument("--big-runs", type=int, default=1, help="runs at N >= 1000 (each takes minutes)")
    parser.add_argument("--single-pass-max", type=int, default=100,
                        help="build the chunked sizes up to N also in one pass, for the file-size target")
    parser.add_argument("--one-worker-max", type=int, default=200,
                        help="build the chunked sizes up to N also with one worker, the projection's second measured point")
    parser.add_argument("--no-edits", action="store_true", help="no incremental rebuilds and no single pass")
    parser.add_argument("--archive", type=int, nargs="*", default=ARCHIVE,
                        help="the books (articles each, 0: the default book) of the build-all shelf; none: no archive run")
    parser.add_argument("--engines", nargs="+",
                        default=["zhpress print", "zhpress ebook", "weasyprint", "plain document", "typst", "pandoc epub"])
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        # The default book itself, as the first row.
        work = Path(tmp)
        for n in args.sizes:
            runs = args.runs if n < 100 else args.mid_runs if n < 1000 else args.big_runs
            data["sizes"][str(n)] = run_size(n, runs, work, args.engines, args.single_pass_max,  # type: ignore[index]
                                             args.one_worker_max, not args.no_edits)
        if args.archive:
            data["archive"] = archive(work, args.archive)
    lines = projection(data)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    text = json.dumps(data, indent=1)
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    report(data)
    print("\nProjection of the print build's job log onto more workers (bench/project.py):")
    for line in lines:
        print("  " + line)
    plot(data)


def projection(data: dict) -> list[str]:
    """Each size's print build (the run of median wall time) projected onto more workers, checked against
    the other measured worker count, against Typst's cold compile of this run; draws bench/projection.png.
    The projected walls are kept in `data["projection"]`."""
    lines: list[str] = []
    curves = []
    data["projection"] = {}
    for n, engines in data["sizes"].items():
        logs = sorted((r["job_log"] for r in engines.get("zhpress print", []) if "job_log" in r), key=project.measured_wall)
        if not logs:
            continue
        log = logs[len(logs) // 2]
        others = [r["job_log"] for r in engines.get("zhpress print, 1 worker", [])]
        typst = median(engines["typst"], "wall") if "typst" in engines else None
        lines += project.report(log, others, typst)
        typst_cpu = median(engines["typst"], "cpu") if typst and "cpu" in engines["typst"][0] else None
        if typst_cpu:  # the projection counts CPU seconds; Typst's, for comparison on a loaded machine
            best = min(project.project(log, (w,))[w].wall for w in project.WORKERS if w <= project.GOAL_WORKERS)
            lines.append(f"N={n}: Typst's CPU seconds in that compile {typst_cpu:.1f} s (projected at <= "
                         f"{project.GOAL_WORKERS} workers / Typst's CPU seconds: {best / typst_cpu:.2f} x)")
        for other in others:  # and the other way round
            predicted, error = project.check(other, log)
            lines.append(f"check: the {other['workers']}-worker log predicts {predicted:.1f} s for {log['workers']} "
                         f"workers on this machine, measured {project.measured_wall(log):.1f} s ({error:+.1%})")
        data["projection"][n] = {str(w): s.wall for w, s in project.project(log).items()}
        curves.append((log, others, typst))
    if curves:
        project.plot(curves, PROJECTION)
    return lines


def report(data: dict) -> None:
    print("\n| N | engine | wall (median) | peak RSS sum MiB | peak PSS sum MiB | pages | size KB | runs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, engines in data["sizes"].items():
        for name, runs in engines.items():
            pages_ = runs[0].get("pages", "")
            label = "default book" if n == "0" else n
            print(f"| {label} | {name} | {median(runs, 'wall'):.2f} s | {median(runs, 'peak_mb'):.0f} | "
                  f"{median(runs, 'peak_pss_mb'):.0f} | {pages_} | {median(runs, 'size_kb'):.0f} | {len(runs)} |")
    print("\nTargets (ratios of medians from this run):")
    for line in targets(data):
        print("  " + line)


#: The bench's shelf for `zhpress build-all`: books of this many articles (0: the default book).
ARCHIVE = [0, 0, 10, 10, 30, 60]


def archive_line(found: dict[str, Any]) -> str:
    together, alone = median(found["build-all"], "wall"), median(found["one after another"], "wall")
    return (f"archive of {len(found['sizes'])} books: build-all / each book built one after another "
            f"{together / alone:.2f} ({together:.1f} s / {alone:.1f} s)")


def targets(data: dict) -> list[str]:
    """Each target of the speed issue beside what this run measured: 'met' or 'NOT met'."""
    lines: list[str] = []
    sizes = data["sizes"]

    def check(what: str, value: float, limit: float, unit: str = "x", at_least: bool = False) -> None:
        met = value >= limit if at_least else value <= limit
        shown = f"{value:.0%}" if unit == "%" else f"{value:.2f} {unit}".rstrip()
        bound = f"{limit:.0%}" if unit == "%" else f"{limit:g} {unit}".rstrip()
        lines.append(f"{what}: {shown} (target {'>=' if at_least else '<='} {bound}) {'met' if met else 'NOT met'}")

    def wall(n: str, name: str) -> float | None:
        runs = sizes.get(n, {}).get(name)
        return median(runs, "wall") if runs else None

    for n in sizes:
        label = "default book" if n == "0" else f"N={n}"
        z, w, t = wall(n, "zhpress print"), wall(n, "weasyprint"), wall(n, "typst")
        e, p = wall(n, "zhpress ebook"), wall(n, "pandoc epub")
        if n == "0" and z and w:
            check(f"{label}: print / plain WeasyPrint", z / w, 1.10)
        if n == "0" and e:
            check(f"{label}: ebook wall", e, 1.0, "s")
        if n == "1000":
            if e and p:
                check(f"{label}: ebook / pandoc", e / p, 1.0)
            if z and w:
                check(f"{label}: print / plain WeasyPrint", z / w, 0.5)
            if z and t:
                check(f"{label}: print / Typst", z / t, 4.0)
            if z:
                check(f"{label}: print peak memory (RSS sum)", median(sizes[n]["zhpress print"], "peak_mb"), 600, "MiB")
        elif z and n != "0":
            lines.append(f"{label}: print / plain WeasyPrint {z / w:.2f}" + (f", / Typst {z / t:.2f}" if t else "") if w else "")
        d = wall(n, "plain document")
        if z and d and n in ("200", "1000"):
            check(f"{label}: print / plain WeasyPrint on a plain document", z / d, 0.6)
        elif z and d:
            lines.append(f"{label}: print / plain WeasyPrint on a plain document {z / d:.2f}")
        single = sizes.get(n, {}).get("zhpress print, single pass")
        if single and z:
            check(f"{label}: chunked file / single-pass file", median(sizes[n]["zhpress print"], "size_kb") / single[0]["size_kb"], 1.2)
        inc = sizes.get(n, {}).get("zhpress print, one article edited")
        if inc and z and n != "1000":  # the targets are set on the 1000-article book
            lines.append(f"{label}: incremental edit / full print build {inc[0]['wall'] / z:.2f}")
        elif inc and z:
            check(f"{label}: incremental edit / full print build", inc[0]["wall"] / z, 0.15)
            moving = sizes[n]["zhpress print, edit moving later pages"][0]
            moved = moving["wall"]
            shift = moving.get("pages_after", 0) - moving.get("pages_before", 0)
            check(f"{label}: edit moving later pages ({shift:+d} pages) / full print build", moved / z, 0.15)
            if not shift:
                lines.append(f"{label}: the edit meant to move later pages did not move any")
            if t and n == "1000":
                check(f"{label}: incremental edit / Typst full compile", inc[0]["wall"] / t, 1.0)
        watch = sizes.get(n, {}).get("watch: one character")
        if watch:
            one = median(watch, "wall")
            moved_runs = sizes[n]["watch: pages moved"]
            if n == "1000":  # the bar: Typst's warm recompile on the same text
                check(f"{label}: --watch, one-character edit, save to new PDF", one, 2.6, "s")
                check(f"{label}: --watch, edit moving later pages, save to new PDF", median(moved_runs, "wall"), 3.2, "s")
            else:
                lines.append(f"{label}: --watch, one-character edit {one:.2f} s, edit moving later pages "
                             f"{median(moved_runs, 'wall'):.2f} s (save to new PDF)")
        if "zhpress all profiles" in sizes.get(n, {}):
            together = sizes[n]["zhpress all profiles"][0]["wall"]
            check(f"{label}: all profiles at once / one by one", together / sizes[n]["zhpress profiles one by one (sum)"][0]["wall"], 0.65)
        for edition, oc in sizes.get(n, {}).get("opencc", [{}])[0].get("editions", {}).items():
            config = edition.split()[0]
            if n != "1000":
                lines.append(f"{label}: OpenCC throughput, {edition} / one raw {config} call {oc['throughput']:.0%}")
                continue
            check(f"{label}: OpenCC throughput, {edition} / one raw {config} call", oc["throughput"], 0.8, "%", at_least=True)
            lines.append(f"{label}: OpenCC throughput, {edition}, on one core (not the target's measure) {oc['throughput_one_core']:.0%}")
            check(f"{label}: OpenCC throughput, {edition} / one raw call with the same dictionaries", oc["throughput_same"], 0.8, "%", at_least=True)
    if "archive" in data:
        lines.append(archive_line(data["archive"]))
    z100, z1000 = wall("100", "zhpress print"), wall("1000", "zhpress print")
    if z100 and z1000:
        check("print 1000 / 100 articles (linear: 10x)", z1000 / z100, 10.5)
    return [line for line in lines if line]


def plot(data: dict) -> None:
    if sum(int(n) > 0 for n in data["sizes"]) < 2:
        return  # nothing to draw a growth from (the default book alone)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    skip = ("opencc", "zhpress all profiles", "zhpress profiles one by one (sum)", "zhpress print, 1 worker")
    names = {name for engines in data["sizes"].values() for name in engines if name not in skip}
    for name in sorted(names):
        xs = [int(n) for n in data["sizes"] if name in data["sizes"][n] and int(n) > 0]
        ys = [median(data["sizes"][str(n)][name], "wall") for n in xs]
        ax.plot(xs, ys, marker="o", label=name)
    project.finish_plot(fig, ax, "articles", "wall time (s, median)", RESULTS / "scaling.png")


if __name__ == "__main__":
    main()

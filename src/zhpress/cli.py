"""The command line: commands, progress and exit codes. The only module that prints.

Exit status: 0 success, 1 a profile failed to render or a file failed validation, 2 a user error.
`build-all`: 2 when any book had bad input, else 1 when any failed to render or validate, else 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError, ZhpressError


class _LazyConsole:
    """A rich Console made on first use: importing rich costs a tenth of a second, and a PDF build forks
    its workers (which then load WeasyPrint) before anything is printed."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def real(self) -> Any:
        """The Console itself (for rich objects that take one)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


def escape(text: str) -> str:
    """Text made safe for rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


console: Any = _LazyConsole(stderr=True, highlight=False)
out: Any = _LazyConsole(highlight=False, soft_wrap=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhpress", description="Build Chinese books: EPUB 3 and print PDF editions.")
    parser.add_argument("--version", action="version", version=f"zhpress {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def project_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("-C", dest="project_dir", type=Path, default=Path("."), help="the book project (default: .)")

    def scheduler_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=os.environ.get("ZHPRESS_SCHEDULER") or None,
                       help="render long PDFs' chunks on this Dask cluster (default: $ZHPRESS_SCHEDULER; none: this machine)")

    build = sub.add_parser("build", help="build the named profiles (all when none is named)")
    build.add_argument("profiles", nargs="*", metavar="PROFILE")
    project_arg(build)
    build.add_argument("-o", dest="out_dir", type=Path, help="output folder (default: PROJECT_DIR/dist)")
    build.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    build.add_argument("--check", action="store_true", help="also run EPUBCheck / qpdf on the built files")
    build.add_argument(
        "-j", "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes at once: profiles, and a long PDF's chunks (default: the number of cores)",
    )
    build.add_argument(
        "--no-cache", action="store_true", help="read every manuscript and render every PDF chunk again instead of reusing PROJECT/.zhpress-cache"
    )
    scheduler_arg(build)

    build_all = sub.add_parser("build-all", help="build every book project (a folder with content/book.toml) under the folders given")
    build_all.add_argument("roots", nargs="*", type=Path, metavar="ROOT", help="folders searched for book projects")
    build_all.add_argument("-C", dest="project_dirs", action="append", type=Path, default=[],
                           help="a folder searched for book projects (repeatable; default: .)")
    build_all.add_argument("-q", "--quiet", action="store_true", help="print errors and the summary only")
    build_all.add_argument("--check", action="store_true", help="also run EPUBCheck / qpdf on the built files")
    build_all.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                           help="processes at once for each book (default: the number of cores)")
    build_all.add_argument("--no-cache", action="store_true", help="render every book again instead of reusing its .zhpress-cache")
    scheduler_arg(build_all)

    inspect = sub.add_parser("inspect", help="show the content model the builder understood")
    project_arg(inspect)
    inspect.add_argument("--json", action="store_true", help="one JSON object")
    inspect.add_argument("--profile", help="show the text as this edition converts it")

    convert = sub.add_parser("convert", help="print one article as an edition converts it, without building")
    convert.add_argument("profile")
    convert.add_argument("article", nargs="?", help="article id (default: all)")
    project_arg(convert)

    profiles = sub.add_parser("profiles", help="every profile with its resolved settings")
    project_arg(profiles)
    profiles.add_argument("--json", action="store_true")

    check = sub.add_parser("check", help="validate built files (EPUBCheck for EPUB, qpdf for PDF)")
    check.add_argument("files", nargs="*", type=Path)
    project_arg(check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `zhpress` command."""
    args = _parser().parse_args(argv)
    if args.command == "build" and args.jobs >= 1:
        from . import workers

        # Before anything else is imported: the workers load the PDF engine while the book is read.
        workers.start(min(args.jobs, len(args.profiles) or args.jobs))
    from rich.logging import RichHandler

    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=console.real(), show_time=False, show_path=False)],
        force=True,
    )
    # Errors Python can only report as "exception ignored" (a finalizer failing after a profile's render
    # failed) go to the debug log, never to the terminal as a traceback.
    sys.unraisablehook = _quiet_unraisable
    try:
        return {"build": _build, "build-all": _build_all, "inspect": _inspect, "convert": _convert, "profiles": _profiles, "check": _check}[
            args.command
        ](args)
    except ZhpressError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: one readable message, never a traceback
        if os.environ.get("ZHPRESS_DEBUG"):
            raise
        console.print(
            f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} (set ZHPRESS_DEBUG=1 for details)",
            soft_wrap=True,
        )
        return 1
    finally:
        _stop_workers()


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Log an unraisable exception for debugging instead of printing its traceback."""
    if os.environ.get("ZHPRESS_DEBUG"):
        sys.__unraisablehook__(unraisable)
        return
    logging.getLogger("zhpress").debug("ignored %r in %r", unraisable.exc_value, unraisable.object)


def _stop_workers() -> None:
    """Workers forked for a build that no longer needs them stop at once (never left to finish imports)."""
    if "zhpress.workers" in sys.modules:
        sys.modules["zhpress.workers"].discard()


def _project(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .project import load_project

    return load_project(args.project_dir)


def _executor(args: argparse.Namespace) -> Any:
    """The Dask cluster's executor when `--scheduler` (or ZHPRESS_SCHEDULER) names one, else None."""
    if not args.scheduler:
        return None
    from .pdf.executor import DaskExecutor

    return DaskExecutor(args.scheduler)


def _build(args: argparse.Namespace) -> int:
    project = _project(args)
    profiles = project.select(args.profiles)
    executor = _executor(args)
    try:
        return _build_project(args, project, profiles, executor, _Progress(args.quiet, None))
    finally:
        if executor is not None:
            executor.close()


def _build_project(args: argparse.Namespace, project: Any, profiles: list[Any], executor: Any, progress: _Progress) -> int:
    """Build `profiles` of one project into its output folder; the exit status."""
    from .build import BuildRequest, run_build

    out_dir = (getattr(args, "out_dir", None) or project.root / "dist").resolve()
    request = BuildRequest(project, profiles, out_dir, jobs=max(1, args.jobs), cache=not args.no_cache, executor=executor)
    quiet = args.quiet
    progress.out_dir = out_dir
    outcomes = progress.run(lambda: run_build(request, on_start=progress.started, on_done=progress.done, on_wait=progress.waiting))
    failed = [o for o in outcomes if not o.ok]
    if not quiet or failed:
        built = [o.profile for o in outcomes if o.ok]
        console.print(f"built: {', '.join(built) or 'nothing'}" + (f"; failed: {', '.join(o.profile for o in failed)}" if failed else ""))
    if failed:
        # Bad input found while rendering (a refused URL, a template error) is still the user's to fix.
        return max(o.error.exit_code for o in failed if o.error is not None)
    if args.check:
        return _check_files([p for o in outcomes for p in o.outputs if p.suffix in (".epub", ".pdf")], quiet)
    return 0


#: Folders never searched for book projects: outputs, caches, hidden folders.
_NOT_PROJECTS = {"dist", ".zhpress-cache"}


def find_projects(roots: list[Path]) -> list[Path]:
    """Every book project (a folder with content/book.toml) at or under `roots`, sorted, each once; the
    search does not enter a project, its outputs, caches, hidden folders or links to folders."""
    found: dict[Path, None] = {}
    for root in roots:
        if not root.is_dir():
            raise InputError("no such folder", path=root)
        for folder, dirnames, _files in os.walk(root):
            here = Path(folder)
            if (here / "content" / "book.toml").is_file():
                found.setdefault(here.resolve())
                dirnames[:] = []
                continue
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _NOT_PROJECTS)
    return sorted(found)


def _build_all(args: argparse.Namespace) -> int:
    """Every project under the folders given, one after another through the build, all editions; one
    book's failure does not stop the others; a summary line per book at the end."""
    from .errors import RenderError
    from .project import load_project

    roots = [*args.roots, *args.project_dirs] or [Path(".")]
    projects = find_projects(roots)
    if not projects:
        raise InputError("no book projects (folders with content/book.toml) found", path=", ".join(map(str, roots)))
    executor = _executor(args)
    progress = _Progress(args.quiet, None)
    results: list[tuple[Path, int, str]] = []

    def build_each() -> None:
        for number, folder in enumerate(projects, start=1):
            if not args.quiet:
                console.print(f"[bold]book {number}/{len(projects)}[/] {escape(str(folder))}")
            progress.tasks, progress.pages, progress.book = {}, {}, ""
            try:
                project = load_project(folder)
                progress.book = f"{project.book_id} · "
                status = _build_project(args, project, project.select([]), executor, progress)
                note = "built" if status == 0 else "failed"
            except ZhpressError as exc:
                status, note = exc.exit_code, str(exc)
                console.print(f"  [red]✗[/] {escape(note)}", soft_wrap=True)
            except Exception as exc:  # one book's surprise must not stop the others
                if os.environ.get("ZHPRESS_DEBUG"):
                    raise
                error = RenderError(f"internal error: {type(exc).__name__}: {exc}")
                status, note = error.exit_code, str(error)
                console.print(f"  [red]✗[/] {escape(note)}", soft_wrap=True)
            results.append((folder, status, note))

    try:
        progress.run(build_each)
    finally:
        if executor is not None:
            executor.close()
    from rich.table import Table

    table = Table("book", "outcome", title=f"{sum(s == 0 for _, s, _ in results)} of {len(results)} books built")
    for folder, status, note in results:
        table.add_row(str(folder), f"[green]{note}[/]" if status == 0 else f"[red]exit {status}: {escape(note)}[/]")
    console.print(table)
    statuses = {status for _, status, _ in results}
    return 2 if 2 in statuses else 1 if statuses - {0} else 0


class _Progress:
    """What a build shows: a line per profile started and finished; on a terminal, a live bar per profile
    with the chunks and pages done and an estimate of the time left (`--quiet` shows errors only)."""

    def __init__(self, quiet: bool, out_dir: Path | None) -> None:
        self.quiet = quiet
        self.out_dir = out_dir
        self.live = not quiet and console.is_terminal
        self.tasks: dict[str, Any] = {}
        self.pages: dict[str, int] = {}
        self.bar: Any = None
        self.book = ""  # build-all: the book's id before each profile's name

    def run(self, build: Any) -> Any:
        if not self.live or self.bar is not None:  # build-all: the books share one display
            return build()
        import threading

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from . import workers

        queue = workers.events()
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[pages]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console.real(), transient=False,
        )
        stop = threading.Event()

        def listen() -> None:
            while not stop.is_set():
                if queue.empty():
                    stop.wait(0.1)
                    continue
                kind, profile, pages, chunks = queue.get()
                task = self.tasks.get(profile)
                if kind == "chunk" and task is not None:
                    self.pages[profile] = self.pages.get(profile, 0) + pages
                    self.bar.update(task, total=chunks, advance=1, pages=f"{self.pages[profile]} pages")

        listener = threading.Thread(target=listen, daemon=True)
        with self.bar:
            listener.start()
            try:
                return build()
            finally:
                stop.set()
                listener.join()

    def started(self, profile: Any) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.tasks[profile.name] = self.bar.add_task(f"{self.book}{profile.name} ({profile.format})", total=None, pages="")
        else:
            console.print(f"[cyan]building[/] {profile.name} ({profile.format})")

    def done(self, outcome: Any) -> None:
        if self.bar is not None and outcome.profile in self.tasks:
            task = self.tasks[outcome.profile]
            total = self.bar.tasks[task].total or 1
            self.bar.update(task, total=total, completed=total, pages=f"{outcome.pages} pages" if outcome.pages else "")
        if self.quiet and outcome.ok:
            return
        if outcome.ok:
            pages = f", {outcome.pages} pages" if outcome.pages else ""
            console.print(f"  [green]✓[/] {escape(outcome.outputs[0].name)} ({outcome.seconds:.1f} s{pages})")
        else:
            console.print(f"  [red]✗ {escape(outcome.profile)}:[/] {escape(str(outcome.error))}", soft_wrap=True)

    def waiting(self) -> None:
        console.print(f"another build is writing {escape(str(self.out_dir))}; waiting for it to finish")


def _inspect(args: argparse.Namespace) -> int:
    from .build import edition_book, read_book

    project = _project(args)
    book = read_book(project)
    if args.profile:
        book, _ = edition_book(project, project.select([args.profile])[0], book)
    if args.json:
        out.print_json(json.dumps(book.to_json(), ensure_ascii=False))
        return 0
    for article in book.articles:
        _print_outline(article)
    return 0


_TITLE_STYLES = {"kicker": "cyan", "headline": "bold", "column": "magenta", "subtitle": "cyan", "byline": "green"}
_BLOCK_STYLES = {"heading": "bold", "editor_note": "yellow", "note_signature": "yellow", "epigraph": "italic",
                 "caption": "blue", "credit": "dim", "part_break": "dim"}


def _print_outline(article: Any) -> None:
    """One article as an editor checks it: title parts, then each block numbered as warnings name them,
    with its type, label, dateline and byline. The manuscript's text is printed literally (Text objects:
    no markup in it is interpreted)."""
    from rich.text import Text

    def short(text: str, limit: int = 60) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    out.print(Text.assemble((article.id, "bold"), "  ", (f"({article.source})", "dim")))
    for key in ("kicker", "headline", "column", "subtitle", "byline"):
        value = getattr(article, key)
        if value:
            out.print(Text.assemble(f"  {key:9} ", (value, _TITLE_STYLES[key])))
    if article.unsettled_title:
        out.print(Text("  ! kicker and headline may be fused: state `kicker` and `headline` in book.toml", "yellow"))
    for number, block in enumerate(article.blocks, start=1):
        style = _BLOCK_STYLES.get(block.type, "")
        line = Text.assemble(f"  {number:>3} ", (f"{block.type:14}", "dim"), " ")
        if block.label:
            line.append(block.label, "magenta")
            line.append(" ")
        if block.lead:
            line.append(block.lead, "green")
            line.append(" ")
            line.append(short(block.text[len(block.lead) :].lstrip("\u3000")), style)
        else:
            line.append(short(block.text), style)
        out.print(line)
        if block.byline:
            out.print(Text.assemble(" " * 21, ("byline ", "dim"), (block.byline, "green")))
    out.print()


def _convert(args: argparse.Namespace) -> int:
    from .build import edition_book, read_book

    project = _project(args)
    profile = project.select([args.profile])[0]
    book, _ = edition_book(project, profile, read_book(project))
    articles = [a for a in book.articles if args.article in (None, a.id)]
    if not articles:
        raise InputError(
            f"no article {args.article!r}; articles: {', '.join(a.id for a in book.articles)}", path=project.config_path
        )
    for article in articles:
        for text in article.texts():
            out.print(text, markup=False)
        out.print()
    return 0


def _profiles(args: argparse.Namespace) -> int:
    project = _project(args)
    if args.json:
        out.print_json(json.dumps({n: p.to_json() for n, p in project.profiles.items()}, ensure_ascii=False))
        return 0
    from rich.table import Table

    table = Table("profile", "format", "conversion", "quotes", "language", "font", "page")
    for profile in project.profiles.values():
        page = profile.page
        geometry = (
            f"{page.trim_name} {page.width:g}×{page.height:g} mm, bleed {page.bleed:g} mm, "
            f"{'marks, ' if page.marks else ''}{page.pdf_variant}"
            if page
            else ""
        )
        table.add_row(
            profile.name, profile.format, profile.conversion or "none", profile.quotes, profile.language, profile.font_family, geometry
        )
    out.print(table)
    return 0


def _check(args: argparse.Namespace) -> int:
    files = list(args.files)
    if not files:
        dist = args.project_dir / "dist"
        files = sorted(p for p in dist.glob("*") if p.suffix in (".epub", ".pdf")) if dist.is_dir() else []
        if not files:
            raise InputError("no built files to check", path=dist, hint="run zhpress build first")
    for path in files:
        if not path.is_file():
            raise InputError("no such file", path=path)
    return _check_files(files, quiet=False)


def _check_files(files: list[Path], quiet: bool) -> int:
    from .validate import run_epubcheck, run_qpdf

    results = run_epubcheck([p for p in files if p.suffix == ".epub"]) + run_qpdf([p for p in files if p.suffix == ".pdf"])
    bad = 0
    for result in results:
        if result.ok:
            if not quiet:
                console.print(f"[green]✓[/] {result.path.name}")
            continue
        bad += 1
        console.print(f"[red]✗[/] {result.path.name}: {len(result.errors)} errors, {len(result.warnings)} warnings")
        for line in result.errors + result.warnings:
            console.print(f"    {line}", markup=False)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line: commands, progress and exit codes. The only module that prints.

Exit status: 0 success, 1 a profile failed to render or a file failed validation, 2 a user error.
`build-all`: 2 when any book had bad input, else 1 when any failed to render or validate, else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
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


PROFILES_HELP = """profiles (editions; a book adds or changes them in content/book.toml, `zhpress profiles` lists them):
  ebook, ebook-tw, ebook-hk   EPUB 3: simplified; traditional for Taiwan; traditional for Hong Kong
  print, print-tw, print-hk   print PDF (PDF/X-4, A5 with 3 mm bleed and crop marks), same three scripts
  screen                      tagged PDF (PDF/UA-1) with links, for reading on a screen"""


def _parser() -> argparse.ArgumentParser:
    """The command line's parser.

    Long because it is one declaration per command and option, read as `zhpress --help` prints them."""
    parser = argparse.ArgumentParser(
        prog="zhpress",
        description="Build Chinese books: EPUB 3 and print PDF editions, simplified and traditional.",
        epilog=(
            "a book project is a folder with content/ (book.toml and the manuscripts, .txt or .md) and,\n"
            "optionally, styles/; outputs go to its dist/ as {book-id}-{profile}.epub/.pdf.\n\n"
            "examples:\n"
            "  zhpress new mybook                 start a book (templates: news, essays, blank)\n"
            "  zhpress build -C mybook            every edition of mybook into mybook/dist/\n"
            "  zhpress serve -C mybook            preview in the browser while writing\n"
            "  zhpress COMMAND --help             what one command does, with examples"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"zhpress {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, epilog: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help, description=help[0].upper() + help[1:] + ".", epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def project_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("-C", dest="project_dir", type=Path, default=Path("."), help="the book project (default: .)")

    def scheduler_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=os.environ.get("ZHPRESS_SCHEDULER") or None,
                       help="render long PDFs' chunks on this Dask cluster (default: $ZHPRESS_SCHEDULER; none: this machine)")

    new = command(
        "new", "start a book project in a new or empty folder",
        "the project builds at once: content/book.toml (the common keys, commented), sample manuscripts,\n"
        "styles/book.css and a .gitignore for dist/ and .zhpress-cache/.\n"
        "templates: news (a raw newspaper-archive article), essays (Markdown chapters), blank (one chapter).\n\n"
        "examples:\n"
        "  zhpress new mybook\n"
        "  zhpress new essays --template essays --title 河与灯\n"
        "  cd mybook && zhpress build",
    )
    new.add_argument("directory", type=Path, metavar="DIR", help="the folder to create (it must be absent or empty)")
    new.add_argument("--title", help="the book's title (default: the template's sample title; blank: the folder's name)")
    new.add_argument("--template", choices=("news", "essays", "blank"), default="news", help="what to start from (default: news)")

    build = command(
        "build", "build the named profiles (all when none is named)",
        "outputs: OUT/{book-id}-{profile}.epub or .pdf, and for a traditional edition its conversion report\n"
        "({book-id}-{profile}.conversion.html, .tsv); each file appears under its final name only when\n"
        "complete and checked. Bad input: one message naming the file and line, exit 2, OUT untouched.\n\n"
        + PROFILES_HELP + "\n\n"
        "examples:\n"
        "  zhpress build                      every profile of the book in this folder\n"
        "  zhpress build ebook print -C mybook\n"
        "  zhpress build print --watch        rebuild on every save (keep the PDF open in a viewer)\n"
        "  zhpress build --check -o /tmp/out  also run EPUBCheck and qpdf",
    )
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
        "--cover", action="store_true",
        help="also build each print edition's cover spread ({book-id}-{profile}-cover.pdf; on by default when book.toml has [cover])",
    )
    build.add_argument(
        "--no-cache", action="store_true", help="read every manuscript and render every PDF chunk again instead of reusing PROJECT/.zhpress-cache"
    )
    build.add_argument(
        "--watch", action="store_true",
        help="build, then rebuild whenever a file in content/ or styles/ changes (Ctrl+C stops)",
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

    serve = command(
        "serve", "preview the book in the browser, rebuilt on every save",
        "shows each article as the EPUB edition's page with its stylesheet, and the print edition's pages;\n"
        "watches content/ and styles/, rebuilds what changed and reloads the open page; a build error shows\n"
        "in the page (file and line) while the last good preview stays. Listens on 127.0.0.1 only unless\n"
        "--host says otherwise. The preview is built in PROJECT/.zhpress-cache/preview/ (dist/ is untouched).\n"
        "default profiles: the first EPUB and the first PDF profile (ebook and print).\n\n"
        "examples:\n"
        "  zhpress serve                      http://127.0.0.1:PORT/ on a free port\n"
        "  zhpress serve ebook-tw print-tw -C mybook --port 8000 --open",
    )
    serve.add_argument("profiles", nargs="*", metavar="PROFILE")
    project_arg(serve)
    serve.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="the interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--open", action="store_true", help="open the preview in the web browser")
    serve.add_argument("-j", "--jobs", type=int, default=None, help="processes for each rebuild (default: the number of cores)")

    inspect = command(
        "inspect", "show the content model the builder understood",
        "lists each article's title parts and its blocks (paragraph, heading, editor_note, epigraph, …),\n"
        "so you can see how a manuscript was read before building.\n\n"
        "examples:\n"
        "  zhpress inspect -C mybook\n"
        "  zhpress inspect --json > book.json\n"
        "  zhpress inspect --profile ebook-tw",
    )
    project_arg(inspect)
    inspect.add_argument("--json", action="store_true", help="one JSON object")
    inspect.add_argument("--profile", help="show the text as this edition converts it")

    convert = command(
        "convert", "print one article as an edition converts it, without building",
        "examples:\n"
        "  zhpress convert ebook-tw                  every article in Taiwan's traditional script\n"
        "  zhpress convert print-hk fahui-zuzhi-youshi",
    )
    convert.add_argument("profile", metavar="PROFILE")
    convert.add_argument("article", nargs="?", metavar="ARTICLE", help="article id (default: all)")
    project_arg(convert)

    profiles = command(
        "profiles", "every profile with its resolved settings",
        PROFILES_HELP + "\n\nexamples:\n  zhpress profiles -C mybook\n  zhpress profiles --json",
    )
    project_arg(profiles)
    profiles.add_argument("--json", action="store_true", help="one JSON object")

    check = command(
        "check", "validate built files (EPUBCheck for EPUB, qpdf for PDF)",
        "exit 1 when a file fails.\n\n"
        "examples:\n"
        "  zhpress check                      everything in ./dist\n"
        "  zhpress check dist/mybook-ebook.epub",
    )
    check.add_argument("files", nargs="*", type=Path, metavar="FILE")
    project_arg(check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `zhpress` command."""
    from . import workers

    handlers = workers.handle_signals()
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: workers and temporary folders are gone by now
        return workers.interrupted_status(exc)
    finally:
        _stop_workers()
        workers.restore_signals(handlers)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "build" and args.jobs >= 1 and not args.watch:
        from .pdf import pool

        # Before anything else is imported: the workers load the PDF engine while the book is read.
        pool.start(min(args.jobs, len(args.profiles) or args.jobs))
    _log_to_console(getattr(args, "quiet", False))
    # Errors Python can only report as "exception ignored" (a finalizer failing after a profile's render
    # failed) go to the debug log, never to the terminal as a traceback.
    sys.unraisablehook = _quiet_unraisable
    try:
        commands = {
            "build": _build, "build-all": _build_all, "inspect": _inspect, "convert": _convert, "profiles": _profiles,
            "check": _check, "new": _new, "serve": _serve,
        }
        return commands[args.command](args)
    except ZhpressError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return exc.exit_code
    except Exception as exc:  # the last line of defence: one readable message, never a traceback
        if os.environ.get("ZHPRESS_DEBUG"):
            raise
        console.print(
            f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} (set ZHPRESS_DEBUG=1 for details)",
            soft_wrap=True,
        )
        return 1


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Log an unraisable exception for debugging instead of printing its traceback."""
    if os.environ.get("ZHPRESS_DEBUG"):
        sys.__unraisablehook__(unraisable)
        return
    logging.getLogger("zhpress").debug("ignored %r in %r", unraisable.exc_value, unraisable.object)


def _stop_workers() -> None:
    """Workers forked for a build that no longer needs them stop at once (never left to finish imports);
    temporary folders an interrupt left are removed."""
    if "zhpress.pdf.pool" in sys.modules:
        sys.modules["zhpress.pdf.pool"].discard()
    if "zhpress.workers" in sys.modules:
        sys.modules["zhpress.workers"].remove_scratch()


def _project(args: argparse.Namespace) -> Any:
    from .config import load_project

    return load_project(args.project_dir)


def _executor(args: argparse.Namespace) -> Any:
    """The Dask cluster's executor when `--scheduler` (or ZHPRESS_SCHEDULER) names one, else None."""
    if not args.scheduler:
        return None
    from .pdf.executor import DaskExecutor

    return DaskExecutor(args.scheduler)


def _build(args: argparse.Namespace) -> int:
    if args.watch:
        return _build_watch(args)
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

    given = getattr(args, "out_dir", None)
    out_dir = Path(os.path.abspath(given or project.root / "dist"))  # as given: a link is not resolved
    request = BuildRequest(
        project, profiles, out_dir, jobs=max(1, args.jobs), cache=not args.no_cache,
        out_explicit=given is not None, cover=getattr(args, "cover", False), executor=executor,
    )
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


def _build_watch(args: argparse.Namespace) -> int:
    """`build --watch`: the same build, again after every change in content/ or styles/."""
    from .watch import build_command, watch_build, watched_folders

    project = _project(args)  # a project that cannot even be found is reported at once
    project.select(args.profiles)
    command = build_command(
        project.root, args.profiles, out_dir=args.out_dir.resolve() if args.out_dir else None, jobs=args.jobs,
        quiet=args.quiet, check=args.check, cache=not args.no_cache,
    )
    folders = " and ".join(f"{p.name}/" for p in watched_folders(project.root))

    def built(run: Any) -> None:
        console.print(f"[dim]watching {escape(folders)} for changes (Ctrl+C stops)[/]")

    def changed(paths: list[Path]) -> None:
        names = ", ".join(_relative(p, project.root) for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        console.print(f"[cyan]changed:[/] {escape(names)}; rebuilding")

    _stop_on_sigterm()
    try:
        watch_build(command, project.root, on_built=built, on_change=changed)
    except KeyboardInterrupt:
        console.print("stopped watching")
    return 0


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _stop_on_sigterm() -> None:
    """SIGTERM ends a long-running command as Ctrl+C does, so that it stops its build and its server."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _new(args: argparse.Namespace) -> int:
    from .scaffold import new_project

    written = new_project(args.directory, template=args.template, title=args.title)
    root = args.directory
    console.print(f"[green]created[/] {escape(str(root))} ({args.template}, {len(written)} files):")
    for path in written:
        console.print(f"  {escape(_relative(path, root))}")
    console.print(f"next: zhpress build -C {escape(str(root))}    or    zhpress serve -C {escape(str(root))}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    project = _project(args)
    if args.profiles:
        profiles = project.select(args.profiles)
    else:
        first: dict[str, Any] = {}
        for profile in project.profiles.values():
            first.setdefault(profile.format, profile)
        profiles = [first[f] for f in ("epub", "pdf") if f in first]

    def ready(url: str) -> None:
        out.print(f"serving {', '.join(p.name for p in profiles)} of {project.root} at {url} (Ctrl+C stops)", markup=False)
        out.file.flush()
        if args.open:
            import webbrowser

            webbrowser.open(url)

    def built(kind: str, run: Any) -> None:
        if run.ok:
            console.print(f"  [green]✓[/] {kind} preview rebuilt ({run.seconds:.1f} s)")
        else:
            console.print(f"  [red]✗[/] {escape(run.message or '')}", soft_wrap=True)

    _stop_on_sigterm()
    try:
        serve(project.root, profiles, host=args.host, port=args.port, jobs=args.jobs, on_ready=ready, on_built=built)
    except KeyboardInterrupt:
        console.print("stopped the preview server")
    return 0


def _build_all(args: argparse.Namespace) -> int:
    """Every project under the folders given, all editions; one book's failure does not stop the others; a
    summary line per book at the end. With more than one book and `-j` above 1 the books build at once in
    processes of their own, sharing the render slots (`zhpress.shelf`); else one after another here."""
    from .shelf import BookResult, build_books, find_projects

    roots = [*args.roots, *args.project_dirs] or [Path(".")]
    projects = find_projects(roots)
    if not projects:
        raise InputError("no book projects (folders with content/book.toml) found", path=", ".join(map(str, roots)))
    progress = _Progress(args.quiet, None)
    results: list[BookResult] = []
    finished: list[BookResult] = []

    def done(result: BookResult) -> None:
        finished.append(result)
        if not args.quiet:
            console.print(f"[bold]book {len(finished)}/{len(projects)}[/] {escape(str(result.folder))}")
        if result.output:
            from rich.text import Text

            console.print(Text.from_ansi(result.output.rstrip("\n")), soft_wrap=True)

    if len(projects) > 1 and args.jobs > 1:
        _before_book_processes(args)
        results = progress.run(lambda: build_books(projects, args.jobs, lambda folder: _book_process(args, folder), done))
    else:
        executor = _executor(args)
        try:
            def each() -> None:
                for number, folder in enumerate(projects, start=1):
                    if not args.quiet:
                        console.print(f"[bold]book {number}/{len(projects)}[/] {escape(str(folder))}")
                    progress.tasks, progress.pages, progress.book = {}, {}, ""
                    status, note = _one_book(args, folder, executor, progress)
                    results.append(BookResult(folder, status, note))

            progress.run(each)
        finally:
            if executor is not None:
                executor.close()
    from rich.table import Table

    table = Table("book", "outcome", title=f"{sum(r.status == 0 for r in results)} of {len(results)} books built")
    for r in results:
        table.add_row(str(r.folder), f"[green]{r.note}[/]" if r.status == 0 else f"[red]exit {r.status}: {escape(r.note)}[/]")
    console.print(table)
    statuses = {r.status for r in results}
    return 2 if 2 in statuses else 1 if statuses - {0} else 0


def _one_book(args: argparse.Namespace, folder: Path, executor: Any, progress: _Progress) -> tuple[int, str]:
    """Build every edition of the book at `folder`; its exit status and a note (a failure's one line is also
    printed)."""
    from .config import load_project
    from .errors import RenderError

    try:
        project = load_project(folder)
        progress.book = f"{project.book_id} · "
        if progress.remote:
            from . import workers

            workers.set_label(progress.book)
        status = _build_project(args, project, project.select([]), executor, progress)
        return status, "built" if status == 0 else "failed"
    except ZhpressError as exc:
        note, status = str(exc), exc.exit_code
    except Exception as exc:  # one book's surprise must not stop the others
        if os.environ.get("ZHPRESS_DEBUG"):
            raise
        error = RenderError(f"internal error: {type(exc).__name__}: {exc}")
        note, status = str(error), error.exit_code
    console.print(f"  [red]✗[/] {escape(note)}", soft_wrap=True)
    return status, note


def _before_book_processes(args: argparse.Namespace) -> None:
    """What every book process would otherwise do for itself, done once before they are forked: the PDF
    engine's import, the progress pipe, the key that signs cache entries (made once, not raced for)."""
    from . import files, workers
    from .pdf.engine import import_weasyprint

    import_weasyprint()
    workers.events()
    if not args.no_cache:
        files.signing_key()


def _book_process(args: argparse.Namespace, folder: Path) -> tuple[int, str, str]:
    """In a book's own process (`zhpress.shelf`): build it, its output captured for the command line to
    print when it is done, its progress reported under the book's name; its editions and their renders
    take the books' shared slots. On a cluster the process has its own client of the scheduler."""
    with captured_output(as_shown=True) as buffer:
        _log_to_console(args.quiet)
        progress = _Progress(args.quiet, None)
        progress.live, progress.remote = False, True
        executor = _executor(args)
        try:
            status, note = _one_book(args, folder, executor, progress)
        finally:
            if executor is not None:
                executor.close()
    return status, note, buffer.getvalue()


@contextlib.contextmanager
def captured_output(*, as_shown: bool = False) -> Iterator[io.StringIO]:
    """What the command line prints, into a buffer instead (a warm build's reply, a book process's block of
    output); `as_shown`: with the colours and width of the terminal it will be printed on, if any."""
    from rich.console import Console

    terminal = console.real()
    shown = as_shown and terminal.is_terminal
    buffer = io.StringIO()
    consoles = (console, out)
    saved = [c._console for c in consoles]
    for c in consoles:
        c._console = Console(file=buffer, highlight=False, soft_wrap=True, width=terminal.width if shown else 200,
                             force_terminal=shown, color_system=terminal.color_system if shown else None)
    try:
        yield buffer
    finally:
        for c, kept in zip(consoles, saved, strict=True):
            c._console = kept


def _log_to_console(quiet: bool) -> None:
    """Warnings (errors only with `--quiet`) to the command line's console, as one line each."""
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=console.real(), show_time=False, show_path=False)],
        force=True,
    )


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
        self.remote = False  # a build-all book process: its profiles' starts and ends go to the command line too

    def run(self, build: Any) -> Any:
        if not self.live or self.bar is not None:  # build-all: the books share one display
            return build()
        import threading

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from . import workers

        queue = workers.events()
        queue.drain()  # what earlier builds of a warm process reported while no progress was shown
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
                self._event(*queue.get())

        listener = threading.Thread(target=listen, daemon=True)
        with self.bar:
            listener.start()
            try:
                return build()
            finally:
                stop.set()
                listener.join()

    def _event(self, kind: str, name: str, *values: Any) -> None:
        """A progress event from a process of the build (`workers.report`): a chunk done; in build-all, a
        book process's profile started (a bar) or done (its bar goes: only what is being built is shown)."""
        if kind == "chunk" and name in self.tasks:
            pages, chunks = values
            self.pages[name] = self.pages.get(name, 0) + pages
            self.bar.update(self.tasks[name], total=chunks, advance=1, pages=f"{self.pages[name]} pages")
        elif kind == "started" and not self.quiet:
            self.tasks[name] = self.bar.add_task(f"{name} ({values[0]})", total=None, pages="")
        elif kind == "done" and name in self.tasks:  # a book's lines say it when the book is done
            self.bar.remove_task(self.tasks.pop(name))

    def _complete(self, name: str, pages: int | None) -> None:
        if self.bar is not None and name in self.tasks:
            task = self.tasks[name]
            total = self.bar.tasks[task].total or 1
            self.bar.update(task, total=total, completed=total, pages=f"{pages} pages" if pages else "")

    def started(self, profile: Any) -> None:
        if self.remote:
            from . import workers

            workers.report("started", profile.name, profile.format)
        if self.quiet:
            return
        if self.bar is not None:
            self.tasks[profile.name] = self.bar.add_task(f"{self.book}{profile.name} ({profile.format})", total=None, pages="")
        else:
            console.print(f"[cyan]building[/] {profile.name} ({profile.format})")

    def done(self, outcome: Any) -> None:
        if self.remote:
            from . import workers

            workers.report("done", outcome.profile, outcome.pages)
        self._complete(outcome.profile, outcome.pages)
        if self.quiet and outcome.ok:
            return
        if outcome.ok:
            pages = f", {outcome.pages} pages" if outcome.pages else ""
            console.print(f"  [green]✓[/] {escape(outcome.outputs[0].name)} ({outcome.seconds:.1f} s{pages})")
            for path in outcome.outputs[1:]:
                if path.name.endswith("-cover.pdf"):
                    console.print(f"  [green]✓[/] {escape(path.name)}")
            if outcome.conversion:
                console.print(f"    {escape(outcome.conversion)}", soft_wrap=True)
        else:
            console.print(f"  [red]✗ {escape(outcome.profile)}:[/] {escape(str(outcome.error))}", soft_wrap=True)

    def waiting(self) -> None:
        console.print(f"another build is writing {escape(str(self.out_dir))}; waiting for it to finish")


def _inspect(args: argparse.Namespace) -> int:
    from .convert.edition import edition_book
    from .read.book import read_book

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

    from .model import TITLE_PARTS

    def short(text: str, limit: int = 60) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    role = f"  {article.role}" if article.role else ""
    out.print(Text.assemble((article.id, "bold"), "  ", (f"({article.source})", "dim"), (role, "cyan")))
    for key in TITLE_PARTS:
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
            # a container (list, quotation, table, verse) shows the texts inside it; a figure its file
            text = block.text or " / ".join("".join(group) for group in block.text_groups() if any(group))
            line.append(short(text), style)
            if block.src:
                line.append(f"  [{block.src}]", "dim")
        out.print(line)
        if block.byline:
            out.print(Text.assemble(" " * 21, ("byline ", "dim"), (block.byline, "green")))
    for note in article.notes:
        text = " / ".join("".join(group) for group in note.text_groups() if any(group))
        out.print(Text.assemble(f"  {'n' + str(note.start):>3} ", (f"{'footnote':14}", "dim"), " ", short(text)))
    out.print()


def _convert(args: argparse.Namespace) -> int:
    from .convert.edition import edition_book
    from .read.book import read_book

    project = _project(args)
    profile = project.select([args.profile])[0]
    book, _ = edition_book(project, profile, read_book(project))
    articles = [a for a in book.articles if args.article in (None, a.id)]
    if not articles:
        raise InputError(
            f"no article {args.article!r}; articles: {', '.join(a.id for a in book.articles)}", path=project.config_path
        )
    for article in articles:
        for group in article.text_groups():  # one line per paragraph, caption, cell, note …
            out.print("".join(group), markup=False)
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

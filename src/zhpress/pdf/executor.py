"""Where a chunked build's render jobs run: in processes forked on this machine (`LocalExecutor`, the
default), or on the workers of a Dask cluster (`DaskExecutor`, `zhpress build --scheduler`).

A job is self-contained: its HTML, stylesheets and options go to a worker with the book's own files (its
content and styles folders, sent once per build and unpacked in the worker's temporary folder), and the
part's PDF and font maps come back as bytes, written here where the local workers would have written them.
Merging and finishing stay on this machine. `distributed` is imported only by `DaskExecutor`.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import itertools
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from .. import __version__, files
from ..config import Profile
from ..errors import InputError, RenderError, ZhpressError
from ..workers import die_with_parent, forking
from ..workers import slots as shared_slots
from .cache import font_fingerprint
from .engine import Rendered, RenderJob, import_weasyprint, package_dir, render_job
from .parts import maps_path

log = logging.getLogger("zhpress")

Items = Iterable["tuple[int, RenderJob] | None"]
_END = object()  # what `next` gives for an exhausted job list

#: How long to wait for a scheduler to answer and for its first worker (seconds).
CONNECT_TIMEOUT = 30


class Executor(Protocol):
    """Renders a chunked build's jobs; `run` has the contract of `_forked` (lazy jobs, None: wait)."""

    def prepare(self, profile: Profile) -> None: ...

    def run(self, items: Items, scratch: Path) -> Iterator[tuple[int, Rendered]]: ...


class LocalExecutor:
    """Each job in a process forked for it, `jobs` at a time, after a warm-up render in this process (so
    the forks share its loaded fonts); in this process when `jobs` is 1."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)

    def prepare(self, profile: Profile) -> None:
        """Nothing to check: the workers are this process's forks."""

    def run(self, items: Items, scratch: Path) -> Iterator[tuple[int, Rendered]]:
        pending = iter(items)
        if self.jobs == 1:
            for item in pending:
                if item is None:
                    raise RenderError("chunked build: a job waits for a result that is not rendered")
                index, job = item
                yield index, render_job(job)
            return
        first = next(pending, None)  # even one document: this process stays small for the merge
        if first is None:
            return
        _warm_up(first[1], scratch / "warm-up.pdf")
        queue = itertools.chain([first], pending)
        del first  # the jobs (and their HTML) are held only until a worker is forked with them
        yield from _forked(self.jobs, queue)


def _forked(workers: int, items: Iterable[tuple[int, RenderJob] | None]) -> Iterator[tuple[int, Rendered]]:
    """Render each job in a process of its own, forked from this one, `workers` at a time; yields (index,
    result) as they finish. A fresh fork per document keeps every worker as small as one document needs
    (WeasyPrint's caches and the heap only grow) at the cost of a fork, a few milliseconds. `items` is read
    when a worker is free; None from it means nothing is ready yet: it is asked again after the next result
    (it must not say so while no job is running)."""
    context = multiprocessing.get_context("fork")
    pending = iter(items)  # taken one at a time, when a worker is free
    running: dict[Any, tuple[Any, int]] = {}

    def start(index: int, job: RenderJob) -> None:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_render_child, args=(job, send), daemon=True)
        with forking():  # a Ctrl-C is taken once the process is in `running`, so it is stopped too
            process.start()
            send.close()
            running[receive] = (process, index)

    borrowed = _Borrowed(workers)
    more = True
    try:
        while more or running:
            capacity = borrowed.capacity(more)
            more = more and start_jobs(pending, running, capacity, start)
            borrowed.settle(len(running))  # taken, but no job was ready for it
            if not running:
                break
            ready: list[Any] = wait([*running, *borrowed.waiting(more, len(running) >= capacity)])
            for connection in ready:
                if isinstance(connection, int):  # a slot may be free
                    continue
                process, index = running.pop(connection)
                try:
                    status, payload = connection.recv()
                except EOFError:
                    status, payload = "died", None
                connection.close()
                process.join()
                if status == "error":
                    raise payload
                if status != "ok":
                    raise RenderError(f"a render worker stopped without a result (exit code {process.exitcode})")
                borrowed.settle(len(running))  # its slot is free until the next job is ready
                yield index, payload
    finally:
        borrowed.settle(0)
        for connection, (process, _index) in running.items():
            process.kill()
            process.join()
            connection.close()


class _Borrowed:
    """The shared slots a build-all book's render loop holds (`workers.Slots`): its first render runs on the
    slot its process already has, each further one on a slot taken while one is free. Elsewhere there are
    no shared slots and every one of `workers` is the loop's own."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.slots = shared_slots()
        self.count = 0

    def capacity(self, wanted: bool) -> int:
        """How many renders may run now, with as many free slots taken as are wanted and allowed."""
        if self.slots is None:
            return self.workers
        while wanted and 1 + self.count < self.workers and self.slots.take():
            self.count += 1
        return 1 + self.count

    def settle(self, running: int) -> None:
        """Give back the slots held beyond `running` renders."""
        spare = self.count - max(0, running - 1)
        if self.slots is not None and spare > 0:
            self.slots.give(spare)
            self.count -= spare

    def waiting(self, more: bool, full: bool) -> list[int]:
        """What to wait on besides the renders: the slots, while a job waits for one that may free."""
        if self.slots is None or not (more and full) or 1 + self.count >= self.workers:
            return []
        return [self.slots.fileno()]


#: The stylesheets this process has warmed up with (a warm build process's later builds need not again).
_warmed: set[str] = set()


def _warm_up(job: RenderJob, path: Path) -> None:
    """Lay out a line of the edition's text in this process before forking: the workers then start with
    the fonts and WeasyPrint's caches loaded (shared, copy-on-write) instead of each loading them. Once
    per process and edition's stylesheets (not the kind of document's own, `chunk-*.css`): what it loads
    stays loaded."""
    edition = [sheet for sheet in job.sheets if not sheet[0].startswith("chunk-")]
    sheets = hashlib.sha256(repr(edition).encode()).hexdigest()
    if sheets in _warmed:
        return
    _warmed.add(sheets)
    html = '<html lang="zh"><body><p>中文排版，“标点”与 Latin 123。</p></body></html>'
    sample = dataclasses.replace(job, kind="book", html=html, path=str(path))  # as a book: no collection of this heap
    try:
        render_job(sample)
    except Exception:
        log.debug("warm-up render failed", exc_info=True)


def _render_child(job: RenderJob, send: Any) -> None:
    """A forked worker's whole life: render one document, send back the result or the error."""
    # What the build holds (the book, the chunks' results) is never garbage here: left out of this process's
    # collections, it is neither walked nor copied on write (late chunks of a 1000-article build had slowed
    # from 2.7 to 3.2 s as the build's heap grew; with this they stay at the early chunks' time).
    gc.freeze()
    die_with_parent()
    try:
        send.send(("ok", render_job(job)))
    except BaseException as exc:  # noqa: BLE001  (any failure goes back to the build, which reports it)
        send.send(("error", exc))
    finally:
        send.close()


def start_jobs(pending: Iterator[tuple[int, RenderJob] | None], running: Sized, capacity: int,
               start: Callable[[int, RenderJob], None]) -> bool:
    """Start jobs from `pending` (`start(index, job)`) while fewer than `capacity` run; False once it is
    exhausted. None from `pending` means nothing is ready until a running job's result (it must not say so
    while none runs)."""
    while len(running) < capacity:
        item = next(pending, _END)
        if item is _END:
            return False
        if item is None:
            if not running:
                raise RenderError("chunked build: jobs are waiting for results that no worker will give")
            return True
        start(*item)  # type: ignore[misc]
    return True


# --- the cluster's side ------------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """What must be equal on the client and every worker for a part to come out byte for byte the same:
    the versions of zhpress, the PDF engine and its libraries, and zhpress's PDF code."""
    import pikepdf
    import pydyf

    import_weasyprint()
    import weasyprint
    from weasyprint.text.ffi import pango

    here = Path(__file__).parent
    code = hashlib.sha256()
    for module in sorted(here.rglob("*.py")):
        code.update(module.relative_to(here).as_posix().encode() + b"\0" + module.read_bytes())
    return {
        "zhpress": __version__,
        "WeasyPrint": weasyprint.__version__,
        "Pango": str(pango.pango_version()),
        "pydyf": pydyf.__version__,
        "pikepdf": pikepdf.__version__,
        "zhpress PDF code": code.hexdigest()[:16],
    }


def _probe(families: list[str]) -> dict[str, str]:
    """A worker's environment and font fingerprints (run on every worker before any job)."""
    found = environment()
    for family in families:
        found[f"font {family}"] = font_fingerprint(family)
    return found


@dataclass(frozen=True)
class Bundle:
    """The book's own files (content and styles folders) as bytes, by folder and relative path."""

    digest: str
    files: tuple[tuple[str, str, bytes], ...]  # (folder, relative path, data)


def _bundle(folders: dict[str, str]) -> Bundle:
    """The regular files under each folder (no hidden files, no links leading out of the folder)."""
    files: list[tuple[str, str, bytes]] = []
    for name, folder in sorted(folders.items()):
        root = Path(folder)
        if not root.is_dir():
            continue
        resolved = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if filename.startswith(".") or not path.is_file() or not path.resolve().is_relative_to(resolved):
                    continue
                files.append((name, path.relative_to(root).as_posix(), path.read_bytes()))
    digest = hashlib.sha256()
    for name, relative, data in files:
        digest.update(f"{name}\0{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return Bundle(digest.hexdigest(), tuple(files))


_unpack_lock = threading.Lock()
_render_lock = threading.Lock()


def _unpacked(bundle: Bundle) -> Path:
    """The bundle's files in this worker's temporary folder (unpacked once per bundle and worker)."""
    target = Path(tempfile.gettempdir()) / f"zhpress-{os.getuid()}" / "bundles" / bundle.digest
    with _unpack_lock:
        if (target / ".complete").is_file():
            return target
        partial = target.with_name(f".{bundle.digest}.{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        for name, relative, data in bundle.files:
            path = partial / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name in ("content", "styles"):
            (partial / name).mkdir(parents=True, exist_ok=True)
        (partial / ".complete").write_bytes(b"")
        try:
            partial.rename(target)
        except OSError:  # another process of this machine unpacked it first
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _local_folders() -> dict[str, str]:
    """This machine's package folders a job may read."""
    return {"templates": str(package_dir("templates")), "data": str(package_dir("data"))}


def _swap(text: str, prefixes: list[tuple[str, str]]) -> str:
    for old, new in prefixes:
        text = text.replace(Path(old).as_uri() + "/", Path(new).as_uri() + "/")
    return text


def _swap_path(path: str, prefixes: list[tuple[str, str]]) -> str:
    for old, new in prefixes:
        if path == old or path.startswith(old + "/"):
            return new + path[len(old):]
    return path


def render_remote(job: RenderJob, folders: dict[str, str], bundle: Bundle) -> dict[str, Any]:
    """On a worker: render `job` (whose paths are the client's `folders`) against this machine's copy of
    the book's files and its own zhpress, and return the part's bytes and what it reports."""
    here = _unpacked(bundle)
    mine = {"content": str(here / "content"), "styles": str(here / "styles"), **_local_folders()}
    there = sorted(((folders[n], mine[n]) for n in folders), key=lambda pair: -len(pair[0]))
    back = sorted(((mine[n], folders[n]) for n in folders), key=lambda pair: -len(pair[0]))
    with tempfile.TemporaryDirectory(prefix="zhpress-job-") as scratch:
        local = replace(
            job,
            html=_swap(job.html, there),
            sheets=tuple((name, _swap(css, there)) for name, css in job.sheets),
            content_dir=_swap_path(job.content_dir, there),
            styles_dir=_swap_path(job.styles_dir, there),
            roots=tuple(_swap_path(r, there) for r in job.roots),
            path=str(Path(scratch) / "part.pdf"),
        )
        with _render_lock:  # the engine's hooks are process-wide: one document at a time per process
            try:
                result = render_job(local)
            except ZhpressError as exc:  # named by the client's paths, as a local build names it
                exc.path = _swap_path(exc.path, back) if exc.path else exc.path
                raise
        pdf = Path(result.path).read_bytes()
        maps = Path(result.font_maps).read_bytes() if result.font_maps else None
    result.fetched = {_swap_path(p, back): d for p, d in result.fetched.items()}
    result.refused = [_swap(url, back) for url in result.refused]
    return {"result": result, "pdf": pdf, "maps": maps}


# --- the client's side -------------------------------------------------------------------------------------


def _scheduler_address(address: str) -> str:
    """`address` as tcp:// or tls:// HOST:PORT; InputError when it is none."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        port_ok = parsed.port is not None or ":" not in parsed.netloc
    except ValueError:
        port_ok = False
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname or not port_ok:
        raise InputError(f"not a scheduler address: {address!r}", hint="give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return f"{parsed.scheme}://{parsed.netloc}"


class DaskExecutor:
    """The jobs on the workers of a Dask cluster (`distributed.Client`), two a worker process at a time (each
    renders one at a time). Each worker's environment and fonts are compared with this machine's before its
    first job."""

    def __init__(self, address: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
        self.address = _scheduler_address(address)
        try:
            import distributed
        except ImportError:
            raise InputError(
                "--scheduler needs the `distributed` package", hint="pip install 'zhpress[cluster]'"
            ) from None
        self._distributed = distributed
        try:
            self.client = distributed.Client(self.address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise RenderError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            self.client.close()
            raise RenderError(f"the Dask scheduler at {self.address} has no workers") from None
        self.checked: dict[str, set[str]] = {}  # font family -> workers found matching
        self._bundles: dict[str, tuple[Any, Any]] = {}  # content dir -> (Bundle, its future on the cluster)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, profile: Profile) -> None:
        """Check every worker against this machine for `profile`'s font."""
        self.check([profile.font_family])

    def check(self, families: list[str]) -> None:
        """Fail with one message naming each worker whose versions or fonts differ from this machine's."""
        workers = sorted(self.client.scheduler_info()["workers"])
        todo = [f for f in families if set(workers) - self.checked.get(f, set())]
        if not todo:
            return
        here = _probe(todo)
        found = self.client.run(_probe, todo)
        problems = []
        for worker in sorted(found):
            differs = [f"{what} {found[worker].get(what, 'missing')!r} there, {mine!r} here"
                       for what, mine in here.items() if found[worker].get(what) != mine]
            if differs:
                problems.append(f"worker {worker}: {'; '.join(differs)}")
        if problems:
            raise RenderError(
                "the cluster's workers must render as this machine does; " + " | ".join(problems)
                + " (install the same zhpress, WeasyPrint and fonts on every worker)"
            )
        for family in todo:
            self.checked.setdefault(family, set()).update(found)

    def _bundle_for(self, job: RenderJob) -> Any:
        """The book's files on the cluster (sent once per build and book; the previous book's let go)."""
        bundle = _bundle({"content": job.content_dir, "styles": job.styles_dir})
        held = self._bundles.get(job.content_dir)
        if held is not None and held[0].digest == bundle.digest:
            return held[1]
        self._bundles.clear()
        future = self.client.scatter(bundle, broadcast=True, hash=False)
        self._bundles[job.content_dir] = (bundle, future)
        return future

    def run(self, items: Items, scratch: Path) -> Iterator[tuple[int, Rendered]]:
        as_completed = self._distributed.as_completed
        pending = iter(items)
        capacity = 2 * max(1, len(self.client.nthreads()))  # a job queued behind each running one
        sent: dict[str, Any] = {}  # the client's folders and the book's files on the cluster, once
        done = as_completed(loop=self.client.loop)
        running: dict[Any, tuple[Any, int, RenderJob]] = {}  # by the future's key

        def start(index: int, job: RenderJob) -> None:
            if not sent:
                self.check_new_workers()
                sent["bundle"] = self._bundle_for(job)
                sent["folders"] = {"content": job.content_dir, "styles": job.styles_dir, **_local_folders()}
            future = self.client.submit(render_remote, job, sent["folders"], sent["bundle"], pure=False)
            running[future.key] = (future, index, replace(job, html="", sheets=()))
            done.add(future)

        more = True
        try:
            while more or running:
                more = more and start_jobs(pending, running, capacity, start)
                if not running:
                    break
                future = next(done)
                _, index, job = running.pop(future.key)
                payload = future.result()  # a worker's error is raised here, as it was raised there
                result: Rendered = payload["result"]
                files.write_atomic(Path(job.path), payload["pdf"], mode=0o600)
                result.path = job.path
                if payload["maps"] is not None:
                    maps = maps_path(Path(job.path))
                    files.write_atomic(maps, payload["maps"], mode=0o600)
                    result.font_maps = str(maps)
                yield index, result
        finally:
            for future, _, _ in running.values():
                future.cancel()

    def check_new_workers(self) -> None:
        """Workers that joined since the last check are checked for every family checked so far."""
        if self.checked:
            self.check(sorted(self.checked))


def executor_for(scheduler: str | None, jobs: int) -> Executor | None:
    """The executor a build asked for: a Dask cluster's for a scheduler address, else None (the build's
    own forked workers)."""
    if not scheduler:
        return None
    return DaskExecutor(scheduler)

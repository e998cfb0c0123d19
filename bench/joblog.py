"""One print build, as `zhpress build print -q --no-cache` does it, with every PDF job and serial part timed.

The build gets a recording executor (`BuildRequest.executor`, the path a cluster build takes) that wraps
the local one: for each job it records what the client spent making it, when it was handed to a worker and
when its result came back, the worker's own render time (`Rendered.seconds`), its pages and the bytes of
its input (HTML and stylesheets) and of its result (PDF part and font maps). The serial parts are timed
around the build's own functions. Writes the log as JSON; `bench/project.py` simulates it on more workers.

    python bench/joblog.py BOOK OUT LOG.json [-j N]
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before zhpress is imported: the log's times are seconds from here

import argparse  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def now() -> float:
    return time.perf_counter() - T0


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (a forked render's, once it is joined)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Recorder:
    """Times of the build's serial parts (start, end) by name, and one record per PDF job."""

    def __init__(self) -> None:
        self.spans: dict[str, list[list[float]]] = {}
        self.jobs: list[dict[str, Any]] = []
        self.cpu_jobs: list[float] = []
        self.cpu_mark = 0.0

    def span(self, name: str, start: float, end: float) -> None:
        self.spans.setdefault(name, []).append([start, end])
        if name == "jobs":  # this process's CPU time at the job phase's start and end (the serial parts')
            self.cpu_jobs.append(self.cpu_mark)
            self.cpu_jobs.append(time.process_time())

    def timed(self, module: Any, name: str) -> bool:
        """Wrap `module.name` so each call is recorded as a span; False when the build has no such function."""
        original = getattr(module, name, None)
        if original is None:
            return False

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = now()
            try:
                return original(*args, **kwargs)
            finally:
                self.span(name, start, now())

        setattr(module, name, wrapper)
        return True


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


class RecordingExecutor:
    """The local executor (`jobs` forked workers; in this process for 1), every job timed and measured."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner = inner
        self.rec = recorder

    def prepare(self, profile: Any) -> None:
        self.rec.span("executor prepared", now(), now())
        self.inner.prepare(profile)

    def check(self, families: list[str]) -> None:
        if hasattr(self.inner, "check"):
            self.inner.check(families)

    def close(self) -> None:
        if hasattr(self.inner, "close"):
            self.inner.close()

    def run(self, items: Any, scratch: Path) -> Iterator[tuple[int, Any]]:
        rec = self.rec
        records: dict[int, dict[str, Any]] = {}
        polls = [0.0]

        def timed_items() -> Iterator[Any]:
            source = iter(items)
            while True:
                start, cpu = now(), time.process_time()
                item = next(source, StopIteration)
                end = now()
                if item is StopIteration:
                    return
                if item is None:  # nothing ready until the next result
                    polls[0] += end - start
                    yield None
                    continue
                index, job = item
                cpu = time.process_time() - cpu
                made[0] += cpu
                records[index] = {
                    "kind": job.kind, "index": job.index, "make": end - start, "make_cpu": cpu, "submit": end,
                    "in_bytes": len(job.html.encode()) + sum(len(css.encode()) for _, css in job.sheets),
                }
                yield item

        # A job's CPU time: its forked worker's (reaped just before its result is given) or, with one
        # worker, this process's while it rendered, less what it spent making jobs meanwhile. Unlike the
        # wall time, it does not grow with what else the machine runs.
        made = [0.0]
        rec.cpu_mark = time.process_time()
        started = now()
        results = self.inner.run(timed_items(), scratch)
        while True:
            own, children, made[0] = time.process_time(), children_cpu(), 0.0
            got = next(results, None)
            if got is None:
                break
            index, result = got
            record = records[index]
            cpu = children_cpu() - children + time.process_time() - own - made[0]
            record.update(done=now(), seconds=result.seconds, cpu=cpu, pages=result.pages,
                          pdf_bytes=_size(result.path), maps_bytes=_size(result.font_maps))
            handed = now()
            yield index, result
            record["handle"] = now() - handed  # the client's work on the result (cache, next job's inputs)
            rec.jobs.append(record)
        rec.span("jobs", started, now())
        rec.span("client polls", 0.0, polls[0])


def _needs(jobs: list[dict[str, Any]]) -> None:
    """Each job's dependencies by the chunked build's rules: a folio piece of page numbers waits for the
    body chunks, in order, until they have more pages than the numbers before it (the build makes it once
    the chunks rendered so far have: in a cold build they go out in order), the late piece for every chunk
    and the front matter; body chunks and the front matter wait for nothing."""
    from zhpress.pdf import schedule

    size = schedule.FOLIO_PAGES
    bodies = sorted((j["index"], j["pages"]) for j in jobs if j["kind"] == "body")
    for job in jobs:
        if job["kind"] == "folio":
            needs, pages = [], 0
            for index, count in bodies:
                if pages > job["index"] * size:
                    break
                needs.append(["body", index])
                pages += count
            job["needs"] = needs
        elif job["kind"] == "late":
            job["needs"] = [["body", i] for i, _ in bodies] + [["front", 0]]
        else:
            job["needs"] = []


def _phases(spans: dict[str, list[list[float]]], end: float) -> dict[str, float]:
    """The serial parts, in seconds, from the recorded spans (a part whose function was not found is left
    in its neighbour)."""

    def first(name: str) -> list[float] | None:
        return spans[name][0] if name in spans else None

    def total(name: str) -> float:
        return sum(b - a for a, b in spans.get(name, []))

    prepare, profile, jobs, finish = first("prepare"), first("build_profile"), first("jobs"), first("finish_document")
    ready = first("executor prepared")
    phases: dict[str, float] = {}
    if prepare and profile and jobs and ready:
        phases["start-up (imports, project, worker forks)"] = prepare[0]
        phases["reading"] = total("read_book")
        phases["conversion"] = total("edition_book")
        phases["checks"] = prepare[1] - prepare[0] - phases["reading"] - phases["conversion"]
        phases["output lock"] = profile[0] - prepare[1]
        phases["sources (HTML set-up, stylesheets)"] = ready[0] - profile[0]
        phases["executor start"] = jobs[0] - ready[0]
        if finish:
            phases["merge"] = finish[0] - jobs[1]
            phases["finishing (PDF/X, save)"] = finish[1] - finish[0]
            phases["check of the file"] = profile[1] - finish[1]
        else:
            phases["merge and finishing"] = profile[1] - jobs[1]
        phases["writing"] = end - profile[1]
    return phases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("book", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("log", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=None, help="workers (default: the CLI's, the cores)")
    args = parser.parse_args()
    argv = ["build", "print", "-C", str(args.book), "-o", str(args.out), "-q", "--no-cache"]
    if args.jobs is not None:
        argv += ["-j", str(args.jobs)]

    from zhpress import workers
    from zhpress.pdf import pool

    workers.handle_signals()
    pool.start_early(argv)  # as `python -m zhpress` does, before the command line is imported
    rec = Recorder()
    import zhpress.build as build
    import zhpress.cli as cli
    import zhpress.pdf.chunked as chunked
    from zhpress.pdf.executor import LocalExecutor

    for name in ("prepare", "read_book", "edition_book", "build_profile"):
        rec.timed(build, name)
    rec.timed(chunked, "finish_document")
    jobs = [0]

    def executor(parsed: argparse.Namespace) -> RecordingExecutor:
        jobs[0] = max(1, parsed.jobs)
        return RecordingExecutor(LocalExecutor(jobs[0]), rec)

    cli._executor = executor  # type: ignore[assignment]
    status = cli.main(argv)
    end = now()
    if status != 0:
        return status
    _needs(rec.jobs)
    pdf = args.out / "bench-print.pdf"
    bundle = sum(p.stat().st_size for folder in ("content", "styles") for p in (args.book / folder).rglob("*")
                 if p.is_file() and not p.name.startswith("."))
    log = {
        "articles": len(list((args.book / "content").glob("*.txt"))),
        "workers": jobs[0],
        "cpus": os.cpu_count(),
        "wall_in_process": end,
        "cpu_in_process": time.process_time(),  # this process's CPU seconds: serial parts by CPU time
        "cpu_jobs": rec.cpu_jobs,  # ... at the job phase's start and end
        "phases": _phases(rec.spans, end),
        "spans": rec.spans,
        "bundle_bytes": bundle,
        "pdf_bytes": pdf.stat().st_size,
        "jobs": sorted(rec.jobs, key=lambda j: j["submit"]),
    }
    args.log.parent.mkdir(parents=True, exist_ok=True)
    args.log.write_text(json.dumps(log, indent=1))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)

"""The print build on more workers than this machine has: list scheduling of a measured job log.

The job graph is the chunked build's own (`bench/joblog.py` records it): the serial start (start-up,
reading, conversion, checks, the HTML set-up), then the front matter and the body chunks (independent), the
folio pieces (each after the chunks, in order, that hold more pages than the numbers before it) and the late piece (after every chunk and
the front matter: the contents' numbers and 印张 drawn over it), then the serial end
(merge, finishing, the file's check, writing). One client makes each job's HTML and takes each result, one
at a time; it keeps `queue` jobs per worker made ahead (the Dask executor: 2, the local forks: 1). Inputs
and results cross the client's network link, one transfer at a time each way, at `bandwidth`; each job
pays `overhead` on its worker and each worker's first job `warm_up` more. A free worker takes the most
urgent job that is ready: the front matter, then body chunks, then folio pieces, then the late piece (the
build's own order).

    python bench/project.py LOG.json [--check OTHER-LOG.json] [--typst SECONDS] [--plot bench/projection.png]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import statistics
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

WORKERS = (1, 2, 8, 40, 64, 200)
GOAL_WORKERS = 64
PRIORITY = {"front": 0, "body": 1, "folio": 2, "late": 3}


@dataclass(frozen=True)
class Job:
    """One render job: worker seconds, client seconds before (its HTML) and after (its result), bytes in
    and out, and the jobs whose results it needs."""

    kind: str
    index: int
    render: float
    make: float = 0.0
    handle: float = 0.0
    in_bytes: int = 0
    out_bytes: int = 0
    needs: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.index)


@dataclass(frozen=True)
class Model:
    """The machine the build is projected onto."""

    workers: int
    bandwidth: float = 1e9 / 8  # bytes a second each way on the client's link (1 Gbit/s); inf: no cost
    overhead: float = 0.05  # seconds a job costs a worker beyond its render (hand-over, start of the render)
    warm_up: float = 0.5  # more seconds for a worker's first job (imports, fonts)
    queue: int = 2  # jobs per worker the client keeps made ahead of the workers
    serial_start: float = 0.0  # before the first job can be made
    serial_end: float = 0.0  # after the last result is in
    bundle_bytes: int = 0  # the book's files, sent to the cluster once and copied worker to worker


@dataclass
class Schedule:
    """A simulated build: its wall time, when the job phase ended, and each job's (start, end) on a worker."""

    wall: float
    jobs_end: float
    placed: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)


def simulate(jobs: list[Job], model: Model) -> Schedule:
    """List scheduling of `jobs` on `model` (an event simulation; see the module's docstring)."""
    by_key = {job.key: job for job in jobs}
    unmet = {job.key: {tuple(n) for n in job.needs} for job in jobs}
    dependents: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for job in jobs:
        for need in job.needs:
            if tuple(need) not in by_key:
                raise ValueError(f"job {job.key} needs {tuple(need)}, which is not in the log")
            dependents.setdefault(tuple(need), []).append(job.key)  # type: ignore[arg-type]
    bandwidth = model.bandwidth
    transfer = (lambda size: size / bandwidth) if math.isfinite(bandwidth) else (lambda size: 0.0)
    # The book's files: one copy from the client, then worker to worker, doubling the holders each round.
    start = model.serial_start
    if model.bundle_bytes:
        start += transfer(model.bundle_bytes) * (1 + math.ceil(math.log2(model.workers)))

    def rank(key: tuple[str, int]) -> tuple[int, int]:
        return (PRIORITY.get(key[0], 3), key[1])

    events: list[tuple[float, int, str, Any]] = []
    seq = 0

    def at(time: float, what: str, payload: Any) -> None:
        nonlocal seq
        heapq.heappush(events, (time, seq, what, payload))
        seq += 1

    makeable = [rank(j.key) + j.key for j in jobs if not unmet[j.key]]  # type: ignore[operator]
    heapq.heapify(makeable)
    available: list[tuple[Any, ...]] = []  # made and uploaded, waiting for a worker
    arrived: deque[tuple[str, int]] = deque()  # results at the client, waiting to be taken
    free = list(range(model.workers))
    used: set[int] = set()
    uplink = downlink = start
    in_flight = 0
    client_busy = False
    done = 0
    schedule = Schedule(0.0, start)

    def client(now: float) -> None:
        nonlocal client_busy, in_flight
        if client_busy:
            return
        if arrived:
            key = arrived.popleft()
            client_busy = True
            at(now + by_key[key].handle, "handled", key)
        elif makeable and in_flight < model.queue * model.workers:
            *_, kind, index = heapq.heappop(makeable)
            in_flight += 1
            client_busy = True
            at(now + by_key[(kind, index)].make, "made", (kind, index))

    def dispatch(now: float) -> None:
        while free and available:
            *_, kind, index = heapq.heappop(available)
            worker = free.pop()
            first = worker not in used
            used.add(worker)
            took = model.overhead + by_key[(kind, index)].render + (model.warm_up if first else 0.0)
            schedule.placed[(kind, index)] = (now, now + took)
            at(now + took, "rendered", ((kind, index), worker))

    client(start)
    while events:
        now, _, what, payload = heapq.heappop(events)
        if what == "made":
            client_busy = False
            uplink = max(now, uplink) + transfer(by_key[payload].in_bytes)
            at(uplink, "uploaded", payload)
            client(now)
        elif what == "uploaded":
            heapq.heappush(available, rank(payload) + payload)
            dispatch(now)
        elif what == "rendered":
            key, worker = payload
            free.append(worker)
            downlink = max(now, downlink) + transfer(by_key[key].out_bytes)
            at(downlink, "arrived", key)
            dispatch(now)
        elif what == "arrived":
            arrived.append(payload)
            client(now)
        elif what == "handled":
            client_busy = False
            in_flight -= 1
            done += 1
            schedule.jobs_end = now
            for other in dependents.get(payload, []):
                unmet[other].discard(payload)
                if not unmet[other]:
                    heapq.heappush(makeable, rank(other) + other)
            client(now)
    if done != len(jobs):
        raise ValueError("the job graph has a cycle: some jobs never became ready")
    schedule.wall = schedule.jobs_end + model.serial_end
    return schedule


# --- logs --------------------------------------------------------------------------------------------------


def clock_of(log: dict[str, Any], clock: str | None = None) -> str:
    """"cpu" (each job's and the serial parts' CPU seconds: what a core of its own would take, whatever
    else the measuring machine ran) when the log has them and no clock is asked for, else "wall"."""
    if clock:
        return clock
    return "cpu" if "cpu_jobs" in log and all("cpu" in j for j in log["jobs"]) else "wall"


def jobs_of(log: dict[str, Any], clock: str | None = None) -> list[Job]:
    """The jobs of a `bench/joblog.py` log, timed by `clock` (`clock_of`)."""
    cpu = clock_of(log, clock) == "cpu"
    return [
        Job(j["kind"], j["index"], j["cpu" if cpu else "seconds"], j.get("make_cpu", j["make"]) if cpu else j["make"], j.get("handle", 0.0), j.get("in_bytes", 0),
            j.get("pdf_bytes", 0) + j.get("maps_bytes", 0), tuple(tuple(n) for n in j.get("needs", ())))
        for j in log["jobs"]
    ]


def serial_parts(log: dict[str, Any], clock: str | None = None) -> tuple[float, float]:
    """Seconds before the first job and after the last result: everything the workers do not do (the
    interpreter's start and exit, outside the log's clock, counted at the end)."""
    (jobs_start, jobs_end), = log["spans"]["jobs"]
    outside = max(0.0, log.get("wall", log["wall_in_process"]) - log["wall_in_process"])
    if clock_of(log, clock) == "cpu":
        cpu_start, cpu_end = log["cpu_jobs"][:2]
        return cpu_start, log["cpu_in_process"] - cpu_end + outside
    return jobs_start, log["wall_in_process"] - jobs_end + outside


def model_for(log: dict[str, Any], workers: int, clock: str | None = None, **options: Any) -> Model:
    start, end = serial_parts(log, clock)
    return Model(workers, serial_start=start, serial_end=end, bundle_bytes=log.get("bundle_bytes", 0), **options)


def measured_wall(log: dict[str, Any]) -> float:
    return float(log.get("wall", log["wall_in_process"]))


def local_overheads(log: dict[str, Any]) -> list[float]:
    """Each job's hand-over on this machine: from being handed to the executor to its result, less its render."""
    return [j["done"] - j["submit"] - j["seconds"] for j in log["jobs"]]


def project(log: dict[str, Any], workers: tuple[int, ...] = WORKERS, clock: str | None = None,
            **options: Any) -> dict[int, Schedule]:
    return {w: simulate(jobs_of(log, clock), model_for(log, w, clock, **options)) for w in workers}


def check(source: dict[str, Any], target: dict[str, Any], **options: Any) -> tuple[float, float]:
    """The wall time `source`'s log predicts for `target`'s worker count, as this machine runs it (the local
    executor's forks: one job per worker made at a time, no network; wall times, as measured), and the
    relative error."""
    local = {**{k: v for k, v in options.items() if k != "clock"}, "queue": 1, "bandwidth": math.inf}
    model = replace(model_for(source, target["workers"], "wall", **local), bundle_bytes=0)
    predicted = simulate(jobs_of(source, "wall"), model).wall
    return predicted, predicted / measured_wall(target) - 1


def report(log: dict[str, Any], others: list[dict[str, Any]], typst: float | None, clock: str | None = None,
           **options: Any) -> list[str]:
    """The job log's figures, the projection table, the check against the measured points, the goal line."""
    lines: list[str] = []
    clock = clock_of(log, clock)
    walls = {j.key: j.render for j in jobs_of(log, "wall")}
    kinds: dict[str, list[Job]] = {}
    for job in jobs_of(log, clock):
        kinds.setdefault(job.kind, []).append(job)
    lines.append(f"job log: {log['articles']} articles, {log['workers']} workers, measured {measured_wall(log):.1f} s")
    for kind, group in kinds.items():
        secs = [j.render for j in group]
        lines.append(f"  {kind}: {len(group)} jobs, {sum(walls[j.key] for j in group):.1f} s of rendering ({clock}: "
                     f"{sum(secs):.1f} s, median {statistics.median(secs):.2f} s, longest {max(secs):.2f} s), "
                     f"results {sum(j.out_bytes for j in group) / 2**20:.1f} MiB, "
                     f"client {sum(j.make + j.handle for j in group):.2f} s")
    for name, (start, end) in (("wall", serial_parts(log, "wall")), (clock, serial_parts(log, clock))):
        lines.append(f"  serial ({name}): {start:.1f} s before the first job, {end:.1f} s after the last result")
    for name, seconds in log.get("phases", {}).items():
        lines.append(f"    {name}: {seconds:.2f} s")
    hand = local_overheads(log)
    lines.append(f"  hand-over per job on this machine: median {statistics.median(hand):.3f} s, first job {hand[0]:.2f} s")
    model = model_for(log, 1, clock, **options)
    start, end = serial_parts(log, clock)
    lines.append(f"projection ({clock} seconds, bandwidth {model.bandwidth * 8 / 1e9:g} Gbit/s, {model.overhead:g} s a job, "
                 f"{model.warm_up:g} s a worker's first job, {model.queue} jobs a worker made ahead):")
    lines.append("| workers | projected wall | job phase | serial |")
    lines.append("| --- | --- | --- | --- |")
    projected = project(log, clock=clock, **options)
    for workers, schedule in projected.items():
        lines.append(f"| {workers} | {schedule.wall:.1f} s | {schedule.jobs_end - start:.1f} s | {start + end:.1f} s |")
    for other in others:
        predicted, error = check(log, other, **options)
        lines.append(f"check (wall): the {log['workers']}-worker log predicts {predicted:.1f} s for {other['workers']} "
                     f"workers on this machine, measured {measured_wall(other):.1f} s ({error:+.1%})")
    if typst:
        best = min((w for w in projected if w <= GOAL_WORKERS), key=lambda w: projected[w].wall)
        wall = projected[best].wall
        met = "met" if wall <= typst else "NOT met"
        lines.append(f"N={log['articles']}: projected print build at <= {GOAL_WORKERS} workers (best: {best}): {wall:.1f} s "
                     f"/ Typst cold compile on one machine {typst:.1f} s: {wall / typst:.2f} x (target <= 1 x) {met}")
    return lines


def plot(curves: list[tuple[dict[str, Any], list[dict[str, Any]], float | None]], path: Path, **options: Any) -> None:
    """Projected wall time against workers (log x) for each (log, other logs of its book, Typst's cold
    compile of it): the projection, the measured points, the serial parts and Typst's line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = list(range(1, max(WORKERS) + 1))
    asked = options.pop("clock", None)
    for number, (log, others, typst) in enumerate(curves):
        colour = f"C{number}"
        clock = clock_of(log, asked)
        walls = project(log, tuple(xs), clock, **options)
        ax.plot(xs, [walls[w].wall for w in xs], color=colour, label=f"{log['articles']} articles, projected ({clock} times)")
        start, end = serial_parts(log, clock)
        ax.axhline(start + end, color=colour, linestyle=":", linewidth=1,
                   label=f"{log['articles']} articles, serial parts ({start + end:.0f} s)")
        for measured in [log, *others]:
            ax.plot([measured["workers"]], [measured_wall(measured)], "o", color=colour)
        ax.plot([], [], "o", color=colour, label=f"{log['articles']} articles, measured")
        if typst:
            ax.axhline(typst, color=colour, linestyle="--",
                       label=f"{log['articles']} articles, Typst cold compile ({typst:.1f} s)")
    ax.axvline(GOAL_WORKERS, color="grey", linewidth=0.8)
    finish_plot(fig, ax, "workers", "wall time of the print build (s)", path)


def finish_plot(fig: Any, ax: Any, xlabel: str, ylabel: str, path: Path) -> None:
    """Log axes, labels, the legend beside the plot, a light grid; saved as PNG."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="a bench/joblog.py log (the build to project)")
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="logs of the same book on other worker counts")
    parser.add_argument("--typst", type=float, help="Typst's cold compile of the same book (s)")
    parser.add_argument("--bandwidth", type=float, default=1.0, help="the client's link, Gbit/s each way")
    parser.add_argument("--overhead", type=float, default=Model.overhead, help="seconds per job on a worker")
    parser.add_argument("--warm-up", type=float, default=Model.warm_up, help="seconds more for a worker's first job")
    parser.add_argument("--queue", type=int, default=Model.queue, help="jobs per worker made ahead")
    parser.add_argument("--clock", choices=["cpu", "wall"], help="job times to project (default: cpu when logged)")
    parser.add_argument("--plot", type=Path, help="draw the projection here (PNG)")
    args = parser.parse_args()
    options = {"bandwidth": args.bandwidth * 1e9 / 8, "overhead": args.overhead, "warm_up": args.warm_up,
               "queue": args.queue, "clock": args.clock}
    log = json.loads(args.log.read_text())
    others = [json.loads(p.read_text()) for p in args.check]
    for line in report(log, others, args.typst, **options):
        print(line)
    if args.plot:
        plot([(log, others, args.typst)], args.plot, **options)


if __name__ == "__main__":
    main()

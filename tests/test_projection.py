"""The bench's projection (bench/project.py): list scheduling of a job graph on small hand-made graphs."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("bench_project", Path(__file__).parent.parent / "bench" / "project.py")
assert _spec is not None and _spec.loader is not None
project = importlib.util.module_from_spec(_spec)
sys.modules["bench_project"] = project
_spec.loader.exec_module(project)
Job, Model, simulate = project.Job, project.Model, project.simulate

FREE = {"bandwidth": math.inf, "overhead": 0.0, "warm_up": 0.0}


def bodies(count: int, seconds: float = 1.0, **kw: float) -> list:
    return [Job("body", i, seconds, **kw) for i in range(count)]


def test_equal_jobs_share_the_workers_between_the_serial_parts() -> None:
    schedule = simulate(bodies(4), Model(2, serial_start=0.5, serial_end=0.25, **FREE))
    assert schedule.wall == pytest.approx(0.5 + 2 * 1.0 + 0.25)
    starts = sorted(start for start, _ in schedule.placed.values())
    assert starts == pytest.approx([0.5, 0.5, 1.5, 1.5])


def test_more_workers_than_jobs_gain_nothing() -> None:
    assert simulate(bodies(3), Model(3, **FREE)).wall == pytest.approx(simulate(bodies(3), Model(200, **FREE)).wall)


def test_a_dependency_chain_is_not_parallelised() -> None:
    chain = [Job("body", 0, 1.0), Job("folio", 0, 2.0, needs=(("body", 0),)), Job("front", 0, 3.0, needs=(("folio", 0),))]
    assert simulate(chain, Model(8, **FREE)).wall == pytest.approx(6.0)


def test_front_matter_waits_for_every_chunk_and_goes_first_once_ready() -> None:
    jobs = [*bodies(3), Job("front", 0, 5.0, needs=tuple(("body", i) for i in range(3))),
            Job("folio", 0, 1.0, needs=(("body", 0),))]
    schedule = simulate(jobs, Model(1, queue=1, **FREE))  # nothing made ahead: the order is the client's
    assert schedule.placed[("front", 0)][0] == pytest.approx(3.0)  # after the chunks, before the folio piece
    assert schedule.placed[("folio", 0)][0] == pytest.approx(8.0)
    assert schedule.wall == pytest.approx(9.0)


def test_bandwidth_adds_transfer_time_one_transfer_at_a_time() -> None:
    one = [Job("body", 0, 1.0, in_bytes=500_000, out_bytes=1_000_000)]
    link = {**FREE, "bandwidth": 1e6}
    assert simulate(one, Model(1, **link)).wall == pytest.approx(0.5 + 1.0 + 1.0)
    # two results finishing at once come back one after the other over the one link
    two = bodies(2, out_bytes=1_000_000)
    assert simulate(two, Model(2, **link)).wall == pytest.approx(1.0 + 2 * 1.0)


def test_overhead_and_warm_up_are_paid_per_job_and_per_worker() -> None:
    model = Model(2, bandwidth=math.inf, overhead=0.1, warm_up=0.5)
    assert simulate(bodies(4), model).wall == pytest.approx(0.5 + 2 * 1.1)


def test_the_client_makes_one_job_at_a_time() -> None:
    # each input takes the client 0.5 s: the fourth job starts 2 s in, on one of four idle workers
    schedule = simulate(bodies(4, make=0.5), Model(4, queue=1, **FREE))
    assert schedule.wall == pytest.approx(2.0 + 1.0)
    # with one worker the making is serial with the rendering when the client cannot work ahead ...
    assert simulate(bodies(4, make=0.5), Model(1, queue=1, **FREE)).wall == pytest.approx(4 * 1.5)
    # ... and hidden behind it when it keeps a second job made
    assert simulate(bodies(4, make=0.5), Model(1, queue=2, **FREE)).wall == pytest.approx(0.5 + 4 * 1.0)


def test_a_job_needing_an_unknown_job_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the log"):
        simulate([Job("front", 0, 1.0, needs=(("body", 9),))], Model(2, **FREE))


def test_a_log_becomes_jobs_and_serial_parts() -> None:
    log = {
        "articles": 12, "workers": 1, "wall_in_process": 10.0, "wall": 10.5, "bundle_bytes": 0,
        "spans": {"jobs": [[2.0, 9.0]]},
        "jobs": [
            {"kind": "body", "index": 0, "make": 0.1, "submit": 2.1, "done": 5.1, "seconds": 3.0, "handle": 0.0,
             "in_bytes": 10, "pdf_bytes": 100, "maps_bytes": 5, "needs": []},
            {"kind": "front", "index": 0, "make": 0.1, "submit": 5.2, "done": 8.9, "seconds": 3.7, "handle": 0.0,
             "in_bytes": 10, "pdf_bytes": 100, "maps_bytes": 5, "needs": [["body", 0]]},
        ],
    }
    assert project.serial_parts(log) == pytest.approx((2.0, 1.5))  # 1 s after the jobs, 0.5 s outside the clock
    jobs = project.jobs_of(log)
    assert jobs[1].needs == (("body", 0),) and jobs[0].out_bytes == 105
    predicted, error = project.check(log, {**log, "workers": 1}, overhead=0.0, warm_up=0.0)
    assert predicted == pytest.approx(2.0 + 0.1 + 3.0 + 0.1 + 3.7 + 1.5)
    assert error == pytest.approx(predicted / 10.5 - 1)


def test_cpu_times_are_projected_when_logged_and_wall_times_checked() -> None:
    job = {"kind": "body", "index": 0, "make": 0.0, "submit": 1.0, "done": 9.0, "seconds": 8.0, "cpu": 2.0,
           "handle": 0.0, "in_bytes": 0, "pdf_bytes": 0, "maps_bytes": 0, "needs": []}
    log = {"articles": 6, "workers": 1, "wall_in_process": 10.0, "cpu_in_process": 3.5, "cpu_jobs": [0.5, 2.6],
           "bundle_bytes": 0, "spans": {"jobs": [[1.0, 9.0]]}, "jobs": [job]}
    assert project.clock_of(log) == "cpu"
    assert project.serial_parts(log) == pytest.approx((0.5, 0.9))
    assert project.serial_parts(log, "wall") == pytest.approx((1.0, 1.0))
    free = {"overhead": 0.0, "warm_up": 0.0, "bandwidth": math.inf}
    assert project.project(log, (1,), **free)[1].wall == pytest.approx(0.5 + 2.0 + 0.9)
    assert project.check(log, log, **free)[0] == pytest.approx(1.0 + 8.0 + 1.0)
    assert project.clock_of({**log, "jobs": [{k: v for k, v in job.items() if k != "cpu"}]}) == "wall"

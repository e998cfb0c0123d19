"""Chunked builds on a Dask cluster give the local build's bytes: on a `LocalCluster`, and on a real
`dask scheduler` with two `dask worker` processes on 127.0.0.1 started and stopped here; a worker whose
fonts differ is named before any job; a build without a scheduler never imports `distributed`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pdf.test_chunked import inputs, make_project
from zhpress.errors import RenderError
from zhpress.pdf.chunked import ChunkStats, build_chunked_pdf

distributed = pytest.importorskip("distributed")

from zhpress.pdf.executor import DaskExecutor  # noqa: E402

DASK = Path(sys.executable).parent / "dask"
CHUNKED = {"cache": False, "chunk_articles": 2, "folio_pages": 4}  # two folio pieces of the 8 body pages


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("cluster") / "book", [500, 700, 500, 600])


@pytest.fixture(scope="module")
def local_pdf(book: Path) -> bytes:
    data, _ = build_chunked_pdf(*inputs(book), jobs=1, **CHUNKED)
    return data


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _worker(address: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
         "--no-dashboard", "--memory-limit", "0", "--death-timeout", "60"],
        stdout=subprocess.DEVNULL, stderr=open(log, "ab"), env={**os.environ, **(env or {})},  # noqa: SIM115
    )


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A real `dask scheduler` on a free port of 127.0.0.1; the processes listed are stopped afterwards."""
    if not DASK.is_file():
        pytest.skip("the dask command is not installed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    processes = [subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "ab"),  # noqa: SIM115
    )]
    try:
        yield address, processes
    finally:
        _stop(processes)


def _wait_for_workers(address: str, count: int) -> None:
    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=180)


def test_a_local_cluster_gives_the_same_bytes(book: Path, local_pdf: bytes) -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, DaskExecutor(cluster.scheduler_address) as executor:
        stats = ChunkStats()
        data, _ = build_chunked_pdf(*inputs(book), executor=executor, stats=stats, **CHUNKED)
    assert stats.rendered == {"body": 2, "folio": 2, "front": 1, "late": 1}
    assert data == local_pdf


def test_dask_scheduler_and_two_workers_give_the_same_bytes(book: Path, local_pdf: bytes, tmp_path: Path,
                                                            scheduler: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    address, processes = scheduler
    processes += [_worker(address, tmp_path / f"worker{i}.log") for i in range(2)]
    _wait_for_workers(address, 2)
    cache = tmp_path / "cache"
    with DaskExecutor(address) as executor:
        stats = ChunkStats()
        data, _ = build_chunked_pdf(*inputs(book), executor=executor, stats=stats, cache_folder=cache,
                                    **{**CHUNKED, "cache": True})
        assert sorted(executor.client.scheduler_info()["workers"]) == sorted(executor.checked["Noto Serif CJK SC"])
    assert stats.rendered == {"body": 2, "folio": 2, "front": 1, "late": 1}
    assert data == local_pdf
    again = ChunkStats()  # the parts the cluster sent back were cached here, and are reused by a local build
    reused, _ = build_chunked_pdf(*inputs(book), jobs=1, stats=again, cache_folder=cache, **{**CHUNKED, "cache": True})
    assert again.rendered == {} and again.reused == {"body": 2, "folio": 2, "front": 1, "late": 1}
    assert reused == local_pdf


def test_a_worker_without_the_font_is_named(tmp_path: Path, scheduler: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    """A worker whose fontconfig finds no fonts: the build stops before any job, naming it and the font."""
    address, processes = scheduler
    (tmp_path / "no-fonts").mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(textwrap.dedent(f"""\
        <?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
        <fontconfig><dir>{tmp_path / 'no-fonts'}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>
        """), "utf-8")
    processes.append(_worker(address, tmp_path / "worker.log", {"FONTCONFIG_FILE": str(config)}))
    _wait_for_workers(address, 1)
    with DaskExecutor(address) as executor, pytest.raises(RenderError) as caught:
        executor.check(["Noto Serif CJK SC"])
    message = str(caught.value)
    assert "worker tcp://127.0.0.1:" in message and "font Noto Serif CJK SC 'not installed' there" in message
    assert "WeasyPrint '" not in message and "zhpress '" not in message, "only what differs is named"


def test_a_build_without_a_scheduler_never_imports_distributed(book: Path, local_pdf: bytes, tmp_path: Path) -> None:
    probe = textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.pdf.test_chunked import inputs
        from zhpress.pdf.chunked import build_chunked_pdf
        data, _ = build_chunked_pdf(*inputs(__import__("pathlib").Path({str(book)!r})), jobs=2, **{CHUNKED!r})
        open({str(tmp_path / 'out.pdf')!r}, "wb").write(data)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("distributed", "dask")))
        """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600, check=True)
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "out.pdf").read_bytes() == local_pdf


def test_build_all_on_a_cluster_shares_one_client_and_gives_the_local_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zhpress build-all --scheduler`: both books' chunked editions on the cluster through one client,
    the same files as a local build."""
    from zhpress import cli
    from zhpress.pdf import executor, schedule

    monkeypatch.setattr(schedule, "MIN_CHUNKED_ARTICLES", 2)  # a small book rendered in chunks, as a long one is
    make_project(tmp_path / "shelf" / "alpha", [400, 500, 400])
    make_project(tmp_path / "shelf" / "beta", [300, 300])
    (tmp_path / "shelf" / "beta" / "content" / "book.toml").write_text(
        '[book]\nid = "beta"\ntitle = "第二本"\ndate = "2022-05-10"\n', "utf-8")
    alpha = tmp_path / "shelf" / "alpha"
    assert cli.main(["build", "-C", str(alpha), "print", "print-tw", "-j", "1", "-q", "--no-cache", "-o", str(tmp_path / "local")]) == 0
    clients: list[object] = []

    class Counted(executor.DaskExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            clients.append(self.client)

    monkeypatch.setattr(executor, "DaskExecutor", Counted)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cli.main(["build-all", str(tmp_path / "shelf"), "-j", "1", "-q", "--scheduler", cluster.scheduler_address]) == 0
    assert len(clients) == 1
    assert len(list((alpha / ".zhpress-cache" / "pdf").glob("*.pdf"))) >= 3 * 3, "the print editions were chunked"
    for name in ("chunks-print.pdf", "chunks-print-tw.pdf"):
        assert (alpha / "dist" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert (tmp_path / "shelf" / "beta" / "dist" / "beta-print.pdf").is_file()


BUILD_ALL = textwrap.dedent("""\
    import sys
    sys.path.insert(0, {root!r})
    from zhpress import cli
    from zhpress.pdf import schedule
    schedule.MIN_CHUNKED_ARTICLES = 2  # small books rendered in chunks, as long ones are
    status = cli.main(sys.argv[1:])
    print(sorted(m for m in sys.modules if m.split(".")[0] in ("distributed", "dask")))
    sys.exit(status)
    """).format(root=str(Path(__file__).resolve().parents[2]))


def test_books_at_once_on_a_real_scheduler_give_the_local_bytes(tmp_path: Path,
                                                               scheduler: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    """`zhpress build-all -j 2 --scheduler`: the books build at once, each book process a client of the
    same scheduler, whose two workers render both books' chunks; every file is the local build's, and the
    command's own process never imports `distributed` (its book processes do)."""
    address, processes = scheduler
    processes += [_worker(address, tmp_path / f"worker{i}.log") for i in range(2)]
    alpha = make_project(tmp_path / "shelf" / "alpha", [400, 500, 400])
    beta = make_project(tmp_path / "shelf" / "beta", [300, 300, 350])
    (beta / "content" / "book.toml").write_text('[book]\nid = "beta"\ntitle = "第二本"\ndate = "2022-05-10"\n', "utf-8")
    for folder in (alpha, beta):
        local = subprocess.run([sys.executable, "-c", BUILD_ALL, "build", "-C", str(folder), "-q", "--no-cache",
                                "-o", str(tmp_path / f"local-{folder.name}")], capture_output=True, text=True, timeout=600)
        assert local.returncode == 0, local.stderr
    _wait_for_workers(address, 2)
    result = subprocess.run([sys.executable, "-c", BUILD_ALL, "build-all", str(tmp_path / "shelf"), "-j", "2", "-q",
                             "--no-cache", "--scheduler", address], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", "the command's process imports no distributed"
    for folder in (alpha, beta):
        made = {p.name: p.read_bytes() for p in (folder / "dist").iterdir() if p.suffix in (".pdf", ".epub")}
        local_dir = tmp_path / f"local-{folder.name}"
        assert made == {p.name: p.read_bytes() for p in local_dir.iterdir() if p.suffix in (".pdf", ".epub")}
        assert len(made) == 9
    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        prefixes = client.run_on_scheduler(lambda dask_scheduler: {
            name: dict(prefix.state_counts) for name, prefix in dask_scheduler.task_prefixes.items()})
    assert "render_remote" in prefixes, prefixes

"""Rebuild on save: watch content/ and styles/ (watchfiles) and run the build again after each change.

Each build is the command line's own `zhpress build`, run by one warm build process (`zhpress.warm`)
kept for the whole session: start-up is paid once, and what earlier builds made (read manuscripts, body
chunks' keys and results, font subsets) is kept in its memory, beside the caches in PROJECT/.zhpress-cache
that make a build incremental. A rebuild behaves as a build typed by hand (the same checks, the same
atomic writes, the same bytes). If that process dies, the next build starts a new one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WATCHED = ("content", "styles")


@dataclass(frozen=True)
class BuildRun:
    """How one build went: its exit status, its error as one line (None when it succeeded), its time."""

    returncode: int
    message: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def build_command(
    root: Path, profiles: list[str], *, out_dir: Path | None = None, jobs: int | None = None,
    quiet: bool = False, check: bool = False, cache: bool = True,
) -> list[str]:
    """The `zhpress build` command line for these settings (run by this interpreter)."""
    command = [sys.executable, "-m", "zhpress", "build", *profiles, "-C", str(root)]
    if out_dir is not None:
        command += ["-o", str(out_dir)]
    if jobs is not None:
        command += ["-j", str(jobs)]
    if quiet:
        command.append("--quiet")
    if check:
        command.append("--check")
    if not cache:
        command.append("--no-cache")
    return command


def error_line(output: str, root: Path | None = None) -> str | None:
    """The one-line error a failed build printed (`FILE:LINE: what is wrong`), paths relative to `root`."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    found = next((line for line in lines if line.startswith(("error:", "internal error:"))), None)
    if found is None:
        found = next((line.lstrip("✗ ") for line in lines if line.startswith("✗")), None)
    if found is None:
        found = lines[-1] if lines else None
    if found is None:
        return None
    if found.startswith("error:"):
        found = found[len("error:") :].strip()
    if root is not None:
        found = found.replace(f"{root.resolve()}/", "")
    return found


class BuildProcess:
    """Runs builds one at a time, in the warm build process (`zhpress.warm`) when the command is
    `zhpress` by this interpreter, else in a child process of its own; `stop` ends the one running (from
    another thread) and refuses further ones."""

    def __init__(self, *, warm: bool = True) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None  # a cold build's process
        self._server: _WarmServer | None = None
        self._warm = warm
        self._stopped = False

    def run(self, command: list[str], *, capture: bool, root: Path | None = None) -> BuildRun:
        """Run one build; with `capture`, its output is read for the error line instead of shown."""
        start = time.perf_counter()
        prefix = [sys.executable, "-m", "zhpress"]
        if self._warm and command[:3] == prefix:
            code, output = self._run_warm(command[3:], capture)
        else:
            code, output = self._run_cold(command, capture)
        message = None if code == 0 else (error_line(output or "", root) or f"the build ended with status {code}")
        return BuildRun(code, message, time.perf_counter() - start)

    def _run_cold(self, command: list[str], capture: bool) -> tuple[int, str | None]:
        with self._lock:
            if self._stopped:
                return 130, "stopped"
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace",
                stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None,
            )
        try:
            output, _ = self._process.communicate()
        finally:
            with self._lock:
                code = self._process.returncode
                self._process = None
        return code, output

    def _run_warm(self, argv: list[str], capture: bool) -> tuple[int, str | None]:
        with self._lock:
            if self._stopped:
                return 130, "stopped"
            if self._server is None or not self._server.alive():
                self._server = _WarmServer(quiet=capture)
            server = self._server
        return server.build(argv, capture)

    def stop(self) -> None:
        """End the running build (if any) and refuse further ones."""
        with self._lock:
            self._stopped = True
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
            if self._server is not None:
                self._server.stop()


class _WarmServer:
    """One `python -m zhpress.warm` process and its pipes (its own output to the terminal, or to nowhere
    when every build's output is captured)."""

    def __init__(self, *, quiet: bool) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "zhpress.warm", str(write_fd)], stdin=subprocess.PIPE, text=True,
                encoding="utf-8", pass_fds=(write_fd,),
                stdout=subprocess.DEVNULL if quiet else None, stderr=subprocess.DEVNULL if quiet else None,
            )
        finally:
            os.close(write_fd)
        self.replies = os.fdopen(read_fd, "r", encoding="utf-8")

    def alive(self) -> bool:
        return self.process.poll() is None

    def build(self, argv: list[str], capture: bool) -> tuple[int, str | None]:
        """One build's exit status and captured output; a process that died gives its status."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"argv": argv, "capture": capture}, ensure_ascii=False) + "\n")
            self.process.stdin.flush()
            line = self.replies.readline()
        except (BrokenPipeError, OSError, ValueError):
            line = ""
        if not line:
            code = self.process.wait()
            return (code if code > 0 else 128 - code if code < 0 else 1), None
        reply = json.loads(line)
        return int(reply["code"]), reply.get("output")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()


def watched_folders(root: Path) -> list[Path]:
    """The project's folders a change in which calls for a rebuild (those that exist)."""
    return [root / name for name in WATCHED if (root / name).is_dir()]


class Watcher:
    """Watches content/ and styles/ (watchfiles) in a thread from the moment it is made, so that a save
    during a build is not missed; `wait` hands over what changed since the last call."""

    def __init__(self, root: Path, stop: threading.Event | None = None) -> None:
        self.root = root
        self.stop = stop or threading.Event()
        self._changed: set[Path] = set()
        self._condition = threading.Condition()
        self._live = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhpress-watcher", daemon=True)
        self._thread.start()
        self._live.wait(timeout=30)

    def _run(self) -> None:
        import watchfiles

        batches = watchfiles.watch(
            *watched_folders(self.root), stop_event=self.stop, raise_interrupt=False, debounce=800, step=100,
            rust_timeout=500, yield_on_timeout=True,
        )
        for batch in batches:  # the first (empty) batch after a timeout says the watches are in place
            self._live.set()
            if batch:
                with self._condition:
                    self._changed.update(Path(path) for _, path in batch)
                    self._condition.notify_all()
        self._live.set()
        with self._condition:
            self._condition.notify_all()

    def wait(self, timeout: float | None = None) -> list[Path]:
        """The files changed since the last call, once there are any (empty after `timeout` or a stop)."""
        with self._condition:
            self._condition.wait_for(lambda: bool(self._changed) or self.stop.is_set(), timeout=timeout)
            changed, self._changed = sorted(self._changed), set()
            return changed


def watch_build(
    command: list[str], root: Path, *, on_built: Callable[[BuildRun], None], on_change: Callable[[list[Path]], None]
) -> None:
    """Build, then build again after every change until interrupted (the build's output goes to the terminal)."""
    runner = BuildProcess()
    stop = threading.Event()
    watcher = Watcher(root, stop)
    try:
        on_built(runner.run(command, capture=False))
        while True:
            changed = watcher.wait(timeout=1.0)
            if not changed:
                continue
            on_change(changed)
            on_built(runner.run(command, capture=False))
    finally:
        stop.set()
        runner.stop()

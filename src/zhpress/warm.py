"""A warm build process for the edit loop (`zhpress build --watch`, `zhpress serve`): started once, it runs
each build the command line would run, in itself, so that start-up (Python, WeasyPrint, fontconfig) is
paid once and what earlier builds made stays in memory (`zhpress.memo`: the read manuscripts, each body
chunk's job key and result, the merged font subsets).

    python -m zhpress.warm FD    # a build request a line on stdin (JSON), a reply a line on FD

A request is `{"argv": [...], "capture": bool}`: the arguments of `zhpress` (for example
`["build", "print", "-C", ROOT]`); with `capture`, what the build prints is returned instead of shown.
The reply is `{"code": exit status, "output": text or null}`. What a build makes is what the same command
line makes in a process of its own: every table is keyed by all its entry was made from.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import sys
from typing import IO, Any

from . import memo

log = logging.getLogger("zhpress")

#: The exit statuses of an interrupted build (Ctrl-C, SIGTERM): the process ends after replying.
INTERRUPTED = (130, 143)


def serve(requests: IO[str], replies: IO[str]) -> int:
    """Run the builds asked on `requests` one after another, each reply on `replies`, until end of input."""
    memo.enable()
    memo.defer_writes()
    from .pdf.engine import import_weasyprint

    import_weasyprint()  # the first build is warm too
    builds = 0
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        code, output = run(list(request["argv"]), capture=bool(request.get("capture")))
        replies.write(json.dumps({"code": code, "output": output}, ensure_ascii=False) + "\n")
        replies.flush()
        _after_reply()
        if code in INTERRUPTED:
            break
        builds += 1
        _settle(builds)
    return 0


def _after_reply() -> None:
    """The writes the build left for later (`memo.defer`); one that fails costs the next cold build a
    cache miss, never this process."""
    try:
        memo.run_deferred()
    except Exception:  # noqa: BLE001
        log.warning("a cache file could not be written after the build", exc_info=log.isEnabledFor(logging.DEBUG))


#: Builds after which the collector walks all this process keeps again (cycles among what earlier builds kept).
FULL_COLLECTION = 16


def _settle(builds: int) -> None:
    """After a reply: what the build left is collected and the rest frozen out of later collections, so that
    no build pauses to walk what the earlier ones keep (0.2-0.3 s a pass at 1000 articles); every
    `FULL_COLLECTION` builds all of it is walked again."""
    if builds % FULL_COLLECTION == 0:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def run(argv: list[str], *, capture: bool) -> tuple[int, str | None]:
    """One command line in this process; with `capture`, its output as text."""
    from . import cli

    with contextlib.ExitStack() as stack:
        buffer = stack.enter_context(cli.captured_output()) if capture else None
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # the parser's own exit (a bad option)
            code = exc.code if isinstance(exc.code, int) else 2
    return code, buffer.getvalue() if buffer is not None else None


def main(args: list[str]) -> int:
    reply_fd = int(args[0])
    replies: Any = os.fdopen(reply_fd, "w", encoding="utf-8")
    with replies:
        return serve(sys.stdin, replies)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m zhpress` and the `zhpress` command."""

import _signal  # the C module: `signal` imports enum, which takes long enough for a Ctrl-C to land in it
import sys


def _stopped_early(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM before the build's own handlers are set: nothing to clean up yet."""
    sys.stderr.write("terminated\n" if signum == _signal.SIGTERM else "interrupted\n")
    raise SystemExit(128 + signum)


def run() -> int:
    """Fork a build's workers first (they load WeasyPrint meanwhile), then run the command line. Ctrl-C
    and SIGTERM end it quietly at any point (exit 130 and 143), the workers and their folders with it."""
    _signal.signal(_signal.SIGINT, _stopped_early)
    _signal.signal(_signal.SIGTERM, _stopped_early)
    from . import workers
    from .pdf import pool

    workers.handle_signals()
    try:
        pool.start_early(sys.argv[1:])
        from .cli import main

        return main()
    except KeyboardInterrupt as exc:  # before the command line could take it (while it was imported)
        pool.discard()
        workers.remove_scratch()
        return workers.interrupted_status(exc)


if __name__ == "__main__":
    sys.exit(run())

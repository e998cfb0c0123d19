"""`python -m zhpress` and the `zhpress` command."""

import sys


def run() -> int:
    """Fork a build's workers first (they load WeasyPrint meanwhile), then run the command line."""
    from . import workers

    workers.start_early(sys.argv[1:])
    from .cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())

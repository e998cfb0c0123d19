"""`python -m zhpress`: the same as the `zhpress` command."""

import sys

from .cli import main

sys.exit(main())

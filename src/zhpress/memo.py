"""What a warm build process keeps in memory from one build to the next (`zhpress.warm`): named tables that
the stages fill and read. Off in an ordinary build, where `table` gives None and every stage works as if
it were the first build.

An entry is only ever a pure function of its key (the key holds everything the value was made from), so
a stale entry cannot be read: it is simply never asked for again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class _Tables:
    """The tables of this process (None until `enable`)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, Any]] | None = None
        self.deferring = False  # writes for later builds wait until the reply is sent (`defer`)
        self.deferred: dict[str, Callable[[], None]] = {}


_state = _Tables()


def enable() -> None:
    """Keep tables from now on (the warm build process calls this once)."""
    if _state.tables is None:
        _state.tables = {}


def disable() -> None:
    """Keep nothing (the tables are dropped); what was deferred is done now."""
    run_deferred()
    _state.tables = None
    _state.deferring = False


def defer_writes() -> None:
    """From now on `defer` keeps its actions until `run_deferred` (the warm process, after each reply)."""
    _state.deferring = True


def defer(name: str, action: Callable[[], None]) -> None:
    """Run `action`, a write only later builds read (a cache file), now; in the warm process once the
    build has replied (its output is in place by then, and the next build starts after it), the last
    action of each `name` only."""
    if _state.deferring and _state.tables is not None:
        _state.deferred.pop(name, None)
        _state.deferred[name] = action
    else:
        action()


def run_deferred() -> None:
    """Do what `defer` kept, in the order it was asked."""
    while _state.deferred:
        name = next(iter(_state.deferred))
        _state.deferred.pop(name)()


def enabled() -> bool:
    return _state.tables is not None


def table(name: str) -> dict[Any, Any] | None:
    """The table `name` (made empty on first use), or None when nothing is kept between builds."""
    if _state.tables is None:
        return None
    return _state.tables.setdefault(name, {})


def trim(name: str, keep: set[Any]) -> None:
    """Drop the entries of `name` whose keys are not in `keep` (what the last build did not use)."""
    found = table(name)
    if found is not None:
        for key in [k for k in found if k not in keep]:
            del found[key]


@contextmanager
def paused() -> Iterator[None]:
    """Nothing kept or read inside (a build as an ordinary process makes it); the tables as they were after."""
    tables, _state.tables = _state.tables, None
    try:
        yield
    finally:
        _state.tables = tables

"""Every use of WeasyPrint 70's internals, behind one version guard (`guard`): CJK justification
(`justify`), the text's typography as Pango attributes (`typography`), no lone last character (`lone`),
a line grid for the body (`grid`), speed-ups that change no output (`speedups`), and the fonts the
chunked merge reads and subsets (`fonts`).

`install()` replaces WeasyPrint's functions by those of `justify` and `speedups` (reference-counted,
process-wide while installed); `cjk_justification()` holds it around one document: both layout
(``render()``) and drawing (``write_pdf()``) must run inside it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from . import cjk, fonts, grid, justify, lone, speedups, typography
from .guard import SUPPORTED_WEASYPRINT, check_engine_version, checked_modules, modules, originals

__all__ = [
    "SUPPORTED_WEASYPRINT", "check_engine_version", "cjk_justification", "fonts", "install", "is_cjk", "uninstall",
]

is_cjk = cjk.is_cjk

#: What `install` replaces: "WeasyPrint module:attribute path" -> (zhpress module, replacement's name).
PATCHES: dict[str, tuple[ModuleType, str]] = {
    "layout.inline:justify_line": (justify, "justify_line"),
    "layout.inline:remove_last_whitespace": (justify, "remove_last_whitespace"),
    "text.line_break:Layout.set_text": (justify, "set_text"),
    "layout.inline:handle_leader": (speedups, "handle_leader"),
    "pdf.fonts:Font.__init__": (speedups, "font_init"),
    "layout.page:set_page_type_computed_styles": (speedups, "page_styles"),
    "layout.block:iter_line_boxes": (grid, "iter_line_boxes"),
    "layout.inline:split_inline_box": (lone, "split_inline_box"),
    "layout.inline:split_text_box": (typography, "split_text_box"),
}

_lock = threading.Lock()
_installed = [0]  # how many `install()`s are not undone yet


def _owner(modules: dict[str, object], target: str) -> tuple[object, str]:
    """The object holding the attribute `target` names, and the attribute's name."""
    module, _, path = target.partition(":")
    *holders, name = path.split(".")
    owner = modules[module]
    for holder in holders:
        owner = getattr(owner, holder)
    return owner, name


def install() -> None:
    """Install the patches (reference-counted); raise RenderError if this WeasyPrint does not fit them."""
    found = checked_modules()
    with _lock:
        if _installed[0] == 0:
            for target, (module, name) in PATCHES.items():
                owner, attribute = _owner(found, target)
                originals[target] = getattr(owner, attribute)
                setattr(owner, attribute, getattr(module, name))
        _installed[0] += 1


def uninstall() -> None:
    """Undo one `install()`; WeasyPrint is restored when the last one is undone."""
    with _lock:
        if _installed[0] == 0:
            return
        _installed[0] -= 1
        if _installed[0] == 0:
            found = modules()
            for target in PATCHES:
                owner, attribute = _owner(found, target)
                setattr(owner, attribute, originals.pop(target))


@contextmanager
def cjk_justification() -> Iterator[None]:
    """Context manager: the patches installed while WeasyPrint lays out and draws one document."""
    install()
    try:
        yield
    finally:
        uninstall()

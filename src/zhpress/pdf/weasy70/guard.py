"""The one version guard around WeasyPrint's internals: the versions zhpress was written against, the
signature of everything it replaces or calls, and the originals of what it replaced while installed."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any

from ...errors import RenderError

#: WeasyPrint versions whose internals this package was written against and tested with.
SUPPORTED_WEASYPRINT = ("70.0",)

# (module attribute path, expected parameters) of everything this package replaces or calls.
_EXPECTED = {
    "layout.inline.justify_line": ("context", "line", "extra_width"),
    "layout.inline.remove_last_whitespace": ("context", "line"),
    "layout.inline.handle_leader": ("context", "line", "containing_block"),
    "layout.leader.leader_index": ("box",),
    "layout.inline.iter_line_boxes": ("context", "box", "position_y", "bottom_space", "skip_stack", "containing_block", "absolute_boxes", "fixed_boxes", "first_letter_style", "first_line_style"),
    "layout.inline.split_inline_box": ("context", "box", "position_x", "max_x"),
    "layout.inline.split_text_box": ("context", "box", "available_width", "skip"),
    "text.line_break.Layout.reactivate": ("self", "style"),
    "formatting_structure.boxes.TextBox.copy_with_text": ("self", "text"),
    "layout.page.set_page_type_computed_styles": ("page_type", "html", "style_for"),
    "css.StyleFor._page_type_match": ("page_selector_type", "page_type"),
    "pdf.fonts.Font.__init__": ("self", "pango_font", "description", "font_size"),
    "pdf.fonts.Font.clean": ("self", "to_unicode", "hinting"),
    "pdf.fonts.Font._harfbuzz_subset": ("self", "to_unicode", "hinting"),
    "pdf.fonts.get_hb_object_data": ("hb_object", "ot_color", "glyph"),
    "text.line_break.split_first_line": ("text", "style", "context", "max_width", "justification_spacing", "is_line_start", "minimum"),
    "text.line_break.Layout.set_text": ("self", "text", "justify"),
    "text.line_break.strut": ("style",),
    "text.line_break.create_layout": ("text", "style", "context", "max_width", "justification_spacing"),
}
_MODULES = ("css", "formatting_structure.boxes", "layout.block", "layout.inline", "layout.leader", "layout.page", "text.line_break", "pdf.fonts")

#: What `install` replaced, by "module:attribute path", while it is installed.
originals: dict[str, Callable[..., Any]] = {}


def check_engine_version() -> None:
    """Refuse an installed WeasyPrint this package was not written for, before a build reads anything.
    Reads the installed distribution's metadata only: importing WeasyPrint costs half a second."""
    try:
        version = importlib.metadata.version("weasyprint")
    except importlib.metadata.PackageNotFoundError as error:
        raise RenderError("WeasyPrint is not installed", hint="pip install zhpress with its dependencies") from error
    if version not in SUPPORTED_WEASYPRINT:
        raise RenderError(
            f"PDF editions need WeasyPrint {', '.join(SUPPORTED_WEASYPRINT)}, but {version} is installed",
            hint=f"pip install 'weasyprint=={SUPPORTED_WEASYPRINT[-1]}'",
        )


def modules() -> dict[str, Any]:
    """WeasyPrint's internal modules this package uses, by dotted name below `weasyprint` (unchecked)."""
    try:
        return {name: importlib.import_module(f"weasyprint.{name}") for name in _MODULES}
    except ImportError as error:  # pragma: no cover - weasyprint is a dependency
        raise RenderError(f"WeasyPrint cannot be imported: {error}") from error


def checked_modules() -> dict[str, Any]:
    """`modules()`, once checked to be the ones this package was written for (version and every
    signature of `_EXPECTED`); RenderError otherwise."""
    roots = modules()
    weasyprint = importlib.import_module("weasyprint")
    version = getattr(weasyprint, "__version__", "unknown")
    if version not in SUPPORTED_WEASYPRINT:
        raise RenderError(
            f"CJK justification is written for WeasyPrint {', '.join(SUPPORTED_WEASYPRINT)}, not {version}",
            path=__file__,
            hint="pin weasyprint to a supported version or port zhpress.pdf.weasy70 and its tests",
        )
    for dotted, params in _EXPECTED.items():
        parts = dotted.split(".")
        depth = 1 if parts[0] in roots else 2
        obj: Any = roots[".".join(parts[:depth])]
        for name in parts[depth:]:
            obj = getattr(obj, name, None)
        if not callable(obj) or tuple(inspect.signature(obj).parameters)[: len(params)] != params:
            raise RenderError(
                f"WeasyPrint {version} has no {dotted}{params}: the CJK justification hook does not fit",
                path=__file__,
                hint="port zhpress.pdf.weasy70 to this WeasyPrint",
            )
    block, inline = roots["layout.block"], roots["layout.inline"]
    if block.iter_line_boxes is not inline.iter_line_boxes and "layout.block:iter_line_boxes" not in originals:
        raise RenderError(
            f"WeasyPrint {version}'s block layout does not call layout.inline.iter_line_boxes: the lone-character rule does not fit",
            path=__file__,
            hint="port zhpress.pdf.weasy70.lone to this WeasyPrint",
        )
    return roots


def original(target: str) -> Callable[..., Any]:
    """The WeasyPrint function `install` replaced at `target` ("module:attribute path")."""
    return originals[target]

"""The PDF stage. Its public API is what this package hands on:

- `build_pdf(project, profile, book, date, convert, *, jobs, cache, on_chunk, render_pool, executor)`: one
  PDF edition as bytes and its page count, in one pass or in chunks (`chunking_applies`, `CHUNK_ARTICLES`);
- `build_cover_pdf(...)` and `cover_name(...)`: a print edition's cover spread and its file name;
- `lay_out_pages(...)`: where each page of a print edition begins, for an EPUB's page list, without its PDF;
- `check_engine_version()`: refuse an unsupported WeasyPrint before a build reads anything;
- `pool`: the render workers forked as soon as the command line is read.

Inside, one profile's build reads top-down: edition -> sources -> chunked -> schedule -> executor ->
engine (-> weasy70) -> cache -> merge -> finish -> tagging (docs/pdf-stage.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cover import build_cover_pdf, cover_name
    from .edition import build_pdf, lay_out_pages
    from .schedule import CHUNK_ARTICLES, chunking_applies
    from .weasy70 import check_engine_version

__all__ = [
    "CHUNK_ARTICLES", "build_cover_pdf", "build_pdf", "check_engine_version", "chunking_applies", "cover_name",
    "lay_out_pages",
]

# Handed on when first asked for, not imported here: the render workers import `zhpress.pdf.engine` as
# they start and must not load the templates and configuration models (about a second).
_HOME = {
    "CHUNK_ARTICLES": "schedule", "build_cover_pdf": "cover", "build_pdf": "edition",
    "check_engine_version": "weasy70", "chunking_applies": "schedule", "cover_name": "cover",
    "lay_out_pages": "edition",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)

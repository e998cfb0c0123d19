"""One page of HTML drawn by the PDF engine and rasterised by PDFium: the EPUB's drawn cover image."""

from __future__ import annotations

import io
from collections.abc import Iterable
from concurrent.futures import Executor
from pathlib import Path

import pypdfium2
from PIL import Image

from ..config import Project
from ..workers import scratch_dir
from .engine import RenderJob, refused_error, render_job
from .sources import fetch_roots


def rasterize(
    project: Project, html: str, sheets: list[tuple[str, str]], size: tuple[int, int], *,
    extra_roots: Iterable[Path] = (), render_pool: Executor | None = None,
) -> bytes:
    """One page of HTML drawn by WeasyPrint (in `render_pool` when given) and rasterised by PDFium at `size`
    pixels, as PNG bytes. It may read the book's files and those under `extra_roots`."""
    with scratch_dir("zhpress-cover-") as scratch:
        job = RenderJob(
            "book", 0, html, tuple(sheets), str(project.content_dir), str(project.styles_dir),
            tuple(str(r) for r in [*fetch_roots(project), *extra_roots]), (), "",
            str(Path(scratch) / "front.pdf"),
        )
        rendered = render_job(job) if render_pool is None else render_pool.submit(render_job, job).result()
        if rendered.refused:
            raise refused_error(rendered.refused, project.styles_dir)
        document = pypdfium2.PdfDocument(rendered.path)
        try:
            page = document[0]
            width, _height = page.get_size()
            image = page.render(scale=size[0] / width).to_pil().convert("RGB")
        finally:
            document.close()
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()

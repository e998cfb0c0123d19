"""The PDF editions (print PDF/X and the tagged screen PDF): the PDF stage's book block, checked by
reading it back, and a print edition's cover spread beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import pdf, workers
from ..validate import check_pdf_bytes
from . import Built, Job
from .cover import cover_files

if TYPE_CHECKING:
    from ..config import Profile, Project


class PdfEdition:
    """A PDF rendered by WeasyPrint, long books in chunks on several processes."""

    suffix = "pdf"
    templates = ("pdf/book.html",)
    self_contained = False
    renders_in_workers = True

    def check_engine(self) -> None:
        """Only the WeasyPrint release the PDF stage supports."""
        pdf.check_engine_version()

    def single_pass(self, job: Job) -> bool:
        return not pdf.chunking_applies(job.project, job.profile, job.book)

    def needs_engine(self, job: Job) -> bool:
        return True

    def build(self, job: Job) -> Built:
        profile = job.profile
        chunks = -(-len(job.book.articles) // pdf.CHUNK_ARTICLES)

        def on_chunk(kind: str, index: int, from_cache: bool, pages: int) -> None:
            if kind == "body":  # the long part; front matter and folio pieces take a moment at the end
                workers.report("chunk", profile.name, pages, chunks)

        layout: list[list[Any]] = []
        data, pages = pdf.build_pdf(
            job.project, profile, job.book, job.date, job.convert, jobs=job.jobs, cache=job.cache,
            on_chunk=on_chunk, render_pool=job.render_pool, executor=job.executor, on_pages=layout.append,
        )
        check_pdf_bytes(data, job.target.name, profile)
        return Built([(job.target, data), *cover_files(job, pages)], pages, layout[0] if layout else None)

    def layout_from(self, project: Project, profile: Profile) -> str | None:
        """A PDF is laid out by itself."""
        return None


EDITION = PdfEdition()

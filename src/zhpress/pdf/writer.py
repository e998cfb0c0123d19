"""The PDF writer: the book's HTML through WeasyPrint, then page labels, colour and reproducible metadata.

Print profiles write PDF/X-4 (CMYK output intent, 100 % K text and marks, TrimBox/BleedBox, no links);
the screen profile writes tagged PDF/UA-1 with working links.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from ..errors import InputError

if TYPE_CHECKING:  # the render workers import this module: they need neither pydantic nor jinja2
    from concurrent.futures import Executor

    from ..model import Book
    from ..project import Profile, Project
    from ..render import Renderer

log = logging.getLogger("zhpress")

ICC_NAME = "FOGRA39L-zhpress.icc"
PDFX_VARIANTS = ("pdf/x-1a", "pdf/x-3", "pdf/x-4")


def package_dir(*parts: str) -> Path:
    """A folder of the installed package (templates, data)."""
    return Path(str(resources.files("zhpress").joinpath(*parts)))


def icc_path() -> Path:
    """The shipped CMYK characterization profile used as the PDF/X output intent."""
    return package_dir("data", "icc") / ICC_NAME


def confined_fetcher(roots: list[Path]) -> Any:
    """A WeasyPrint URL fetcher that serves only files under `roots` (the book's folders, the package's data)
    and inline `data:` URLs. Anything else, any network URL above all, is refused and remembered in
    `.refused`, so the build can name it."""
    from weasyprint.urls import URLFetcher

    allowed = [r.resolve() for r in roots]

    class ConfinedFetcher(URLFetcher):  # type: ignore[misc]
        refused: list[str]

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if path.is_file() and any(path.is_relative_to(root) for root in allowed):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"zhpress fetches only the book's own files; refused {url}")

    fetcher = ConfinedFetcher(allowed_protocols=("file", "data"))
    fetcher.refused = []
    return fetcher


def _page_css(renderer: Renderer, cmyk: bool) -> str:
    return renderer.render("pdf/page.css.j2", page=renderer.profile.page, cmyk=cmyk, icc_url=icc_path().as_uri())


CMYK_CSS = """
/* PDF/X: every colour in CMYK, text and rules in 100 % K. */
html, a { color: device-cmyk(0 0 0 1); }
.editor-note { border-color: device-cmyk(0 0 0 1); }
"""


def render_html(project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str], *, text_filter: Callable[..., Any] | None = None) -> tuple[str, list[tuple[str, str]], Renderer]:
    """The book's HTML and CSS for this profile."""
    from ..render import Renderer

    kwargs = {"text_filter": text_filter} if text_filter else {}
    renderer = Renderer(project, profile, convert=convert, **kwargs)
    page = profile.page
    assert page is not None
    cmyk = page.pdf_variant in PDFX_VARIANTS
    context = renderer.context(book, date_iso=date.strftime("%Y-%m-%dT%H:%M:%SZ"), include_front=True, sheets=None)
    html = renderer.render("pdf/book.html", **context)
    css = renderer.stylesheets() + [("page.css", _page_css(renderer, cmyk))]
    if cmyk:
        css.append(("cmyk.css", CMYK_CSS))
    return html, css, renderer


def build_pdf(
    project: Project,
    profile: Profile,
    book: Book,
    date: dt.datetime,
    convert: Callable[[str], str],
    *,
    jobs: int = 1,
    cache: bool = True,
    on_chunk: Callable[[str, int, bool, int], None] | None = None,
    render_pool: Executor | None = None,
    executor: Any = None,
) -> tuple[bytes, int]:
    """The PDF of one edition as bytes, and its page count. Long books are rendered in chunks by `jobs`
    worker processes (or by `executor`, a `zhpress.pdf.executor` one) and merged (`zhpress.pdf.chunked`),
    reusing cached chunks unless `cache` is False; `on_chunk(kind, index, from_cache, pages)` hears of every
    finished chunk. A single-pass render goes to `render_pool` when given (a worker that has WeasyPrint
    loaded already)."""
    from .chunked import build_chunked_pdf, chunking_applies

    if chunking_applies(project, profile, book):
        return build_chunked_pdf(project, profile, book, date, convert, jobs=jobs, cache=cache, on_chunk=on_chunk,
                                 executor=executor)
    return build_single_pdf(project, profile, book, date, convert, render_pool=render_pool)


def book_sources(
    project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str]
) -> tuple[str, list[tuple[str, str]], Renderer]:
    """The single-pass HTML of the book and every stylesheet in cascade order (typesetting rules included)."""
    from ..typeset import TYPESET_CSS, typeset

    page = profile.page
    assert page is not None

    def text_filter(text: str) -> Any:
        return typeset(text, latin_spacing=page.latin_spacing)

    html, sheets, renderer = render_html(project, profile, book, date, convert, text_filter=text_filter)
    sheets.insert(2, ("typeset.css", TYPESET_CSS))
    return html, sheets, renderer


def fetch_roots(project: Project) -> list[Path]:
    """The folders WeasyPrint may read from: the book's own and the package's templates and data."""
    return [project.content_dir, project.styles_dir, package_dir("templates"), package_dir("data")]


def pdf_options(profile: Profile) -> dict[str, Any]:
    """WeasyPrint's `render()`/`write_pdf()` options for a profile (PDF variant, tags)."""
    page = profile.page
    assert page is not None
    options: dict[str, Any] = {}
    if page.pdf_variant != "none":
        options["pdf_variant"] = page.pdf_variant
    if page.pdf_variant == "pdf/ua-1":
        options["pdf_tags"] = True
    return options


def load_stylesheets(sheets: list[tuple[str, str]], styles_dir: Path, fetcher: Any, color_profiles: dict[str, Any]) -> list[Any]:
    """WeasyPrint stylesheets from (name, css) pairs; a sheet WeasyPrint cannot use is the user's error."""
    import weasyprint

    try:
        return [
            weasyprint.CSS(string=css, base_url=str(styles_dir) + "/", url_fetcher=fetcher, color_profiles=color_profiles)
            for _, css in sheets
        ]
    except Exception as exc:  # WeasyPrint raises plain exceptions for CSS it cannot use
        raise InputError(f"stylesheet cannot be used: {exc}", path=styles_dir) from exc


def refused_error(refused: list[str], styles_dir: Path) -> InputError:
    """The user error for URLs the confined fetcher refused."""
    return InputError(
        f"the book refers to files outside its folders or to the network: {', '.join(sorted(set(refused)))}",
        path=styles_dir,
        hint="keep images, fonts and stylesheets under content/ or styles/",
    )


def build_single_pdf(
    project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str],
    *, render_pool: Executor | None = None,
) -> tuple[bytes, int]:
    """The PDF of one edition rendered as one WeasyPrint document, and its page count. The HTML is made
    here; WeasyPrint runs in `render_pool` if given, else in this process."""
    import tempfile

    from ..render import article_anchor
    from .chunked import RenderJob, render_job

    page = profile.page
    assert page is not None
    html, sheets, _renderer = book_sources(project, profile, book, date, convert)
    cmyk = page.pdf_variant in PDFX_VARIANTS
    with tempfile.TemporaryDirectory(prefix="zhpress-pdf-") as scratch:
        job = RenderJob(
            "book", 0, html, tuple(sheets), str(project.content_dir), str(project.styles_dir),
            tuple(str(r) for r in fetch_roots(project)), tuple(sorted(pdf_options(profile).items())), "",
            str(Path(scratch) / "book.pdf"),
        )
        if render_pool is None:
            rendered = render_job(job)
        else:
            future = render_pool.submit(render_job, job)
            import pikepdf  # noqa: F401  (loaded for the finishing step while the worker renders)

            rendered = future.result()
        if rendered.refused:
            raise refused_error(rendered.refused, project.styles_dir)
        raw = Path(rendered.path).read_bytes()
    front_pages = rendered.anchors.get(article_anchor(1), 0)  # the front matter, padded to an even count
    seed = hashlib.sha256("\0".join([profile.name, html, *(css for _, css in sheets)]).encode()).hexdigest()
    data = finish_pdf(raw, profile, front_pages=front_pages, cmyk=cmyk, seed=seed)
    return data, rendered.pages


def finish_pdf(raw: bytes, profile: Profile, *, front_pages: int, cmyk: bool, seed: str) -> bytes:
    """Page labels matching the printed folios, 100 % K marks, stable document ids, no links in print."""
    import pikepdf

    with pikepdf.open(io.BytesIO(raw)) as pdf:
        return finish_document(pdf, profile, front_pages=front_pages, cmyk=cmyk, seed=seed)


def finish_document(pdf: Any, profile: Profile, *, front_pages: int, cmyk: bool, seed: str) -> bytes:
    """`finish_pdf` on an open pikepdf document (the chunked build's merged file); returns the saved bytes."""
    import pikepdf

    page = profile.page
    assert page is not None
    nums: list[Any] = []
    if front_pages:
        nums += [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
    nums += [front_pages, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
    if page.marks and page.bleed:
        draw_crop_marks(pdf, page.bleed * 72 / 25.4)
    if cmyk:
        for pdf_page in pdf.pages:
            if "/Annots" in pdf_page.obj:
                del pdf_page.obj["/Annots"]
    if page.pdf_variant == "pdf/ua-1" or not cmyk:
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        for pdf_page in pdf.pages:  # links are for every reader: printable, never hidden
            for annot in pdf_page.obj.get("/Annots", []):
                annot.F = 4
    if page.pdf_variant == "pdf/ua-1":
        from .tagging import mark_furniture_as_artifacts

        mark_furniture_as_artifacts(pdf)  # running heads and folios: pagination artifacts, not content
    _stable_ids(pdf, seed)
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(bytes.fromhex(seed[:32]))] * 2)
    _compress_large_streams(pdf)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


LARGE_STREAM = 64 * 1024


def _compress_large_streams(pdf: Any) -> None:
    """Compress the large uncompressed streams (font subsets, the ICC profile) on every core at once: zlib
    lets other threads run, and these few streams are most of what saving the file costs. The rest is
    left to qpdf when saving, as before; the result is the same zlib stream qpdf would write."""
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    import pikepdf

    large = [
        obj for obj in pdf.objects
        if isinstance(obj, pikepdf.Stream) and "/Filter" not in obj and int(obj.get("/Length", 0)) >= LARGE_STREAM
    ]
    if not large:
        return
    with ThreadPoolExecutor(max_workers=min(len(large), os.cpu_count() or 1)) as threads:
        packed = list(threads.map(lambda data: zlib.compress(data, 6), [obj.read_raw_bytes() for obj in large]))
    for obj, data in zip(large, packed, strict=True):
        obj.write(data, filter=pikepdf.Name.FlateDecode)


MARK_WIDTH = 0.25  # pt: the hairline printers expect


def draw_crop_marks(pdf: Any, bleed: float) -> None:
    """Crop marks in the bleed of every page, in 100 % K (DeviceCMYK, as PDF/X wants): at each corner a
    line on each trim edge from the media edge to half the bleed. Drawn here, once per page size as two
    streams every page shares, rather than by WeasyPrint, which paints them as an SVG on each page (a
    tenth of a print build's time) and in RGB."""
    import pikepdf

    shared: dict[tuple[float, ...], tuple[Any, Any]] = {}
    for pdf_page in pdf.pages:
        box = tuple(float(v) for v in pdf_page.mediabox)
        if box not in shared:
            x0, y0, x1, y1 = box
            b, half = bleed, bleed / 2
            lines = [
                (x0, y0 + b, x0 + half, y0 + b), (x1, y0 + b, x1 - half, y0 + b),  # bottom trim edge
                (x0, y1 - b, x0 + half, y1 - b), (x1, y1 - b, x1 - half, y1 - b),  # top trim edge
                (x0 + b, y0, x0 + b, y0 + half), (x1 - b, y0, x1 - b, y0 + half),  # left/right, bottom
                (x0 + b, y1, x0 + b, y1 - half), (x1 - b, y1, x1 - b, y1 - half),  # left/right, top
            ]
            path = " ".join(f"{ax:.3f} {ay:.3f} m {bx:.3f} {by:.3f} l S" for ax, ay, bx, by in lines)
            marks = f"Q\nq 0 0 0 1 K {MARK_WIDTH} w 0 J {path} Q\n".encode()
            shared[box] = (pdf.make_indirect(pikepdf.Stream(pdf, b"q\n")), pdf.make_indirect(pikepdf.Stream(pdf, marks)))
        before, after = shared[box]
        contents = pdf_page.obj.get("/Contents")
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []
        # the page's own drawing is wrapped in q … Q, so whatever state it leaves cannot move the marks
        pdf_page.obj.Contents = pikepdf.Array([before, *streams, after])


_ID_PATTERN = re.compile(rb"(xmp\.did:|xmp\.iid:|uuid:)[0-9a-fA-F-]{32,36}")


def _stable_ids(pdf: Any, digest: str) -> None:
    """Replace WeasyPrint's random XMP document ids with ones derived from the inputs (a hex digest)."""
    uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    metadata = pdf.Root.get("/Metadata")
    if metadata is None:
        return
    xmp = metadata.read_bytes()
    xmp = _ID_PATTERN.sub(lambda m: m[1] + uuid.encode(), xmp)
    metadata.write(xmp)

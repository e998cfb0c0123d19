"""The PDF writer: the book's HTML through WeasyPrint, then page labels, colour and reproducible metadata.

Print profiles write PDF/X-4 (CMYK output intent, 100 % K text and marks, TrimBox/BleedBox, no links);
the screen profile writes tagged PDF/UA-1 with working links.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import mimetypes
import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from ..errors import InputError, RenderError

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
    """A WeasyPrint URL fetcher that serves only regular files under `roots` (the book's folders, the
    package's data), read once through `zhpress.files`, and inline `data:` URLs. Anything else, any network
    URL above all, is refused and remembered in `.refused` (a file of the book that cannot be served with
    the reason), so the build can name it; `.served` holds the digest of every file's bytes as served."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    from .. import files

    allowed = [r.resolve() for r in roots]

    class ConfinedFetcher(URLFetcher):
        refused: list[str]
        served: dict[str, str]

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path))
                if any(files.is_inside(os.path.realpath(path), root) for root in allowed):
                    try:
                        data = files.read_confined(path, allowed, what=_kind_of(path))
                    except InputError as exc:
                        self.refused.append(f"{url} ({exc.message})")
                        raise ValueError(f"zhpress cannot use {url}: {exc.message}") from None
                    self.served[str(path)] = hashlib.sha256(data).hexdigest()
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, data, {"Content-Type": kind, "Content-Length": str(len(data))})
            self.refused.append(url)
            raise ValueError(f"zhpress fetches only the book's own files; refused {url}")

    fetcher = ConfinedFetcher(allowed_protocols=("file", "data"))
    fetcher.refused = []
    fetcher.served = {}
    return fetcher


def _kind_of(path: Path) -> str:
    """What a fetched file is, for its size limit and messages."""
    suffix = path.suffix.lower()
    if suffix == ".css":
        return "stylesheet"
    if suffix in (".otf", ".ttf", ".ttc", ".woff", ".woff2"):
        return "font"
    if suffix in (".icc", ".icm"):
        return "colour profile"
    return "image"


def _page_css(renderer: Renderer, cmyk: bool) -> str:
    from ..images import MAX_HEIGHT_SHARE

    page = renderer.profile.page
    assert page is not None
    tallest = round((page.height - page.margin_top - page.margin_bottom) * MAX_HEIGHT_SHARE, 2)
    return renderer.render("pdf/page.css.j2", page=page, cmyk=cmyk, icc_url=icc_path().as_uri(), figure_max_height=tallest)


CMYK_CSS = """
/* PDF/X: every colour in CMYK, text and rules in 100 % K. */
html, a { color: device-cmyk(0 0 0 1); }
.editor-note, th, td { border-color: device-cmyk(0 0 0 1); }
@page { color: device-cmyk(0 0 0 1); @footnote { border-color: device-cmyk(0 0 0 1); color: device-cmyk(0 0 0 1); } }
"""


def print_renderer(project: Project, profile: Profile, book: Book, convert: Callable[[str], str]) -> Renderer:
    """The templates of a PDF edition with its typesetting filters (plain text and inline runs) and its
    figures' image files (CMYK for print)."""
    from ..images import pdf_images
    from ..render import Renderer
    from ..typeset import typeset, typeset_pieces

    page = profile.page
    assert page is not None
    latin, punctuation = page.latin_spacing, profile.punctuation

    def text_filter(text: str) -> Any:
        return typeset(text, latin_spacing=latin, punctuation=punctuation)

    dots = profile.emphasis == "dots"

    def pieces_filter(texts: list[str], dotted: list[bool]) -> Any:
        marked = dotted if dots else [False] * len(texts)
        return typeset_pieces(texts, marked, latin_spacing=latin, punctuation=punctuation)

    images = pdf_images(project, book, cmyk=page.pdf_variant in PDFX_VARIANTS, icc=icc_path())
    return Renderer(project, profile, convert=convert, text_filter=text_filter, pieces_filter=pieces_filter, images=images)


def render_html(project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str]) -> tuple[str, list[tuple[str, str]], Renderer]:
    """The book's HTML and CSS for this profile."""
    renderer = print_renderer(project, profile, book, convert)
    page = profile.page
    assert page is not None
    cmyk = page.pdf_variant in PDFX_VARIANTS
    context = print_context(renderer, book, date)
    html = renderer.render("pdf/book.html", **context)
    css = renderer.stylesheets() + [("page.css", _page_css(renderer, cmyk))]
    if cmyk:
        css.append(("cmyk.css", CMYK_CSS))
    return html, css, renderer


#: The running heads' size in points (print.css): a head wider than the type area at this size would wrap.
RUNNING_HEAD_PT = 8.0
_PHRASE_END = re.compile(r"(?<=[，、：；！？。])|(?=　)|(?=——)")


def print_context(renderer: Renderer, book: Book, date: dt.datetime) -> dict[str, Any]:
    """What the print book template sees: the renderer's context and each article's running head."""
    context = renderer.context(book, date_iso=date.strftime("%Y-%m-%dT%H:%M:%SZ"), include_front=True, sheets=None)
    page = renderer.profile.page
    assert page is not None
    budget = int((page.width - page.margin_inner - page.margin_outer) * MM / RUNNING_HEAD_PT)
    context["running_heads"] = {
        view.anchor: running_head(view.article, budget, renderer.profile.name) for view in context["articles"]
    }
    context["copyright"] = copyright_page(renderer, book, context)
    return context


#: The copyright page's fields in each region's order, with that region's own labels (a Taiwan or Hong
#: Kong 版權頁 is not a converted mainland one). Fields the book does not give are left out.
COPYRIGHT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cn": (("title", "书　　名"), ("authors", "著　　者"), ("editors", "编　　者"), ("editor_in_charge", "责任编辑"),
           ("cover_designer", "封面设计"), ("publisher", "出版发行"), ("address", "地　　址"), ("phone", "电　　话"),
           ("format", "开　　本"), ("characters", "字　　数"), ("edition", "版　　次"), ("printing", "印　　次"),
           ("print_run", "印　　数"), ("isbn", "书　　号"), ("price", "定　　价"), ("typeface", "字　　体")),
    "tw": (("title", "書　　名"), ("authors", "作　　者"), ("editors", "編　　者"), ("editor_in_charge", "責任編輯"),
           ("cover_designer", "封面設計"), ("publisher", "出\u2002版\u2002者"), ("address", "地　　址"), ("phone", "電　　話"),
           ("edition", "出版日期"), ("printing", "印　　次"), ("price", "定　　價"), ("isbn", "ISBN"),
           ("typeface", "字　　體"), ("conversion", "繁體轉換")),
    "hk": (("title", "書　　名"), ("authors", "作　　者"), ("editors", "編　　者"), ("editor_in_charge", "責任編輯"),
           ("cover_designer", "封面設計"), ("publisher", "出　　版"), ("address", "地　　址"), ("phone", "電　　話"),
           ("edition", "版　　次"), ("printing", "印　　次"), ("isbn", "國際書號"), ("price", "定　　價"),
           ("typeface", "字　　體"), ("conversion", "繁體轉換")),
}
CIP_HEADINGS = {"cn": "图书在版编目（CIP）数据", "tw": "國家圖書館出版品預行編目（CIP）資料", "hk": "香港出版品在版編目（CIP）資料"}


def copyright_page(renderer: Renderer, book: Book, context: dict[str, Any]) -> dict[str, Any]:
    """The print copyright page as data for the template: the CIP block and (label, value) rows in the
    order and wording of the edition's region."""
    language = renderer.profile.language
    region = "tw" if language.startswith("zh-Hant-TW") else "hk" if language.startswith("zh-Hant") else "cn"
    meta, cfg, convert = book.meta, renderer.project.config.book, renderer.convert
    title = meta.title + (f"：{meta.subtitle}" if meta.subtitle else "")
    values = {
        "title": title, "authors": "、".join(context["authors"]), "editors": "、".join(context["editors"]),
        "editor_in_charge": cfg.editor_in_charge, "cover_designer": cfg.cover_designer, "publisher": meta.publisher,
        "address": cfg.address, "phone": cfg.phone, "format": context["format_name"],
        "characters": f"{context['thousand_characters']} {context['labels']['thousand_characters']}",
        "edition": meta.edition, "printing": meta.printing, "print_run": cfg.print_run,
        "isbn": (meta.isbn if region == "tw" else f"ISBN {meta.isbn}") if meta.isbn else None, "price": meta.price,
        "typeface": renderer.profile.font_family, "conversion": context["conversion_name"],
    }
    converted = {"editor_in_charge", "cover_designer", "address", "print_run"}  # read from book.toml here
    rows = [
        (label, convert(values[key]) if key in converted else values[key])
        for key, label in COPYRIGHT_FIELDS[region] if values.get(key)
    ]
    cip = [convert(line) for line in (cfg.cip or "").strip().splitlines()]
    return {"rows": rows, "cip_heading": CIP_HEADINGS[region] if cip else None, "cip": cip, "region": region}


def running_head(article: Any, budget: int, profile: str) -> str:
    """An article's running head on one line of `budget` characters: its `running_head`, else its headline,
    else the headline's first phrases that fit (cut at a mark or a space, with a warning naming the file)."""
    text = article.running_head or article.headline
    if len(text) <= budget:
        return text
    cuts = [m.start() for m in _PHRASE_END.finditer(text) if 0 < m.start() <= budget]
    short = text[: cuts[-1]] if cuts else text[:budget]
    short = short.rstrip("　，、：；")
    what = "running_head" if article.running_head else "headline"
    log.warning(
        "%s: the %s %r is too long for a running head of %s (%d characters at most); cut to %r "
        "(give a shorter running_head in book.toml's [[articles]] or the front matter)",
        article.source, what, text, profile, budget, short,
    )
    return short


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
    on_pages: Callable[[list[Any]], None] | None = None,
) -> tuple[bytes, int]:
    """The PDF of one edition as bytes, and its page count. Long books are rendered in chunks by `jobs`
    worker processes (or by `executor`, a `zhpress.pdf.executor` one) and merged (`zhpress.pdf.chunked`),
    reusing cached chunks unless `cache` is False; `on_chunk(kind, index, from_cache, pages)` hears of every
    finished chunk. A single-pass render goes to `render_pool` when given (a worker that has WeasyPrint
    loaded already)."""
    from .chunked import build_chunked_pdf, chunking_applies

    if chunking_applies(project, profile, book):
        return build_chunked_pdf(project, profile, book, date, convert, jobs=jobs, cache=cache, on_chunk=on_chunk,
                                 executor=executor, on_pages=on_pages)
    return build_single_pdf(project, profile, book, date, convert, render_pool=render_pool, cache=cache, on_pages=on_pages)


def book_sources(
    project: Project, profile: Profile, book: Book, date: dt.datetime, convert: Callable[[str], str]
) -> tuple[str, list[tuple[str, str]], Renderer]:
    """The single-pass HTML of the book and every stylesheet in cascade order (typesetting rules included)."""
    from ..typeset import TYPESET_CSS

    html, sheets, renderer = render_html(project, profile, book, date, convert)
    sheets.insert(2, ("typeset.css", TYPESET_CSS))
    return html, sheets, renderer


def fetch_roots(project: Project) -> list[Path]:
    """The folders WeasyPrint may read from: the book's own and the package's templates and data."""
    from ..images import IMAGE_CACHE

    return [project.content_dir, project.styles_dir, project.root / IMAGE_CACHE, package_dir("templates"), package_dir("data")]


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
    *, render_pool: Executor | None = None, cache: bool = False, on_pages: Callable[[list[Any]], None] | None = None,
) -> tuple[bytes, int]:
    """The PDF of one edition rendered as one WeasyPrint document, and its page count. The HTML is made
    here; WeasyPrint runs in `render_pool` if given, else in this process. Where its pages begin goes to
    `on_pages` and, with `cache`, to the page cache (`zhpress.pagelist`)."""
    from ..render import article_anchor
    from ..workers import scratch_dir
    from .chunked import RenderJob, render_job

    page = profile.page
    assert page is not None
    html, sheets, _renderer = book_sources(project, profile, book, date, convert)
    cmyk = page.pdf_variant in PDFX_VARIANTS
    with scratch_dir("zhpress-pdf-") as scratch:
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
    from .. import pagelist

    if cache:
        pagelist.keep_single_pass(project, profile, job, rendered)
    if on_pages is not None:
        on_pages(pagelist.single_pass_pages(rendered, page.signature))
    front_pages = rendered.anchors.get(article_anchor(1), 0)  # the front matter, padded to an even count
    seed = hashlib.sha256("\0".join([profile.name, html, *(css for _, css in sheets)]).encode()).hexdigest()
    data = finish_pdf(raw, profile, front_pages=front_pages, cmyk=cmyk, seed=seed)
    return data, padded_count(rendered.pages, page.signature)


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
    pad_pages(pdf, page.signature)
    if page.marks or page.bleed:
        draw_crop_marks(pdf, page.bleed * MM, page.slug * MM, marks=page.marks)
    if cmyk:
        for page_dict in page_objects(pdf):
            if "/Annots" in page_dict:
                del page_dict["/Annots"]
    if page.pdf_variant == "pdf/ua-1" or not cmyk:
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        for page_dict in page_objects(pdf):  # links are for every reader: printable, never hidden
            for annot in page_dict.get("/Annots", []):
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


def page_objects(pdf: Any) -> list[Any]:
    """The page dictionaries of a document, read from its page tree. The chunked merge builds the tree on
    its /Kids array, which pikepdf's page list (a cache qpdf keeps of the front matter's pages) does not see."""
    kids = list(pdf.Root.Pages.Kids)
    if all(kid.get("/Type") == "/Page" for kid in kids):
        return kids
    return [pdf_page.obj for pdf_page in pdf.pages]


def padded_count(pages: int, signature: int) -> int:
    """The page count once padded to a multiple of the signature (2: an even count)."""
    return -(-pages // signature) * signature


def pad_pages(pdf: Any, signature: int) -> int:
    """Blank pages at the end of the book block up to a multiple of `signature`, of the last page's boxes,
    so that the last page of text keeps its place and the sheets fold whole; how many were added."""
    import pikepdf

    kids = pdf.Root.Pages.Kids
    pages = page_objects(pdf)
    missing = padded_count(len(pages), signature) - len(pages)
    if not missing:
        return 0
    if len(pages) != len(kids):
        raise RenderError("the page tree is nested; blank pages cannot be appended to it")
    last = pages[-1]
    boxes = {key: pikepdf.Array(list(last[key])) for key in ("/MediaBox", "/TrimBox", "/BleedBox") if key in last}
    contents = pdf.make_indirect(pikepdf.Stream(pdf, b""))
    for _ in range(missing):
        fields: dict[str, Any] = {
            "/Type": pikepdf.Name.Page, "/Parent": pdf.Root.Pages, "/Resources": pikepdf.Dictionary(), "/Contents": contents, **boxes,
        }
        blank = pdf.make_indirect(pikepdf.Dictionary(fields))
        kids.append(blank)
    pdf.Root.Pages.Count = len(kids)
    return missing


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
MM = 72 / 25.4


def draw_crop_marks(pdf: Any, bleed: float, slug: float, *, marks: bool = True) -> None:
    """The boxes of every page and its crop marks, in 100 % K (DeviceCMYK, as PDF/X wants): the bleed box
    is the trim box plus `bleed` (pt; WeasyPrint caps it at 10 pt), the media box the bleed box plus `slug`,
    and at each corner a line on the extension of each trim edge starts at the bleed (3 mm from the trim at
    least) and runs 5 mm into the slug. Drawn once per page size as two streams every page shares, rather
    than by WeasyPrint, which paints them as an SVG on each page (a tenth of a print build's time) and in
    RGB. Without `marks`, only the boxes: media box = bleed box."""
    import pikepdf

    from ..project import MARK_OFFSET_MM

    offset = max(bleed, MARK_OFFSET_MM * MM)
    length = min(5 * MM, bleed + slug - offset - MM)
    shared: dict[tuple[float, ...], tuple[Any, Any, Any, Any]] = {}
    for page_dict in page_objects(pdf):
        trim_box = page_dict.get("/TrimBox", page_dict.MediaBox)
        key = tuple(float(v) for v in trim_box)
        if key not in shared:
            x0, y0, x1, y1 = key
            bleed_box = [round(v, 4) for v in (x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed)]
            media = [round(v, 4) for v in (x0 - bleed - slug, y0 - bleed - slug, x1 + bleed + slug, y1 + bleed + slug)]
            near, far = offset, offset + length
            lines = [
                (x0 - near, y0, x0 - far, y0), (x1 + near, y0, x1 + far, y0),  # bottom trim edge, extended
                (x0 - near, y1, x0 - far, y1), (x1 + near, y1, x1 + far, y1),  # top trim edge
                (x0, y0 - near, x0, y0 - far), (x1, y0 - near, x1, y0 - far),  # left/right edges, below
                (x0, y1 + near, x0, y1 + far), (x1, y1 + near, x1, y1 + far),  # left/right edges, above
            ]
            path = " ".join(f"{ax:.3f} {ay:.3f} m {bx:.3f} {by:.3f} l S" for ax, ay, bx, by in lines)
            stroke = f"Q\nq 0 0 0 1 K {MARK_WIDTH} w 0 J {path} Q\n".encode()
            shared[key] = (
                pdf.make_indirect(pikepdf.Stream(pdf, b"q\n")), pdf.make_indirect(pikepdf.Stream(pdf, stroke)),
                bleed_box, media,
            )
        before, after, bleed_box, media = shared[key]
        page_dict.TrimBox = pikepdf.Array(list(trim_box))
        page_dict.BleedBox = pikepdf.Array(bleed_box)
        page_dict.MediaBox = pikepdf.Array(media)
        if not marks:
            continue
        contents = page_dict.get("/Contents")
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []
        # the page's own drawing is wrapped in q … Q, so whatever state it leaves cannot move the marks
        page_dict.Contents = pikepdf.Array([before, *streams, after])


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

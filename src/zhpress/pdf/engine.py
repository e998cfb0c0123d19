"""The PDF engine: the only module that imports WeasyPrint's public API. A `RenderJob` (one document's HTML,
stylesheets and options) is rendered by `render_job`, in whatever process runs it, into a `Rendered`
(its PDF file, pages, blank pages, anchors, font sources); files are read only through the confined
fetcher. WeasyPrint's internals are used through `zhpress.pdf.weasy70` alone.
"""

from __future__ import annotations

import ctypes.util
import gc
import hashlib
import mimetypes
import os
import re
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .. import files
from ..errors import InputError, RenderError
from .pagestarts import page_starts
from .parts import prepare_part
from .weasy70 import cjk_justification
from .weasy70.fonts import record_font_sources

# WeasyPrint is imported inside the functions, after `import_weasyprint`: the build's workers import this
# module as they start, and the import of WeasyPrint (about a second) is then run once, the fast way.

ICC_NAME = "FOGRA39L-zhpress.icc"


def package_dir(*parts: str) -> Path:
    """A folder of the installed package (templates, data)."""
    return Path(str(resources.files("zhpress").joinpath(*parts)))


def icc_path() -> Path:
    """The shipped CMYK characterization profile used as the PDF/X output intent."""
    return package_dir("data", "icc") / ICC_NAME


@dataclass(frozen=True)
class RenderJob:
    """One document for a worker to render: its HTML and CSS, where to read files from, where to write."""

    kind: str  # "body", "front", "folio" or "late"; "book" for a single-pass render
    index: int
    html: str
    sheets: tuple[tuple[str, str], ...]
    content_dir: str
    styles_dir: str
    roots: tuple[str, ...]
    options: tuple[tuple[str, Any], ...]
    key: str
    path: str


#: The documents of a chunked build, merged into one file whose fonts are made again from their sources.
PART_KINDS = frozenset({"body", "front", "folio", "late"})

#: The id prefix of a late value's box (`pdf/book.html`'s `late` macro): its place is read for the overlay.
LATE_PREFIX = "zh-late-"


@dataclass
class Rendered:
    """What a rendered document reports: its PDF file, pages, blank pages, anchors and font sources."""

    path: str
    pages: int
    blank: list[bool]
    anchors: dict[str, int]
    fonts: dict[str, dict[str, Any]]
    fetched: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    font_maps: str | None = None  # a JSON file of the widths and Unicode maps of its fonts (`parts`)
    starts: list[dict[str, Any]] | None = None  # where each page begins (`pagestarts`), for EPUB page lists
    late: dict[str, list[float]] = field(default_factory=dict)  # a late value's box: [page, x, y] (px), by name


def render_job(job: RenderJob) -> Rendered:
    """Render one document with WeasyPrint (in a worker process) and write its PDF to `job.path`; a
    "layout" job only lays the document out, for where its pages begin."""
    import_weasyprint()
    import weasyprint

    start = time.perf_counter()
    fetcher = confined_fetcher([Path(r) for r in job.roots])
    color_profiles: dict[str, Any] = {}
    stylesheets = load_stylesheets(list(job.sheets), Path(job.styles_dir), fetcher, color_profiles)
    options = dict(job.options)
    document = weasyprint.HTML(string=job.html, base_url=job.content_dir + "/", url_fetcher=fetcher)
    sources: dict[str, dict[str, Any]] = {}
    with cjk_justification(), record_font_sources(sources, part=job.kind in PART_KINDS):
        rendered = document.render(stylesheets=stylesheets, color_profiles=color_profiles, **options)
        # Not compressed: a part's fonts and profiles are replaced in the merge, which compresses once, and
        # for a single-pass book qpdf's compression when finishing is faster than WeasyPrint's (measured:
        # 0.05 s against 0.8 s on the default book's PDF/X).
        starts = page_starts(rendered, document.etree_element) if job.kind not in ("folio", "late") else None
        raw = rendered.write_pdf(uncompressed_pdf=True, **options) if job.kind != "layout" else b""
    if raw is None:
        raise RenderError("WeasyPrint wrote no PDF")
    anchors: dict[str, int] = {}
    late: dict[str, list[float]] = {}
    for number, page in enumerate(rendered.pages):
        for name, box in page.anchors.items():
            anchors.setdefault(name, number)
            if name.startswith(LATE_PREFIX) and job.kind == "front":
                late.setdefault(name[len(LATE_PREFIX):], [number, box[0], box[1]])
    blank = [bool(page._page_box.page_type.blank) for page in rendered.pages]
    kept = anchors.pop("zh-chunk-end", len(rendered.pages))  # pages after the body chunk's end are dropped
    maps = None
    if job.kind == "book":
        files.write_atomic(Path(job.path), raw, mode=0o600)
    elif job.kind != "layout":  # a part of a chunked build: WeasyPrint's layout is let go first (lower peak)
        del rendered, document
        gc.collect()
        maps = prepare_part(raw, Path(job.path))
    del raw
    return Rendered(
        path=job.path, pages=kept, blank=blank[:kept], anchors=anchors, fonts=sources,
        fetched=dict(fetcher.served), refused=list(fetcher.refused), seconds=time.perf_counter() - start,
        font_maps=maps, starts=starts, late=late,
    )


def confined_fetcher(roots: list[Path]) -> Any:
    """A WeasyPrint URL fetcher that serves only regular files under `roots` (the book's folders, the
    package's data), read once through `zhpress.files`, and inline `data:` URLs. Anything else, any network
    URL above all, is refused and remembered in `.refused` (a file of the book that cannot be served with
    the reason), so the build can name it; `.served` holds the digest of every file's bytes as served."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

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


def import_weasyprint() -> None:
    """Import WeasyPrint with its libraries looked up in one reading of ldconfig's list.

    WeasyPrint tries several names for each library it loads; cffi asks `ctypes.util.find_library` about
    each, and on Linux every name it does not know runs ldconfig, then the compiler and the linker (about
    15 ms a name, 0.3 s of the 0.9 s import on Debian, on the critical path of every PDF build). Here the
    list is read once; a name missing from it is looked up the usual way when LD_LIBRARY_PATH is set (the
    linker's search could then find more), else it is missing. Should the import fail all the same, it is
    retried with the usual lookup."""
    if "weasyprint" in sys.modules:
        return
    usual = ctypes.util.find_library
    known = _ldconfig_names()
    if known is None:
        import weasyprint

        return

    def find_library(name: str) -> str | None:
        found = known(name)
        if found is None and os.environ.get("LD_LIBRARY_PATH"):
            return usual(name)
        return found

    ctypes.util.find_library = find_library
    try:
        import weasyprint
    except (ImportError, OSError):
        for module in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[module]
        ctypes.util.find_library = usual
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = usual


def _ldconfig_names() -> Any:
    """A lookup of library names in ldconfig's list as `ctypes.util` does it on Linux (same pattern, same
    ABI), or None when the list cannot be read here."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        listing = subprocess.run(
            ["/sbin/ldconfig", "-p"], capture_output=True, env={"LC_ALL": "C", "LANG": "C"}, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    abi = {
        "x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
        "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64",
    }.get(machine, "libc6")

    def lookup(name: str) -> str | None:
        found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
        return os.fsdecode(found.group(1)) if found else None

    return lookup

"""`zhpress serve`: the book in the browser while it is written.

The previewed profiles are built into PROJECT/.zhpress-cache/preview/ by the command line's own build
(`watch.BuildProcess`), EPUB first (it is quick), then PDF. The last good result is held in memory (the
EPUB's documents, the PDF and its pages as PNG) and only that is served: no part of a request's path is
ever joined to a folder. Open pages hear of each rebuild and of each error through server-sent events
(`/_zhpress/events`) and reload themselves; a failed build leaves the last good preview in place.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from lxml import etree

from .config import Profile
from .errors import InputError
from .watch import BuildProcess, BuildRun, Watcher, build_command

PREVIEW_DIR = Path(".zhpress-cache") / "preview"
PAGE_RESOLUTION = 96  # pixels per inch of the print pages shown as images
XHTML = "{http://www.w3.org/1999/xhtml}"
TYPES = {".xhtml": "application/xhtml+xml", ".css": "text/css", ".opf": "application/xml", ".ncx": "application/xml"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Only the preview's own script runs: a book's templates cannot bring any.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'self'; frame-ancestors 'self'",
}


@dataclass(frozen=True)
class EpubPreview:
    """An EPUB edition as the server shows it: its package folder's files and its reading order."""

    files: dict[str, bytes]  # path inside the package folder → content
    spine: list[tuple[str, str]]  # (href, title) in reading order


@dataclass(frozen=True)
class PdfPreview:
    """A PDF edition: the file and its pages as PNG images."""

    name: str
    pdf: bytes
    pages: list[bytes]


@dataclass
class Preview:
    """What the server shows: the last good preview of each profile, the current error, and generation
    numbers that grow with each published rebuild, one for the whole and one per profile (an open page
    reloads when its own changes)."""

    profiles: list[Profile]
    title: str = ""
    generation: int = 0
    generations: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    building: bool = True
    epubs: dict[str, EpubPreview] = field(default_factory=dict)
    pdfs: dict[str, PdfPreview] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def state(self) -> dict[str, Any]:
        """What open pages are told."""
        with self.changed:
            return {
                "generation": self.generation, "generations": dict(self.generations), "error": self.error,
                "building": self.building,
            }

    def update(self, **values: Any) -> None:
        """Change the state and tell every open page; new previews make a new generation."""
        with self.changed:
            for name, value in values.items():
                if name in ("epubs", "pdfs"):
                    getattr(self, name).update(value)
                    for profile in value:
                        self.generations[profile] = self.generations.get(profile, 0) + 1
                    self.generation += 1
                else:
                    setattr(self, name, value)
            self.changed.notify_all()

    def wait(self, seen: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        """The state once it differs from `seen` (or after `timeout` seconds)."""
        with self.changed:
            self.changed.wait_for(lambda: self.state() != seen, timeout=timeout)
            return self.state()


def epub_preview(data: bytes) -> EpubPreview:
    """The package folder's files of an EPUB, and its spine with each document's title."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
        names = [n for n in archive.namelist() if n.startswith(base) and not n.endswith("/")]
        files = {name[len(base) :]: archive.read(name) for name in names}
    opf = etree.fromstring(files[opf_path[len(base) :]])
    hrefs = {item.get("id"): item.get("href") for item in opf.iter("{*}item")}
    spine = []
    for ref in opf.iter("{*}itemref"):
        href = hrefs.get(ref.get("idref"))
        if href in files:
            title = etree.fromstring(files[href]).findtext(f".//{XHTML}title") or href
            spine.append((href, title.strip()))
    return EpubPreview(files, spine)


def page_images(pdf: Path) -> list[bytes]:
    """The PDF's pages as PNG (poppler's pdftoppm); none when it is not installed."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return []
    with tempfile.TemporaryDirectory(prefix="zhpress-pages-") as folder:
        subprocess.run(
            [tool, "-r", str(PAGE_RESOLUTION), "-png", str(pdf), str(Path(folder) / "page")],
            check=True, capture_output=True, timeout=600,
        )
        return [path.read_bytes() for path in sorted(Path(folder).glob("page-*.png"))]


class Builder:
    """Builds the previewed profiles after each change and publishes the results to the Preview."""

    def __init__(
        self, root: Path, preview: Preview, *, jobs: int | None, on_built: Callable[[str, BuildRun], None]
    ) -> None:
        self.root = root
        self.preview = preview
        self.jobs = jobs
        self.on_built = on_built
        self.out_dir = root / PREVIEW_DIR
        self.process = BuildProcess()

    def rebuild(self) -> None:
        """EPUB profiles, then PDF profiles; the first failure is published as the error and ends the round."""
        from .config import load_project
        from .editions import output_name

        self.preview.update(building=True)
        for kind in ("epub", "pdf"):
            names = [p.name for p in self.preview.profiles if p.format == kind]
            if not names:
                continue
            command = build_command(self.root, names, out_dir=self.out_dir, jobs=self.jobs, quiet=True)
            run = self.process.run(command, capture=True, root=self.root)
            self.on_built(kind, run)
            if not run.ok:
                self.preview.update(error=run.message, building=False)
                return
            try:
                project = load_project(self.root)
                profiles = [project.profiles[n] for n in names]
                files = {p.name: self.out_dir / output_name(project, p) for p in profiles}
                if kind == "epub":
                    epubs = {n: epub_preview(f.read_bytes()) for n, f in files.items()}
                    self.preview.update(title=project.config.book.title, epubs=epubs)
                else:
                    pdfs = {n: PdfPreview(f.name, f.read_bytes(), page_images(f)) for n, f in files.items()}
                    self.preview.update(pdfs=pdfs)
            except (InputError, OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, subprocess.SubprocessError) as exc:
                self.preview.update(error=f"the preview could not be read: {exc}", building=False)
                return
        self.preview.update(error=None, building=False)

    def loop(self, stop: threading.Event) -> None:
        """Build now, then after every change until `stop` is set."""
        watcher = Watcher(self.root, stop)
        self.rebuild()
        while not stop.is_set():
            if watcher.wait(timeout=1.0):
                self.rebuild()


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    """The preview's own pages (zhpress/data/serve), autoescaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("zhpress", "data/serve"), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )


def _page_number(name: str) -> int | None:
    """N for `page-N.png`."""
    match = re.fullmatch(r"page-([1-9][0-9]{0,5})\.png", name)
    return int(match[1]) if match else None


def _asset(name: str) -> bytes:
    return resources.files("zhpress").joinpath("data/serve", name).read_bytes()


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server of one preview."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], preview: Preview, *, check_host: bool) -> None:
        self.preview = preview
        self.check_host = check_host
        self.stopping = threading.Event()
        super().__init__(address, PreviewHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an IPv4 or IPv6 address (bytes only for AF_UNIX)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def allowed_host(self, header: str | None) -> bool:
        """On loopback, only requests addressed to loopback names (no page elsewhere can reach in by DNS)."""
        if not self.check_host:
            return True
        port = self.server_address[1]
        return header in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


class PreviewHandler(BaseHTTPRequestHandler):
    """GET only: the index, EPUB documents, print pages, the live script and the event stream."""

    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Quiet: the command line shows builds, not requests."""

    def do_HEAD(self) -> None:
        self._handle(body=False)

    def do_GET(self) -> None:
        self._handle(body=True)

    def _handle(self, *, body: bool) -> None:
        if not self.server.allowed_host(self.headers.get("Host")):
            self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain; charset=utf-8", body)
            return
        path = unquote(urlsplit(self.path).path)
        preview = self.server.preview
        parts = path.strip("/").split("/", 1) if path.strip("/") else []
        if path == "/_zhpress/events" and body:
            self._events()
            return
        if not parts:
            self._page("index.html", body)
            return
        head, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if head == "_zhpress" and rest in ("live.js", "live.css"):
            kind = "text/javascript" if rest.endswith(".js") else "text/css"
            self._send(HTTPStatus.OK, _asset(rest), f"{kind}; charset=utf-8", body)
            return
        with preview.changed:
            epub = preview.epubs.get(head)
            pdf = preview.pdfs.get(head)
        if epub is not None and rest in epub.files:
            self._epub_file(head, epub, rest, body)
        elif epub is not None and rest == "":
            self._redirect("/")
        elif pdf is not None and rest == "":
            self._page("pages.html", body, profile=head, pdf=pdf)
        elif pdf is not None and rest == pdf.name:
            self._send(HTTPStatus.OK, pdf.pdf, "application/pdf", body)
        elif pdf is not None and (page := _page_number(rest)) is not None and 1 <= page <= len(pdf.pages):
            self._send(HTTPStatus.OK, pdf.pages[page - 1], "image/png", body)
        else:
            self._page("missing.html", body, status=HTTPStatus.NOT_FOUND, path=path)

    def _page(self, template: str, body: bool, status: HTTPStatus = HTTPStatus.OK, **extra: Any) -> None:
        preview = self.server.preview
        with preview.changed:
            context = {
                "title": preview.title, "state": preview.state(), "profiles": preview.profiles,
                "epubs": dict(preview.epubs), "pdfs": dict(preview.pdfs),
            }
        html = _templates().get_template(template).render(**context, **extra)
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8", body)

    def _epub_file(self, profile: str, epub: EpubPreview, name: str, body: bool) -> None:
        data = epub.files[name]
        suffix = Path(name).suffix.lower()
        kind = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        if suffix == ".xhtml":
            data = self._with_live_script(profile, epub, name, data)
        charset = "; charset=utf-8" if kind.startswith(("text/", "application/xhtml")) else ""
        self._send(HTTPStatus.OK, data, kind + charset, body)

    def _with_live_script(self, profile: str, epub: EpubPreview, name: str, data: bytes) -> bytes:
        """The document with the preview's script before `</body>`, told the pages before and after it."""
        hrefs = [href for href, _ in epub.spine]
        index = hrefs.index(name) if name in hrefs else -1
        script = _templates().get_template("live-script.html").render(
            profile=profile,
            generation=self.server.preview.state()["generations"].get(profile, 0),
            prev=f"/{profile}/{hrefs[index - 1]}" if index > 0 else "",
            next=f"/{profile}/{hrefs[index + 1]}" if 0 <= index < len(hrefs) - 1 else "",
        )
        head, found, tail = data.decode("utf-8").rpartition("</body>")
        if not found:
            return data
        return (head + script + found + tail).encode("utf-8")

    def _events(self) -> None:
        """Server-sent events: the state now, then every change, a comment every 15 s to keep it open."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        preview = self.server.preview
        seen: dict[str, Any] | None = None
        quiet = 0.0
        try:
            while not self.server.stopping.is_set():
                state = preview.wait(seen, timeout=1.0)
                if state != seen:
                    self.wfile.write(f"event: state\ndata: {json.dumps(state, ensure_ascii=False)}\n\n".encode())
                    seen, quiet = state, 0.0
                else:
                    quiet += 1.0
                    if quiet < 15:
                        continue
                    self.wfile.write(b": still here\n\n")
                    quiet = 0.0
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _redirect(self, where: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, data: bytes, kind: str, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)


def serve(
    root: Path, profiles: list[Profile], *, host: str, port: int, jobs: int | None,
    on_ready: Callable[[str], None], on_built: Callable[[str, BuildRun], None],
) -> None:
    """Serve the preview until interrupted (KeyboardInterrupt): the server in this thread, the builds in another."""
    preview = Preview(profiles)
    try:
        server = PreviewServer((host, port), preview, check_host=host in ("127.0.0.1", "localhost", "::1"))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", hint="choose another --port") from None
    builder = Builder(root, preview, jobs=jobs, on_built=on_built)
    stop = threading.Event()
    thread = threading.Thread(target=builder.loop, args=(stop,), name="zhpress-builder", daemon=True)
    thread.start()
    on_ready(server.url)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        stop.set()
        server.stopping.set()
        builder.process.stop()
        server.server_close()
        thread.join(timeout=10)

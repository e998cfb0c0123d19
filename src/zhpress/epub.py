"""The EPUB writer: XHTML from the templates, packaged by ebooklib, zipped reproducibly."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from ebooklib import epub

from .model import Book
from .render import Renderer

STYLE_HREF = "style/book.css"

ACCESSIBILITY_SUMMARY = (
    "This publication is text only, with no images, audio or video. It has a table of contents, "
    "structural navigation by article and section heading, and a logical reading order; its language "
    "is marked on every document, and text can be resized and restyled by the reading system."
)

ACCESSIBILITY_SUMMARY_COVER = ACCESSIBILITY_SUMMARY.replace(
    "This publication is text only, with no images, audio or video.",
    "This publication is text, with one image, its cover, whose alternative text gives the title, "
    "authors and publisher; it has no audio or video.",
)


def _modified(date: dt.datetime) -> dt.datetime:
    return date.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def build_epub(book: Book, renderer: Renderer, date: dt.datetime, *, cover: tuple[str, bytes] | None = None) -> bytes:
    """The EPUB of `book` for the renderer's profile, as bytes; the same inputs give the same bytes.
    `cover` is the cover image (file name, bytes): the package's cover-image, shown on the cover page."""
    profile = renderer.profile
    meta = book.meta
    lang = profile.language
    base = renderer.context(book, stylesheet_hrefs=[STYLE_HREF])
    views = base["articles"]

    eb = epub.EpubBook()
    eb.FOLDER_NAME = "EPUB"
    eb.set_identifier(meta.identifier or f"urn:zhpress:{meta.id}:{profile.name}")
    eb.set_title(meta.title)
    eb.set_language(lang)
    for number, creator in enumerate(meta.creators, start=1):
        eb.add_author(creator.name, role=creator.role, uid=f"creator-{number}")
    if meta.publisher:
        eb.add_metadata("DC", "publisher", meta.publisher)
    if meta.rights:
        eb.add_metadata("DC", "rights", meta.rights)
    if meta.description:
        eb.add_metadata("DC", "description", meta.description)
    for subject in meta.subjects:
        eb.add_metadata("DC", "subject", subject)
    eb.add_metadata("DC", "date", (meta.date or date.date().isoformat()))
    if meta.isbn:
        eb.add_metadata("DC", "source", f"urn:isbn:{meta.isbn}")
    if cover is not None:
        eb.set_cover(cover[0], cover[1], create_page=False)  # properties="cover-image" and <meta name="cover">
    _accessibility(eb, images=cover is not None)

    css = "\n".join(f"/* {name} */\n{text}" for name, text in renderer.stylesheets())
    eb.add_item(epub.EpubItem(uid="css", file_name=STYLE_HREF, media_type="text/css", content=css.encode("utf-8")))

    def page(uid: str, name: str, template: str, **extra: object) -> epub.EpubItem:
        html = renderer.render(template, **base, **extra)
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml", content=html.encode("utf-8"))
        eb.add_item(item)
        return item

    cover_page = page("cover", "cover.xhtml", "epub/cover.xhtml", cover_image=cover[0] if cover else None)
    title = page("titlepage", "title.xhtml", "epub/title.xhtml")
    nav = page("nav", "nav.xhtml", "epub/nav.xhtml")
    nav.properties = ["nav"]
    chapters = [page(v.anchor, v.filename, "epub/article.xhtml", view=v) for v in views]
    colophon = page("colophon", "colophon.xhtml", "epub/colophon.xhtml")

    # The NCX for older reading systems follows the same two levels as the navigation document.
    eb.toc = [
        (epub.Section(v.title, href=v.filename), [epub.Link(f"{v.filename}#{h.anchor}", (h.label or "") + h.text, h.anchor) for h in v.headings])
        if v.headings
        else epub.Link(v.filename, v.title, v.anchor)
        for v in views
    ]
    eb.add_item(epub.EpubNcx())
    eb.spine = [cover_page, title, nav, *chapters, colophon]

    raw = io.BytesIO()
    epub.write_epub(raw, eb, {"mtime": _modified(date), "epub3_pages": False, "epub2_guide": False, "epub3_landmark": False})
    return _reproducible_zip(raw.getvalue(), date, lang)


def _accessibility(eb: epub.EpubBook, *, images: bool = False) -> None:
    """EPUB Accessibility 1.1 metadata (schema.org access modes, features, hazards, summary)."""

    def prop(name: str, value: str) -> None:
        eb.add_metadata(None, "meta", value, {"property": name})

    prop("schema:accessMode", "textual")
    if images:
        prop("schema:accessMode", "visual")
        prop("schema:accessibilityFeature", "alternativeText")
    prop("schema:accessModeSufficient", "textual")
    for feature in ("structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"):
        prop("schema:accessibilityFeature", feature)
    prop("schema:accessibilityHazard", "none")
    prop("schema:accessibilitySummary", ACCESSIBILITY_SUMMARY_COVER if images else ACCESSIBILITY_SUMMARY)
    prop("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA")
    prop("a11y:certifiedBy", "zhpress")


def _reproducible_zip(data: bytes, date: dt.datetime, lang: str) -> bytes:
    """Rewrite the archive with fixed entry times, `mimetype` first and stored, as OCF requires, and give
    the package document the `xml:lang` that ebooklib cannot set."""
    stamp = _modified(date).timetuple()[:6]
    stamp = (max(stamp[0], 1980), *stamp[1:])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        order = ["mimetype"] + [n for n in names if n != "mimetype"]
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            payload = src.read(name)
            if name.endswith(".opf"):
                payload = payload.replace(b"<package ", f'<package xml:lang="{lang}" '.encode(), 1)
            dst.writestr(info, payload, compresslevel=6 if name != "mimetype" else None)
    return out.getvalue()


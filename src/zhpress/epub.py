"""The EPUB writer: XHTML from the templates, packaged by ebooklib, zipped reproducibly."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from ebooklib import epub

from .images import BookImage, book_images
from .model import FRONT_ROLES, Book
from .render import Renderer

STYLE_HREF = "style/book.css"

ACCESSIBILITY_SUMMARY = (
    "This publication is text only, with no images, audio or video. It has a table of contents, "
    "structural navigation by article and section heading, and a logical reading order; its language "
    "is marked on every document, and text can be resized and restyled by the reading system."
)
ACCESSIBILITY_SUMMARY_IMAGES = (
    "This publication is text with images; every image has a text alternative and a caption. It has a "
    "table of contents, structural navigation by article and section heading, footnotes linked both ways, "
    "and a logical reading order; its language is marked on every document, and text can be resized and "
    "restyled by the reading system."
)
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}


def _modified(date: dt.datetime) -> dt.datetime:
    return date.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def build_epub(book: Book, renderer: Renderer, date: dt.datetime) -> bytes:
    """The EPUB of `book` for the renderer's profile, as bytes; the same inputs give the same bytes."""
    profile = renderer.profile
    meta = book.meta
    lang = profile.language
    images = book_images(renderer.project, book)
    renderer.images = {src: image.epub_name for src, image in images.items()}
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
    _accessibility(eb, images)
    for number, image in enumerate(images.values(), start=1):
        eb.add_item(epub.EpubItem(uid=f"image-{number}", file_name=image.epub_name,
                                  media_type=MEDIA_TYPES[image.format], content=image.data))  # fmt: skip

    css = "\n".join(f"/* {name} */\n{text}" for name, text in renderer.stylesheets())
    eb.add_item(epub.EpubItem(uid="css", file_name=STYLE_HREF, media_type="text/css", content=css.encode("utf-8")))

    def page(uid: str, name: str, template: str, **extra: object) -> epub.EpubItem:
        html = renderer.render(template, **base, **extra)
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml", content=html.encode("utf-8"))
        eb.add_item(item)
        return item

    cover = page("cover", "cover.xhtml", "epub/cover.xhtml")
    title = page("titlepage", "title.xhtml", "epub/title.xhtml")
    nav = page("nav", "nav.xhtml", "epub/nav.xhtml")
    nav.properties = ["nav"]
    chapters = [page(v.anchor, v.filename, "epub/article.xhtml", view=v) for v in views]
    colophon = page("colophon", "colophon.xhtml", "epub/colophon.xhtml")

    # The NCX for older reading systems follows the same levels as the navigation document.
    def ncx(v):  # type: ignore[no-untyped-def]
        if not v.headings:
            return epub.Link(v.filename, v.title, v.anchor)
        return (epub.Section(v.title, href=v.filename), [epub.Link(f"{v.filename}#{h.anchor}", (h.label or "") + h.text, h.anchor) for h in v.headings])

    eb.toc = [
        ncx(e.view) if e.part is None else (epub.Section(e.part, href=e.views[0].filename), [ncx(v) for v in e.views])
        for e in base["toc"]
    ]
    eb.add_item(epub.EpubNcx())
    front = [c for c, v in zip(chapters, views, strict=True) if v.article.role in FRONT_ROLES]
    body = [c for c, v in zip(chapters, views, strict=True) if v.article.role not in FRONT_ROLES]
    eb.spine = [cover, title, *front, nav, *body, colophon]

    raw = io.BytesIO()
    epub.write_epub(raw, eb, {"mtime": _modified(date), "epub3_pages": False, "epub2_guide": False, "epub3_landmark": False})
    return _reproducible_zip(raw.getvalue(), date, lang)


def _accessibility(eb: epub.EpubBook, images: dict[str, BookImage]) -> None:
    """EPUB Accessibility 1.1 metadata (schema.org access modes, features, hazards, summary)."""

    def prop(name: str, value: str) -> None:
        eb.add_metadata(None, "meta", value, {"property": name})

    prop("schema:accessMode", "textual")
    if images:
        prop("schema:accessMode", "visual")
    prop("schema:accessModeSufficient", "textual")
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if images:
        features.append("alternativeText")
    for feature in features:
        prop("schema:accessibilityFeature", feature)
    prop("schema:accessibilityHazard", "none")
    prop("schema:accessibilitySummary", ACCESSIBILITY_SUMMARY_IMAGES if images else ACCESSIBILITY_SUMMARY)
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


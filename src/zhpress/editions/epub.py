"""The EPUB edition: XHTML from the templates, packaged by ebooklib, zipped reproducibly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import uuid
import zipfile
from typing import Any

from ebooklib import epub

from .. import pagelist
from ..config import Profile, Project
from ..fallback import Fallback, edition_fallback
from ..images import BookImage, book_images
from ..model import FRONT_ROLES, Book
from ..pagelist import PrintPages
from ..render import ArticleView, Renderer
from ..subset import EmbeddedFont, FaceToEmbed, displayed_characters, is_truetype
from ..typeset import typeset, typeset_pieces
from . import Built, Job
from .cover import epub_cover_to_draw, front_image_for_epub

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

ACCESSIBILITY_SUMMARY_COVER = ACCESSIBILITY_SUMMARY.replace(
    "This publication is text only, with no images, audio or video.",
    "This publication is text, with one image, its cover, whose alternative text gives the title, "
    "authors and publisher; it has no audio or video.",
)


def _modified(date: dt.datetime) -> dt.datetime:
    return date.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def build_epub(
    book: Book, renderer: Renderer, date: dt.datetime, *, cover: tuple[str, bytes] | None = None,
    pages: PrintPages | None = None,
) -> bytes:
    """The EPUB of `book` for the renderer's profile, as bytes; the same inputs give the same bytes.
    `cover` is the cover image (file name, bytes): the package's cover-image, shown on the cover page;
    `pages` the print edition's pages, marked in the text and listed in the navigation (`zhpress.pagelist`).

    Long because it assembles one package in reading order (documents, styles, fonts, images, nav, metadata); each piece is one call."""
    profile = renderer.profile
    vertical = profile.writing == "vertical"
    # The print edition's typography pass (punctuation pairs, Latin/Han spacing, numbers with units) in
    # the markup; the stylesheet hands it to reading systems that do it themselves.
    renderer = dataclasses.replace(
        renderer,
        text_filter=functools.partial(typeset, upright=vertical, punctuation=profile.punctuation),
        pieces_filter=lambda texts, dotted: typeset_pieces(
            texts, [False] * len(texts), upright=vertical, punctuation=profile.punctuation
        ),
        fallback_families=edition_fallback(profile, book).families,
    )
    meta = book.meta
    lang = profile.language
    images = book_images(renderer.project, book)
    renderer.images = {src: image.epub_name for src, image in images.items()}
    base = renderer.context(book, stylesheet_hrefs=[STYLE_HREF])
    views = base["articles"]

    eb = epub.EpubBook()
    eb.FOLDER_NAME = "EPUB"
    eb.set_identifier(edition_identifier(book, profile.name))
    eb.set_title(meta.title)
    eb.set_language(lang)
    if vertical:
        eb.set_direction("rtl")  # the spine's page-progression-direction: pages turn right to left
        eb.add_metadata(None, "meta", "", {"name": "primary-writing-mode", "content": "vertical-rl"})
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
    if pages is not None or meta.isbn:
        eb.add_metadata("DC", "source", pages.source if pages is not None else f"urn:isbn:{meta.isbn}")
    if pages is not None:  # EPUB Accessibility 1.1: where the page breaks come from
        eb.add_metadata(None, "meta", pages.source, {"property": "pageBreakSource"})
    if cover is not None:
        eb.set_cover(cover[0], cover[1], create_page=False)  # properties="cover-image" and <meta name="cover">
    _accessibility(eb, images, cover=cover is not None, pages=pages is not None)
    for number, image in enumerate(images.values(), start=1):
        eb.add_item(epub.EpubItem(uid=f"image-{number}", file_name=image.epub_name,
                                  media_type=MEDIA_TYPES[image.format], content=image.data))  # fmt: skip

    sheets = renderer.stylesheets()
    sheets.insert(2, ("typography.css", renderer.render("epub/typography.css.j2", **renderer.context_light())))

    documents: dict[str, tuple[str, str]] = {}  # uid -> (file name, XHTML)

    def render(uid: str, name: str, template: str, **extra: object) -> None:
        documents[uid] = (name, renderer.render(template, **base, **extra))

    render("cover", "cover.xhtml", "epub/cover.xhtml", cover_image=cover[0] if cover else None)
    render("titlepage", "title.xhtml", "epub/title.xhtml")
    last = views[-1].anchor if views else "titlepage"
    files = {"titlepage": "title.xhtml", "nav": "nav.xhtml", "colophon": "colophon.xhtml", **{v.anchor: v.filename for v in views}}
    page_list = pagelist.nav_entries(pages, files, last) if pages is not None else []
    render("nav", "nav.xhtml", "epub/nav.xhtml", page_list=page_list)
    for v in views:
        render(v.anchor, v.filename, "epub/article.xhtml", view=v)
    faces = edition_faces(renderer) if profile.embed_fonts else []
    fallbacks = fallback_faces(renderer, book) if profile.embed_fonts else []
    # The colophon names the faces the EPUB carries and their licence.
    render("colophon", "colophon.xhtml", "epub/colophon.xhtml", embedded_fonts=[*faces, *fallbacks])
    if pages is not None:
        documents = pagelist.mark_documents(documents, pages, last)
    fonts = embed_faces(faces, [html for _, html in documents.values()], sheets)
    fonts += embed_fallbacks(fallbacks, edition_fallback(profile, book), [html for _, html in documents.values()], sheets)
    if fonts:
        sheets.append(("fonts.css", renderer.render("epub/fonts.css.j2", fonts=fonts, **renderer.context_light())))
    for number, font in enumerate(fonts, start=1):
        eb.add_item(epub.EpubItem(uid=f"font-{number}", file_name=font.file_name, media_type=font_media_type(font), content=font.data))

    css = "\n".join(f"/* {name} */\n{text}" for name, text in sheets)
    eb.add_item(epub.EpubItem(uid="css", file_name=STYLE_HREF, media_type="text/css", content=css.encode("utf-8")))

    def page(uid: str) -> epub.EpubItem:
        name, html = documents[uid]
        item = epub.EpubItem(uid=uid, file_name=name, media_type="application/xhtml+xml", content=html.encode("utf-8"))
        eb.add_item(item)
        return item

    cover_page = page("cover")
    title = page("titlepage")
    nav = page("nav")
    nav.properties = ["nav"]
    chapters = [page(v.anchor) for v in views]
    colophon = page("colophon")

    # The NCX for older reading systems follows the same levels as the navigation document.
    def ncx(v: ArticleView) -> Any:  # an ebooklib Link, or a Section with its Links
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
    eb.spine = [cover_page, title, *front, nav, *body, colophon]

    raw = io.BytesIO()
    epub.write_epub(raw, eb, {"mtime": _modified(date), "epub3_pages": False, "epub2_guide": False, "epub3_landmark": False})
    return _reproducible_zip(raw.getvalue(), date, lang)


def edition_identifier(book: Book, profile: str) -> str:
    """The edition's `dc:identifier`: the one book.toml gives it, else the book's ISBN (by which stores
    match a book), else a UUID derived from the book and the edition (stable across builds)."""
    meta = book.meta
    if meta.identifier:
        return meta.identifier
    if meta.isbn:
        return "urn:isbn:" + meta.isbn.replace("-", "").replace(" ", "")
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"zhpress:{meta.id}:{profile}"))


def edition_faces(renderer: Renderer) -> list[FaceToEmbed]:
    """The faces an edition uses, regular and (when installed) bold, each refused if its licence forbids
    embedding."""
    from ..fonts import find_font, require_font

    profile = renderer.profile
    stem = profile.font_family.replace(" ", "")
    faces = [FaceToEmbed.of(require_font(profile.font_family, profile=profile.name), "normal", f"fonts/{stem}-Regular.otf")]
    bold = find_font(profile.font_family, "Bold")
    if bold is not None:
        faces.append(FaceToEmbed.of(bold, "bold", f"fonts/{stem}-Bold.otf"))
    return faces


def fallback_faces(renderer: Renderer, book: Book) -> list[FaceToEmbed]:
    """The edition's fallback faces (zhpress.fallback) to embed, each for the characters it sets."""
    faces = []
    for face in edition_fallback(renderer.profile, book).faces:
        suffix = "ttf" if is_truetype(face) else "otf"
        faces.append(FaceToEmbed.of(face, "normal", f"fonts/{face.family.replace(' ', '')}-Fallback.{suffix}"))
    return faces


def embed_fallbacks(faces: list[FaceToEmbed], fallback: Fallback, documents: list[str], sheets: list[tuple[str, str]]) -> list[EmbeddedFont]:
    """Subsets of the fallback faces, each cut to the characters it sets that the documents show."""
    if not faces:
        return []
    shown, _ = displayed_characters(documents, "\n".join(text for _, text in sheets))
    subsets = []
    for face in faces:
        chars = shown & fallback.chars_of(face.face)
        if chars:
            subsets.append(face.subset(chars))
    return subsets


def font_media_type(font: EmbeddedFont) -> str:
    """The core media type of an embedded face: TrueType outlines or CFF."""
    return "font/ttf" if font.file_name.endswith(".ttf") else "font/otf"


def embed_faces(faces: list[FaceToEmbed], documents: list[str], sheets: list[tuple[str, str]]) -> list[EmbeddedFont]:
    """Subsets of the faces for the characters the documents (and the stylesheets' generated content) show."""
    regular, bold = displayed_characters(documents, "\n".join(text for _, text in sheets))
    chars = {"normal": regular, "bold": bold}
    return [face.subset(chars[face.weight]) for face in faces if chars[face.weight]]


def _accessibility(eb: epub.EpubBook, images: dict[str, BookImage], *, cover: bool = False, pages: bool = False) -> None:
    """EPUB Accessibility 1.1 metadata (schema.org access modes, features, hazards, summary)."""

    def prop(name: str, value: str) -> None:
        eb.add_metadata(None, "meta", value, {"property": name})

    prop("schema:accessMode", "textual")
    if images or cover:
        prop("schema:accessMode", "visual")
    prop("schema:accessModeSufficient", "textual")
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if images or cover:
        features.append("alternativeText")
    if pages:  # page-break markers and a page list from the print edition
        features += ["pageBreakMarkers", "pageNavigation"]
    for feature in features:
        prop("schema:accessibilityFeature", feature)
    prop("schema:accessibilityHazard", "none")
    if images:
        summary = ACCESSIBILITY_SUMMARY_IMAGES
    elif cover:
        summary = ACCESSIBILITY_SUMMARY_COVER
    else:
        summary = ACCESSIBILITY_SUMMARY
    prop("schema:accessibilitySummary", summary)
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
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            payload = src.read(name)
            if name.endswith(".opf"):
                payload = payload.replace(b"<package ", f'<package xml:lang="{lang}" '.encode(), 1)
            dst.writestr(info, payload, compresslevel=6 if name != "mimetype" else None)
    return out.getvalue()



class EpubEdition:
    """EPUB 3: the articles as XHTML documents, packaged by ebooklib, checked by reading it back."""

    suffix = "epub"
    templates = (
        *(f"epub/{name}.xhtml" for name in ("cover", "title", "article", "colophon", "nav")),
        "epub/typography.css.j2",
        "epub/fonts.css.j2",
    )
    self_contained = True
    renders_in_workers = False

    def check_engine(self) -> None:
        """ebooklib has no version it refuses."""

    def single_pass(self, job: Job) -> bool:
        return True

    def needs_engine(self, job: Job) -> bool:
        """Only a cover image to draw (none given, none cached) starts WeasyPrint."""
        if not job.cache:
            return True
        return epub_cover_to_draw(job.project, job.book, Renderer(job.project, job.profile, convert=job.convert), job.cover)

    def build(self, job: Job) -> Built:
        from ..validate import check_epub_bytes

        renderer = Renderer(job.project, job.profile, convert=job.convert)
        image = front_image_for_epub(
            job.project, job.profile, job.book, renderer, job.cover, cache=job.cache, render_pool=job.render_pool
        )
        pages = pagelist.print_pages(job.project, job.profile, job.book, job.date, cache=job.cache,
                                     render_pool=job.render_pool, jobs=job.jobs, executor=job.executor, given=job.layouts)
        data = build_epub(job.book, renderer, job.date, cover=image, pages=pages)
        check_epub_bytes(data, job.target.name)
        return Built([(job.target, data)])

    def layout_from(self, project: Project, profile: Profile) -> str | None:
        """The print profile whose layout the EPUB's page list follows (built first when both are asked for)."""
        found = pagelist.print_profile_for(project, profile)
        return found.name if found is not None else None


EDITION = EpubEdition()

"""Images of figures: found in the book's own folders only, checked before anything is written, and prepared
per edition (the EPUB keeps the file as it is, sRGB; print converts it to CMYK with the output intent's ICC
profile, so no DeviceRGB image reaches a PDF/X file).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import files
from .errors import ManuscriptError
from .model import Article, Block, Book
from .project import Profile, Project

log = logging.getLogger("zhpress")

FORMATS = ("JPEG", "PNG", "GIF")
PRINT_PPI = 300
#: The tallest a figure's image is set in print, as a share of the page's text area (see print.css).
MAX_HEIGHT_SHARE = 0.6
IMAGE_CACHE = Path(".zhpress-cache") / "images"


@dataclass(frozen=True, slots=True)
class BookImage:
    """One image file a figure shows, read and identified."""

    src: str  # relative to the project, as the model holds it
    path: Path
    format: str
    width: int
    height: int
    data: bytes
    epub_name: str  # its file inside an EPUB


def figures(book: Book) -> Iterator[tuple[Article, Block]]:
    """Every figure of the book with its article, in reading order (notes included)."""
    for article in book.articles:
        for top in (*article.blocks, *article.notes):
            for block in top.walk():
                if block.type == "figure" and block.src:
                    yield article, block


def _error(project: Project, article: Article, block: Block, message: str, hint: str | None = None) -> ManuscriptError:
    return ManuscriptError(message, path=project.root / article.source, line=block.line, hint=hint)


def book_images(project: Project, book: Book) -> dict[str, BookImage]:
    """Every figure's image, read from content/ or styles/ (after symlinks); a missing file, a file that is
    no JPEG, PNG or GIF image, or one outside those folders is the user's error naming manuscript and line."""
    from PIL import Image

    roots = [project.content_dir.resolve(), project.styles_dir.resolve()]
    out: dict[str, BookImage] = {}
    for article, block in figures(book):
        src = block.src
        assert src is not None
        if src in out:
            continue
        path = (project.root / src).resolve()
        if not any(path.is_relative_to(root) for root in roots):
            raise _error(project, article, block, f"image {src} lies outside the book's content/ and styles/ folders",
                         "keep images in the book and refer to them by a relative path")  # fmt: skip
        if not path.is_file():
            raise _error(project, article, block, f"image {src} not found", "check the file name in the manuscript")
        data = path.read_bytes()
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                kind, width, height = image.format, image.width, image.height
        except Exception as exc:  # Pillow raises many kinds for a damaged or foreign file
            raise _error(project, article, block, f"image {src} is not an image ({type(exc).__name__})",
                         "use a JPEG, PNG or GIF file") from None  # fmt: skip
        if kind not in FORMATS:
            raise _error(project, article, block, f"image {src} is a {kind} file", "use a JPEG, PNG or GIF file")
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", path.stem)[:40] or "image"
        ext = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}[kind]
        name = f"images/{len(out) + 1:02d}-{stem}.{ext}"
        out[src] = BookImage(src, path, kind, width, height, data, name)
    return out


def printed_ppi(image: BookImage, profile: Profile) -> float:
    """The resolution of an image set in a profile's text area: full measure, at most MAX_HEIGHT_SHARE of
    the text area's height."""
    page = profile.page
    assert page is not None
    measure = page.width - page.margin_inner - page.margin_outer
    tallest = (page.height - page.margin_top - page.margin_bottom) * MAX_HEIGHT_SHARE
    width_mm = min(measure, tallest * image.width / image.height)
    return image.width / (width_mm / 25.4)


def check_print_resolution(project: Project, profile: Profile, book: Book) -> None:
    """A warning for every image that prints under 300 ppi in this profile, with the file and its ppi."""
    images = book_images(project, book)
    seen: set[str] = set()
    for article, block in figures(book):
        image = images[block.src]  # type: ignore[index]
        ppi = printed_ppi(image, profile)
        if ppi < PRINT_PPI and image.src not in seen:
            seen.add(image.src)
            wanted = round(image.width * PRINT_PPI / ppi)
            log.warning("%s:%s: image %s prints at %d ppi in %s (under %d ppi: give it %d pixels across)",
                        article.source, block.line, image.src, ppi, profile.name, PRINT_PPI, wanted)  # fmt: skip


def pdf_images(project: Project, book: Book, *, cmyk: bool, icc: Path) -> dict[str, str]:
    """Each figure's src → the file URL a PDF edition draws: for print a CMYK JPEG converted with the output
    intent's profile (`icc`), else the original file; both kept in PROJECT/.zhpress-cache/images/ under
    their content's digest, so a cached chunk never shows an image that has since changed."""
    folder = project.root / IMAGE_CACHE
    out: dict[str, str] = {}
    images = book_images(project, book)
    if images:
        folder.mkdir(parents=True, exist_ok=True)
    for src, image in images.items():
        digest = hashlib.sha256(image.data + (icc.read_bytes() if cmyk else b"")).hexdigest()[:32]
        ext = "jpg" if cmyk else image.epub_name.rpartition(".")[2]
        target = folder / f"{digest}{'-cmyk' if cmyk else ''}.{ext}"
        if not target.is_file():
            files.write_atomic(target, to_cmyk(image.data, icc) if cmyk else image.data, mode=0o600)
        out[src] = target.resolve().as_uri()
    return out


def to_cmyk(data: bytes, icc: Path) -> bytes:
    """An image as a CMYK JPEG through littleCMS (Pillow's ImageCms): from its embedded profile, or sRGB, to
    the output intent's CMYK profile; transparency flattened onto white paper."""
    from PIL import Image, ImageCms

    with Image.open(io.BytesIO(data)) as source:
        source.load()
        icc_data = source.info.get("icc_profile")
        image: Image.Image = source
        converted: Image.Image | None
        if image.mode == "CMYK":
            converted = image
        else:
            if image.mode in ("P", "LA", "PA") or "transparency" in image.info:
                image = image.convert("RGBA")
            if image.mode == "RGBA":
                paper = Image.new("RGB", image.size, (255, 255, 255))
                paper.paste(image, mask=image.getchannel("A"))
                image = paper
            elif image.mode != "RGB":
                image = image.convert("RGB")
                icc_data = None
            try:
                source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_data)) if icc_data else ImageCms.createProfile("sRGB")
                converted = ImageCms.profileToProfile(
                    image, source_profile, str(icc), outputMode="CMYK", renderingIntent=ImageCms.Intent.PERCEPTUAL
                )
            except ImageCms.PyCMSError:  # an embedded profile littleCMS cannot use: read the pixels as sRGB
                converted = ImageCms.profileToProfile(
                    image, ImageCms.createProfile("sRGB"), str(icc), outputMode="CMYK", renderingIntent=ImageCms.Intent.PERCEPTUAL
                )
        assert converted is not None
        out = io.BytesIO()
        converted.save(out, "JPEG", quality=92, subsampling=0)
        return out.getvalue()


__all__ = ["BookImage", "book_images", "check_print_resolution", "figures", "pdf_images", "printed_ppi", "to_cmyk"]

"""The cover: the print spread's geometry (the spine from the book block's real page count and the paper),
the ISBN and its EAN-13 barcode, the checks of the cover's inputs, and the front panel that is also the
EPUB's cover image. WeasyPrint is used only in `zhpress.pdf.cover`."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import files
from .errors import ConfigError, Place

if TYPE_CHECKING:
    from .model import Book
    from .project import CoverConfig, Profile, Project
    from .render import Renderer

log = logging.getLogger("zhpress")

# The thickness of one leaf (two pages) of common book papers, in millimetres: typical values; the
# printer's own figure, as `caliper` or `ppi`, is always better.
PAPER_STOCKS: dict[str, float] = {
    "offset-60g": 0.075,  # 胶版纸 60 g/m²
    "offset-70g": 0.088,
    "offset-80g": 0.100,
    "offset-100g": 0.125,
    "coated-105g": 0.090,  # 铜版纸
    "coated-128g": 0.110,
    "coated-157g": 0.140,
    "bible-40g": 0.050,  # 字典纸
    "light-60g": 0.110,  # 轻型纸 (bulky)
    "light-70g": 0.125,
}

SPINE_TEXT_MIN_MM = 5.0  # below this the fold's tolerance leaves no room for a line of spine text
DEFAULT_SLUG_MM = 10.0  # room outside the bleed for crop and fold marks and the slug line
MIN_SLUG_MM = 8.0
EPUB_COVER_PX = (1600, 2560)
PRINT_PPI = 300
PDFX_VARIANTS = ("pdf/x-1a", "pdf/x-3", "pdf/x-4")


def isbn13(value: str) -> str:
    """The ISBN-13 of an ISBN-13 or ISBN-10 (hyphens and spaces allowed); ValueError saying what is wrong."""
    from stdnum import ean, isbn
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

    try:
        number = isbn.validate(value)
    except InvalidChecksum:
        digits = isbn.compact(value)
        expected = ean.calc_check_digit(digits[:-1]) if len(digits) == 13 else isbn._calc_isbn10_check_digit(digits[:-1])
        raise ValueError(f"{value!r} is not a valid ISBN: the check digit should be {expected}") from None
    except (InvalidLength, InvalidFormat):
        raise ValueError(f"{value!r} is not a valid ISBN: it needs 13 digits (or 10, the last may be X)") from None
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid ISBN: {exc}") from None
    return isbn.to_isbn13(number)


def isbn_hyphenated(value: str | None) -> str | None:
    """The ISBN-13 with its hyphens (registration group, registrant, publication), as printed above the bars."""
    if value is None:
        return None
    from stdnum import isbn

    return isbn.format(value, convert=True)


def ean5(price: str | None) -> str | None:
    """The EAN-5 add-on digits when `price` is given in that form (five digits, e.g. "52495"), else None."""
    if price is not None and re.fullmatch(r"\s*\d{5}\s*", price):
        return price.strip()
    return None


# EAN-5's parity patterns by checksum (GS1 General Specifications 5.2.3.4): the code sets A and B come
# from python-barcode's EAN tables.
_EAN5_PARITY = ("BBAAA", "BABAA", "BAABA", "BAAAB", "ABBAA", "AABBA", "AAABB", "ABABA", "ABAAB", "AABAB")


def _ean5_modules(digits: str) -> str:
    from barcode.charsets.ean import CODES

    check = (3 * sum(int(d) for d in digits[::2]) + 9 * sum(int(d) for d in digits[1::2])) % 10
    parts = [CODES[p][int(d)] for p, d in zip(_EAN5_PARITY[check], digits, strict=True)]
    return "1011" + "01".join(parts)


def barcode_svg(isbn: str, addon: str | None, *, colour: str, paper: str) -> str:
    """The ISBN's EAN-13 (and the EAN-5 add-on) as inline SVG drawn by python-barcode's SVG writer, with the
    human-readable line, in the given colours (CSS colours, `device-cmyk()` for print)."""
    import barcode
    from barcode.base import Barcode
    from barcode.writer import SVGWriter

    options = {
        "foreground": colour, "background": paper, "module_width": 0.33, "module_height": 22.85 * 0.8,
        "font_size": 9, "text_distance": 3.5, "quiet_zone": 3.63, "compress": True,
    }
    code = barcode.get("isbn13", isbn, writer=SVGWriter())
    svgs = [code.render(options)]
    if addon:

        class EAN5(Barcode):
            name = "EAN-5"

            def __init__(self, digits: str) -> None:
                self.digits = digits
                self.writer = SVGWriter()

            def get_fullcode(self) -> str:
                return self.digits

            def build(self) -> list[str]:
                return [_ean5_modules(self.digits)]

        svgs.append(EAN5(addon).render({**options, "module_height": 22.85 * 0.8 - 3, "quiet_zone": 1.5}))
    return "".join(_inline_svg(s) for s in svgs)


def _inline_svg(data: bytes) -> str:
    """python-barcode's SVG document as an element for HTML (no XML declaration or doctype)."""
    text = data.decode("utf-8")
    return text[text.index("<svg") :]


@dataclass(frozen=True, slots=True)
class Paper:
    """The paper of the book block: one leaf's thickness and how it was given (for the slug)."""

    caliper: float  # mm per leaf
    given: str


@dataclass(frozen=True, slots=True)
class Spread:
    """The cover spread's geometry in millimetres: panels left to right (back flap, back, spine, front,
    front flap) at the trim size, the bleed all round and a slug outside it."""

    trim_w: float
    trim_h: float
    bleed: float
    slug: float
    spine: float
    flap: float
    pages: int
    paper: Paper

    @property
    def width(self) -> float:
        """The whole spread's trim width."""
        return 2 * self.flap + 2 * self.trim_w + self.spine

    @property
    def margin(self) -> float:
        """From the media edge to the trim: slug and bleed."""
        return self.slug + self.bleed

    @property
    def media(self) -> tuple[float, float]:
        return self.width + 2 * self.margin, self.trim_h + 2 * self.margin

    @property
    def panels(self) -> dict[str, tuple[float, float]]:
        """Each panel's left edge (from the spread's trim left) and width."""
        x, out = 0.0, {}
        for name, width in (("flap-back", self.flap), ("back", self.trim_w), ("spine", self.spine),
                            ("front", self.trim_w), ("flap-front", self.flap)):
            if width > 0:
                out[name] = (x, width)
            x += width
        return out

    @property
    def folds(self) -> list[float]:
        """Where the cover folds, from the spread's trim left: the flaps' folds and the spine's."""
        xs = [self.flap + self.trim_w, self.flap + self.trim_w + self.spine]
        if self.flap:
            xs = [self.flap, *xs, self.width - self.flap]
        return xs

    @property
    def spine_text(self) -> bool:
        return self.spine >= SPINE_TEXT_MIN_MM


def spine_width(pages: int, paper: Paper) -> float:
    """The spine of a book block of `pages` pages (padded to an even count): leaves × caliper, to 0.1 mm."""
    leaves = (pages + pages % 2) // 2
    return round(leaves * paper.caliper + 1e-9, 1)


@dataclass(frozen=True, slots=True)
class CoverPlan:
    """What book.toml asks of the cover, resolved: built or not, the paper, the images, the colours."""

    config: CoverConfig
    paper: Paper | None
    front_image: Path | None  # [book] cover: the finished front panel and the EPUB's cover
    background_image: Path | None
    flap: float
    slug: float
    lines: dict[str, int | None]


def _line(project: Project, *loc: str) -> int | None:
    from .project import _line_of_key

    if project.config_path is None:
        return None
    return _line_of_key(project.config_path.read_text("utf-8-sig"), loc)


def _table_line(project: Project, table: str) -> int | None:
    """The line of a `[table]` header in book.toml."""
    if project.config_path is None:
        return None
    lines = project.config_path.read_text("utf-8-sig").splitlines()
    return next((n for n, text in enumerate(lines, 1) if re.match(rf"\s*\[\s*{re.escape(table)}\s*\]", text)), None)


def book_image(project: Project, value: str, loc: tuple[str, ...]) -> Path:
    """An image named in book.toml (relative to content/), inside the book's folders, readable as JPEG or
    PNG: otherwise a user error naming the line."""
    from PIL import Image, UnidentifiedImageError

    line = _line(project, *loc)
    key = ".".join(loc)
    path = (project.content_dir / value).resolve()
    roots = (project.content_dir.resolve(), project.styles_dir.resolve())
    if not any(path.is_relative_to(r) for r in roots):
        raise ConfigError(f"{key} = {value!r} is outside the book's content/ and styles/ folders",
                          path=project.config_path, line=line)
    if not path.is_file():
        raise ConfigError(f"{key} = {value!r}: no such image (paths are relative to content/)",
                          path=project.config_path, line=line)
    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ConfigError(f"{key} = {value!r} is not an image ({exc})", path=project.config_path, line=line) from None
    if kind not in ("JPEG", "PNG"):
        raise ConfigError(f"{key} = {value!r} is a {kind} image; use JPEG or PNG", path=project.config_path, line=line)
    return path


def cover_plan(project: Project, *, forced: bool = False, spine: bool = True) -> CoverPlan | None:
    """The cover's settings, or None when the book gives none (no [cover] table, no `[book] cover`, no
    `--cover`). Bad input is a ConfigError naming book.toml's line; so is a missing paper when a spine is
    asked for (`spine`: a print edition is built); a cover image without [cover] is a warning then (the
    book builds, without a spread)."""
    from .project import CoverConfig, length_mm

    book = project.config.book
    config = project.config.cover
    front = book_image(project, book.cover, ("book", "cover")) if book.cover else None
    if config is None and not (forced and spine):
        if front is None:
            return None
        if spine:
            log.warning("%s:%s: book.cover is set but [cover] gives no paper, so no print cover spread is built "
                        "(add [cover] paper = { caliper = \"0.1mm\" } or a named stock)",
                        project.config_path, _line(project, "book", "cover"))
        return CoverPlan(CoverConfig(), None, front, None, 0.0, DEFAULT_SLUG_MM, {"front": _line(project, "book", "cover")})
    config = config or CoverConfig()
    lines: dict[str, int | None] = {k: _line(project, "cover", k) for k in ("paper", "flap", "slug", "background", "color", "background_image")}
    lines["front"] = _line(project, "book", "cover")
    paper = resolve_paper(project, config) if spine else None
    background = book_image(project, config.background_image, ("cover", "background_image")) if config.background_image else None
    for key in ("background", "color"):
        value = getattr(config, key)
        if value is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise ConfigError(f"cover.{key} = {value!r} is not a colour such as '#1d3557'",
                              path=project.config_path, line=lines[key])
    flap = length_mm(config.flap, path=project.config_path, what="cover.flap", line=lines["flap"]) if config.flap else 0.0
    slug = length_mm(config.slug, path=project.config_path, what="cover.slug", line=lines["slug"]) if config.slug else DEFAULT_SLUG_MM
    if slug < MIN_SLUG_MM:
        raise ConfigError(f"cover.slug = {config.slug!r}: the marks need at least {MIN_SLUG_MM:g} mm outside the bleed",
                          path=project.config_path, line=lines["slug"])
    return CoverPlan(config, paper, front, background, flap, slug, lines)


def is_cover_profile(profile: Profile) -> bool:
    """Print profiles (PDF/X) get a cover; the screen PDF and EPUBs do not."""
    return profile.page is not None and profile.page.pdf_variant in PDFX_VARIANTS


def resolve_paper(project: Project, config: CoverConfig) -> Paper:
    """The paper from `[cover] paper`: a named stock, `{ caliper = "0.1mm" }`, `{ ppi = 444 }` or
    `{ stock = "offset-80g" }`; missing or ambiguous is a user error (a spine cannot be guessed)."""
    from .project import length_mm

    line = _line(project, "cover", "paper") or _table_line(project, "cover")
    where: Place = {"path": project.config_path, "line": line}
    paper = config.paper
    if paper is None:
        raise ConfigError("the cover needs the paper to compute the spine: set [cover] paper = { caliper = \"0.1mm\" } "
                          f"(one leaf), {{ ppi = 444 }} or a stock ({', '.join(PAPER_STOCKS)})", **where)
    paper_stock: str | None
    if isinstance(paper, str):
        paper_stock, caliper, ppi = paper, None, None
    else:
        paper_stock, caliper, ppi = paper.stock, paper.caliper, paper.ppi
    given = [g for g in (paper_stock, caliper, ppi) if g is not None]
    if len(given) != 1:
        raise ConfigError("cover.paper: give exactly one of caliper, ppi or stock", **where)
    if paper_stock is not None:
        if paper_stock not in PAPER_STOCKS:
            import difflib

            close = difflib.get_close_matches(paper_stock, PAPER_STOCKS, n=1)
            raise ConfigError(f"cover.paper: unknown stock {paper_stock!r}; known stocks: {', '.join(PAPER_STOCKS)}",
                              hint=f"did you mean {close[0]!r}?" if close else None, **where)
        return Paper(PAPER_STOCKS[paper_stock], paper_stock)
    if caliper is not None:
        value = length_mm(caliper, what="cover.paper.caliper", path=project.config_path, line=line)
        if not 0.02 <= value <= 1.0:
            raise ConfigError(f"cover.paper.caliper = {caliper!r}: one leaf is 0.02–1 mm thick", **where)
        return Paper(value, f"caliper {value:g} mm")
    assert ppi is not None
    return Paper(2 * 25.4 / ppi, f"{ppi:g} ppi")


def spread_for(plan: CoverPlan, profile: Profile, pages: int) -> Spread:
    """The spread of this profile's trim for a book block of `pages` pages."""
    page = profile.page
    assert page is not None and plan.paper is not None
    spine = spine_width(pages, plan.paper)
    return Spread(page.width, page.height, page.bleed, plan.slug, spine, plan.flap, pages + pages % 2, plan.paper)


def check_resolution(path: Path, width_mm: float, height_mm: float, what: str, project: Project, line: int | None) -> None:
    """A warning when an image placed at `width_mm` × `height_mm` (covering it) prints below 300 ppi."""
    from PIL import Image

    with Image.open(path) as image:
        w, h = image.size
    ppi = min(w / (width_mm / 25.4), h / (height_mm / 25.4))
    if ppi < PRINT_PPI - 0.5:
        log.warning("%s:%s: %s %s prints at %d ppi at %.0f × %.0f mm (a printer wants %d ppi: at least %d × %d px)",
                    project.config_path, line, what, path.name, ppi, width_mm, height_mm, PRINT_PPI,
                    round(width_mm / 25.4 * PRINT_PPI), round(height_mm / 25.4 * PRINT_PPI))


@lru_cache(maxsize=4)
def _transform(icc: str) -> Any:
    from PIL import ImageCms

    return ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.getOpenProfile(icc), "RGB", "CMYK",
                                   renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


def hex_rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def cmyk_colour(value: str, icc: Path, *, rich_black: bool = False) -> str:
    """An sRGB `#rrggbb` as the output intent's CMYK, as CSS `device-cmyk()`; pure black and white stay
    100 % K and paper unless `rich_black` is asked for."""
    from PIL import Image, ImageCms

    rgb = hex_rgb(value)
    if rgb == (0, 0, 0) and not rich_black:
        return "device-cmyk(0 0 0 1)"
    if rgb == (255, 255, 255):
        return "device-cmyk(0 0 0 0)"
    converted = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), _transform(str(icc)))
    assert converted is not None  # None only for a transform in place
    pixel = converted.getpixel((0, 0))
    assert isinstance(pixel, tuple)  # a CMYK pixel
    return "device-cmyk(" + " ".join(f"{c / 255:.3f}" for c in pixel) + ")"


def cmyk_image(source: Path, icc: Path, folder: Path) -> Path:
    """`source` converted to CMYK JPEG with the output intent's profile (littleCMS through Pillow),
    kept in `folder` under a name made of its bytes and the profile's."""
    from PIL import Image, ImageCms

    data = source.read_bytes()
    key = hashlib.sha256(data + icc.read_bytes()[:4096] + b"cmyk-v1").hexdigest()[:24]
    target = folder / f"{key}.jpg"
    if target.is_file():
        return target
    with Image.open(io.BytesIO(data)) as image:
        if image.mode == "CMYK":
            converted = image.copy()
        else:
            rgb = image.convert("RGB")
            embedded = image.info.get("icc_profile")
            if embedded:
                transform = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(embedded)),
                                                    ImageCms.getOpenProfile(str(icc)), "RGB", "CMYK")
            else:
                transform = _transform(str(icc))
            transformed = ImageCms.applyTransform(rgb, transform)
            assert transformed is not None  # None only for a transform in place
            converted = transformed
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.part"
    converted.save(tmp, "JPEG", quality=92, dpi=(PRINT_PPI, PRINT_PPI))
    tmp.replace(target)
    return target


def front_context(renderer: Renderer, book: Book, plan: CoverPlan | None, *, cmyk: bool, icc: Path | None,
                  cache: Path) -> dict[str, Any]:
    """What the front panel's template sees, for print (`cmyk`) and for the EPUB's image alike."""
    config = plan.config if plan else None
    front = plan.front_image if plan else None
    background = plan.background_image if plan else None
    rich = bool(config and config.rich_black)

    def colour(value: str | None, default: str) -> str:
        value = value or default
        return cmyk_colour(value, icc, rich_black=rich) if cmyk and icc else value

    def image(path: Path | None) -> str | None:
        if path is None:
            return None
        return (cmyk_image(path, icc, cache) if cmyk and icc else path).as_uri()

    return {
        **renderer.context(book),
        "front_image": image(front),
        "background_image": image(background),
        "colours": {
            "background": colour(config.background if config else None, "#ffffff"),
            "text": colour(config.color if config else None, "#000000"),
            "black": "device-cmyk(0 0 0 1)" if cmyk else "#000000",
            "paper": "device-cmyk(0 0 0 0)" if cmyk else "#ffffff",
        },
    }


def front_image_for_epub(project: Project, profile: Profile, book: Book, renderer: Renderer,
                         plan: CoverPlan | None, *, cache: bool = True, render_pool: Any = None) -> tuple[str, bytes]:
    """The EPUB's cover image, (file name, bytes): the book's own image when `[book] cover` names one,
    else the front panel's template drawn at 1600 × 2560 px (kept in .zhpress-cache/cover, keyed by the
    page's HTML and CSS and the engine's versions, so a rebuild does not start WeasyPrint for it).
    WeasyPrint runs in `render_pool` when given (a worker that imported it while the book was read)."""
    if plan is not None and plan.front_image is not None:
        path = plan.front_image
        return f"images/cover{'.png' if path.suffix.lower() == '.png' else '.jpg'}", path.read_bytes()
    html, sheets, target = _epub_cover_page(project, book, renderer, plan)
    cached = _cached_cover(target) if cache else None
    if cached is not None:
        return "images/cover.png", cached
    from .pdf.raster import rasterize

    data = rasterize(project, html, sheets, EPUB_COVER_PX, extra_roots=[cover_cache(project)], render_pool=render_pool)
    key = files.signing_key()
    if cache and key is not None:
        try:
            files.write_atomic(target, files.sign(data, key), mode=0o600)
        except OSError:
            pass  # a cache that cannot be written only costs time
    return "images/cover.png", data


def _cached_cover(target: Path) -> bytes | None:
    """A drawn cover from the cache: a regular file of the cache folder signed with the user's key (one a
    project brought with it, or made on another account, is drawn again)."""
    from .errors import InputError

    key = files.signing_key()
    if key is None:
        return None
    try:
        return files.verified(files.read_confined(target, target.parent, what="cache entry"), key)
    except InputError:
        return None


def epub_cover_to_draw(project: Project, book: Book, renderer: Renderer, plan: CoverPlan | None) -> bool:
    """Whether this EPUB's cover image must be drawn (neither given by the book nor in the cache)."""
    if plan is not None and plan.front_image is not None:
        return False
    return _cached_cover(_epub_cover_page(project, book, renderer, plan)[2]) is None


def _epub_cover_page(project: Project, book: Book, renderer: Renderer,
                     plan: CoverPlan | None) -> tuple[str, list[tuple[str, str]], Path]:
    """The drawn cover's page (HTML, stylesheets) and where its image is cached."""
    folder = cover_cache(project)
    context = front_context(renderer, book, plan, cmyk=False, icc=None, cache=folder)
    width, height = EPUB_COVER_PX
    context.update(panel={"width": 148.0, "height": 148.0 * height / width}, spread=None, date_iso="2000-01-01T00:00:00Z")
    html = renderer.render("cover/front.html", **context)
    sheets = [("cover.css", renderer.render("cover/cover.css.j2", **context))]
    return html, sheets, folder / f"{_cover_key(html, sheets)}.png"


def cover_cache(project: Project) -> Path:
    """Where converted cover images are kept: the book's own cache when it is the user's, else the user's."""
    own = files.own_folder(project.root / files.CACHE_DIR / "cover", base=project.root)
    return own if own is not None else files.own_folder(files.user_cache_dir() / "cover") or files.user_cache_dir()


def _cover_key(html: str, sheets: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256("\0".join([*_engines(), html, *(c for _, c in sheets)]).encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def _engines() -> tuple[str, ...]:
    """What else draws the cover: zhpress's version and rasteriser source, and the installed engines'
    packages (found without importing them: an EPUB build with its cover cached never loads WeasyPrint)."""
    from importlib.util import find_spec

    from . import __version__

    marks = [__version__, hashlib.sha256((Path(__file__).parent / "pdf" / "raster.py").read_bytes()).hexdigest()]
    for name in ("weasyprint", "pypdfium2", "PIL"):
        spec = find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        stat = origin.stat() if origin and origin.is_file() else None
        marks.append(f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}" if stat else name)
    return tuple(marks)

"""Finishing a rendered PDF (single-pass or merged): page labels matching the printed folios, blank pages
up to the signature, PDF/X boxes and crop marks in 100 % K, no links in print, pagination artifacts in
tagged PDF, stable document ids, the large streams compressed in parallel."""

from __future__ import annotations

import io
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pikepdf

from ..config import MARK_OFFSET_MM
from ..errors import RenderError
from .tagging import mark_furniture_as_artifacts

if TYPE_CHECKING:
    from ..config import Profile

MM = 72 / 25.4  # points in a millimetre
MARK_WIDTH = 0.25  # pt: the hairline printers expect
LARGE_STREAM = 64 * 1024


def finish_pdf(raw: bytes, profile: Profile, *, front_pages: int, cmyk: bool, seed: str) -> bytes:
    """Page labels matching the printed folios, 100 % K marks, stable document ids, no links in print."""
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        return finish_document(pdf, profile, front_pages=front_pages, cmyk=cmyk, seed=seed)


#: The date a chunked build's front matter is rendered with, replaced by the build's own in the merged file
#: (`finish_document`): a book without a date has one derived from its whole text, which every edit changes.
PLACEHOLDER_DATE = "1999-12-31T23:59:59Z"


@dataclass
class Finished:
    """What finishing a file did that finishing some of its pages again must repeat alike (`refinish`): its
    dates and metadata as they were before, the crop marks' shared streams, the settings."""

    settings: tuple[Any, ...] = ()
    docinfo: dict[str, Any] = field(default_factory=dict)
    xmp: bytes | None = None
    marks: dict[tuple[float, ...], tuple[Any, Any, Any, Any]] = field(default_factory=dict)
    last: tuple[tuple[int, int], dict[str, Any]] | None = None  # the last page of text and its boxes before the marks
    padding: list[Any] = field(default_factory=list)  # blank pages made to pad the book, of the boxes `padded`
    padded: dict[str, Any] = field(default_factory=dict)
    blank_contents: Any = None


def finish_document(pdf: Any, profile: Profile, *, front_pages: int, cmyk: bool, seed: str,
                    date_iso: str | None = None, finished: Finished | None = None) -> bytes:
    """`finish_pdf` on an open pikepdf document (the chunked build's merged file); returns the saved bytes.
    `date_iso` replaces `PLACEHOLDER_DATE` in its document information and XMP metadata. With `finished`,
    what `refinish` needs is noted there, and the file is saved without object streams: its object numbers
    then follow its objects' graph alone (qpdf groups object streams by the numbers in memory), so a file
    patched later saves to the bytes a new one would."""
    page = profile.page
    assert page is not None
    if finished is not None:
        finished.settings = _settings(profile, front_pages, cmyk)
        finished.docinfo = {key: pdf.docinfo[key] for key in ("/CreationDate", "/ModDate") if key in pdf.docinfo}
        metadata = pdf.Root.get("/Metadata")
        finished.xmp = metadata.read_bytes() if metadata is not None else None
    if date_iso is not None:
        set_date(pdf, PLACEHOLDER_DATE, date_iso)
    nums: list[Any] = []
    if front_pages:
        nums += [0, pikepdf.Dictionary(S=pikepdf.Name.r)]
    nums += [front_pages, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
    pad_pages(pdf, page.signature, finished)
    _finish_pages(pdf, profile, page_objects(pdf), cmyk, finished.marks if finished is not None else {})
    if page.pdf_variant == "pdf/ua-1":
        mark_furniture_as_artifacts(pdf)  # running heads and folios: pagination artifacts, not content
    return _seal(pdf, seed, None, object_streams=finished is None)


def refinish(pdf: Any, profile: Profile, finished: Finished, pages: list[Any], *, front_pages: int, cmyk: bool,
             seed: str, date_iso: str, streams: list[Any]) -> bytes | None:
    """A file `finish_document` finished (noting `finished`) finished again once `pages` were put in it and
    the large `streams` made: those pages alone get their boxes, marks and links; the dates and ids are made
    again. None when the settings are not those it was finished with."""
    page = profile.page
    assert page is not None and page.pdf_variant != "pdf/ua-1"
    if _settings(profile, front_pages, cmyk) != finished.settings:
        return None
    padding = _pad_again(pdf, page.signature, finished, pages)
    if padding is None:
        return None
    for key, value in finished.docinfo.items():
        pdf.docinfo[key] = value
    if finished.xmp is not None:
        pdf.Root.Metadata.write(finished.xmp)
    set_date(pdf, PLACEHOLDER_DATE, date_iso)
    _finish_pages(pdf, profile, [*pages, *padding], cmyk, finished.marks)
    return _seal(pdf, seed, streams, object_streams=False)


def _settings(profile: Profile, front_pages: int, cmyk: bool) -> tuple[Any, ...]:
    page = profile.page
    assert page is not None
    return page.signature, page.marks, page.bleed, page.slug, page.pdf_variant, front_pages, cmyk


def _finish_pages(pdf: Any, profile: Profile, pages: list[Any], cmyk: bool,
                  marks: dict[tuple[float, ...], tuple[Any, Any, Any, Any]]) -> None:
    """`pages` given their boxes and crop marks (the streams shared by trim box in `marks`); no links in
    print (PDF/X), elsewhere every link printable and never hidden."""
    page = profile.page
    assert page is not None
    if page.marks or page.bleed:
        draw_crop_marks(pdf, page.bleed * MM, page.slug * MM, marks=page.marks, pages=pages, shared=marks)
    if cmyk:
        for page_dict in pages:
            if "/Annots" in page_dict:
                del page_dict["/Annots"]
    if page.pdf_variant == "pdf/ua-1" or not cmyk:
        pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        for page_dict in pages:  # links are for every reader: printable, never hidden
            for annot in page_dict.get("/Annots", []):
                annot.F = 4


def _seal(pdf: Any, seed: str, streams: list[Any] | None, *, object_streams: bool) -> bytes:
    """The file's ids from `seed`, its large `streams` compressed (None: every one), its saved bytes."""
    stable_ids(pdf, seed)
    pdf.trailer.ID = pikepdf.Array([pikepdf.String(bytes.fromhex(seed[:32]))] * 2)
    _compress_large_streams(pdf, streams)
    out = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.disable
    pdf.save(out, deterministic_id=True, compress_streams=True, object_stream_mode=mode)
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


def _boxes(page: Any) -> dict[str, Any]:
    return {key: pikepdf.Array(list(page[key])) for key in ("/MediaBox", "/TrimBox", "/BleedBox") if key in page}


def _blank(pdf: Any, boxes: dict[str, Any], contents: Any) -> Any:
    fields: dict[str, Any] = {
        "/Type": pikepdf.Name.Page, "/Parent": pdf.Root.Pages, "/Resources": pikepdf.Dictionary(), "/Contents": contents, **boxes,
    }
    return pdf.make_indirect(pikepdf.Dictionary(fields))


def pad_pages(pdf: Any, signature: int, finished: Finished | None = None) -> int:
    """Blank pages at the end of the book block up to a multiple of `signature`, of the last page's boxes,
    so that the last page of text keeps its place and the sheets fold whole; how many were added. What
    `refinish` needs to pad again is noted in `finished`."""
    kids = pdf.Root.Pages.Kids
    pages = page_objects(pdf)
    missing = padded_count(len(pages), signature) - len(pages)
    last = pages[-1]
    if finished is not None:
        finished.last = last.objgen, _boxes(last)
    if not missing:
        return 0
    if len(pages) != len(kids):
        raise RenderError("the page tree is nested; blank pages cannot be appended to it")
    boxes = _boxes(last)
    contents = pdf.make_indirect(pikepdf.Stream(pdf, b""))
    blanks = [_blank(pdf, boxes, contents) for _ in range(missing)]
    for blank in blanks:
        kids.append(blank)
    pdf.Root.Pages.Count = len(kids)
    if finished is not None:
        finished.padding, finished.padded, finished.blank_contents = blanks, boxes, contents
    return missing


def _pad_again(pdf: Any, signature: int, finished: Finished, new: list[Any]) -> list[Any] | None:
    """`pad_pages` on a patched file (its page tree holds no padding): the blank pages it had, as far as
    they serve, then new ones; the new ones (to finish), or None when the last page's boxes are unknown."""
    kids = pdf.Root.Pages.Kids
    last = kids[len(kids) - 1]
    if any(page.objgen == last.objgen for page in new):
        boxes = _boxes(last)
    elif finished.last is not None and finished.last[0] == last.objgen:
        boxes = finished.last[1]
    else:
        return None
    finished.last = last.objgen, boxes
    missing = padded_count(len(kids), signature) - len(kids)
    same = {k: [float(v) for v in a] for k, a in boxes.items()} == {k: [float(v) for v in a] for k, a in finished.padded.items()}
    kept = finished.padding if same else []
    if finished.blank_contents is None:
        finished.blank_contents = pdf.make_indirect(pikepdf.Stream(pdf, b""))
    made = [_blank(pdf, boxes, finished.blank_contents) for _ in range(max(0, missing - len(kept)))]
    finished.padding, finished.padded = [*kept, *made], boxes
    for blank in finished.padding[:missing]:
        kids.append(blank)
    pdf.Root.Pages.Count = len(kids)
    return made


def _compress_large_streams(pdf: Any, streams: list[Any] | None = None) -> None:
    """Compress the large uncompressed streams (font subsets, the ICC profile) on every core at once: zlib
    lets other threads run, and these few streams are most of what saving the file costs. The rest is
    left to qpdf when saving, as before; the result is the same zlib stream qpdf would write. `streams`: only
    these (default: every object of the file)."""
    large = [
        obj for obj in (pdf.objects if streams is None else streams)
        if isinstance(obj, pikepdf.Stream) and "/Filter" not in obj and int(obj.get("/Length", 0)) >= LARGE_STREAM
    ]
    if not large:
        return
    with ThreadPoolExecutor(max_workers=min(len(large), os.cpu_count() or 1)) as threads:
        packed = list(threads.map(lambda data: zlib.compress(data, 6), [obj.read_raw_bytes() for obj in large]))
    for obj, data in zip(large, packed, strict=True):
        obj.write(data, filter=pikepdf.Name.FlateDecode)


def draw_crop_marks(pdf: Any, bleed: float, slug: float, *, marks: bool = True, pages: list[Any] | None = None,
                    shared: dict[tuple[float, ...], tuple[Any, Any, Any, Any]] | None = None) -> None:
    """The boxes of every page and its crop marks, in 100 % K (DeviceCMYK, as PDF/X wants): the bleed box
    is the trim box plus `bleed` (pt; WeasyPrint caps it at 10 pt), the media box the bleed box plus `slug`,
    and at each corner a line on the extension of each trim edge starts at the bleed (3 mm from the trim at
    least) and runs 5 mm into the slug. Drawn once per page size as two streams every page shares, rather
    than by WeasyPrint, which paints them as an SVG on each page (a tenth of a print build's time) and in
    RGB. Without `marks`, only the boxes: media box = bleed box. `pages`: only these (default: every page);
    `shared`: the streams by trim box, kept for the next call on the same file."""
    offset = max(bleed, MARK_OFFSET_MM * MM)
    length = min(5 * MM, bleed + slug - offset - MM)
    shared = shared if shared is not None else {}
    for page_dict in page_objects(pdf) if pages is None else pages:
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


def set_date(pdf: Any, old: str, new: str) -> None:
    """The dates WeasyPrint wrote from `old` (`%Y-%m-%dT%H:%M:%SZ`, in the document information as
    `D:%Y%m%d%H%M%SZ`) made `new`, the same length and form."""
    def pdf_date(iso: str) -> str:
        return "D:" + re.sub(r"[^0-9]", "", iso) + "Z"

    for key in ("/CreationDate", "/ModDate"):
        if str(pdf.docinfo.get(key, "")) == pdf_date(old):
            pdf.docinfo[key] = pikepdf.String(pdf_date(new))
    metadata = pdf.Root.get("/Metadata")
    if metadata is not None:
        xmp = metadata.read_bytes()
        if old.encode() in xmp:
            metadata.write(xmp.replace(old.encode(), new.encode()))


_ID_PATTERN = re.compile(rb"(xmp\.did:|xmp\.iid:|uuid:)[0-9a-fA-F-]{32,36}")


def stable_ids(pdf: Any, digest: str) -> None:
    """Replace WeasyPrint's random XMP document ids with ones derived from the inputs (a hex digest)."""
    uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    metadata = pdf.Root.get("/Metadata")
    if metadata is None:
        return
    xmp = metadata.read_bytes()
    xmp = _ID_PATTERN.sub(lambda m: m[1] + uuid.encode(), xmp)
    metadata.write(xmp)

"""Font subsets an EPUB carries: each face the edition uses, cut down to the characters it shows.

Reading systems without the book's face fall back to whatever they have (wrong regional glyphs, cramped
quotes, broken `——`); an embedded subset makes every device draw the edition as it was made. HarfBuzz's
subsetter cuts a Noto CJK face to a book's characters in tens of milliseconds and keeps the OpenType
features a CJK reading system needs (vertical forms, half-width punctuation, regional glyphs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import uharfbuzz as hb
from lxml import etree

from .errors import InputError
from .fonts import Face

__all__ = ["EmbeddedFont", "FaceToEmbed", "LAYOUT_FEATURES", "displayed_characters", "is_truetype", "licence_name"]

#: Layout features kept beyond HarfBuzz's defaults: half-width and proportional punctuation, horizontal
#: and vertical (`halt`/`vhal`, `palt`/`vpal`), vertical forms and kerning, regional glyph forms.
LAYOUT_FEATURES = ("halt", "vhal", "palt", "vpal", "vert", "vrt2", "vkrn", "locl", "ccmp", "kern", "liga")

#: OS/2 fsType bits that forbid what an EPUB does with a face: restricted licence, no subsetting,
#: bitmap embedding only.
_FS_TYPE_FORBIDS = {0x0002: "restricted-licence embedding", 0x0100: "subsetting", 0x0200: "outline embedding"}

#: Elements reading systems set in bold by default.
BOLD_ELEMENTS = {"h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "th"}

_XHTML = "{http://www.w3.org/1999/xhtml}"
_CSS_CONTENT = re.compile(r"""content\s*:\s*(?:"([^"]*)"|'([^']*)')""")
_BOLD_RULE = re.compile(r"([^{}@;]+)\{[^{}]*font-weight\s*:\s*(?:bold|bolder|[6-9]00)", re.I)
_CLASS = re.compile(r"\.([A-Za-z_][\w-]*)")
_TAG = re.compile(r"(?:^|[\s>+~,(])([a-z][a-z0-9]*)", re.I)


def _bold_selectors(stylesheet: str) -> tuple[set[str], set[str]]:
    """(element names, class names) that appear in a selector of a rule setting a bold weight: an
    over-estimate (combinators are ignored), so the bold subset never lacks a character it is asked for."""
    tags, classes = set(BOLD_ELEMENTS), set()
    for match in _BOLD_RULE.finditer(re.sub(r"/\*.*?\*/", "", stylesheet, flags=re.S)):
        selector = match.group(1)
        classes.update(_CLASS.findall(selector))
        tags.update(t.lower() for t in _TAG.findall(re.sub(r"[.#][\w-]+|\[[^]]*\]|::?[\w-]+", " ", selector)))
    return tags, classes


@dataclass(frozen=True, slots=True)
class EmbeddedFont:
    """One subset face inside the EPUB."""

    family: str
    weight: str  # the CSS font-weight it serves: "normal" or "bold"
    file_name: str  # path inside the EPUB's content folder
    data: bytes
    licence: str


def _tag(name: str) -> int:
    return int.from_bytes(name.encode("ascii"), "big")


def _hb_face(face: Face) -> hb.Face:
    return hb.Face(hb.Blob.from_file_path(str(face.path)), face.index)


def is_truetype(face: Face) -> bool:
    """Whether the face has TrueType outlines (`glyf`; its subset is a .ttf), not CFF ones."""
    return bool(_hb_face(face).reference_table("glyf").data)


def check_embeddable(face: Face, hb_face: hb.Face) -> None:
    """Refuse a face whose licence bits (OS/2 fsType) forbid embedding or subsetting it."""
    table = hb_face.reference_table("OS/2").data
    fs_type = int.from_bytes(table[8:10], "big") if len(table) >= 10 else 0
    forbidden = [what for bit, what in _FS_TYPE_FORBIDS.items() if fs_type & bit]
    if forbidden:
        raise InputError(
            f"font {face.family!r} forbids {', '.join(forbidden)} (OS/2 fsType {fs_type:#06x}), so an EPUB cannot carry it",
            path=face.path,
            hint="choose a face whose licence allows embedding, or set embed_fonts = false in the profile",
        )


def licence_name(hb_face: hb.Face) -> str:
    """A short name of the face's licence, from its name table (the OFL's own wording when it is the OFL)."""
    text = hb_face.get_name(hb.OTNameIdPredefined.LICENSE) or ""
    match = re.search(r"SIL Open Font License,? Version (\d+\.\d+)", text)
    if match:
        return f"SIL Open Font License {match.group(1)}"
    first = text.split(". ")[0].strip()
    return first[:80] if first else "licence not stated in the font"


@dataclass(frozen=True, slots=True)
class FaceToEmbed:
    """An installed face an edition will carry, checked as embeddable, with the name of its licence."""

    face: Face
    weight: str  # the CSS font-weight it serves: "normal" or "bold"
    file_name: str
    licence: str

    @property
    def family(self) -> str:
        return self.face.family

    @classmethod
    def of(cls, face: Face, weight: str, file_name: str) -> FaceToEmbed:
        hb_face = _hb_face(face)
        check_embeddable(face, hb_face)
        return cls(face, weight, file_name, licence_name(hb_face))

    def subset(self, chars: Iterable[str]) -> EmbeddedFont:
        """The subset that draws `chars`, with the layout features above, as OpenType bytes (CFF or
        TrueType outlines, as the face has them)."""
        request = hb.SubsetInput()
        codes = request.unicode_set
        for char in chars:
            codes.add(ord(char))
        features = request.layout_feature_tag_set
        for feature in LAYOUT_FEATURES:
            features.add(_tag(feature))
        subset = hb.subset(_hb_face(self.face), request)
        if subset is None:
            raise InputError(f"font {self.family!r} could not be subset for embedding", path=self.face.path)
        return EmbeddedFont(self.family, self.weight, self.file_name, subset.blob.data, self.licence)


def displayed_characters(documents: Iterable[str], stylesheet: str) -> tuple[set[str], set[str]]:
    """(every character the XHTML documents and the stylesheet's generated content show, the part of them
    set in bold). Read from the rendered documents, so book furniture and labels are included."""
    regular: set[str] = set()
    bold: set[str] = set()
    bold_tags, bold_classes = _bold_selectors(stylesheet)
    for document in documents:
        root = etree.fromstring(document.encode("utf-8"))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            name = element.tag.removeprefix(_XHTML)
            text = element.text or ""
            regular.update(text)
            regular.update(element.tail or "")
            if name in bold_tags or bold_classes.intersection((element.get("class") or "").split()):
                bold.update("".join(element.itertext()))
    for match in _CSS_CONTENT.finditer(stylesheet):
        regular.update(match.group(1) or match.group(2) or "")
    regular = {c for c in regular if not c.isspace() or c in "\u3000\u00a0"}
    return regular, {c for c in bold if c in regular}

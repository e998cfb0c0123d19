"""WeasyPrint's font objects used for the chunked build's merge: where each font of a document came from
(`Font.clean`), and WeasyPrint's own HarfBuzz subsetter for the union of every part's glyphs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ...errors import MergeError
from .guard import checked_modules, modules

_declared: set[str] = set()  # the HarfBuzz functions declared to cffi in this process


#: What a part's mergeable font embeds instead of its subset: the merge builds every such font again from
#: the installed file (`subset`), so only the kind of font program (CFF or TrueType, which names the
#: dictionaries' /Subtype and /FontFile key) must be the subset's.
STUB_CFF, STUB_TRUETYPE = b"OTTO", b"\x00\x01\x00\x00"


@contextmanager
def record_font_sources(sources: dict[str, dict[str, Any]], *, part: bool = False) -> Iterator[None]:
    """While WeasyPrint writes a PDF, note for each font which installed file it comes from (size and a
    digest of its head) and whether its subset can be merged with other documents' subsets. In a `part`
    of a chunked build a mergeable font is not subset (about 0.04 s a face and document, and most of a
    part's bytes): it embeds a stub. Used inside `cjk_justification()`, whose `install` checked WeasyPrint."""
    fonts = modules()["pdf.fonts"]
    original = fonts.Font.clean

    def clean(self: Any, to_unicode: Any, hinting: Any) -> Any:
        data = self.file_content
        mergeable = not (
            self.bitmap or self.png or self.svg or self.colr or self.missing or self.used_in_forms
            or "fvar" in self.tables
        )
        sources[self.hash] = {
            "size": len(data),
            "head": hashlib.sha1(data[:65536]).hexdigest(),
            "index": int(self.index),
            "family": self.family,
            "mergeable": mergeable,
        }
        if part and mergeable and to_unicode:
            self.file_content = STUB_CFF if {"CFF ", "CFF2"} & set(self.tables) else STUB_TRUETYPE
            return None
        return original(self, to_unicode, hinting)

    fonts.Font.clean = clean
    try:
        yield
    finally:
        fonts.Font.clean = original


def subset(path: Path, index: int, glyphs: list[int], family: str) -> bytes:
    """The subset of the font at `path` (face `index`) keeping `glyphs` at their ids, as WeasyPrint makes it."""
    fonts = checked_modules()["pdf.fonts"]
    from weasyprint.text.ffi import ffi, harfbuzz  # loaded by checked_modules above

    if "hb_face_create" not in _declared:
        ffi.cdef(
            "hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);"
            "hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);"
        )
        _declared.add("hb_face_create")
    blob = harfbuzz.hb_blob_create_from_file_or_fail(str(path).encode())
    if blob == ffi.NULL:
        raise MergeError(f"cannot read the font file {path}", path=path)
    try:
        face = ffi.gc(harfbuzz.hb_face_create(blob, index), harfbuzz.hb_face_destroy)
    finally:
        harfbuzz.hb_blob_destroy(blob)
    holder = SimpleNamespace(hb_face=face, missing={}, family=family, file_content=b"")
    fonts.Font._harfbuzz_subset(holder, dict.fromkeys(glyphs, ""), False)  # noqa: SLF001 (WeasyPrint's own subsetter)
    if not holder.file_content:
        raise MergeError(f"HarfBuzz could not subset {family}", path=path)
    return bytes(holder.file_content)

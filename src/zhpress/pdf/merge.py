"""Merging the documents of a chunked build into one PDF that reads like the single-pass one (pikepdf).

Pages in order (the front matter, then each body chunk with its folio piece overlaid as a form, put straight
onto the page tree's /Kids: pikepdf's page list is quadratic in the number of pages), one font
object per face (WeasyPrint's HarfBuzz subsets keep glyph ids, so the union of every part's glyphs is
subset once from the installed font, with widths and ToUnicode merged), the colour spaces and output
intent once, the named destinations and the outline rebuilt with the merged pages. The result (`Merged`)
keeps its parts open, so that a warm process patches it in its next build rather than merging again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any

import pikepdf

from .. import files, memo
from ..errors import MergeError
from .parts import find_font_file, maps_from_json, read_font_maps
from .weasy70.fonts import subset

FOLIO_NAME = "/zhFolio"


# --- fonts ------------------------------------------------------------------------------------------------


@dataclass
class _Face:
    """One face's fonts across every part: the first font dictionary, merged widths and Unicode map."""

    key: str
    first: Any
    source: dict[str, Any]
    widths: dict[int, Any] = field(default_factory=dict)
    to_unicode: dict[int, bytes] = field(default_factory=dict)
    parts: list[tuple[dict[int, Any], dict[int, bytes]]] = field(default_factory=list)

    def add(self, maps: tuple[dict[int, Any], dict[int, bytes]]) -> None:
        """Take in one part's font: its widths and Unicode map."""
        self.parts.append(maps)

    def settle(self) -> None:
        """The union of every part's maps, the first part's value of a glyph kept."""
        for widths, to_unicode in reversed(self.parts):
            self.widths.update(widths)
            self.to_unicode.update(to_unicode)
        self.parts.clear()


def _read_fonts(fonts: Any, sources: dict[str, dict[str, Any]], maps_file: str | None = None) -> list[tuple[str, Any, Any]]:
    """A part's fonts with their widths and Unicode maps: from the maps its worker wrote (`maps_file`, JSON)
    when there are any, else read from each font."""
    maps = _font_maps(maps_file) if maps_file is not None else {}
    found: list[tuple[str, Any, Any]] = []
    for key, font in fonts.items():
        name = key.lstrip("/")
        source = sources.get(name)
        if source is None or not source.get("mergeable"):
            raise MergeError(f"font {font.get('/BaseFont')} cannot be merged across chunks")
        found.append((name, font, maps[name] if name in maps else read_font_maps(font)))
    return found


def _font_maps(maps_file: str) -> dict[str, tuple[dict[int, Any], dict[int, bytes]]]:
    """A part's font maps by face (`parts.font_maps`); a warm process (`zhpress.memo`) reads each file once
    while it is unchanged."""
    kept = memo.table("font-maps")
    stamp = (maps_file, files.stamp(maps_file))
    if kept is not None and stamp[1] is not None and stamp in kept:
        return kept[stamp]
    try:
        found = {name: maps_from_json(value) for name, value in json.loads(Path(maps_file).read_bytes()).items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MergeError(f"the font maps of a chunk cannot be read: {exc}", path=Path(maps_file)) from exc
    if kept is not None and stamp[1] is not None:
        if len(kept) > 4096:  # parts of builds long gone
            kept.clear()
        kept[stamp] = found
    return found


def _subset(path: Path, index: int, glyphs: list[int], family: str) -> bytes:
    """The union subset of a face; a warm process (`zhpress.memo`) keeps the last one of each face, for the
    same font file and glyphs."""
    kept = memo.table("font-subsets")
    face, seen = (str(path), index, family), files.stamp(path)
    if kept is None or seen is None:
        return subset(path, index, glyphs, family)
    key = (*face, seen, tuple(glyphs))
    if key not in kept:
        for old in [k for k in kept if k[:3] == face]:
            del kept[old]
        kept[key] = subset(path, index, glyphs, family)
    return kept[key]


def _build_font(pdf: Any, face: _Face) -> Any:
    """One Type 0 font for the face: the union subset, merged /W and ToUnicode, WeasyPrint's descriptor."""
    face.settle()
    path = find_font_file(face.source)
    if path is None:
        raise MergeError(f"the font file of {face.source.get('family')} is no longer installed")
    glyphs = sorted(set(face.widths) | set(face.to_unicode))
    data = _subset(path, face.source["index"], glyphs, face.source.get("family", ""))
    first_cid = face.first.DescendantFonts[0]
    first_descriptor = first_cid.FontDescriptor
    if data[:4] == b"OTTO":
        font_file = pdf.make_stream(data, Subtype=pikepdf.Name.OpenType)
        file_key = "/FontFile3"
    else:
        font_file = pdf.make_stream(data, Length1=len(data))
        file_key = "/FontFile2"
    descriptor = pikepdf.Dictionary()
    for k, v in first_descriptor.items():
        if k not in ("/FontFile2", "/FontFile3", "/CIDSet"):
            descriptor[k] = v
    descriptor[file_key] = font_file
    max_width = max((float(v) for v in face.widths.values()), default=0)
    ascent, descent = first_descriptor.Ascent, first_descriptor.Descent
    descriptor.FontBBox = pikepdf.Array([0, descent, _number(max_width, face.widths), ascent])
    descriptor.CapHeight = ascent
    flags = int(first_descriptor.Flags) & ~1
    if len(face.widths) > 1 and len({float(v) for v in face.widths.values()}) == 1:
        flags |= 1  # FixedPitch
    descriptor.Flags = flags
    if "/CIDSet" in first_descriptor:
        padded = ceil((glyphs[-1] + 1) / 8)
        bits = bytearray(padded)
        for glyph in face.widths:
            bits[glyph // 8] |= 0x80 >> (glyph % 8)
        descriptor.CIDSet = pdf.make_stream(bytes(bits))
    descriptor = pdf.make_indirect(descriptor)
    w_items: list[Any] = []
    current: list[Any] | None = None
    for gid in sorted(face.widths):
        if gid - 1 not in face.widths:
            current = []
            w_items += [gid, current]
        assert current is not None
        current.append(face.widths[gid])
    cid = pikepdf.Dictionary()
    for k, v in first_cid.items():
        if k not in ("/W", "/FontDescriptor"):
            cid[k] = v
    cid.W = pikepdf.Array([pikepdf.Array(x) if isinstance(x, list) else x for x in w_items])
    cid.FontDescriptor = descriptor
    cid = pdf.make_indirect(cid)
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=face.first.BaseFont,
        ToUnicode=pdf.make_stream(_to_unicode(face.to_unicode)), Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=pikepdf.Array([cid]),
    )
    return pdf.make_indirect(font)


def _number(value: float, widths: dict[int, Any]) -> Any:
    for v in widths.values():
        if float(v) == value:
            return v
    return value


def _to_unicode(mapping: dict[int, bytes]) -> bytes:
    """A ToUnicode CMap in WeasyPrint's form."""
    lines = [
        b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap", b"/CIDSystemInfo",
        b"<< /Registry (Adobe)", b"/Ordering (UCS)", b"/Supplement 0", b">> def", b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def", b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange",
    ]
    items = list(mapping.items())
    for start in range(0, len(items), 100):
        batch = items[start:start + 100]
        lines.append(f"{len(batch)} beginbfchar".encode())
        lines += [f"<{glyph:04x}> <".encode() + text + b">" for glyph, text in batch]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


# --- pages, destinations, outline -------------------------------------------------------------------------


def _clear(obj: Any) -> None:
    for key in list(obj.keys()):
        del obj[key]


def _outline_items(pdf: Any, page_map: dict[tuple[int, int], Any]) -> list[dict[str, Any]]:
    """The outline of a part as a tree of {title, dest, children, closed}, destinations on merged pages."""
    root = pdf.Root.get("/Outlines")
    items: list[dict[str, Any]] = []

    def walk(first: Any, into: list[dict[str, Any]]) -> None:
        node = first
        while node is not None:
            dest = node.get("/Dest")
            if dest is not None and dest[0].objgen in page_map:
                entry = {
                    "title": node.Title, "dest": [page_map[dest[0].objgen], *list(dest)[1:]],
                    "children": [], "closed": int(node.get("/Count", 0)) < 0,
                }
                into.append(entry)
                if "/First" in node:
                    walk(node.First, entry["children"])
            node = node.get("/Next")

    if root is not None and "/First" in root:
        walk(root.First, items)
    return items


def _write_outline(pdf: Any, items: list[dict[str, Any]]) -> None:
    """The outline as WeasyPrint writes it (`add_outlines`)."""
    if "/Outlines" in pdf.Root:
        del pdf.Root["/Outlines"]

    def build(entries: list[dict[str, Any]], parent: Any) -> tuple[list[Any], int]:
        count = len(entries)
        made: list[Any] = []
        for entry in entries:
            outline = pdf.make_indirect(pikepdf.Dictionary(Title=entry["title"], Dest=pikepdf.Array(entry["dest"])))
            children, children_count = build(entry["children"], outline)
            outline.Count = -children_count if entry["closed"] else children_count
            if not entry["closed"]:
                count += children_count
            if made:
                outline.Prev = made[-1]
                made[-1].Next = outline
            if children:
                outline.First = children[0]
                outline.Last = children[-1]
            if parent is not None:
                outline.Parent = parent
            made.append(outline)
        return made, count

    top, count = build(items, None)
    if top:
        root = pdf.make_indirect(pikepdf.Dictionary(Count=count, First=top[0], Last=top[-1]))
        for outline in top:
            outline.Parent = root
        pdf.Root.Outlines = root


def _dests(pdf: Any, page_map: dict[tuple[int, int], Any]) -> dict[str, list[Any]]:
    names = pdf.Root.get("/Names")
    dests = names.get("/Dests") if names is not None else None
    found: dict[str, list[Any]] = {}
    if dests is None:
        return found
    array = list(dests.get("/Names", []))
    for name, dest in zip(array[::2], array[1::2], strict=True):
        if dest[0].objgen in page_map:
            found[str(name)] = [page_map[dest[0].objgen], *list(dest)[1:]]
    return found


#: A contributor's fonts: (face name, the font in its part, its widths and Unicode map) for each face.
_Fonts = list[tuple[str, Any, tuple[dict[int, Any], dict[int, bytes]]]]


def _part_key(part: Any) -> tuple[str, tuple[int, int, int] | None]:
    """What says a part is the same document as before: its path and the stamp of its file."""
    return part.path, files.stamp(part.path)


@dataclass
class _Body:
    """A body chunk in the merged file: its part (open), the copies of its pages there with the folio each
    has (piece path, index), its font dictionary's copy, its fonts, destinations and outline."""

    key: tuple[str, tuple[int, int, int] | None]
    overlay: list[tuple[str, int] | None]
    source: Any
    pages: list[Any]
    font_dict: Any
    fonts: _Fonts
    dests: dict[str, list[Any]]
    outline: list[dict[str, Any]]


@dataclass
class _Piece:
    """A folio piece or the late piece in the merged file: its document (open), its pages, the copies of its
    resources by object id, its fonts and their dictionary's copy (None: it has no fonts)."""

    key: tuple[str, tuple[int, int, int] | None]
    pdf: Any
    pages: list[Any]
    resources: dict[tuple[int, int], Any]
    fonts: _Fonts | None = None
    font_dict: Any = None
    forms: dict[int, Any] = field(default_factory=dict)  # its pages made forms in `out`, by index


def _named(overlay: list[tuple[Any, int] | None]) -> list[tuple[str, int] | None]:
    """An overlay with each piece named by its path."""
    return [None if entry is None else (entry[0].path, entry[1]) for entry in overlay]


def _faces(fonts: _Fonts | None) -> set[str]:
    return {name for name, _, _ in fonts or []}


class Merged:
    """The merged document (`out`, an open pikepdf.Pdf) with the parts it copies from kept open, and what
    it was made of, so that a warm process's next build replaces only what changed (`patch`): the pages of
    the edited chunks, the folios of the pages that moved, the late piece. `close` lets the parts go.
    Made by `merge`."""

    def __init__(self, stack: ExitStack, out: Any, front: Any, front_pages: int) -> None:
        self.stack, self.out = stack, out
        self.frame = (_part_key(front), front_pages)
        self.sources: dict[str, dict[str, Any]] = {}
        self.front_pages = _flat_pages(out)[:front_pages]
        resources = self.front_pages[0].Resources
        self.base_colours = resources.get("/ColorSpace")
        self.front_fonts: _Fonts = []  # read once every part's font sources are known
        self.front_font_dict = resources.Font
        self.late: list[_Piece] = []  # the late pieces, in the order of the front pages they cover
        self.bodies: list[_Body] = []
        self.pieces: dict[str, _Piece] = {}  # the folio pieces: each serves several chunks, opened once
        self.profiles: dict[tuple[int, int], Any] = {}  # the ICC copies of every part, each linked to the front's
        front_map = {page.objgen: page for page in self.front_pages}
        self.front_dests = _dests(out, front_map)
        self.front_outline = _outline_items(out, front_map)
        self.settled: dict[str, tuple[dict[int, Any], dict[int, bytes]]] = {}
        self.merged_fonts: dict[str, Any] = {}
        self.new_streams: list[Any] = []  # the font programs made by the last merge or patch
        self.q_stream = out.make_stream(b"q\n")
        self.tail = out.make_stream(f"\nQ\n{FOLIO_NAME} Do\n".encode())

    def close(self) -> None:
        """Let the merged file and every part go."""
        for body in self.bodies:
            body.source.close()
        self.bodies.clear()
        for piece in self.late:
            piece.pdf.close()
        self.late.clear()
        self.stack.close()

    def _check_sources(self, part: Any) -> None:
        for key, source in part.fonts.items():
            previous = self.sources.setdefault(key, source)
            if (previous["size"], previous["head"], previous["index"]) != (source["size"], source["head"], source["index"]):
                raise MergeError(f"font {key} comes from two different files in two chunks")

    def _take_fonts(self, resources: Any, part: Any) -> tuple[_Fonts, Any]:
        """A part's fonts (read, then emptied from its resources so that its pages copy without them) and the
        copy in `out` of its font dictionary, to hold the merged fonts."""
        found = _read_fonts(resources.Font, self.sources, part.font_maps)
        _clear(resources.Font)
        return found, self.out.copy_foreign(resources.Font)

    def _open_piece(self, part: Any, *, late: bool = False) -> _Piece:
        """A folio piece or the late piece opened, its fonts taken and its colours linked."""
        pdf = pikepdf.open(part.path)
        try:
            pages = _flat_pages(pdf)
            resources = pages[0].Resources
            if late:  # a late piece's first pages may have nothing on them
                resources = next((p.Resources for p in pages if "/Font" in p.Resources), resources)
            piece = _Piece(_part_key(part), pdf, pages, {})
            if "/Font" in resources:
                piece.fonts, piece.font_dict = self._take_fonts(resources, part)
            _link_colours(self.out, resources, self.base_colours, self.profiles)
            return piece
        except BaseException:
            pdf.close()
            raise

    def _form(self, piece: _Piece, index: int) -> Any:
        """A piece's page as a form in `out`, made once."""
        if index not in piece.forms:
            piece.forms[index] = _piece_form(self.out, piece.pdf, piece.pages[index], piece.resources, self.profiles)
        return piece.forms[index]

    def _set_late(self, lates: list[Any]) -> None:
        """The late pieces' pages drawn over the front matter's (over those of the pieces that changed)."""
        first = not self.late
        start = 0
        for index, late in enumerate(lates):
            old = None if first else self.late[index]
            if old is None or old.key != _part_key(late):
                piece = self._open_piece(late, late=True)
                if old is None:
                    self.late.append(piece)
                else:
                    self.late[index] = piece
                    old.pdf.close()
                for i, target in enumerate(self.front_pages[start:start + late.pages]):
                    if first:
                        _draw_over(target, self._form(piece, i), self.q_stream, self.tail)
                    else:
                        _set_form(target, self._form(piece, i))
            start += late.pages

    def _take_body(self, body: Any, overlay: list[tuple[Any, int] | None], src: Any) -> _Body:
        """One body chunk's pages copied into `out` (not yet in its page tree), their folios drawn over them;
        `src`, its part opened, is the result's to close."""
        out = self.out
        for entry in overlay:
            if entry is not None and entry[0].path not in self.pieces:
                self.pieces[entry[0].path] = self.stack.enter_context(_closing(self._open_piece(entry[0])))
        src_pages = _flat_pages(src)
        first = src_pages[0].Resources
        fonts, font_dict = self._take_fonts(first, body)
        _link_colours(out, first, self.base_colours, self.profiles)
        copied = [out.copy_foreign(page) for page in src_pages[:body.pages]]  # qpdf leaves /Parent out
        tree = out.Root.Pages
        for page in copied:
            page.Parent = tree
        page_map = {page.objgen: copy for page, copy in zip(src_pages, copied, strict=False)}
        visited: set[tuple[int, int]] = set()
        for target in copied:
            _relink(target.Resources, self.profiles, visited)
        for target, entry in zip(copied, overlay, strict=True):
            if entry is not None:
                _draw_over(target, self._form(self.pieces[entry[0].path], entry[1]), self.q_stream, self.tail)
        return _Body(_part_key(body), _named(overlay), src, copied, font_dict, fonts,
                     _dests(src, page_map), _outline_items(src, page_map))

    def _contributors(self, bodies: list[tuple[Any, _Fonts, list[tuple[str, int] | None]]] | None = None, *,
                      without_late: bool = False) -> Iterator[tuple[Any, _Fonts]]:
        """Each part's fonts (owner, fonts) in the order of the merge: the front matter, the late pieces, each
        chunk and the folio pieces first met on its pages. `bodies` (key, fonts, overlay): instead of those
        kept; `without_late`: without the late pieces."""
        yield "front", self.front_fonts
        if not without_late:
            for piece in self.late:
                if piece.fonts:
                    yield piece.key, piece.fonts
        met: set[str] = set()
        for key, fonts, overlay in bodies if bodies is not None else [(b.key, b.fonts, b.overlay) for b in self.bodies]:
            yield key, fonts
            for entry in overlay:
                if entry is not None and entry[0] not in met:
                    met.add(entry[0])
                    piece_fonts = self.pieces[entry[0]].fonts
                    if piece_fonts:
                        yield entry[0], piece_fonts

    def _set_fonts(self) -> None:
        """One font per face, the union of every part's (made again only for a face whose union changed),
        in every copied font dictionary."""
        faces: dict[str, _Face] = {}
        for _, found in self._contributors():
            for name, font, maps in found:
                face = faces.get(name)
                if face is None:
                    face = faces[name] = _Face(name, font, self.sources[name])
                face.add(maps)
        self.new_streams = []
        merged: dict[str, Any] = {}
        for name, face in faces.items():
            face.settle()
            settled = (face.widths, face.to_unicode)
            if name in self.merged_fonts and self.settled.get(name) == settled:
                merged[name] = self.merged_fonts[name]
            else:
                merged[name] = font = _build_font(self.out, face)
                descriptor = font.DescendantFonts[0].FontDescriptor
                self.new_streams.append(descriptor.get("/FontFile3", descriptor.get("/FontFile2")))
            self.settled[name] = settled
        changed = {k: v.objgen for k, v in merged.items()} != {k: v.objgen for k, v in self.merged_fonts.items()}
        self.merged_fonts = merged
        as_dictionary = pikepdf.Dictionary({f"/{key}": value for key, value in merged.items()})
        dicts = [self.front_font_dict, *(p.font_dict for p in [*self.late, *self.pieces.values()]),
                 *(body.font_dict for body in self.bodies)]
        for fonts in dicts:
            if fonts is not None and (changed or len(fonts) != len(merged)):
                _clear(fonts)
                for k, v in as_dictionary.items():
                    fonts[k] = v

    def _set_pages(self) -> None:
        """The page tree: the front matter's pages, then every chunk's."""
        tree = self.out.Root.Pages
        tree.Kids = pikepdf.Array([*self.front_pages, *(page for body in self.bodies for page in body.pages)])
        tree.Count = len(tree.Kids)

    def _set_names(self) -> None:
        """The named destinations and the outline of the whole file, the front matter's first."""
        out = self.out
        dests = dict(self.front_dests)
        outline = list(self.front_outline)
        for body in self.bodies:
            for name, dest in body.dests.items():
                dests.setdefault(name, dest)
            outline += body.outline
        if dests:
            array = pikepdf.Array()
            for name in sorted(dests):
                array.append(pikepdf.String(name))
                array.append(pikepdf.Array(dests[name]))
            if "/Names" not in out.Root:
                out.Root.Names = pikepdf.Dictionary()
            out.Root.Names.Dests = pikepdf.Dictionary(Names=array)
        _write_outline(out, outline)

    def patch(self, front: Any, front_pages: int, bodies: list[Any], overlays: list[list[tuple[Any, int] | None]],
              lates: list[Any]) -> list[Any] | None:
        """This file made the merge of these parts by replacing what changed; the new pages (to finish), or
        None, leaving it as it was, when only a whole merge makes it: another front matter or number of
        chunks, a folio piece not in it, or a changed part whose font would lead a face (the merged font is
        made from the first part's)."""
        if self.frame != (_part_key(front), front_pages) or len(bodies) != len(self.bodies):
            return None
        named = [_named(overlay) for overlay in overlays]
        if any(entry is not None and entry[0] not in self.pieces for overlay in named for entry in overlay):
            return None
        changed = [i for i, body in enumerate(bodies) if _part_key(body) != self.bodies[i].key]
        if [late.pages for late in lates] != [len(piece.pages) for piece in self.late]:
            return None
        late_changed = [_part_key(late) for late in lates] != [piece.key for piece in self.late]
        opened: dict[int, Any] = {}
        fits = False  # else the parts opened here are closed again
        try:
            new_fonts: dict[int, _Fonts] = {}
            for i in changed:
                self._check_sources(bodies[i])
                opened[i] = pikepdf.open(bodies[i].path)
                new_fonts[i] = _read_fonts(_flat_pages(opened[i])[0].Resources.Font, self.sources, bodies[i].font_maps)
            for late in lates:
                self._check_sources(late)
            front_faces = _faces(self.front_fonts)
            order = [(body.key, new_fonts.get(i, body.fonts), named[i]) for i, body in enumerate(self.bodies)]
            fits = (all(set(late.fonts) <= front_faces for late in lates)  # the late pieces lead no face
                    and all(_faces(piece.fonts) <= front_faces for piece in self.late)
                    and _leaders(self._contributors(without_late=True)) == _leaders(self._contributors(order, without_late=True)))
        finally:
            if not fits:
                for src in opened.values():
                    src.close()
        if not fits:
            return None
        if late_changed:
            self._set_late(lates)
        new_pages: list[Any] = []
        for i, old in enumerate(self.bodies):
            if i in opened:
                self.bodies[i] = self._take_body(bodies[i], overlays[i], opened[i])
                old.source.close()
                new_pages += self.bodies[i].pages
            elif named[i] != old.overlay:  # pages moved: their folios are other numbers
                for target, was, entry in zip(old.pages, old.overlay, named[i], strict=True):
                    if entry != was and entry is not None:  # the page's own resources (`_draw_over`): set in place
                        target.Resources.XObject[FOLIO_NAME] = self._form(self.pieces[entry[0]], entry[1])
                old.overlay = named[i]
        self._set_pages()  # without the blank pages that pad it: finishing pads it again
        if changed or late_changed:
            self._set_fonts()
            self._set_names()
        return new_pages


def _leaders(contributors: Iterator[tuple[Any, _Fonts]]) -> dict[str, Any]:
    """Which part's font each face's merged font is made from: the first to have it."""
    leaders: dict[str, Any] = {}
    for owner, fonts in contributors:
        for name, _, _ in fonts or []:
            leaders.setdefault(name, owner)
    return leaders


@contextmanager
def _closing(piece: _Piece) -> Iterator[_Piece]:
    try:
        yield piece
    finally:
        piece.pdf.close()


def merge(front: Any, front_pages: int, bodies: list[Any], overlays: list[list[tuple[Any, int] | None]],
          lates: list[Any]) -> Merged:
    """The merged document: the front matter's first `front_pages` pages with the late pieces' pages
    overlaid, in order, then every body chunk, each of its pages with the folio piece's page `overlays` names for it
    (piece, index; None: nothing) drawn over it. Parts are `Rendered` results.
    Every part stays open until the result is closed, and its pages, fonts, colour profiles, destinations
    and outline are linked into the merged file in the one pass over the parts."""
    stack = ExitStack()
    try:
        merged = Merged(stack, stack.enter_context(pikepdf.open(front.path)), front, front_pages)
        folios = list({entry[0].path: entry[0] for pages in overlays for entry in pages if entry is not None}.values())
        for part in [front, *bodies, *folios, *lates]:
            merged._check_sources(part)
        merged.front_fonts = _read_fonts(merged.front_font_dict, merged.sources, front.font_maps)
        merged._set_late(lates)
        # The merged page tree is built on its /Kids array: pikepdf's page list copies qpdf's list of all
        # pages on every append and index (quadratic: 13.9 s for 10,000 pages against 0.8 s this way), so
        # `out.pages` is not touched until the tree is complete.
        for body, overlay in zip(bodies, overlays, strict=True):
            src = pikepdf.open(body.path)
            try:
                merged.bodies.append(merged._take_body(body, overlay, src))
            except BaseException:
                src.close()
                raise
        merged._set_pages()
        merged._set_fonts()
        merged._set_names()
        return merged
    except BaseException:
        stack.close()
        raise


def _link_colours(out: Any, resources: Any, base_colours: Any, profiles: dict[tuple[int, int], Any]) -> None:
    """A part's ICC profiles that are the front matter's: emptied, their copies in `out` noted in
    `profiles` to be linked to the front matter's own."""
    for name, space in resources.get("/ColorSpace", {}).items():
        if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == "/ICCBased":
            if base_colours is not None and name in base_colours:
                space[1].write(b"")  # the same profile as the front matter's: linked to it below
                profiles[out.copy_foreign(space[1]).objgen] = base_colours[name][1]


def _set_form(target: Any, form: Any) -> None:
    """The form a page of `out` draws over its contents (`FOLIO_NAME`) made `form`."""
    resources = pikepdf.Dictionary({k: v for k, v in target.Resources.items()})
    xobjects = pikepdf.Dictionary({k: v for k, v in resources.get("/XObject", {}).items()})
    xobjects[FOLIO_NAME] = form
    resources.XObject = xobjects
    target.Resources = resources


def _draw_over(target: Any, form: Any, q_stream: Any, tail: Any) -> None:
    """A page of `out` with `form` (a piece's page) drawn over its own contents."""
    _set_form(target, form)
    contents = target.Contents
    parts = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    target.Contents = pikepdf.Array([q_stream, *parts, tail])


def _flat_pages(pdf: Any) -> list[Any]:
    """The page dictionaries of a document whose page tree is one /Pages node (as WeasyPrint writes it)."""
    pages = list(pdf.Root.Pages.Kids)
    if any(page.get("/Type") != "/Page" for page in pages):
        raise MergeError("a chunk's page tree is nested: chunked builds expect WeasyPrint's flat page tree")
    return pages


def _relink(obj: Any, mapping: dict[tuple[int, int], Any], visited: set[tuple[int, int]]) -> None:
    """Point every reference to an object of `mapping` (by id) at its replacement, below `obj`."""
    if obj.is_indirect:
        if obj.objgen in visited:
            return
        visited.add(obj.objgen)
    items: list[tuple[str | int, Any]]  # names of a dictionary, indices of an array
    if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        items = list(obj.items())
    elif isinstance(obj, pikepdf.Array):
        items = list(enumerate(obj))
    else:
        return
    for key, value in items:
        if key == "/Parent":
            continue
        if isinstance(value, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)):
            if value.is_indirect and value.objgen in mapping:
                obj[key] = mapping[value.objgen]
            else:
                _relink(value, mapping, visited)


def _piece_form(out: Any, piece: Any, page: Any, resources: dict[tuple[int, int], Any],
                profiles: dict[tuple[int, int], Any]) -> Any:
    """A piece's page (a folio or the late piece) as a form XObject in the merged file: made there directly
    from the page's compressed contents, its resources copied once per piece (`resources`, by the piece's object id)."""
    contents = page.Contents
    own = page.Resources
    if isinstance(contents, pikepdf.Array) or contents.get("/Filter") != "/FlateDecode" or "/DecodeParms" in contents \
            or not own.is_indirect:
        form = out.copy_foreign(_page_form(piece, page))  # the general way: made in the piece, then copied
        _relink(form, profiles, set())
        return form
    if own.objgen not in resources:
        resources[own.objgen] = out.copy_foreign(own)
        _relink(resources[own.objgen], profiles, set())
    form = out.copy_foreign(contents)  # the compressed bytes as they are (a third of making a stream and writing them)
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox, form.Resources = pikepdf.Array(list(page.MediaBox)), resources[own.objgen]
    return form


def _page_form(pdf: Any, obj: Any) -> Any:
    """A page (dictionary) of a folio piece as a form XObject of the same box, to draw over a body page."""
    contents = obj.Contents
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    single = streams[0] if len(streams) == 1 else None
    form = pdf.make_stream(b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=obj.MediaBox, Resources=obj.Resources)
    if single is not None and single.get("/Filter") == "/FlateDecode" and "/DecodeParms" not in single:
        form.write(single.read_raw_bytes(), filter=pikepdf.Name.FlateDecode)  # as compressed in the worker
    else:
        form.write(b"\n".join(stream.read_bytes() for stream in streams))
    return form

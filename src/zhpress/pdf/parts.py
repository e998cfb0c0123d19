"""A rendered part of a chunked build on disk: its PDF, page contents compressed by the worker, and the
widths and Unicode maps of its fonts in a JSON file beside it (`maps_path`), read by the merge."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import tempfile
import zlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import MergeError
from ..files import write_atomic

_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")
_W_TOKEN = re.compile(rb"\[|\]|[-+]?(?:\d+\.?\d*|\.\d+)")


def read_font_maps(font: Any) -> tuple[dict[int, Any], dict[int, bytes]]:
    """A Type 0 font's glyph widths (/W) and Unicode map (ToUnicode), read from its PDF syntax (pikepdf's
    item access was most of the merge's font time)."""
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        raise MergeError(f"font {font.get('/BaseFont')} is not a Type 0 font in Identity-H")
    cid = font.DescendantFonts[0]
    widths: dict[int, Any] = {}
    if "/W" in cid:
        first: int | None = None
        inside = False
        offset = 0
        tokens = _W_TOKEN.findall(cid.W.unparse())
        if tokens[:1] != [b"["] or tokens[-1:] != [b"]"]:
            raise MergeError(f"font {font.get('/BaseFont')}: /W is not an array")
        for token in tokens[1:-1]:
            if token == b"[":
                if first is None or inside:
                    raise MergeError(f"font {font.get('/BaseFont')}: unexpected /W array")
                inside, offset = True, 0
            elif token == b"]":
                inside, first = False, None
            elif inside:
                assert first is not None
                value = int(token) if token.lstrip(b"-+").isdigit() else Decimal(token.decode())
                widths.setdefault(first + offset, value)
                offset += 1
            elif first is None:
                first = int(token)
            else:  # "first last width" ranges: WeasyPrint does not write them
                raise MergeError(f"font {font.get('/BaseFont')}: unexpected /W range")
    to_unicode: dict[int, bytes] = {}
    for glyph, text in _BFCHAR.findall(font.ToUnicode.read_bytes()):
        to_unicode.setdefault(int(glyph, 16), text)
    return widths, to_unicode


def font_maps(fonts: Any) -> dict[str, dict[str, Any]]:
    """The widths and Unicode maps of a part's fonts (its /Font resources), as JSON for the chunk cache."""
    maps: dict[str, dict[str, Any]] = {}
    for key, font in fonts.items():
        widths, to_unicode = read_font_maps(font)
        maps[key.lstrip("/")] = {
            "widths": [[g, v if isinstance(v, int) else str(v)] for g, v in widths.items()],
            "unicode": [[g, t.decode("ascii")] for g, t in to_unicode.items()],
        }
    return maps


def maps_from_json(maps: dict[str, Any]) -> tuple[dict[int, Any], dict[int, bytes]]:
    widths = {int(g): v if isinstance(v, int) else Decimal(v) for g, v in maps["widths"]}
    return widths, {int(g): t.encode("ascii") for g, t in maps["unicode"]}


def maps_path(pdf: Path) -> Path:
    """Where a part's font maps are kept: beside its PDF."""
    return pdf.with_suffix(".fonts.json")


def prepare_part(raw: bytes, path: Path) -> str:
    """Write a part to `path` with its pages' content streams compressed (fonts and profiles are left as
    they are: the merge replaces them), and its fonts' maps beside it (`maps_path`), whose path is
    returned. Done in the worker, once per cached part, rather than by the merge on every incremental
    build (for a 1000-article book the merge spent 2 s compressing pages and 0.9 s reading fonts)."""
    import pikepdf  # here: the build's workers import this module as they start, and need pikepdf only now

    with pikepdf.open(io.BytesIO(raw)) as pdf:
        kids = pdf.Root.Pages.Kids
        maps = font_maps(kids[0].Resources.get("/Font", {})) if len(kids) else {}
        for page in kids:
            contents = page.get("/Contents")
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []
            for stream in streams:
                if "/Filter" not in stream:
                    stream.write(zlib.compress(stream.read_raw_bytes(), 6), filter=pikepdf.Name.FlateDecode)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # a fresh name, never a link
        os.close(handle)
        try:
            pdf.save(tmp, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
            os.replace(tmp, path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    maps_file = maps_path(path)
    write_atomic(maps_file, json.dumps(maps, sort_keys=True).encode(), mode=0o600)
    return str(maps_file)


# --- the installed font files parts' fonts come from ---------------------------------------------------


@cache
def _installed_font_files() -> tuple[str, ...]:
    """Every font file fontconfig knows."""
    result = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=False)
    return tuple(sorted({line for line in result.stdout.splitlines() if line}))


@cache
def _file_head(path: str) -> tuple[int, str]:
    file = Path(path)
    with file.open("rb") as handle:
        head = handle.read(65536)
    return file.stat().st_size, hashlib.sha1(head).hexdigest()


def find_font_file(source: dict[str, Any]) -> Path | None:
    """The installed font file a rendered document's font came from (matched by size and head digest)."""
    for path in _installed_font_files():
        try:
            if Path(path).stat().st_size != source["size"]:
                continue
            if _file_head(path) == (source["size"], source["head"]):
                return Path(path)
        except OSError:
            continue
    return None

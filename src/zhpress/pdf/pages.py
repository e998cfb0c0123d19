"""A print edition's pages as laid out: where each printed page begins (`pagestarts`, read by the render
worker), labelled as the PDF labels them, and the single-pass layouts kept for a later EPUB build.

Pages are labelled with roman numerals in the front matter (which prints no folios) and body folios from 1;
a blank page points at the next page with text, the blank leaves at the back at the end of the body. The
layout of a short (single-pass) book is kept signed in `.zhpress-cache/pages/`, keyed like a cached chunk;
a chunked book's page starts are kept with its chunks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import files
from ..config import Project
from ..errors import InputError
from ..render import article_anchor
from .cache import faces_fingerprint, file_digest, job_key, versions
from .engine import Rendered, RenderJob
from .finish import padded_count
from .sources import fetch_roots

log = logging.getLogger("zhpress")

CACHE_FOLDER = "pages"


@dataclass(frozen=True)
class Page:
    """One printed page: its label and where it begins (a place as `zhpress.pdf.pagestarts` gives it)."""

    label: str
    start: dict[str, Any]


def roman(number: int) -> str:
    """Lower-case roman numerals, as the PDF page labels of the front matter (`/S /r`)."""
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):  # fmt: skip
        while number >= value:
            out += letters
            number -= value
    return out


def assemble(front: list[dict[str, Any]], bodies: list[list[dict[str, Any]]], total: int) -> list[Page]:
    """The pages of the book block in order: the front matter's, each body part's, then the blank leaves
    that pad the block to `total`; blank pages point at the next page with text (the last ones at the end)."""
    starts = [*front, *(s for body in bodies for s in body)]
    starts += [{"kind": "blank"}] * max(0, total - len(starts))
    labels = [roman(n + 1) for n in range(len(front))] + [str(n + 1) for n in range(len(starts) - len(front))]
    pages: list[Page] = []
    following: dict[str, Any] = {"kind": "end"}
    for label, start in reversed(list(zip(labels, starts, strict=True))):
        if start["kind"] == "blank":
            start = {**following, "blank": True}
        else:
            following = start
        pages.append(Page(label, start))
    return pages[::-1]


def single_pass_pages(rendered: Any, signature: int) -> list[Page]:
    """The pages of a single-pass print render (a `Rendered` with its starts, or a cached layout)."""
    front = rendered.anchors.get(article_anchor(1), 0)
    return assemble(rendered.starts[:front], [rendered.starts[front:rendered.pages]], padded_count(rendered.pages, signature))


def chunked_pages(front: Rendered, front_pages: int, bodies: list[Rendered], total: int) -> list[Page]:
    """The pages of a chunked print build: the front matter's, then every body chunk's."""
    if front.starts is None or any(b.starts is None for b in bodies):
        raise ValueError("a part has no page starts")
    return assemble(front.starts[:front_pages], [b.starts[: b.pages] for b in bodies if b.starts is not None], total)


def layout_key(job: RenderJob, faces: Sequence[str]) -> str:
    """A single-pass layout's cache key: everything that makes the print document (as for cached chunks),
    with the fingerprints of the edition's `faces` (body face first, then its fallback faces)."""
    return job_key("layout", job.html, list(job.sheets), dict(job.options), versions(), faces_fingerprint(faces))


@dataclass
class StoredLayout:
    """A cached single-pass layout, as `single_pass_pages` reads a render."""

    starts: list[dict[str, Any]]
    pages: int
    anchors: dict[str, int]


class LayoutCache:
    """Page starts of single-pass print layouts, one signed record per layout key, with the digests of the
    files the layout fetched (checked before reuse, as for cached chunks)."""

    def __init__(self, folder: Path, roots: list[Path], key: bytes) -> None:
        self.folder, self.roots, self.key = folder, roots, key

    @classmethod
    def open(cls, project: Project) -> LayoutCache | None:
        folder = project.root / files.PROJECT_CACHE / CACHE_FOLDER
        key = files.signing_key()
        if key is None or files.own_folder(folder, base=project.root) is None:
            return None
        return cls(folder, fetch_roots(project), key)

    def load(self, key: str) -> StoredLayout | None:
        try:
            blob = files.read_confined(self.folder / f"{key}.json", self.folder, what="cache entry")
            data = files.verified(blob, self.key)
            info = json.loads(data) if data is not None else None
            if not info or info.get("key") != key:
                raise ValueError(key)
            if any(file_digest(Path(p), self.roots) != d for p, d in info["fetched"].items()):
                raise ValueError(key)
            starts = list(info["starts"])
            return StoredLayout(starts, len(starts), {article_anchor(1): int(info["front"])})
        except (InputError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, key: str, result: Rendered) -> None:
        info = {"key": key, "starts": result.starts, "front": result.anchors.get(article_anchor(1), 0), "fetched": result.fetched}
        try:
            files.write_atomic(self.folder / f"{key}.json", files.sign(json.dumps(info, sort_keys=True).encode(), self.key), mode=0o600)
        except OSError as exc:
            log.warning("%s: the page cache cannot be written (%s)", self.folder, exc.strerror)


def keep_single_pass(project: Project, faces: Sequence[str], job: RenderJob, rendered: Rendered) -> None:
    """Keep the page starts of a single-pass print render (the print build's), for a later EPUB build."""
    store = LayoutCache.open(project)
    if store is not None and rendered.starts is not None and not rendered.refused:
        store.store(layout_key(replace(job, kind="layout"), faces), rendered)

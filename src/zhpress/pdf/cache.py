"""The cache of a chunked build's rendered documents (body chunks, front matter, folio pieces), under
PROJECT/.zhpress-cache/pdf, each keyed by everything that makes it (`job_key`, `versions`,
`font_fingerprint`)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__, files
from ..config import Project
from ..errors import InputError
from ..fonts import find_font
from .engine import Rendered
from .parts import find_font_file, maps_path

log = logging.getLogger("zhpress")

#: Bump when the chunk format or what a cache entry records changes (the history is in docs/pdf-stage.md).
CACHE_FORMAT = "7"


#: The modules whose source changes a rendered part: the worker's render and post-processing, and the
#: typesetting rules its layout applies (`weasy70.typography`); with every module of `weasy70/`, each
#: patch of WeasyPrint (the merge, which only reads parts, is not part of the key).
_RENDER_CODE = ("engine.py", "parts.py", "pagestarts.py", "../typeset.py", "../chars.py")


def cache_dir(project: Project) -> Path:
    """Where a project's rendered chunks are kept."""
    return project.root / files.PROJECT_CACHE / "pdf"


def versions() -> str:
    """Everything outside the inputs that changes a rendered part: the cache format, the versions of
    zhpress, WeasyPrint and pydyf, and the source of the code that renders and post-processes a part."""
    here = Path(__file__).parent
    patches = sorted(path.relative_to(here).as_posix() for path in (here / "weasy70").glob("*.py"))
    code = [hashlib.sha256((here / name).read_bytes()).hexdigest() for name in (*_RENDER_CODE, *patches)]
    packages = [importlib.metadata.version(name) for name in ("weasyprint", "pydyf")]
    return "\0".join([CACHE_FORMAT, __version__, *packages, *code])


@lru_cache(maxsize=1)
def html_code() -> str:
    """A digest of every module and template of zhpress: what turns an edition's content into a chunk's
    HTML (`chunked._Plan.made_from` holds the content, this the code)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".html", ".j2", ".css", ".toml") and p.is_file()):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def job_key(kind: str, html: str, sheets: list[tuple[str, str]], options: dict[str, Any], versions: str, fonts: str) -> str:
    """The cache key of one document: a digest of everything that makes it."""
    digest = hashlib.sha256()
    for part in (kind, versions, fonts, json.dumps(options, sort_keys=True), html, *(f"{n}\0{c}" for n, c in sheets)):
        digest.update(part.encode())
        digest.update(b"\0\1")
    return digest.hexdigest()


_font_digests: dict[tuple[str, str, int], str] = {}


def font_fingerprint(family: str, *, content: bool = True) -> str:
    """The installed face of `family`: file name, face index, size and SHA-256 (a path or a file time may
    differ between machines; the bytes may not). Without `content`, the file's path, index, size and time
    instead of its digest: enough for this machine's cache, where a font upgrade must change the key."""
    if content:
        find_font.cache_clear()  # fontconfig's answer of this moment, not of an earlier call
    face = find_font(family)
    if face is None:
        return "not installed"
    if not content:
        try:
            stat = face.path.stat()
        except OSError:
            return str(face.path)
        return f"{face.path}:{face.index}:{stat.st_size}:{stat.st_mtime_ns}"
    try:
        stat = face.path.stat()
        key = (str(face.path), f"{stat.st_size}:{stat.st_mtime_ns}", face.index)
        if key not in _font_digests:
            digest = hashlib.sha256()
            with open(face.path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            _font_digests[key] = digest.hexdigest()
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    return f"{face.path.name}#{face.index}, {stat.st_size} bytes, sha256 {_font_digests[key][:16]}"


def faces_fingerprint(families: Iterable[str]) -> str:
    """`font_fingerprint` (this machine's form) of every face an edition sets: the body face, then its
    fallback faces, so that a fallback face's upgrade also changes the cache keys."""
    return "\0".join(font_fingerprint(family, content=False) for family in families)


def file_digest(path: Path, roots: Iterable[Path]) -> str | None:
    """The digest of a file a cache entry says it used: a regular file inside the book's folders, or None."""
    try:
        return hashlib.sha256(files.read_confined(path, list(roots), what="image")).hexdigest()
    except InputError:
        return None


class ChunkCache:
    """Rendered documents on disk, keyed by everything that makes them. Each entry's record (JSON) is
    signed with the user's key and names its key; an entry is reused only when the signature is the user's,
    its PDF and font maps are regular files in the cache folder with the digests the record gives, the
    files it fetched are regular files in the book's folders (`roots`) and unchanged, and the font files it
    used are still installed. Anything else is a miss, rendered again and written afresh."""

    def __init__(self, folder: Path, roots: Iterable[Path] = (), *, key: bytes | None = None) -> None:
        self.folder = folder
        self.roots = [Path(r) for r in roots]
        self.key = key

    @classmethod
    def open(cls, folder: Path, roots: Iterable[Path], *, base: Path | None = None) -> ChunkCache | None:
        """The cache in `folder` (a folder of the user's own, made 0700), or None, with a warning, when it
        cannot be used: the build then renders everything without it."""
        key = files.signing_key()
        if key is None or files.own_folder(folder, base=base) is None:
            return None
        return cls(folder, roots, key=key)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.pdf", self.folder / f"{key}.json"

    def pdf_path(self, key: str) -> Path:
        return self._paths(key)[0]

    def _read(self, path: Path) -> bytes:
        return files.read_confined(path, self.folder, what="cache entry")

    def load(self, key: str) -> Rendered | None:
        """The stored result for `key`, or None when absent, stale or not the user's own."""
        pdf, meta = self._paths(key)
        try:
            signed = files.verified(self._read(meta), self.key) if self.key is not None else None
            if signed is None:
                return None
            info = json.loads(signed)
            data = self._read(pdf)
            maps = maps_path(pdf)
            maps_data = self._read(maps)
        except (InputError, ValueError):
            return None
        try:
            if info.get("format") != CACHE_FORMAT or info.get("key") != key:
                return None
            if hashlib.sha256(data).hexdigest() != info.get("sha256"):
                return None
            if hashlib.sha256(maps_data).hexdigest() != info.get("font_maps_sha256"):
                return None
            fetched = info["fetched"]
            if any(type(p) is not str or file_digest(Path(p), self.roots) != d for p, d in fetched.items()):
                return None
            if any(find_font_file(src) is None for src in info["fonts"].values() if src.get("mergeable")):
                return None
            return Rendered(
                path=str(pdf), pages=int(info["pages"]), blank=[bool(b) for b in info["blank"]],
                anchors={str(k): int(v) for k, v in info["anchors"].items()}, fonts=dict(info["fonts"]),
                fetched=dict(fetched), font_maps=str(maps), starts=info.get("starts"),
                late={str(k): [float(x) for x in v] for k, v in info.get("late", {}).items()},
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def recent(self, profile: str) -> set[str]:
        """The article digests of the chunks of `profile`'s last build (a scheduling hint, never trusted
        for what to reuse)."""
        try:
            stored = json.loads(self._read(self.folder / f"recent-{profile}.json"))
            return {d for d in stored if type(d) is str}
        except Exception:  # noqa: BLE001  (only the order of the work depends on it)
            return set()

    def remember(self, profile: str, digests: list[str]) -> None:
        try:
            files.write_atomic(self.folder / f"recent-{profile}.json", json.dumps(digests).encode(), mode=0o600)
        except OSError as exc:
            log.warning("%s: the PDF cache cannot be written (%s)", self.folder, exc.strerror)

    def html_keys(self, profile: str) -> dict[str, str]:
        """`profile`'s body chunks' job keys by what their HTML is made from, as its last build left them
        (signed: a book project's own copy is never used), or {}."""
        try:
            signed = files.verified(self._read(self.folder / f"html-keys-{profile}.json"), self.key) if self.key else None
            stored = json.loads(signed) if signed is not None else {}
            if type(stored) is not dict or stored.get("format") != CACHE_FORMAT or stored.get("code") != html_code():
                return {}
            return {k: v for k, v in stored["keys"].items() if type(k) is str and type(v) is str}
        except Exception:  # noqa: BLE001  (absent or unreadable: every chunk's HTML is made)
            return {}

    def remember_html_keys(self, profile: str, keys: dict[str, str]) -> None:
        assert self.key is not None
        data = json.dumps({"format": CACHE_FORMAT, "code": html_code(), "keys": keys}, sort_keys=True).encode()
        try:
            files.write_atomic(self.folder / f"html-keys-{profile}.json", files.sign(data, self.key), mode=0o600)
        except OSError as exc:
            log.warning("%s: the PDF cache cannot be written (%s)", self.folder, exc.strerror)

    def store(self, key: str, result: Rendered) -> None:
        """Record a fresh render whose PDF is already at `pdf_path(key)` (a failure to write is a warning:
        the build goes on, the entry is only missing next time)."""
        assert self.key is not None
        pdf, meta = self._paths(key)
        try:
            info = {
                "format": CACHE_FORMAT, "key": key, "sha256": hashlib.sha256(self._read(pdf)).hexdigest(),
                "pages": result.pages, "blank": result.blank, "anchors": result.anchors, "fonts": result.fonts,
                "fetched": result.fetched, "starts": result.starts, "late": result.late,
                "font_maps_sha256": hashlib.sha256(self._read(Path(result.font_maps))).hexdigest()
                if result.font_maps else None,
            }
            files.write_atomic(meta, files.sign(json.dumps(info, sort_keys=True).encode(), self.key), mode=0o600)
        except (OSError, InputError) as exc:
            log.warning("%s: the PDF cache cannot be written (%s)", self.folder, getattr(exc, "strerror", None) or exc)

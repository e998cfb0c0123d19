"""A book project is untrusted input: each test is an attacker's step against a shared build account, and
checks that building never runs the book's code, never reads outside it, never changes what another book
gets, never hangs on a special file, and never writes or deletes outside what zhpress owns.

Every build runs the real command line in a fresh interpreter with its own user cache folder
(XDG_CACHE_HOME), with a timeout: a hang is a failure, not a stuck suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jinja2.sandbox
import pytest

from tests.conftest import ROOT
from tests.robust_support import BOOK_ID, WIDE, book_toml, make_project, no_traceback, seed_dist, snapshot

MARKER = "ZHPRESS-ATTACKER-51c2"
TIMEOUT = 240


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache folder of the test's own (the signing key lives there)."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    from zhpress import files

    monkeypatch.setattr(files, "_key", None)
    return folder


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`zhpress build -C root ARGS...` in a fresh interpreter; a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "zhpress", "build", "-C", str(root), *args],
        cwd=ROOT, env={**os.environ, **WIDE}, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )


def refused(root: Path, *args: str, expect: list[str]) -> str:
    """Exit 2, one error line naming everything in `expect`, no traceback, dist/ as it was."""
    before = seed_dist(root)
    result = run(root, *args)
    no_traceback(result)
    assert result.returncode == 2, (result.returncode, result.stderr)
    message = " ".join(result.stderr.split())
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "  ✗"))]
    assert len(errors) == 1, result.stderr
    for part in expect:
        assert part in message, (part, message)
    assert {k: v for k, v in snapshot(root / "dist").items() if k != ".zhpress.lock"} == before
    return message


def built(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run(root, *args)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    return result


def epub_bytes(root: Path, profile: str = "ebook") -> bytes:
    return (root / "dist" / f"{BOOK_ID}-{profile}.epub").read_bytes()


def epub_text(root: Path) -> str:
    with zipfile.ZipFile(root / "dist" / f"{BOOK_ID}-ebook.epub") as archive:
        return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the book holding a secret the book must never read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"测试文章标题\n　　{MARKER}。\n", "utf-8")
    (folder / "secret.css").write_text(f"body::after {{ content: '{MARKER}'; }}\n", "utf-8")
    (folder / "secret.html").write_text(f"<p>{MARKER}</p>\n", "utf-8")
    return folder


# --- templates: a sandbox, and nothing shared between books -------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER_FILE').read() }}",
    "{{ lipsum.__globals__['os'].system('touch MARKER_FILE') }}",
    "{{ articles[0].article.texts.__self__.__class__ }}",
    "{% set x = labels.update({'contents': 'changed'}) %}",
    "{{ meta.__class__.__init__.__globals__ }}",
    "{{ text_filter.func.__globals__ }}",
    "{{ '%s'.format.__self__.__class__ }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_template_cannot_reach_pythons_object_graph(tmp_path: Path, escape: str) -> None:
    """The attacker overrides the colophon with a template that climbs to Python objects to run a command:
    the sandbox refuses it at the line, exit 2, and the command never runs."""
    marker = tmp_path / "ran"
    page = '{% extends "epub/_page.xhtml" %}\n{% block body %}\n' + escape.replace("MARKER_FILE", str(marker)) + "\n{% endblock %}\n"
    root = make_project(tmp_path / "book", templates={"epub/colophon.xhtml": page})
    message = refused(root, "ebook", expect=["styles/templates/epub/colophon.xhtml:3", "unsafe"])
    assert "Traceback" not in message
    assert not marker.exists()


def test_only_zhpress_own_templates_render_outside_the_sandbox(tmp_path: Path) -> None:
    """A book with no templates of its own is rendered by zhpress's templates alone, unsandboxed; a book
    that brings one (here a copy of zhpress's own colophon) is rendered in the sandbox, and both give the
    same files, byte for byte."""
    from zhpress.config import load_project
    from zhpress.render import Renderer

    colophon = (ROOT / "src/zhpress/templates/epub/colophon.xhtml").read_text("utf-8")
    plain = make_project(tmp_path / "plain")
    boxed = make_project(tmp_path / "boxed", templates={"epub/colophon.xhtml": colophon})
    kinds = []
    for root in (plain, boxed):
        project = load_project(root)
        env = Renderer(project, project.profiles["ebook"], str).env
        kinds.append(isinstance(env, jinja2.sandbox.SandboxedEnvironment))
        result = run(root, "ebook", "print")
        assert result.returncode == 0, result.stderr
    assert kinds == [False, True]
    built = [[p for p in sorted((root / "dist").iterdir()) if p.suffix in (".epub", ".pdf")] for root in (plain, boxed)]
    assert [p.name for p in built[0]] == [p.name for p in built[1]] and len(built[0]) == 2
    for a, b in zip(*built, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_template_error_at_render_time_names_file_and_line(tmp_path: Path) -> None:
    page = '{% extends "epub/_page.xhtml" %}\n{% block body %}\n<p>{{ 1 // 0 }}</p>\n{% endblock %}\n'
    root = make_project(tmp_path / "book", templates={"epub/colophon.xhtml": page})
    refused(root, "ebook", expect=["styles/templates/epub/colophon.xhtml:3", "ZeroDivisionError"])


def test_a_template_not_in_utf8_names_file_and_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    path = root / "styles" / "templates" / "epub" / "colophon.xhtml"
    path.parent.mkdir(parents=True)
    path.write_bytes('{% extends "epub/_page.xhtml" %}\n{# 版权 #}\n'.encode("gb18030"))
    refused(root, "ebook", expect=["styles/templates/epub/colophon.xhtml:2", "not UTF-8", "save the file as UTF-8"])


def test_a_hostile_book_cannot_change_another_books_output(tmp_path: Path, user_cache: Path) -> None:
    """Build a clean book; build a hostile one on the same account (it overrides zhpress's colophon with its
    own text, tries to write into the user's cache through the template, and ships compiled templates and a
    read cache in its .zhpress-cache); build the clean book again: byte for byte what it was."""
    clean = make_project(tmp_path / "clean")
    built(clean, "ebook")
    first = epub_bytes(clean)

    colophon = '{% extends "epub/_page.xhtml" %}\n{% block body %}<p>' + MARKER + "</p>{% endblock %}\n"
    hostile = make_project(tmp_path / "hostile", templates={"epub/colophon.xhtml": colophon})
    built(hostile, "ebook")
    assert MARKER in epub_text(hostile)  # a book's own override is its own business
    escape = "{{ cycler.__init__.__globals__.os.popen('echo " + MARKER + " > " + str(user_cache) + "/x').read() }}"
    (hostile / "styles" / "templates" / "epub" / "colophon.xhtml").write_text(colophon.replace("<p>", "<p>" + escape), "utf-8")
    assert run(hostile, "ebook").returncode == 2
    (hostile / "styles" / "templates" / "epub" / "colophon.xhtml").write_text(colophon, "utf-8")
    _ship_compiled_templates(hostile, tmp_path / "ran")
    built(hostile, "ebook")
    assert MARKER in epub_text(hostile)

    shutil.rmtree(clean / "dist")
    built(clean, "ebook")
    assert epub_bytes(clean) == first
    assert MARKER not in epub_text(clean)
    assert not (tmp_path / "ran").exists()
    assert sorted(p.name for p in user_cache.joinpath("zhpress").iterdir()) in (["key"], ["key", "opencc"])


def _ship_compiled_templates(root: Path, marker: Path) -> None:
    """Compiled jinja2 templates that would create `marker` when loaded, for every template name, in the
    book's own cache folder (as an unpacked project could bring them)."""
    import jinja2
    from jinja2.bccache import Bucket

    env = jinja2.Environment()
    code = compile(f"import pathlib; pathlib.Path({str(marker)!r}).touch()", "<attack>", "exec")
    folder = root / ".zhpress-cache" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    package = ROOT / "src" / "zhpress" / "templates"
    for path in package.rglob("*"):
        if path.is_file():
            name = path.relative_to(package).as_posix()
            bucket = Bucket(env, jinja2.BytecodeCache().get_cache_key(name, str(path)), "")
            bucket.code = code
            (folder / f"{bucket.key}.cache").write_bytes(bucket.bytecode_to_string())


def test_compiled_templates_live_in_the_books_own_cache_signed(tmp_path: Path, user_cache: Path) -> None:
    root = make_project(tmp_path / "book")
    built(root, "ebook")
    folder = root / ".zhpress-cache" / "templates"
    entries = list(folder.iterdir())
    assert entries and all(p.read_bytes().startswith(b"zhpress-signed-1 ") for p in entries)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE((root / ".zhpress-cache").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)
    key = user_cache / "zhpress" / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert not (user_cache / "zhpress" / "jinja").exists()


@pytest.mark.parametrize("target", ["secret.html", "missing.html"])
def test_a_template_symlinked_outside_is_refused(tmp_path: Path, outside: Path, target: str) -> None:
    """The same message whether the outside file exists or not."""
    root = make_project(tmp_path / "book")
    link = root / "styles" / "templates" / "epub" / "colophon.xhtml"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / target)
    message = refused(root, "ebook", expect=["styles/templates/epub/colophon.xhtml", "leads outside styles/templates/"])
    assert target not in message and MARKER not in message


def test_a_templates_folder_symlinked_outside_is_refused(tmp_path: Path, outside: Path) -> None:
    root = make_project(tmp_path / "book")
    (outside / "epub").mkdir()
    (outside / "epub" / "colophon.xhtml").write_text(MARKER, "utf-8")
    (root / "styles" / "templates").symlink_to(outside)
    refused(root, "ebook", expect=["styles/templates", "leads outside"])


# --- caches hold data, not code --------------------------------------------------------------------------------


class _Payload:
    """Unpickling this runs a command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_in_the_read_cache_is_never_executed(tmp_path: Path) -> None:
    """The attacker ships .zhpress-cache/read/ holding a pickle whose loading runs a command, under the old
    and the new file names: the build reads the manuscripts, runs nothing, and builds what a clean build
    builds."""
    marker = tmp_path / "ran"
    root = make_project(tmp_path / "book")
    folder = root / ".zhpress-cache" / "read"
    folder.mkdir(parents=True)
    payload = pickle.dumps({"code": "x", "entries": _Payload(marker)})
    for name in ("articles.pickle", "articles.json"):
        (folder / name).write_bytes(payload)
    built(root, "ebook")
    assert not marker.exists()
    with_cache = epub_bytes(root)
    shutil.rmtree(root / ".zhpress-cache")
    built(root, "ebook", "--no-cache")
    assert epub_bytes(root) == with_cache


def test_a_read_cache_entry_brought_with_the_project_is_not_used(tmp_path: Path, user_cache: Path) -> None:
    """A well-formed read cache (made on another account: another key) whose entry gives the manuscript
    other words: the manuscript is read, the attacker's words are not in the book."""
    root = make_project(tmp_path / "book")
    built(root, "ebook")
    path = root / ".zhpress-cache" / "read" / "articles.json"
    data = path.read_bytes()
    assert data.startswith(b"zhpress-signed-1 ")
    body = data.split(b"\n", 1)[1].replace("第一段正文".encode(), MARKER.encode())
    for forged in (body, b"zhpress-signed-1 " + b"0" * 64 + b"\n" + body):
        path.write_bytes(forged)
        built(root, "ebook")
        assert MARKER not in epub_text(root)
    (user_cache / "zhpress" / "key").write_bytes(os.urandom(32))  # another account's key signed the file
    built(root, "ebook")
    path.write_bytes(path.read_bytes().replace("第一段正文".encode(), MARKER.encode()))
    (user_cache / "zhpress" / "key").write_bytes(os.urandom(32))
    built(root, "ebook")
    assert MARKER not in epub_text(root)


def test_a_manuscript_saved_during_a_build_cannot_poison_the_read_cache(tmp_path: Path) -> None:
    """The manuscript changes between the moment it is read and the moment it is parsed: the cache entry
    holds the parse of the bytes its key was made from, so the next build reads the new text."""
    from zhpress.read import read_manuscript
    from zhpress.read.cache import ReadCache

    manuscript = tmp_path / "a.md"
    manuscript.write_text("# 标题\n\n旧的正文。\n", "utf-8")

    def reader_while_saving(path: Path, **arguments: Any) -> Any:
        path.write_text("# 标题\n\n新的正文。\n", "utf-8")  # the editor saves while the build parses
        return read_manuscript(path, **arguments)

    store = ReadCache(tmp_path / "cache")
    first = store.read(manuscript, reader_while_saving, article_id="a", source="content/a.md")
    assert first.blocks[0].text == "旧的正文。"  # the bytes the key was made from
    store.save()
    again = ReadCache(tmp_path / "cache").read(manuscript, read_manuscript, article_id="a", source="content/a.md")
    assert again.blocks[0].text == "新的正文。"


def test_the_read_cache_round_trips_every_field_generically() -> None:
    """Every dataclass of the content model by its fields (a new block type needs no cache code)."""
    import dataclasses

    from zhpress import model
    from zhpress.read.cache import decode, encode

    classes = [c for c in vars(model).values() if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == model.__name__]
    assert {c.__name__ for c in classes} >= {"Article", "Block", "Book", "BookMeta", "Creator"}
    from zhpress.config import load_project
    from zhpress.read.book import read_book

    book = read_book(load_project(ROOT))
    assert decode(json.loads(json.dumps(encode(book)))) == book
    with pytest.raises(ValueError):
        decode({"@": "Path", "x": 1})
    with pytest.raises(ValueError):
        decode({"@": "Block", "type": "paragraph"})
    with pytest.raises(TypeError):
        encode(Path("/etc/passwd"))


def _chunk_book(tmp_path: Path) -> Path:
    from tests.pdf.test_chunked import make_project as chunk_project

    return chunk_project(tmp_path / "book", [500, 500, 500])


def test_a_tampered_chunk_cache_entry_is_not_used(tmp_path: Path) -> None:
    """The attacker edits a cached chunk PDF (their text in it) and recomputes the digest its record gives,
    as a project shipped with its cache could: the record's signature fails, the chunk is rendered again,
    the output is the clean one."""
    pytest.importorskip("pdfplumber")
    from tests.pdf.test_chunked import inputs
    from zhpress.pdf.chunked import ChunkStats, build_chunked_pdf

    root = _chunk_book(tmp_path)
    folder = root / ".zhpress-cache" / "pdf"
    clean, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=1)
    for record in folder.glob("*.json"):
        if record.name.startswith(("recent-", "pages-", "html-keys-")) or record.name.endswith(".fonts.json"):
            continue
        pdf = record.with_suffix(".pdf")
        edited = pdf.read_bytes() + b"\n%" + MARKER.encode() + b"\n"  # readers take a PDF with bytes after its end
        pdf.write_bytes(edited)
        signed_head, body = record.read_bytes().split(b"\n", 1)
        info = json.loads(body)
        info["sha256"] = hashlib.sha256(edited).hexdigest()
        record.write_bytes(signed_head + b"\n" + json.dumps(info, sort_keys=True).encode())
    stats = ChunkStats()
    again, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=1, stats=stats)
    assert stats.reused == {} and again == clean
    assert MARKER.encode() not in again


def test_a_cache_record_naming_a_fifo_or_an_outside_file_is_discarded_at_once(tmp_path: Path, outside: Path) -> None:
    """Even a record signed with the user's own key is not trusted with paths: a "fetched" file that is a
    FIFO or outside the book, a PDF that is a FIFO, make the entry a miss without hanging."""
    from zhpress import files
    from zhpress.pdf.cache import CACHE_FORMAT, ChunkCache

    book = tmp_path / "book"
    (book / "content").mkdir(parents=True)
    fifo = book / "content" / "pipe.png"
    os.mkfifo(fifo)
    cache = ChunkCache.open(tmp_path / "cache", [book / "content"])
    assert cache is not None and cache.key is not None
    pdf = cache.pdf_path("k")
    pdf.write_bytes(b"%PDF-1.7\n")
    pdf.with_suffix(".fonts.json").write_bytes(b"{}")

    def record(fetched: dict[str, str]) -> None:
        info = {"format": CACHE_FORMAT, "key": "k", "sha256": hashlib.sha256(b"%PDF-1.7\n").hexdigest(),
                "font_maps_sha256": hashlib.sha256(b"{}").hexdigest(), "pages": 1, "blank": [False],
                "anchors": {}, "fonts": {}, "fetched": fetched}
        (tmp_path / "cache" / "k.json").write_bytes(files.sign(json.dumps(info).encode(), cache.key))  # type: ignore[arg-type]

    record({})
    assert cache.load("k") is not None  # the control: a sound record is used
    record({str(fifo): ""})
    assert cache.load("k") is None
    record({str(outside / "secret.txt"): hashlib.sha256((outside / "secret.txt").read_bytes()).hexdigest()})
    assert cache.load("k") is None
    record({})
    pdf.unlink()
    os.mkfifo(pdf)
    assert cache.load("k") is None


def test_a_cache_folder_that_is_not_the_users_is_not_used(tmp_path: Path) -> None:
    """.zhpress-cache as a symbolic link into another book, and as a folder of another user: the build
    warns, builds without it, and writes nothing there."""
    root = make_project(tmp_path / "book")
    other = tmp_path / "other-cache"
    other.mkdir()
    (root / ".zhpress-cache").symlink_to(other)
    result = built(root, "ebook")
    assert "building without this cache" in " ".join(result.stderr.split())
    assert list(other.iterdir()) == []
    (root / ".zhpress-cache").unlink()
    if os.geteuid() == 0:
        (root / ".zhpress-cache").mkdir()
        os.chown(root / ".zhpress-cache", 65534, 65534)
        result = built(root, "ebook")
        assert "belongs to another user" in " ".join(result.stderr.split())
        assert list((root / ".zhpress-cache").iterdir()) == []


def test_an_unwritable_cache_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    (root / ".zhpress-cache").write_text("not a folder", "utf-8")
    result = built(root, "ebook")
    assert "building without this cache" in " ".join(result.stderr.split())
    assert (root / "dist" / f"{BOOK_ID}-ebook.epub").is_file()


# --- every path confined, every file regular ------------------------------------------------------------------


def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
        except PermissionError:
            pytest.skip("making a device file needs privileges")


SPECIAL = {
    "fifo": "FIFO (named pipe), not a regular file",
    "zero": "leads outside",
    "loop": "a loop of symbolic links",
    "device": "character device, not a regular file",
}


@pytest.mark.parametrize("kind", list(SPECIAL))
def test_a_special_file_as_manuscript_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    root = make_project(tmp_path / "book", toml=book_toml(articles=[{"file": "a.txt"}, {"file": "b.txt"}]))
    _special(root / "content" / "b.txt", kind)
    expect = ["content/b.txt", SPECIAL[kind]] if kind != "zero" else ["book.toml", "'b.txt'", "outside content/"]
    refused(root, "ebook", expect=expect)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_special_file_in_content_is_refused_not_skipped(tmp_path: Path, kind: str) -> None:
    root = make_project(tmp_path / "book", toml='[book]\nid = "robust"\ntitle = "书"\n')
    _special(root / "content" / "b.txt", kind)
    refused(root, "ebook", expect=["content/b.txt", SPECIAL[kind]])


@pytest.mark.parametrize("kind", list(SPECIAL))
def test_a_special_file_as_stylesheet_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    root = make_project(tmp_path / "book")
    _special(root / "styles" / "book.css", kind)
    refused(root, "ebook", expect=["styles/book.css", SPECIAL[kind]])


def test_a_fifo_as_template_is_refused_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    (root / "styles" / "templates" / "epub").mkdir(parents=True)
    os.mkfifo(root / "styles" / "templates" / "epub" / "colophon.xhtml")
    refused(root, "ebook", expect=["styles/templates/epub/colophon.xhtml", "FIFO"])


def test_a_fifo_as_book_configuration_is_refused_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    (root / "content" / "book.toml").unlink()
    os.mkfifo(root / "content" / "book.toml")
    refused(root, "ebook", expect=["content/book.toml", "FIFO"])


def test_a_fifo_as_image_in_a_pdf_is_refused_at_once(tmp_path: Path) -> None:
    """An image a print stylesheet uses, made a FIFO: WeasyPrint's fetcher refuses it, exit 2 naming it."""
    root = make_project(tmp_path / "book", css='.headline { background: url("bg.png"); }\n')
    os.mkfifo(root / "styles" / "bg.png")
    refused(root, "screen", expect=["bg.png", "FIFO"])


def test_a_hard_link_to_an_outside_file_is_refused(tmp_path: Path, outside: Path) -> None:
    """A manuscript that is another name of a file outside the book (a hard link: no symbolic link to
    resolve) is refused; so is any file with more than one name, since the other name cannot be found."""
    root = make_project(tmp_path / "book", toml=book_toml(articles=[{"file": "a.txt"}, {"file": "b.txt"}]))
    os.link(outside / "secret.txt", root / "content" / "b.txt")
    refused(root, "ebook", expect=["content/b.txt", "hard links", "copy the file"])
    os.link(outside / "secret.css", root / "styles" / "book.css")
    (root / "content" / "b.txt").unlink()
    shutil.copy(outside / "secret.txt", root / "content" / "b.txt")
    refused(root, "ebook", expect=["styles/book.css", "hard links"])


@pytest.mark.parametrize("target", ["secret.css", "missing.css"])
def test_a_stylesheet_symlinked_outside_is_refused_without_saying_if_it_exists(tmp_path: Path, outside: Path, target: str) -> None:
    root = make_project(tmp_path / "book")
    (root / "styles" / "book.css").symlink_to(outside / target)
    message = refused(root, "ebook", expect=["styles/book.css", "leads outside styles/"])
    assert target not in message and "line" not in message


@pytest.mark.parametrize("name", ["../../outside/secret.css", "../../outside/missing.css", "/etc/hostname", "/nonexistent.css"])
def test_a_profile_stylesheet_outside_styles_is_a_user_error_that_reveals_nothing(tmp_path: Path, outside: Path, name: str) -> None:
    """`stylesheets` naming files outside styles/: one message, the same whether the file exists or not."""
    extra = f'\n[profiles.ebook]\nstylesheets = ["{name}"]\n'
    root = make_project(tmp_path / "book", toml=book_toml(extra=extra))
    message = refused(root, "ebook", expect=["book.toml", f"stylesheet {name!r}", "not a file in styles/"])
    assert "lines" not in message and MARKER not in message and "not found" not in message


# --- the EPUB stylesheet check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "css",
    [
        '.headline { background-image: image-set("http://127.0.0.1:9/a.png" 1x); }\n',
        ".headline { background-image: -webkit-image-set(url(http://127.0.0.1:9/a.png) 1x); }\n",
        '.headline { background-image: -webkit-image-set("//127.0.0.1:9/a.png" 1x, "b.png" 2x); }\n',
        '@import url("data:text/css,@import url(http://127.0.0.1:9/x.css);");\n',
        '@import "data:text/css;base64,QGltcG9ydCB1cmwoaHR0cDovLzEyNy4wLjAuMTo5L3guY3NzKTs=";\n',
        '.headline { background: url("data:text/css,body{background:url(//127.0.0.1:9/x.png)}"); }\n',
    ],
)
@pytest.mark.parametrize("profile", ["ebook", "screen"])
def test_image_set_and_a_data_url_import_are_refused(tmp_path: Path, css: str, profile: str) -> None:
    root = make_project(tmp_path / "book", css=css)
    expect = ["styles/book.css:1"]
    if "b.png" not in css or profile == "screen":
        expect.append("outside the book")
    refused(root, profile, expect=expect)


def test_a_data_url_stylesheet_of_plain_rules_is_allowed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", css='@import url("data:text/css,.kicker%7Bfont-weight:bold%7D");\n')
    built(root, "ebook")


def test_stylesheets_are_used_as_they_were_checked(tmp_path: Path) -> None:
    """The stylesheet is read once: what the EPUB packs is the text that was checked (the same bytes are
    handed to the renderer, in this process and in a worker)."""
    from zhpress import files
    from zhpress.config import load_project
    from zhpress.render import Renderer

    root = make_project(tmp_path / "book", css=".kicker { color: black; }\n")
    project = load_project(root)
    with files.reading_once():
        checked = dict(Renderer(project, project.profiles["ebook"], convert=str).stylesheets())["book.css"]
        (root / "styles" / "book.css").write_text("@import url(http://127.0.0.1:9/x.css);\n", "utf-8")
        used = dict(Renderer(project, project.profiles["ebook"], convert=str).stylesheets())["book.css"]
        handed = files.remembered()
    assert used == checked == ".kicker { color: black; }\n"
    with files.reading_once(handed):  # a worker process is given what the build read
        assert dict(Renderer(project, project.profiles["ebook"], convert=str).stylesheets())["book.css"] == checked


# --- output confined ---------------------------------------------------------------------------------------------


def test_a_symlinked_dist_is_refused_unless_named_with_o(tmp_path: Path) -> None:
    """The book ships dist/ as a link into another book's output folder: refused, the other folder
    untouched, its temporary files too; named on purpose with -o, it is used."""
    root = make_project(tmp_path / "book")
    victim = tmp_path / "victim-dist"
    victim.mkdir()
    (victim / "other-ebook.epub").write_bytes(b"another book")
    (victim / ".other-ebook.epub.part-999999").write_bytes(b"another build's part")
    (root / "dist").symlink_to(victim)
    before = snapshot(victim)
    result = run(root, "ebook")
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "symbolic link" in result.stderr and "-o" in result.stderr
    assert snapshot(victim) == before
    built(root, "ebook", "-o", str(root / "dist"))
    assert (victim / f"{BOOK_ID}-ebook.epub").is_file()


def test_a_fifo_at_the_temporary_name_is_neither_written_nor_deleted(tmp_path: Path) -> None:
    """Something put where zhpress writes its temporary file (a FIFO someone reads, a link to another file)
    is not zhpress's: never opened, never deleted; the build stops with one line, the previous output kept."""
    root = make_project(tmp_path / "book")
    before = seed_dist(root)
    dist = root / "dist"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    fifo = dist / f".{BOOK_ID}-ebook.epub.part-{int(dead.stdout)}"
    os.mkfifo(fifo)
    link = dist / f".{BOOK_ID}-print.pdf.part-{int(dead.stdout)}"
    link.symlink_to(tmp_path / "elsewhere")
    built(root, "ebook")  # stale-looking, but not files zhpress wrote: left alone
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(link)
    assert not (tmp_path / "elsewhere").exists()
    assert snapshot(dist).keys() >= before.keys()


def test_an_immutable_dist_is_one_line(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    dist = root / "dist"
    dist.mkdir()
    if subprocess.run(["chattr", "+i", str(dist)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        result = run(root, "ebook")
    finally:
        subprocess.run(["chattr", "-i", str(dist)], check=True)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"{dist}: cannot write to the output folder" in message
    assert list(dist.iterdir()) == []

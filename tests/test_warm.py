"""The warm build process of the edit loop (`zhpress.warm`, `zhpress.memo`): builds in one process give the
bytes a fresh `zhpress build` gives, reuse what did not change (no chunk's HTML made again, no chunk
rendered again) and forget nothing that did (a book's own templates, a failing build, a book without a
date)."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest

from tests.conftest import run_zhpress
from tests.pdf.test_chunked import inputs, make_project
from zhpress import memo, workers
from zhpress.files import PROJECT_CACHE, sign, signing_key, verified
from zhpress.pdf import sources
from zhpress.pdf.chunked import ChunkStats, build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf
from zhpress.pdf.finish import PLACEHOLDER_DATE
from zhpress.watch import BuildProcess, build_command

SIZES = [300 + (i * 97) % 400 for i in range(24)]  # chunked in print (24 articles)


@pytest.fixture
def warm() -> Iterator[None]:
    """This test process as a warm build process, for the test only."""
    memo.enable()
    try:
        yield
    finally:
        memo.disable()


def edit_one(root: Path, index: int, old: str = "。", new: str = "！") -> None:
    """One character of one article changed (the page count stays)."""
    manuscript = sorted((root / "content").glob("*.txt"))[index]
    text = manuscript.read_text("utf-8")
    assert old in text
    manuscript.write_text(text.replace(old, new, 1), "utf-8")


def counting_html(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the body chunks' HTML made (the template rendered with articles)."""
    made: list[int] = []
    original = sources.Sources.book_html

    def counted(self: sources.Sources, **extra: object) -> str:
        if extra.get("body_articles"):
            made.append(len(extra["body_articles"]))  # type: ignore[arg-type]
        return original(self, **extra)

    monkeypatch.setattr(sources.Sources, "book_html", counted)
    return made


def built_twice(root: Path, made: list[int]) -> ChunkStats:
    """Build the six-article book in chunks of two, then again: the first build makes every chunk's HTML;
    the stats of the second."""
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    assert len(made) == 3
    made.clear()
    stats = ChunkStats()
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    return stats


def test_a_warm_process_makes_the_bytes_of_a_fresh_build_through_edits_and_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", SIZES)
    out, fresh = tmp_path / "warm", tmp_path / "fresh"
    runner = BuildProcess()
    command = build_command(root, ["print"], out_dir=out, jobs=2, quiet=True)
    try:
        first = runner.run(command, capture=True, root=root)
        assert first.ok, first.message
        server = runner._server  # noqa: SLF001
        assert server is not None and server.alive()
        edit_one(root, 5)
        again = runner.run(command, capture=True, root=root)
        assert again.ok, again.message
        toml = root / "content" / "book.toml"
        good = toml.read_text("utf-8")
        toml.write_text(good + "\n[profiles.print]\npage = { trim = \"b99\" }\n", "utf-8")
        failed = runner.run(command, capture=True, root=root)
        assert failed.returncode == 2 and failed.message is not None and "book.toml" in failed.message
        toml.write_text(good, "utf-8")
        edit_one(root, 17)
        last = runner.run(command, capture=True, root=root)
        assert last.ok, last.message
        assert runner._server is server and server.alive()  # noqa: SLF001 (one process for all four builds)
    finally:
        runner.stop()
    result = run_zhpress("build", "print", "-C", str(root), "-o", str(fresh), "-q", "--no-cache", "-j", "2")
    assert result.returncode == 0, result.stderr
    assert (out / "chunks-print.pdf").read_bytes() == (fresh / "chunks-print.pdf").read_bytes()


def test_an_edit_in_a_warm_process_makes_and_renders_only_its_chunk(
        tmp_path: Path, warm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "book", SIZES[:6])
    made = counting_html(monkeypatch)
    stats = built_twice(root, made)
    assert made == [] and stats.rendered == {} and stats.reused["body"] == 3
    edit_one(root, 3)  # the second chunk
    stats = ChunkStats()
    data, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert made == [2] and stats.rendered == {"body": 1} and stats.reused["body"] == 2
    memo.disable()
    cold, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=False, chunk_articles=2, folio_group=2)
    assert data == cold


def test_a_books_own_templates_are_rendered_every_build(tmp_path: Path, warm: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a book's template reads cannot be known: each chunk's HTML is made again (its PDF still comes
    from the cache when the HTML is the same), and a change to the template shows at once."""
    root = make_project(tmp_path / "book", SIZES[:6])
    template = root / "styles" / "templates" / "pdf" / "book.html"
    template.parent.mkdir(parents=True)
    package = Path(sources.__file__).resolve().parent.parent / "templates" / "pdf" / "book.html"
    shutil.copyfile(package, template)
    made = counting_html(monkeypatch)
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    made.clear()
    stats = ChunkStats()
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert made == [2, 2, 2] and stats.rendered == {}
    template.write_text(template.read_text("utf-8").replace("<main class=\"bodymatter\">", "<main class=\"bodymatter\"><p>加一行</p>"), "utf-8")
    stats = ChunkStats()
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert stats.rendered.get("body") == 3


def test_an_edit_to_a_book_without_a_date_renders_only_its_chunk(tmp_path: Path) -> None:
    """A book without a date gets one derived from its text, which every edit changes: no chunk's document
    carries it (the merged file gets it), so every other document stays cached, the front matter too (here
    without a warm process); the file's dates are the single pass's."""
    root = make_project(tmp_path / "book", SIZES[:6])
    toml = root / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8").replace('date = "2022-05-10"\n', ""), "utf-8")
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    edit_one(root, 0)
    stats = ChunkStats()
    data, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert stats.rendered == {"body": 1} and stats.reused.get("body") == 2
    cold, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=False, chunk_articles=2, folio_group=2)
    assert data == cold
    single, _ = build_single_pdf(*inputs(root), cache=False)
    with pikepdf.open(io.BytesIO(data)) as chunked, pikepdf.open(io.BytesIO(single)) as whole:
        date = str(whole.docinfo["/CreationDate"])
        assert date.startswith("D:20") and str(chunked.docinfo["/CreationDate"]) == date
        assert str(chunked.docinfo["/ModDate"]) == str(whole.docinfo["/ModDate"])
        xmp = chunked.Root.Metadata.read_bytes()
        assert PLACEHOLDER_DATE.encode() not in xmp
        assert xmp.count(f"{date[2:6]}-{date[6:8]}-{date[8:10]}T".encode()) >= 2  # xmp:CreateDate, xmp:ModifyDate


def test_an_incremental_build_makes_no_unchanged_chunks_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a warm process the chunks' keys by what their HTML is made from are kept in the cache,
    signed: the next build makes only the edited chunk's HTML; a copy not signed by the user, or made by
    other code, is not used."""
    root = make_project(tmp_path / "book", SIZES[:6])
    made = counting_html(monkeypatch)
    stats = built_twice(root, made)
    assert made == [] and stats.rendered == {}
    edit_one(root, 5)  # the third chunk
    stats = ChunkStats()
    data, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert made == [2] and stats.rendered == {"body": 1}
    cold, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=False, chunk_articles=2, folio_group=2)
    assert data == cold
    stored = root / PROJECT_CACHE / "pdf" / "html-keys-print.json"
    signed = stored.read_bytes()
    stored.write_bytes(signed.partition(b"\n")[2])  # the same map, unsigned
    made.clear()
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    assert made == [2, 2, 2]
    key = signing_key()
    assert key is not None
    record = json.loads(verified(stored.read_bytes(), key) or b"{}")
    stored.write_bytes(sign(json.dumps({**record, "code": "other"}).encode(), key))
    made.clear()
    build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    assert made == [2, 2, 2]


def characters_row(data: bytes) -> str:
    """The copyright page's 字数 row as the PDF's text gives it."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages[:8]:
            text = page.extract_text() or ""
            found = re.search(r"字\s*数\s*([0-9]+\s*千字)", text)
            if found:
                return re.sub(r"\s+", "", found.group(1))
    raise AssertionError("no 字数 on the first pages")


def test_an_edit_that_adds_text_renders_no_front_matter(tmp_path: Path) -> None:
    """字数 is a late value like 印张 and the contents' numbers: text added (more thousands of characters,
    more pages) renders the edited chunk, folio pieces and the late piece, and the copyright page states
    the new count, as the single pass does."""
    root = make_project(tmp_path / "book", SIZES[:6])
    first, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2)
    manuscript = sorted((root / "content").glob("*.txt"))[2]
    text = manuscript.read_text("utf-8")
    manuscript.write_text(text + "\u3000\u3000" + "\u3000\u3000".join([text.split("\u3000\u3000")[-1]] * 12), "utf-8")
    stats = ChunkStats()
    data, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=True, chunk_articles=2, folio_group=2, stats=stats)
    assert "front" not in stats.rendered and stats.rendered.get("late") == 1 and stats.rendered.get("body") == 1
    single, _ = build_single_pdf(*inputs(root), cache=False)
    assert characters_row(data) == characters_row(single) != characters_row(first)


def test_progress_that_nobody_reads_never_stops_a_build() -> None:
    """A warm process's builds (and any quiet one) report every chunk with no one reading: the progress
    pipe drops what does not fit instead of blocking the build, and still carries events in order."""
    events = workers.Events()
    for number in range(20_000):  # far more than a pipe holds
        events.put(("chunk", "print", number, 20_000))
    assert not events.empty() and events.get() == ("chunk", "print", 0, 20_000)
    events.drain()
    assert events.empty()
    events.put(("chunk", "print", 7, 1))
    assert events.get() == ("chunk", "print", 7, 1)


def test_a_warm_process_walks_only_an_edited_articles_characters(tmp_path: Path, warm: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The characters an edition's fallback check looks at: kept by article, the same set as a fresh walk,
    and after an edit only the edited article walked again."""
    import dataclasses

    from zhpress import fallback
    from zhpress.model import Article

    book = inputs(make_project(tmp_path / "book", [300, 400, 500]))[2]
    first = fallback.book_characters(book)
    walked: list[str] = []
    places = Article.places
    monkeypatch.setattr(Article, "places", lambda self: walked.append(self.id) or places(self))
    assert fallback.book_characters(book) == first and walked == []
    edited = dataclasses.replace(book.articles[1], headline=book.articles[1].headline + "㐀")
    book = dataclasses.replace(book, articles=(book.articles[0], edited, *book.articles[2:]))
    assert fallback.book_characters(book) == first | {"㐀"}
    assert walked == [edited.id]
    memo.disable()
    assert fallback.book_characters(book) == first | {"㐀"}, "the same set when nothing is kept"


@pytest.mark.parametrize("signature", [2, 16])
def test_a_warm_process_patches_its_last_file_with_an_edited_chunks_pages(tmp_path: Path, warm: None, signature: int) -> None:
    """The merged file is kept open and only the edited chunk's pages are put in it, with the fonts made again
    when the edit brings a new glyph, and, when it moves pages, the later pages' folios and the contents'
    numbers, and blank pages to pad the book to its signature. Every build gives the bytes of a build in an
    ordinary process."""
    root = make_project(tmp_path / "book", SIZES[:6])
    toml = root / "content" / "book.toml"
    toml.write_text(toml.read_text("utf-8") + f"\n[profiles.print]\npage = {{ signature = {signature} }}\n", "utf-8")
    options: dict[str, Any] = {"jobs": 1, "chunk_articles": 2, "folio_group": 2, "late_pages": 1}

    def build() -> tuple[bytes, ChunkStats]:
        stats = ChunkStats()
        data, _ = build_chunked_pdf(*inputs(root), cache=True, stats=stats, **options)
        with memo.paused():
            cold, _ = build_chunked_pdf(*inputs(root), cache=False, **options)
        assert data == cold
        return data, stats

    first, stats = build()
    assert stats.patched is None
    with pikepdf.open(io.BytesIO(first)) as pdf:
        pages = len(pdf.pages)
    edit_one(root, 3)  # the second chunk, the same pages
    _, stats = build()
    assert stats.patched and stats.patched < pages
    edit_one(root, 2, "。", "龘。")  # a glyph no part had: the merged fonts are made again
    data, stats = build()
    assert stats.patched
    text = "".join(page.extract_text() or "" for page in pdfplumber.open(io.BytesIO(data)).pages)
    assert "龘" in text
    edit_one(root, 2, "。", "。" + "新增的文字。" * 3000)  # later pages move: their folios, the contents' numbers
    data, stats = build()
    assert stats.patched and 0 < stats.rendered["late"] < stats.reused["late"]  # only the pieces with new numbers
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) > pages and len(pdf.pages) % signature == 0
    _, stats = build()  # nothing changed: nothing replaced
    assert stats.patched == 0


def test_after_an_edit_its_chunk_is_handed_over_before_the_front_matter_is_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a build after an edit the chunk of new articles goes to a worker before the front matter's HTML
    is made (to be found in the cache, most often); a first build makes the front matter first."""
    from zhpress.pdf import chunked, executor

    root = make_project(tmp_path / "book", SIZES[:6])
    seen: list[str] = []
    early = chunked.sheets.early_front_html

    def made_front(*args: Any, **kwargs: Any) -> str:
        seen.append("front html")
        return early(*args, **kwargs)

    class Recording(executor.LocalExecutor):
        def run(self, items: Any, scratch: Path) -> Any:
            def told() -> Any:
                for item in items:
                    if item is not None:
                        seen.append(f"{item[1].kind} job")
                    yield item
            return super().run(told(), scratch)

    monkeypatch.setattr(chunked.sheets, "early_front_html", made_front)
    options: dict[str, Any] = {"cache": True, "chunk_articles": 2, "folio_group": 2, "executor": Recording(1)}
    build_chunked_pdf(*inputs(root), **options)
    assert seen[:2] == ["front html", "front job"]
    seen.clear()
    edit_one(root, 3)
    data, _ = build_chunked_pdf(*inputs(root), **options)
    assert seen == ["body job", "front html"]
    cold, _ = build_chunked_pdf(*inputs(root), cache=False, chunk_articles=2, folio_group=2)
    assert data == cold


def test_a_warm_process_freezes_what_it_keeps_and_collects_it_now_and_then() -> None:
    """After each build what the process keeps leaves the collector's generations (no build pauses to walk
    it); every `FULL_COLLECTION` builds a cycle that became garbage since is collected."""
    import gc
    import weakref

    from zhpress import warm

    class Node:
        other: Any = None

    try:
        kept = Node()
        kept.other = Node()
        kept.other.other = kept  # a cycle, kept for now
        gone = weakref.ref(kept)
        warm._settle(1)  # noqa: SLF001
        assert gc.get_freeze_count() > 0
        del kept  # garbage now, but frozen
        for builds in range(2, warm.FULL_COLLECTION):
            warm._settle(builds)  # noqa: SLF001
            assert gone() is not None
        warm._settle(warm.FULL_COLLECTION)  # noqa: SLF001
        assert gone() is None
    finally:
        gc.unfreeze()


def test_a_write_for_later_builds_waits_for_the_reply_in_a_warm_process_and_is_done_at_once_elsewhere() -> None:
    done: list[str] = []
    memo.defer("cache", lambda: done.append("now"))  # an ordinary process: done at once
    assert done == ["now"]
    memo.enable()
    memo.defer_writes()
    try:
        memo.defer("cache", lambda: done.append("first"))
        memo.defer("other", lambda: done.append("other"))
        memo.defer("cache", lambda: done.append("second"))  # the last of a name replaces the one before
        assert done == ["now"]
        memo.run_deferred()
        assert done == ["now", "other", "second"]
        memo.run_deferred()
        assert done == ["now", "other", "second"]
    finally:
        memo.disable()
    memo.defer("cache", lambda: done.append("after"))
    assert done[-1] == "after"


def test_the_warm_process_writes_the_read_cache_after_its_reply(tmp_path: Path) -> None:
    """The read cache is written once the build has replied, and a later build in a process of its own
    finds every manuscript in it."""
    from zhpress import warm
    from zhpress.read.cache import FILE_NAME

    root = make_project(tmp_path / "book", SIZES)
    stored = root / PROJECT_CACHE / "read" / FILE_NAME
    seen_at_reply: list[bool] = []

    class Replies(io.StringIO):
        def flush(self) -> None:
            seen_at_reply.append(stored.exists())

    request = json.dumps({"argv": ["build", "ebook", "-C", str(root), "-o", str(tmp_path / "out"), "-q"], "capture": True})
    replies = Replies()
    try:
        assert warm.serve(io.StringIO(request + "\n"), replies) == 0
    finally:
        memo.disable()
    assert json.loads(replies.getvalue())["code"] == 0
    assert seen_at_reply == [False] and stored.exists()
    from zhpress.config import load_project
    from zhpress.read.cache import ReadCache

    project = load_project(root)
    store = ReadCache(stored.parent, base=root)
    missed: list[Path] = []
    for src in project.articles:
        store.read(src.path, lambda path, **_: missed.append(path), article_id=src.id, source=src.source, title=src.title or None)
    assert missed == [] and len(store.used) == len(project.articles)


def test_a_warm_process_keeps_each_articles_text_while_the_article_is_the_same_object(tmp_path: Path, warm: None) -> None:
    import dataclasses

    from zhpress.config import load_project
    from zhpress.pdf.chunked import article_texts
    from zhpress.read.book import read_book

    book = read_book(load_project(make_project(tmp_path / "book", SIZES[:3])))
    assert article_texts(book.articles, "print") == [repr(a) for a in book.articles]
    kept = memo.table("article-texts:print")
    assert kept is not None and {id(a) for a in book.articles} == set(kept)
    assert article_texts(book.articles[:1], "print-tw") == [repr(book.articles[0])]
    assert {id(a) for a in book.articles} == set(kept)  # another profile's build leaves this one's alone
    changed = dataclasses.replace(book.articles[1], id="another")
    again = article_texts((book.articles[0], changed), "print")
    assert again == [repr(book.articles[0]), repr(changed)] and "another" in again[1]
    assert set(kept) == {id(book.articles[0]), id(changed)}  # the last build's articles only

"""The cache of read manuscripts: reused only for the same bytes, arguments and reader code; its warnings
replayed; damaged files ignored; `--no-cache` builds read everything and leave no cache."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zhpress.config import load_project
from zhpress.read import cache as read_cache
from zhpress.read import read_manuscript
from zhpress.read.book import read_book
from zhpress.read.cache import ReadCache

ROOT = Path(__file__).resolve().parents[2]


class Counting:
    """The real reader, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path, **arguments: Any) -> Any:
        self.calls.append(path)
        return read_manuscript(path, **arguments)


def _copy_book(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "styles", tmp_path / "styles")
    return tmp_path


def _read_all(root: Path, reader: Counting) -> list[Any]:
    project = load_project(root)
    store = ReadCache(root / ".zhpress-cache" / "read")
    articles = [
        store.read(src.path, reader, article_id=src.id, source=src.source, title=src.title or None)
        for src in project.articles
    ]
    store.save()
    return articles


def test_unchanged_manuscripts_are_not_read_again_and_an_edit_is(tmp_path: Path) -> None:
    root = _copy_book(tmp_path)
    first = Counting()
    articles = _read_all(root, first)
    assert len(first.calls) == len(articles) == 2
    again = Counting()
    assert _read_all(root, again) == articles
    assert again.calls == []

    edited = first.calls[0]
    head, _stop, tail = edited.read_text("utf-8").rpartition("。")
    edited.write_text(head + "！" + tail, "utf-8")  # the last full stop of the body
    after = Counting()
    changed = _read_all(root, after)
    assert after.calls == [edited]
    assert changed[0] != articles[0] and changed[1] == articles[1]
    assert tuple(changed) == read_book(load_project(root)).articles  # what an uncached read gives


def test_a_change_of_reader_code_reads_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy_book(tmp_path)
    _read_all(root, Counting())
    monkeypatch.setattr(read_cache, "_code_digest", lambda: "another reader")
    again = Counting()
    _read_all(root, again)
    assert len(again.calls) == 2


def test_a_damaged_cache_file_is_only_a_miss(tmp_path: Path) -> None:
    root = _copy_book(tmp_path)
    articles = _read_all(root, Counting())
    (root / ".zhpress-cache" / "read" / read_cache.FILE_NAME).write_bytes(b"\x80\x05not a pickle")
    again = Counting()
    assert _read_all(root, again) == articles
    assert len(again.calls) == 2


def test_warnings_of_a_cached_manuscript_are_shown_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manuscript = tmp_path / "a.md"
    manuscript.write_text("# 标题\n\n正文<span>内联</span>继续。\n", "utf-8")
    store = ReadCache(tmp_path / "cache")
    logging.getLogger("zhpress").setLevel(logging.ERROR)  # as under --quiet: not shown, still recorded
    try:
        with caplog.at_level(logging.ERROR):
            store.read(manuscript, read_manuscript, article_id="a", source="content/a.md")
        assert "raw HTML" not in caplog.text
    finally:
        logging.getLogger("zhpress").setLevel(logging.NOTSET)
    store.save()
    caplog.clear()
    counting = Counting()
    with caplog.at_level(logging.WARNING, logger="zhpress"):
        ReadCache(tmp_path / "cache").read(manuscript, counting, article_id="a", source="content/a.md")
    assert counting.calls == []
    assert f"{manuscript}:3: raw HTML removed" in caplog.text


def test_builds_use_the_cache_unless_told_not_to(tmp_path: Path) -> None:
    root = _copy_book(tmp_path)
    cached = root / ".zhpress-cache" / "read" / read_cache.FILE_NAME
    build = [sys.executable, "-m", "zhpress", "build", "ebook", "-C", str(root), "-q"]
    subprocess.run([*build, "--no-cache"], check=True)
    assert not cached.exists()
    subprocess.run(build, check=True)
    assert cached.exists()
    epub = (root / "dist").glob("*-ebook.epub")
    first = next(epub).read_bytes()
    subprocess.run(build, check=True)
    assert next((root / "dist").glob("*-ebook.epub")).read_bytes() == first
    assert read_book(load_project(root), cache=True) == read_book(load_project(root))


def test_the_model_pickles_every_field() -> None:
    """Block and Article pickle as constructor arguments: a field added to them must be added there too."""
    import dataclasses
    import pickle

    from zhpress.model import Article, Block

    def filled(cls: type, **given: Any) -> Any:
        values = {f.name: given.get(f.name, f"{f.name}-value") for f in dataclasses.fields(cls)}
        return cls(**values)

    block = filled(Block, type="heading")
    article = filled(Article, blocks=(block, filled(Block, type="paragraph")))
    assert pickle.loads(pickle.dumps(article)) == article
    assert pickle.loads(pickle.dumps(block)) == block


def test_a_warm_process_saving_after_one_edit_encodes_only_that_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entries a warm process loaded from the file are written back as they were read, not encoded
    again; the file is the one a cold process writes."""
    from zhpress import memo

    root = _copy_book(tmp_path)
    _read_all(root, Counting())
    edited = sorted((root / "content").glob("*.txt"))[0]
    head, _stop, tail = edited.read_text("utf-8").rpartition("。")
    edited.write_text(head + "！" + tail, "utf-8")
    cold = tmp_path / "cold"
    shutil.copytree(root, cold)
    _read_all(cold, Counting())  # a process keeping nothing: every entry encoded

    encoded: list[Any] = []
    real = read_cache.encode
    monkeypatch.setattr(read_cache, "encode", lambda value: encoded.append(value) or real(value))
    memo.enable()
    try:
        _read_all(root, Counting())
    finally:
        memo.disable()
    articles = [v for v in encoded if type(v).__name__ == "Article"]
    assert [a.source for a in articles] == ["content/" + edited.name]
    assert (root / ".zhpress-cache/read/articles.json").read_bytes() == (cold / ".zhpress-cache/read/articles.json").read_bytes()

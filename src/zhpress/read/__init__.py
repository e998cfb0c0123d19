"""Readers: one per manuscript format, each giving the same Article (raw archive text, Markdown)."""

from __future__ import annotations

from pathlib import Path

from zhpress.errors import ManuscriptError
from zhpress.model import Article
from zhpress.read.raw import TitleParts, read_raw

RAW_SUFFIXES = (".txt",)
MARKDOWN_SUFFIXES = (".md", ".markdown")


def read_manuscript(
    path: Path, *, article_id: str, source: str, title: TitleParts | None = None, role: str | None = None
) -> Article:
    """Read one manuscript into an Article, choosing the reader by the file's suffix.

    `source` is stored as Article.source; `title` is the editor's statement of the title parts, which
    decides over any guess (and must be a split of the manuscript's headline block); `role` is book.toml's
    statement of the article's role (a Markdown dedication or epigraph then needs no headline).
    """
    suffix = path.suffix.lower()
    if suffix in RAW_SUFFIXES:
        return read_raw(path, article_id=article_id, source=source, title=title)
    if suffix in MARKDOWN_SUFFIXES:
        from zhpress.read.markdown import read_markdown

        return read_markdown(path, article_id=article_id, source=source, title=title, role=role)
    raise ManuscriptError(
        f"unknown manuscript type {path.suffix or '(no suffix)'!r}",
        path=path,
        hint="manuscripts are raw archive text (.txt) or Markdown (.md, .markdown)",
    )


__all__ = ["MARKDOWN_SUFFIXES", "RAW_SUFFIXES", "TitleParts", "read_manuscript"]

"""Reading the book: every manuscript of the project through its reader, checked, in reading order, with
the book's parts and metadata, into one Book in the source script."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import files
from ..config import Project, check_id, line_of_key
from ..errors import InputError, ManuscriptError
from ..model import BACK_ROLES, FRONT_ROLES, Article, Book, BookMeta, Creator, Part
from . import read_manuscript
from .cache import ReadCache

log = logging.getLogger("zhpress")


def warn_unsettled_titles(config: Path | None, articles: tuple[Article, ...]) -> None:
    """One warning for the whole book naming every article whose kicker the reader could not tell from its
    headline (fused with no mark), and the book.toml keys that settle them."""
    pending = [a for a in articles if a.unsettled_title]
    if pending:
        names = ", ".join(f"{a.source} (id {a.id})" for a in pending)
        log.warning(
            "%s: %d article(s) may have a kicker fused into the headline with no mark between them, so the whole "
            "block is the headline: %s; state `kicker` and `headline` in their [[articles]] entries to split them",
            config or "book.toml", len(pending), names,
        )


def read_book(project: Project, *, cache: bool = False) -> Book:
    """Read and normalize every manuscript of the project into one Book (in the source script). With
    `cache`, manuscripts unchanged since an earlier build are taken from PROJECT/.zhpress-cache/read."""
    store = ReadCache(project.root / files.PROJECT_CACHE / "read", base=project.root) if cache else None
    if store is not None and not store.usable:
        store = None

    def read(path: Path, **arguments: Any) -> Article:
        data = files.read_confined(
            path, project.content_dir, what="manuscript", error=ManuscriptError, folder_name="content/",
            missing_hint="check the file name in book.toml",
        )
        if store is not None:
            return store.read(path, read_manuscript, data=data, **arguments)
        with files.given(path, data):
            return read_manuscript(path, **arguments)

    with files.resolving():
        articles = tuple(
            read(src.path, article_id=src.id, source=src.source, title=src.title or None, **({"role": src.role} if src.role else {}))
            for src in project.articles
        )
    articles = tuple(
        replace(a, role=None if src.role == "chapter" else src.role) if src.role else a
        for src, a in zip(project.articles, articles, strict=True)
    )
    if store is not None:
        store.save()
    articles = tuple(
        dataclasses.replace(article, running_head=src.running_head) if src.running_head else article
        for src, article in zip(project.articles, articles, strict=True)
    )
    seen: dict[str, str] = {}
    for src, article in zip(project.articles, articles, strict=True):
        try:
            check_id(article.id)
        except ValueError as exc:  # an id from a front matter (book.toml's are checked when it is loaded)
            shown = article.id if len(article.id) <= 40 else article.id[:40] + "…"
            raise ManuscriptError(f"article id {shown!r} {exc}", path=src.path, hint="change the front matter's `id`") from None
        if article.id in seen:
            raise ManuscriptError(
                f"article id {article.id!r} is already used by {seen[article.id]}",
                path=src.path,
                hint="give the articles different ids (front matter `id`, or `id` in book.toml's [[articles]])",
            )
        seen[article.id] = article.source
    warn_unsettled_titles(project.config_path, articles)
    return Book(_book_meta(project), *_book_order(project, articles))


def _book_meta(project: Project) -> BookMeta:
    """The book's metadata from book.toml's [book] table."""
    cfg = project.config.book
    creators = tuple(Creator(n, "aut") for n in cfg.authors) + tuple(Creator(n, "edt") for n in cfg.editors)
    return BookMeta(
        id=project.book_id,
        title=cfg.title,
        subtitle=cfg.subtitle,
        creators=creators,
        publisher=cfg.publisher,
        date=cfg.date,
        rights=cfg.rights,
        description=cfg.description,
        subjects=tuple(cfg.subjects),
        language=cfg.language,
        isbn=cfg.isbn,
        edition=cfg.edition,
        printing=cfg.printing,
        price=cfg.price,
    )


def _book_order(project: Project, articles: tuple[Article, ...]) -> tuple[tuple[Article, ...], tuple[Part, ...]]:
    """Articles in reading order (front matter, chapters, back matter, each as listed) and the book's parts,
    whose articles must be chapters that follow one another."""
    def rank(article: Article) -> int:
        return 0 if article.role in FRONT_ROLES else 2 if article.role in BACK_ROLES else 1

    ordered = tuple(sorted(articles, key=rank))
    index = {a.id: i for i, a in enumerate(ordered)}
    parts: list[Part] = []
    seen: dict[str, str] = {}
    for number, part in enumerate(project.config.parts):
        line = _parts_line(project, number)
        for article_id in part.articles:
            if article_id not in index:
                raise InputError(
                    f"part {part.title!r} names the article {article_id!r}, which the book does not have",
                    path=project.config_path, line=line, hint=f"the articles are {', '.join(index)}",
                )
            if article_id in seen:
                raise InputError(f"article {article_id!r} is in two parts ({seen[article_id]!r} and {part.title!r})",
                                 path=project.config_path, line=line)  # fmt: skip
            if ordered[index[article_id]].role is not None:
                raise InputError(f"part {part.title!r}: article {article_id!r} is {ordered[index[article_id]].role}, not a chapter",
                                 path=project.config_path, line=line)  # fmt: skip
            seen[article_id] = part.title
        positions = [index[a] for a in part.articles]
        if positions != list(range(positions[0], positions[0] + len(positions))) if positions else True:
            raise InputError(
                f"part {part.title!r}: its articles must follow one another in the book's reading order",
                path=project.config_path, line=line, hint="list them in [[parts]] as they are listed in [[articles]]",
            )
        parts.append(Part(part.title, tuple(part.articles)))
    return ordered, tuple(parts)


def _parts_line(project: Project, number: int) -> int | None:
    if project.config_path is None:
        return None
    return line_of_key(project.config_path.read_text("utf-8-sig"), ("parts", number, "title"))

"""The content model: one Book of Articles, each a title block and a list of typed blocks.

Every stage after reading (normalize, convert, render, the writers) works on these types and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

BlockType = Literal[
    "paragraph",  # body text; `lead` may hold a dateline that starts it
    "heading",  # section heading; `label` holds a lead-in such as 下沉干部：
    "editor_note",  # one paragraph of an editor's note (编者按)
    "note_signature",  # the signature that closes an editor's note (——编者)
    "epigraph",  # a quotation standing alone before the body
    "part_break",  # an empty paragraph in the source: a break between parts (text is "")
    "credit",  # production credits at the end (版式设计：…, 本版责编：…)
]

BLOCK_TYPES: tuple[str, ...] = BlockType.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Block:
    """One typed piece of an article's body."""

    type: BlockType
    text: str
    label: str | None = None
    lead: str | None = None  # a dateline at the start of `text` (already part of `text`)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as constructor arguments: the default for frozen slotted dataclasses restores each
        # object field by field in Python, a third of a second for a 1000-article book (the read cache,
        # and the book sent to a build's worker process).
        return (Block, (self.type, self.text, self.label, self.lead))

    def to_json(self) -> dict[str, Any]:
        """The block as `inspect --json` shows it: optional fields only when set."""
        out: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.label is not None:
            out["label"] = self.label
        if self.lead is not None:
            out["lead"] = self.lead
        return out


@dataclass(frozen=True, slots=True)
class Article:
    """One manuscript after reading: its title parts and its body blocks, in source order."""

    id: str
    source: str  # the manuscript's path relative to the project
    headline: str
    kicker: str | None = None
    subtitle: str | None = None
    column: str | None = None
    byline: str | None = None
    blocks: tuple[Block, ...] = ()
    running_head: str | None = None  # the editor's short form of the headline for print running heads

    def __reduce__(self) -> tuple[Any, ...]:
        return (Article, (self.id, self.source, self.headline, self.kicker, self.subtitle, self.column, self.byline,
                          self.blocks, self.running_head))

    def to_json(self) -> dict[str, Any]:
        """The article as `inspect --json` shows it."""
        return {
            "id": self.id,
            "source": self.source,
            "kicker": self.kicker,
            "headline": self.headline,
            "subtitle": self.subtitle,
            "column": self.column,
            "byline": self.byline,
            "blocks": [b.to_json() for b in self.blocks],
            **({"running_head": self.running_head} if self.running_head else {}),
        }

    def texts(self) -> list[str]:
        """Every piece of manuscript text in reading order (title block first)."""
        parts = [self.kicker, self.headline, self.subtitle, self.column, self.byline]
        out = [p for p in parts if p]
        for b in self.blocks:
            if b.label:
                out.append(b.label)
            if b.text:
                out.append(b.text)
        return out


@dataclass(frozen=True, slots=True)
class Creator:
    """An author or editor of the book."""

    name: str
    role: Literal["aut", "edt"] = "aut"


@dataclass(frozen=True, slots=True)
class BookMeta:
    """Book-level metadata from book.toml's [book] table."""

    id: str
    title: str
    subtitle: str | None = None
    creators: tuple[Creator, ...] = ()
    publisher: str | None = None
    date: str | None = None  # ISO date
    rights: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    language: str = "zh-Hans"
    identifier: str | None = None  # the edition's identifier (urn:uuid:…, urn:isbn:…)
    isbn: str | None = None
    edition: str | None = None  # 版次
    printing: str | None = None  # 印次
    price: str | None = None  # 定价


@dataclass(frozen=True, slots=True)
class Book:
    """The whole book: metadata and articles in order."""

    meta: BookMeta
    articles: tuple[Article, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The book as `inspect --json` prints it."""
        meta = asdict(self.meta)
        meta["creators"] = [asdict(c) for c in self.meta.creators]
        meta["subjects"] = list(self.meta.subjects)
        return {"book": meta, "articles": [a.to_json() for a in self.articles]}


__all__ = ["BLOCK_TYPES", "Article", "Block", "BlockType", "Book", "BookMeta", "Creator", "replace"]

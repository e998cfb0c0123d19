"""The content model: one Book of Articles, each a title block and a list of typed blocks.

Every stage after reading (normalize, convert, render, the writers) works on these types and nothing else.
Inline markup is data (`Inline` runs), never HTML. One walk over every text of the model
(`Book.text_groups`, `Book.texts`, `Book.map_text_groups`, `Book.map_texts`; `BookMeta.texts` and
`BookMeta.map_texts` for the metadata) serves conversion, glyph checks, counting and inspect, so a
new block type is added in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

BlockType = Literal[
    "paragraph",  # body text; `lead` may hold a dateline that starts it
    "heading",  # section heading; `label` holds a lead-in such as 下沉干部：, `byline` the line under it; `level` 3 for a subsection
    "editor_note",  # one paragraph of an editor's note (编者按)
    "note_signature",  # the signature that closes an editor's note (——编者)
    "epigraph",  # a quotation standing alone before the body
    "part_break",  # an empty paragraph in the source: a break between parts (text is "")
    "credit",  # production credits at the end (版式设计：…, 本版责编：…)
    "caption",  # a photo caption or credit (图①：…, 本报记者 某某摄, 资料照片): set small, never in the contents
    "quote",  # a block quotation: `children` are its blocks (quotations nest)
    "list",  # `children` are list_item blocks; `start` is the first number of an ordered list, None unordered
    "list_item",  # `children` are the item's blocks
    "verse",  # a poem or other lines kept as written: `children` are verse_line blocks
    "verse_line",  # one line of verse ("" for a blank line between stanzas)
    "code",  # a code block: `text` set verbatim, never converted
    "table",  # `children` are table_row blocks, the header rows first
    "table_row",  # `children` are table_cell blocks; `level` 1 for a header row
    "table_cell",  # one cell; `align` left, center or right when the table says so
    "figure",  # an image: `src` (relative to the project), `alt`, the caption in `text`/`runs`
    "footnote",  # a note's definition (Article.notes): `start` its number, `ident` the author's label
]

#: An article's title parts in reading order (the column where the archive has it: after the headline).
TITLE_PARTS = ("kicker", "headline", "column", "subtitle", "byline")

InlineKind = Literal[
    "text",  # plain text
    "emphasis",  # `children`
    "strong",  # `children`
    "code",  # `text` set verbatim, never converted
    "link",  # `children`, `target` the URL (https:, http: or mailto: only)
    "line_break",  # a hard line break inside a paragraph
    "note_ref",  # a footnote reference: `text` the note's number, `target` its label
    "ruby",  # `text` the base, `annotation` the reading above it (never converted)
]

#: Article roles: front matter (before the first chapter), back matter (after the last).
FRONT_ROLES = ("dedication", "epigraph", "foreword", "preface", "acknowledgements")
BACK_ROLES = ("afterword", "appendix", "bibliography", "colophon")
ROLES = ("chapter", *FRONT_ROLES, *BACK_ROLES)

#: The metadata fields that are text a reader sees (converted with the book; creators and subjects too).
META_TEXTS = ("title", "subtitle", "publisher", "rights", "description", "edition", "printing", "price")

#: What `map_text_groups` maps: one inline sequence's texts at a time (a paragraph's runs, a caption …).
GroupMap = Callable[[tuple[str, ...]], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Inline:
    """One run of a block's inline content."""

    kind: InlineKind
    text: str = ""
    children: tuple[Inline, ...] = ()
    target: str | None = None
    annotation: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (Inline, (self.kind, self.text, self.children, self.target, self.annotation))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.text:
            out["text"] = self.text
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        if self.target is not None:
            out["target"] = self.target
        if self.annotation is not None:
            out["annotation"] = self.annotation
        return out


def _prose(runs: tuple[Inline, ...]) -> Iterator[str]:
    """The convertible texts of runs in reading order (not code, not ruby annotations, not note numbers)."""
    for run in runs:
        if run.kind in ("text", "ruby"):
            yield run.text
        elif run.children:
            yield from _prose(run.children)


def _map_runs(runs: tuple[Inline, ...], it: Iterator[str]) -> tuple[Inline, ...]:
    out = []
    for run in runs:
        if run.kind in ("text", "ruby"):
            out.append(Inline(run.kind, next(it), run.children, run.target, run.annotation))
        elif run.children:
            out.append(Inline(run.kind, run.text, _map_runs(run.children, it), run.target, run.annotation))
        else:
            out.append(run)
    return tuple(out)


def _verbatim(runs: tuple[Inline, ...]) -> Iterator[str]:
    for run in runs:
        if run.kind == "code" or run.kind == "note_ref":
            yield run.text
        if run.annotation:
            yield run.annotation
        if run.children:
            yield from _verbatim(run.children)


def plain_text(runs: tuple[Inline, ...]) -> str:
    """The text a reader sees of runs, without markup (a line break is `\\n`, a note reference its number)."""
    out = []
    for run in runs:
        if run.kind == "line_break":
            out.append("\n")
        elif run.children:
            out.append(plain_text(run.children))
        else:
            out.append(run.text)
    return "".join(out)


_PLAIN: tuple[Any, ...] = (None, (), None, None, None, None, None, None, None)  # a Block's rich fields, unset


@dataclass(frozen=True, slots=True)
class Block:
    """One typed piece of an article's body."""

    type: BlockType
    text: str
    label: str | None = None
    lead: str | None = None  # a dateline at the start of `text` (already part of `text`)
    byline: str | None = None  # a heading's byline (本报记者 某某), set under it
    runs: tuple[Inline, ...] | None = None  # inline content with markup; `text` is then its plain text
    children: tuple[Block, ...] = ()
    level: int | None = None
    start: int | None = None
    align: str | None = None
    src: str | None = None
    alt: str | None = None
    ident: str | None = None
    line: int | None = None  # the manuscript line (figures: to name it when the image is wrong)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as constructor arguments: the default for frozen slotted dataclasses restores each
        # object field by field in Python, a third of a second for a 1000-article book (the read cache,
        # and the book sent to a build's worker process).
        rich = (self.runs, self.children, self.level, self.start, self.align, self.src, self.alt, self.ident, self.line)
        if rich == _PLAIN:
            return (Block, (self.type, self.text, self.label, self.lead, self.byline))
        return (Block, (self.type, self.text, self.label, self.lead, self.byline, *rich))

    def to_json(self) -> dict[str, Any]:
        """The block as `inspect --json` shows it: optional fields only when set."""
        out: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.label is not None:
            out["label"] = self.label
        if self.lead is not None:
            out["lead"] = self.lead
        if self.byline is not None:
            out["byline"] = self.byline
        if self.runs is not None:
            out["runs"] = [r.to_json() for r in self.runs]
        for key in ("level", "start", "align", "src", "alt", "ident", "line"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    @property
    def inline(self) -> tuple[Inline, ...]:
        """The block's inline content as runs (one text run when it has no markup)."""
        if self.runs is not None:
            return self.runs
        return (Inline("text", self.text),) if self.text else ()

    def text_groups(self) -> Iterator[tuple[str, ...]]:
        """Every convertible text of the block, one group per inline sequence, in reading order."""
        if self.label:
            yield (self.label,)
        if self.alt and self.alt != self.text:  # a figure's image comes before its caption
            yield (self.alt,)
        if self.type == "code":
            pass
        elif self.runs is not None:
            group = tuple(_prose(self.runs))
            if group:
                yield group
        elif self.text:
            yield (self.text,)
        if self.byline:
            yield (self.byline,)
        for child in self.children:
            yield from child.text_groups()

    def verbatim_texts(self) -> Iterator[str]:
        """Texts set as written (code, ruby annotations, note numbers): drawn, never converted."""
        if self.type == "code":
            yield self.text
        if self.runs is not None:
            yield from _verbatim(self.runs)
        for child in self.children:
            yield from child.verbatim_texts()

    def map_text_groups(self, fn: GroupMap) -> Block:
        """The block with every group of `text_groups` replaced by `fn(group)` (same order, same sizes)."""
        label = fn((self.label,))[0] if self.label else self.label
        text, runs, lead = self.text, self.runs, self.lead
        if self.type == "code":
            pass
        elif runs is not None:
            group = tuple(_prose(runs))
            if group:
                runs = _map_runs(runs, iter(fn(group)))
                text = plain_text(runs)
        elif text:
            new = fn((text,))[0]
            if lead is not None and text.startswith(lead):
                lead = new[: len(lead)] if len(new) == len(text) else fn((lead,))[0]
            text = new
        alt = self.alt
        if alt and alt != self.text:
            alt = fn((alt,))[0]
        elif alt:
            alt = text
        byline = fn((self.byline,))[0] if self.byline else self.byline
        children = tuple(c.map_text_groups(fn) for c in self.children)
        return Block(self.type, text, label, lead, byline, runs, children, self.level, self.start, self.align,
                     self.src, alt, self.ident, self.line)  # fmt: skip

    def walk(self) -> Iterator[Block]:
        """This block and every block inside it, in reading order."""
        yield self
        for child in self.children:
            yield from child.walk()


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
    notes: tuple[Block, ...] = ()  # footnote blocks, numbered from 1 in the order of first reference
    role: str | None = None  # None: a chapter; else one of FRONT_ROLES or BACK_ROLES
    # The reader could not tell a kicker from the headline (fused, no mark): book.toml should state them.
    unsettled_title: bool = False
    running_head: str | None = None  # the editor's short form of the headline for print running heads

    def __reduce__(self) -> tuple[Any, ...]:
        return (Article, (self.id, self.source, self.headline, self.kicker, self.subtitle, self.column, self.byline,
                          self.blocks, self.notes, self.role, self.unsettled_title, self.running_head))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The article as `inspect --json` shows it."""
        out: dict[str, Any] = {
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
        if self.unsettled_title:
            out["unsettled_title"] = True
        if self.notes:
            out["notes"] = [n.to_json() for n in self.notes]
        if self.role is not None:
            out["role"] = self.role
        return out

    def places(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """(where, group) for every text group: title parts by name, `paragraph N` for the body's blocks
        (N counts them from 1, as `zhpress inspect` lists them, nested content included), `note N`."""
        for key in (*TITLE_PARTS, "running_head"):  # the running head is the editor's, set in print only
            value = getattr(self, key)
            if value:
                yield key, (value,)
        for number, block in enumerate(self.blocks, start=1):
            for group in block.text_groups():
                yield f"paragraph {number}", group
            verbatim = tuple(block.verbatim_texts())
            if verbatim:
                yield f"paragraph {number}", verbatim
        for note in self.notes:
            for group in note.text_groups():
                yield f"note {note.start}", group
            verbatim = tuple(note.verbatim_texts())
            if verbatim:
                yield f"note {note.start}", verbatim

    def text_groups(self) -> Iterator[tuple[str, ...]]:
        """Every convertible text group of the article in reading order (title block, body, notes)."""
        for key in TITLE_PARTS:
            value = getattr(self, key)
            if value:
                yield (value,)
        for block in self.blocks:
            yield from block.text_groups()
        for note in self.notes:
            yield from note.text_groups()

    def texts(self) -> list[str]:
        """Every piece of manuscript text in reading order (title block first, the column where the archive
        has it: after the headline, before the subtitle)."""
        return [t for group in self.text_groups() for t in group if t]

    def map_text_groups(self, fn: GroupMap) -> Article:
        """The article with every text group mapped by `fn` (see `Block.map_text_groups`)."""

        def one(value: str | None) -> str | None:
            return fn((value,))[0] if value else value

        return replace(
            self, headline=one(self.headline) or self.headline, kicker=one(self.kicker), subtitle=one(self.subtitle),
            column=one(self.column), byline=one(self.byline), blocks=tuple(b.map_text_groups(fn) for b in self.blocks),
            notes=tuple(n.map_text_groups(fn) for n in self.notes), running_head=one(self.running_head),
        )


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

    def texts(self) -> Iterator[str]:
        """Every convertible text of the metadata (never ids, dates, language tags or ISBNs)."""
        for key in META_TEXTS:
            value = getattr(self, key)
            if value:
                yield value
        yield from (c.name for c in self.creators if c.name)
        yield from (s for s in self.subjects if s)

    def map_texts(self, fn: Callable[[str], str]) -> BookMeta:
        """The metadata with every text of `texts` mapped by `fn`."""

        def one(value: str | None) -> str | None:
            return fn(value) if value else value

        return replace(
            self, **{key: one(getattr(self, key)) for key in META_TEXTS},  # type: ignore[arg-type]
            creators=tuple(Creator(fn(c.name) if c.name else c.name, c.role) for c in self.creators),
            subjects=tuple(fn(s) if s else s for s in self.subjects),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Part:
    """A group of articles (第一辑 …) that the contents and the EPUB nav show as a level above them."""

    title: str
    articles: tuple[str, ...]  # article ids, in reading order


@dataclass(frozen=True, slots=True)
class Book:
    """The whole book: metadata and articles in order."""

    meta: BookMeta
    articles: tuple[Article, ...] = field(default_factory=tuple)
    parts: tuple[Part, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The book as `inspect --json` prints it."""
        meta = asdict(self.meta)
        meta["creators"] = [asdict(c) for c in self.meta.creators]
        meta["subjects"] = list(self.meta.subjects)
        out: dict[str, Any] = {"book": meta, "articles": [a.to_json() for a in self.articles]}
        if self.parts:
            out["parts"] = [{"title": p.title, "articles": list(p.articles)} for p in self.parts]
        return out

    def text_groups(self) -> Iterator[tuple[str, ...]]:
        """Every convertible text group of the articles and parts."""
        for part in self.parts:
            yield (part.title,)
        for article in self.articles:
            yield from article.text_groups()

    def texts(self) -> Iterator[str]:
        """Every convertible text of the articles and parts, in reading order."""
        for group in self.text_groups():
            yield from group

    def map_text_groups(self, fn: GroupMap) -> Book:
        """The book with every text group of its articles and parts mapped by `fn` (metadata untouched)."""
        parts = tuple(Part(fn((p.title,))[0], p.articles) for p in self.parts)
        return Book(self.meta, tuple(a.map_text_groups(fn) for a in self.articles), parts)

    def map_texts(self, fn: Callable[[str], str]) -> Book:
        """The book with every text of `texts` mapped by `fn` on its own (metadata untouched: `meta.map_texts`)."""
        return self.map_text_groups(lambda group: tuple(fn(t) if t else t for t in group))


__all__ = [
    "BACK_ROLES", "FRONT_ROLES", "META_TEXTS", "ROLES", "Article", "Block", "BlockType", "Book", "BookMeta",
    "Creator", "Inline", "Part", "plain_text", "replace",
]  # fmt: skip

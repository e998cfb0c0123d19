"""The jinja2 environment and the view of a Book that templates see.

Templates ship with the package (`zhpress/templates/`); a book overrides any of them from
`styles/templates/`. Autoescaping is always on: templates receive plain text from the model. A book's
template is untrusted: every template runs in jinja2's immutable sandbox (no attribute starting with `_`,
no changing what it is given), sees only the context `Renderer.context` documents, and is read only as a
regular file inside `styles/templates/` (`zhpress.files`). Compiled templates are kept only in the book's
own cache folder, signed (`SignedBytecodeCache`), never where another book could reach them.
"""

from __future__ import annotations

import logging
import math
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.sandbox
from markupsafe import Markup, escape

from . import files
from .config import Profile, Project
from .errors import InputError
from .model import Article, Block, Book, Inline

log = logging.getLogger("zhpress")

# Book furniture, written in simplified Chinese and converted with the edition's own converter.
LABELS_SIMPLIFIED: dict[str, str] = {
    "contents": "目录",
    "cover": "封面",
    "title_page": "书名页",
    "copyright": "版权页",
    "editor_note": "编者按",
    "landmarks": "导航",
    "page_list": "页码",
    "body": "正文",
    "start": "开始阅读",
    "book_title": "书名",
    "authors": "著者",
    "editors": "编者",
    "publisher": "出版发行",
    "format": "开本",
    "sheets": "印张",
    "characters": "字数",
    "thousand_characters": "千字",
    "edition": "版次",
    "printing": "印次",
    "isbn": "书号",
    "price": "定价",
    "identifier": "标识符",
    "typeface": "字体",
    "conversion": "繁体转换",
    "rights": "版权说明",
    "description": "内容简介",
    "generated_by": "本书由 zhpress 排版生成",
    "written_by": "著",
    "edited_by": "编",
    "notes": "注释",
    "note_back": "返回正文",
    "dedication": "题献",
    "epigraph": "题记",
    "foreword": "序",
    "preface": "前言",
    "acknowledgements": "致谢",
    "afterword": "后记",
    "appendix": "附录",
    "bibliography": "参考文献",
    "colophon": "出版说明",
}

#: An article role as EPUB's structural semantics (epub:type) and DPUB-ARIA (role) name it.
ROLE_SEMANTICS: dict[str, str] = {
    "chapter": "chapter",
    "dedication": "dedication",
    "epigraph": "epigraph",
    "foreword": "foreword",
    "preface": "preface",
    "acknowledgements": "acknowledgments",
    "afterword": "afterword",
    "appendix": "appendix",
    "bibliography": "bibliography",
    "colophon": "colophon",
}

CONVERSION_NAMES: dict[str, str] = {
    "s2t": "OpenCC s2t（通用繁体）",
    "s2tw": "OpenCC s2tw（台湾字形）",
    "s2twp": "OpenCC s2twp（台湾字形及用语）",
    "s2hk": "OpenCC s2hk（香港字形）",
}

# Conventional 开本 names for trim sizes, with the full sheet they are cut from.
FORMAT_NAMES: dict[str, str] = {
    "32k": "880×1230　1/32",
    "32开": "880×1230　1/32",
    "16k": "787×1092　1/16",
    "16开": "787×1092　1/16",
}


@dataclass(frozen=True, slots=True)
class HeadingView:
    """A heading as the contents and the page see it."""

    anchor: str
    label: str | None
    text: str
    level: int = 2


@dataclass(frozen=True, slots=True)
class InlineEvent:
    """One step of a block's inline content as templates write it: text (already escaped and typeset),
    an element opened or closed (`tag`: emphasis, strong, link, latin), code, ruby, a line break, a note
    reference (`note` is the note's block at its first reference, for print's notes in the text flow)."""

    kind: str
    tag: str = ""
    markup: Markup | str = ""
    target: str | None = None
    annotation: str = ""
    number: str = ""
    ref_id: str = ""
    note_id: str = ""
    note: Block | None = None


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article with the anchors and file name the writers use."""

    article: Article
    anchor: str
    filename: str  # the article's XHTML document inside an EPUB
    headings: tuple[HeadingView, ...]
    heading_anchors: dict[int, str] = field(default_factory=dict)  # block index → anchor
    role_label: str | None = None  # 题献, 前言 … for an article with a role
    refs: dict[str, int] = field(default_factory=dict)  # note label → references written so far

    @property
    def title(self) -> str:
        """The headline as one line (the contents and running heads use it); a dedication without one is
        named by its role."""
        return self.article.headline or self.role_label or ""

    @property
    def semantics(self) -> str:
        """The article's epub:type (and, prefixed with doc-, its ARIA role)."""
        return ROLE_SEMANTICS[self.article.role or "chapter"]

    def note_anchor(self, number: int | str) -> str:
        return f"{self.anchor}-n{number}"


def article_anchor(number: int) -> str:
    """The anchor (and EPUB file stem) of the article at `number`, counting from 1."""
    return f"a{number}"


def article_views(book: Book, labels: dict[str, str] | None = None) -> list[ArticleView]:
    """Anchors for every article and heading; the same in every edition and format. Subsection headings
    (`###`) get anchors but stay out of the contents."""
    views = []
    for number, article in enumerate(book.articles, start=1):
        anchor = article_anchor(number)
        headings: list[HeadingView] = []
        anchors: dict[int, str] = {}
        sub = 0
        for index, block in enumerate(article.blocks):
            if block.type == "heading" and block.level == 3:
                sub += 1
                anchors[index] = f"{anchor}-s{sub}"
            elif block.type == "heading":
                h = f"{anchor}-h{len(headings) + 1}"
                headings.append(HeadingView(h, block.label, block.text))
                anchors[index] = h
        role_label = (labels or LABELS_SIMPLIFIED).get(article.role) if article.role else None
        views.append(ArticleView(article, anchor, f"{anchor}.xhtml", tuple(headings), anchors, role_label))
    return views


@dataclass(frozen=True, slots=True)
class TocEntry:
    """One entry of the contents' top level: an article, or a part with its articles."""

    view: ArticleView | None = None
    part: str | None = None
    views: tuple[ArticleView, ...] = ()


def toc_entries(book: Book, views: list[ArticleView]) -> list[TocEntry]:
    """The contents' top level: articles in order, a part's articles gathered under its title."""
    part_of = {article_id: part for part in book.parts for article_id in part.articles}
    out: list[TocEntry] = []
    for view in views:
        part = part_of.get(view.article.id)
        if part is None:
            out.append(TocEntry(view=view))
        elif out and out[-1].part == part.title:
            out[-1] = TocEntry(part=part.title, views=(*out[-1].views, view))
        else:
            out.append(TocEntry(part=part.title, views=(view,)))
    return out


_LATIN_WORDS = re.compile(r"[A-Za-z\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f'’.,:;!? -]*[A-Za-z0-9\u00c0-\u024f.!?])?")


def inline_events(block: Block, view: ArticleView, pieces: Callable[[list[str], list[bool]], list[Markup]]) -> list[InlineEvent]:
    """A block's inline content as a flat list of events; its text runs go through `pieces` together (the
    edition's typesetting of one inline sequence), those inside emphasis marked so; Latin words inside
    emphasis are set apart (italic, where Chinese gets dots)."""
    events: list[InlineEvent] = []
    texts: list[str] = []
    dotted: list[bool] = []
    slots: list[int] = []  # events whose markup is texts[i]

    def text(value: str, emphasis: bool) -> None:
        slots.append(len(events))
        texts.append(value)
        dotted.append(emphasis)
        events.append(InlineEvent("text"))

    def walk(runs: tuple[Inline, ...], emphasis: bool) -> None:
        for run in runs:
            kind = run.kind
            if kind == "text":
                if not emphasis:
                    text(run.text, False)
                    continue
                at = 0
                for match in _LATIN_WORDS.finditer(run.text):
                    if match.start() > at:
                        text(run.text[at : match.start()], True)
                    events.append(InlineEvent("open", "latin"))
                    text(match.group(), False)
                    events.append(InlineEvent("close", "latin"))
                    at = match.end()
                if at < len(run.text):
                    text(run.text[at:], True)
            elif kind in ("emphasis", "strong", "link"):
                events.append(InlineEvent("open", kind, target=run.target))
                walk(run.children, emphasis or kind == "emphasis")
                events.append(InlineEvent("close", kind))
            elif kind == "ruby":
                slots.append(len(events))
                texts.append(run.text)
                dotted.append(emphasis)
                events.append(InlineEvent("ruby", annotation=run.annotation or ""))
            elif kind == "line_break":
                events.append(InlineEvent("break"))
            elif kind == "code":
                events.append(InlineEvent("code", markup=escape(run.text)))
            elif kind == "note_ref":
                label = run.target or run.text
                count = view.refs.get(label, 0) + 1
                view.refs[label] = count
                note = next((n for n in view.article.notes if n.ident == label), None) if count == 1 else None
                ref_id = f"{view.anchor}-r{run.text}" + (f"-{count}" if count > 1 else "")
                events.append(InlineEvent("note_ref", number=run.text, ref_id=ref_id, note_id=view.note_anchor(run.text), note=note))

    walk(block.inline, False)
    for slot, markup in zip(slots, pieces(texts, dotted), strict=True):
        events[slot] = replace(events[slot], markup=markup)
    return events


def verse_stanzas(block: Block) -> list[list[Block]]:
    """A verse block's lines in stanzas (a blank line separates them)."""
    stanzas: list[list[Block]] = [[]]
    for line in block.children:
        if not line.text and not line.runs:
            if stanzas[-1]:
                stanzas.append([])
        else:
            stanzas[-1].append(line)
    return [s for s in stanzas if s]


def count_characters(book: Book) -> int:
    """Characters of the manuscripts' text (no white space), for the copyright page's 字数."""
    return sum(len("".join(t.split())) for t in book.texts())


def plain(text: str) -> Markup:
    """The EPUB's text filter: escaping only."""
    return escape(text)


def plain_pieces(texts: list[str], dotted: list[bool]) -> list[Markup]:
    """The EPUB's filter of an inline sequence: escaping only (emphasis dots are CSS there)."""
    return [escape(t) for t in texts]


@dataclass
class Renderer:
    """Templates for one profile of one project."""

    project: Project
    profile: Profile
    convert: Callable[[str], str]
    text_filter: Callable[..., Markup] = plain
    pieces_filter: Callable[[list[str], list[bool]], list[Markup]] = plain_pieces
    images: dict[str, str] = field(default_factory=dict)  # a figure's src → its URL in this edition
    fallback_families: tuple[str, ...] = ()  # faces for the characters the body face lacks (zhpress.fallback)

    @property
    def env(self) -> jinja2.Environment:
        overrides = self.project.styles_dir / "templates"
        compiled = self.project.root / ".zhpress-cache" / "templates" if compiled_templates else None
        return _environment(str(overrides) if overrides.is_dir() else None, str(compiled) if compiled else None)

    @property
    def faces(self) -> tuple[str, ...]:
        """Every face family this edition sets: the body face, then its fallback faces."""
        return (self.profile.font_family, *self.fallback_families)

    @cached_property
    def labels(self) -> dict[str, str]:
        return {k: self.convert(v) for k, v in LABELS_SIMPLIFIED.items()}

    def context(self, book: Book, **extra: Any) -> dict[str, Any]:
        """What every template sees."""
        meta = book.meta
        chars = count_characters(book)
        return {
            "book": book,
            "meta": meta,
            "profile": self.profile,
            "lang": self.profile.language,
            "labels": self.labels,
            "articles": (views := article_views(book, self.labels)),
            "toc": toc_entries(book, views),
            "images": self.images,
            "authors": [c.name for c in meta.creators if c.role == "aut"],
            "editors": [c.name for c in meta.creators if c.role == "edt"],
            "thousand_characters": max(1, math.ceil(chars / 1000)),
            "conversion_name": self.convert(CONVERSION_NAMES[self.profile.conversion])
            if self.profile.conversion
            else None,
            "format_name": self._format_name(),
            **extra,
        }

    def _format_name(self) -> str | None:
        page = self.profile.page
        if page is None:
            return None
        given = getattr(self.project.config.book, "format", None)  # the 开本 the press states
        return given or FORMAT_NAMES.get(page.trim_name, f"{page.width:g}×{page.height:g} mm")

    def render(self, name: str, **context: Any) -> str:
        """Render one template; any error in it (syntax, a name it lacks, one the sandbox refuses, or a
        failure of what it runs) names the template file and line."""
        try:
            template = self.env.get_template(name)
            return template.render(text_filter=self.text_filter, pieces_filter=self.pieces_filter, **context)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"template syntax error: {exc.message}", path=exc.filename or exc.name, line=exc.lineno) from exc
        except jinja2.TemplateNotFound as exc:
            raise InputError(f"template {exc.name!r} not found", path=self.project.styles_dir / "templates") from exc
        except InputError:
            raise
        except Exception as exc:
            where = _template_frame(exc, self._override_dir())
            if where is None and not isinstance(exc, jinja2.TemplateError):
                raise  # in zhpress's own templates and code: not the book's to fix
            path, line = where or (self.project.styles_dir / "templates" / name, None)
            what = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else f"{type(exc).__name__}: {exc}"
            raise InputError(f"template {name!r}: {what}", path=path, line=line) from None

    def own_templates(self) -> bool:
        """Whether the book brings templates of its own (a file in styles/templates/)."""
        folder = self.project.styles_dir / "templates"
        return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))

    def _override_dir(self) -> str:
        return os.path.realpath(self.project.styles_dir / "templates")

    def check_templates(self, names: list[str]) -> None:
        """Compile the templates up front so a syntax error is found before anything is written."""
        for name in names:
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise InputError(
                    f"template syntax error: {exc.message}", path=exc.filename or exc.name, line=exc.lineno
                ) from exc

    def stylesheets(self) -> list[tuple[str, str]]:
        """The CSS of this edition, in cascade order: the package's base sheets for the format, the book's
        own `styles/book.css` and `styles/{epub,print}.css` when present, the profile's extra stylesheets,
        then the edition's generated rules (font, language)."""
        kind = "epub" if self.profile.format == "epub" else "print"
        base = _package_styles()
        sheets = [(f"base-{n}", base.joinpath(n).read_text("utf-8")) for n in ("common.css", f"{kind}.css")]
        styles = self.project.styles_dir
        for name in ("book.css", f"{kind}.css"):
            if os.path.lexists(styles / name):
                sheets.append((name, self._book_sheet(styles / name)))
        for name in self.profile.stylesheets:
            path = styles / name
            if os.path.isabs(name) or ".." in Path(name).parts or not files.is_inside(
                os.path.realpath(path), os.path.realpath(styles)
            ):
                raise InputError(
                    f"profile {self.profile.name!r} names stylesheet {name!r}, which is not a file in styles/",
                    path=self.project.config_path or styles,
                    hint="name a stylesheet by its path inside styles/, such as 'extra.css'",
                )
            if not os.path.lexists(path):
                raise InputError(
                    f"profile {self.profile.name!r} names stylesheet {name!r}, which is not in styles/", path=styles
                )
            sheets.append((name, self._book_sheet(path)))
        sheets.append(("edition.css", self.render("edition.css.j2", **self.context_light())))
        return sheets

    def _book_sheet(self, path: Path) -> str:
        """One of the book's stylesheets: a regular file inside styles/, UTF-8, the same bytes every time
        it is asked for in a build (what was checked is what is used)."""
        styles = self.project.styles_dir
        data = files.read_once(path, styles, what="stylesheet", folder_name="styles/")
        return files.decode_utf8(data, path, what="stylesheet")

    def context_light(self) -> dict[str, Any]:
        return {"profile": self.profile, "lang": self.profile.language, "kai_family": kai_family(self.profile.language),
                "fallback_families": self.fallback_families}


#: The Kai faces (Debian fonts-arphic-ukai) a profile's `emphasis = "kai"` sets emphasis in, by region.
KAI_FAMILIES = {"TW": "AR PL UKai TW", "HK": "AR PL UKai HK", "MO": "AR PL UKai HK"}


def kai_family(language: str) -> str:
    """The Kai face for an edition's language (simplified Chinese unless the region says otherwise)."""
    return KAI_FAMILIES.get(language.rpartition("-")[2].upper(), "AR PL UKai CN")


@jinja2.pass_context
def _text(context: Any, value: str) -> Markup:
    """The `text` filter: the edition's typesetting of a piece of manuscript text (escaping at least)."""
    return context.get("text_filter", plain)(value)


@jinja2.pass_context
def _inline_events(context: Any, block: Block, view: ArticleView) -> list[InlineEvent]:
    return inline_events(block, view, context.get("pieces_filter", plain_pieces))


def _begin_notes(view: ArticleView) -> str:
    """Start an article's rendering afresh: its first reference to each note is the one that carries it."""
    view.refs.clear()
    return ""


@lru_cache(maxsize=8)
def _environment(overrides: str | None, compiled: str | None = None) -> jinja2.Environment:
    """One jinja2 environment per template search path, shared by every profile of a process: sandboxed
    when the book brings templates (`overrides`), plain for zhpress's own alone, which are trusted (the
    sandbox's checks of every attribute and call were half of rendering them). Compiled templates are kept
    in `compiled` (the book's own cache folder) when given, signed with the user's key: never in a folder
    another book could write to, never loaded unless the user wrote them."""
    loaders: list[jinja2.BaseLoader] = []
    if overrides:
        loaders.append(BookTemplates(Path(overrides)))
    loaders.append(jinja2.PackageLoader("zhpress", "templates"))
    kind = jinja2.sandbox.ImmutableSandboxedEnvironment if overrides else jinja2.Environment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=SignedBytecodeCache.open(Path(compiled)) if compiled else None,
    )
    env.filters["text"] = _text
    env.globals["block_parts"] = block_parts
    env.globals["inline_events"] = _inline_events
    env.globals["verse_stanzas"] = verse_stanzas
    env.globals["begin_notes"] = _begin_notes
    return env


#: Whether a build keeps compiled templates in the book's cache folder (`--no-cache` turns it off).
compiled_templates = False


class SignedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates of one book in its own cache folder. Each entry is signed with the user's key
    over its template, this module's source and jinja2's version; an entry that fails the check (brought
    with the project, made by another account, changed) is never loaded, only replaced."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self.key = key

    @classmethod
    def open(cls, folder: Path) -> SignedBytecodeCache | None:
        key = files.signing_key()
        if key is None or files.own_folder(folder, base=folder.parent.parent) is None:
            return None
        return cls(folder, key)

    def _scope(self, bucket: jinja2.bccache.Bucket) -> bytes:
        return f"{bucket.key}\0{_code_digest()}\0".encode()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            blob = files.read_confined(self.folder / f"{bucket.key}.cache", self.folder, what="cache entry")
        except InputError:
            return
        data = files.verified(blob, self.key)
        scope = self._scope(bucket)
        if data is not None and data.startswith(scope):
            bucket.bytecode_from_string(data[len(scope) :])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = files.sign(self._scope(bucket) + bucket.bytecode_to_string(), self.key)
        try:
            files.write_atomic(self.folder / f"{bucket.key}.cache", data, mode=0o600)
        except OSError:
            log.debug("compiled template not kept in %s", self.folder, exc_info=True)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes() + jinja2.__version__.encode()).hexdigest()


class BookTemplates(jinja2.BaseLoader):
    """A book's own templates: regular UTF-8 files inside `styles/templates/`, no symbolic link leading out,
    read once a build (`zhpress.files.read_once`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        from jinja2.loaders import split_template_path

        path = self.folder.joinpath(*split_template_path(template))
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        data = files.read_once(path, self.folder, what="template", folder_name="styles/templates/")
        source = files.decode_utf8(data, path, what="template")
        seen = files.stamp(path, follow=False)
        return source, str(path), lambda: files.stamp(path, follow=False) == seen


def _template_frame(exc: BaseException, overrides: str) -> tuple[str, int] | None:
    """The innermost frame of a book's template in the traceback of `exc` (jinja2 gives template frames the
    template's file name and line), or None when no book template is involved."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and files.is_inside(os.path.realpath(frame.filename), overrides):
            found = (frame.filename, frame.lineno or 0)
    return found


def _package_styles() -> Any:
    from importlib import resources

    return resources.files("zhpress").joinpath("templates/styles")


def block_parts(block: Block) -> tuple[str | None, str]:
    """A paragraph split into its dateline and the rest (both are manuscript text)."""
    if block.lead and block.text.startswith(block.lead):
        return block.lead, block.text[len(block.lead) :]
    return None, block.text

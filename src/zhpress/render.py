"""The jinja2 environment and the view of a Book that templates see.

Templates ship with the package (`zhpress/templates/`); a book overrides any of them from
`styles/templates/`. Autoescaping is always on: templates receive plain text from the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .errors import InputError
from .model import Article, Block, Book
from .project import Profile, Project

# Book furniture, written in simplified Chinese and converted with the edition's own converter.
LABELS_SIMPLIFIED: dict[str, str] = {
    "contents": "目录",
    "cover": "封面",
    "title_page": "书名页",
    "copyright": "版权页",
    "editor_note": "编者按",
    "landmarks": "导航",
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


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article with the anchors and file name the writers use."""

    article: Article
    anchor: str
    filename: str  # the article's XHTML document inside an EPUB
    headings: tuple[HeadingView, ...]
    heading_anchors: dict[int, str] = field(default_factory=dict)  # block index → anchor

    @property
    def title(self) -> str:
        """The headline as one line (the contents and running heads use it)."""
        return self.article.headline


def article_anchor(number: int) -> str:
    """The anchor (and EPUB file stem) of the article at `number`, counting from 1."""
    return f"a{number}"


def article_views(book: Book) -> list[ArticleView]:
    """Anchors for every article and heading; the same in every edition and format."""
    views = []
    for number, article in enumerate(book.articles, start=1):
        anchor = article_anchor(number)
        headings: list[HeadingView] = []
        anchors: dict[int, str] = {}
        for index, block in enumerate(article.blocks):
            if block.type == "heading":
                h = f"{anchor}-h{len(headings) + 1}"
                headings.append(HeadingView(h, block.label, block.text))
                anchors[index] = h
        views.append(ArticleView(article, anchor, f"{anchor}.xhtml", tuple(headings), anchors))
    return views


def count_characters(book: Book) -> int:
    """Characters of the manuscripts' text (no white space), for the copyright page's 字数."""
    return sum(len("".join(t.split())) for t in book.texts())


def plain(text: str) -> Markup:
    """The EPUB's text filter: escaping only."""
    return escape(text)


@dataclass
class Renderer:
    """Templates for one profile of one project."""

    project: Project
    profile: Profile
    convert: Callable[[str], str]
    text_filter: Callable[..., Markup] = plain

    @property
    def env(self) -> jinja2.Environment:
        overrides = self.project.styles_dir / "templates"
        return _environment(str(overrides) if overrides.is_dir() else None)

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
            "articles": article_views(book),
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
        return FORMAT_NAMES.get(page.trim_name, f"{page.width:g}×{page.height:g} mm")

    def render(self, name: str, **context: Any) -> str:
        """Render one template; a syntax error names the template file and line."""
        try:
            template = self.env.get_template(name)
            return template.render(text_filter=self.text_filter, **context)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"template syntax error: {exc.message}", path=exc.filename or exc.name, line=exc.lineno) from exc
        except jinja2.TemplateNotFound as exc:
            raise InputError(f"template {exc.name!r} not found", path=self.project.styles_dir / "templates") from exc
        except jinja2.UndefinedError as exc:
            raise InputError(f"template {name!r}: {exc.message}", path=self.project.styles_dir / "templates" / name) from exc

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
            if (styles / name).is_file():
                sheets.append((name, (styles / name).read_text("utf-8")))
        for name in self.profile.stylesheets:
            path = styles / name
            if not path.is_file():
                raise InputError(
                    f"profile {self.profile.name!r} names stylesheet {name!r}, which is not in styles/", path=styles
                )
            sheets.append((name, path.read_text("utf-8")))
        sheets.append(("edition.css", self.render("edition.css.j2", **self.context_light())))
        return sheets

    def context_light(self) -> dict[str, Any]:
        return {"profile": self.profile, "lang": self.profile.language}


@jinja2.pass_context
def _text(context: Any, value: str) -> Markup:
    """The `text` filter: the edition's typesetting of a piece of manuscript text (escaping at least)."""
    return context.get("text_filter", plain)(value)


@lru_cache(maxsize=8)
def _environment(overrides: str | None) -> jinja2.Environment:
    """One jinja2 environment per template search path, shared by every profile of a process; compiled
    templates are cached on disk between runs."""
    loaders: list[jinja2.BaseLoader] = []
    if overrides:
        loaders.append(jinja2.FileSystemLoader(overrides))
    loaders.append(jinja2.PackageLoader("zhpress", "templates"))
    cache = _bytecode_cache()
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=cache,
    )
    env.filters["text"] = _text
    env.globals["block_parts"] = block_parts
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhpress" / "jinja"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(base))


def _package_styles() -> Any:
    from importlib import resources

    return resources.files("zhpress").joinpath("templates/styles")


def block_parts(block: Block) -> tuple[str | None, str]:
    """A paragraph split into its dateline and the rest (both are manuscript text)."""
    if block.lead and block.text.startswith(block.lead):
        return block.lead, block.text[len(block.lead) :]
    return None, block.text

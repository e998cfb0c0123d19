"""The Markdown reader: CommonMark (markdown-it-py) with TOML `+++` or YAML `---` front matter.

It yields the same Article as the raw reader: `#` is the headline block (unless the front matter states
the title parts), `##`–`######` are headings, a leading blockquote is the epigraph or, when it ends with
`——编者`, the editor's note; inline markup is flattened to text. Raw HTML is dropped with a warning: the
content model holds plain text only.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from zhpress.errors import ManuscriptError
from zhpress.model import Article, Block
from zhpress.normalize import normalize_text
from zhpress.read.decode import _CONTROL_RE, read_text
from zhpress.read.raw import (
    MAX_HEADING,
    TitleParts,
    dateline,
    is_byline,
    is_credit,
    is_label,
    is_signature,
    signature_text,
    split_headline_block,
    title_spaces,
    wholly_quoted,
)

log = logging.getLogger("zhpress")

FRONT_MATTER_KEYS = ("id", "kicker", "headline", "subtitle", "column", "byline", "running_head")
_TITLE_KEYS = ("kicker", "headline", "subtitle", "column", "byline")
# Elements whose content is not text: dropped whole when written as inline HTML.
_OPAQUE_TAGS = ("script", "style", "iframe", "object", "template", "noscript", "svg", "math", "textarea")
_OPEN_TAG_RE = re.compile(r"<\s*([A-Za-z][A-Za-z0-9-]*)")
_CLOSE_TAG_RE = re.compile(r"<\s*/\s*([A-Za-z][A-Za-z0-9-]*)")
_WIDE_EDGE_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2014\u2026\u201c\u201d\u2018\u2019]")
_HEADING_LABEL_RE = re.compile(r"^(.{1,11}[：:])\s*(“.+”)$")


@dataclass
class _Unit:
    """One top-level piece of the document before classification."""

    kind: str  # "heading", "paragraph", "quote", "break"
    line: int
    text: str = ""
    level: int = 0
    paragraphs: list[str] = field(default_factory=list)
    signature: str | None = None  # a quote's closing `——编者`


# ------------------------------------------------------------------------------------- front matter


def _front_matter_error(path: Path, message: str, line: int, hint: str | None = None) -> ManuscriptError:
    return ManuscriptError(f"front matter: {message}", path=path, line=line, hint=hint)


def _key_line(lines: list[str], key: str, first_line: int) -> int:
    """The file line on which a front matter key is written (or the front matter's first line)."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=:]")
    for i, line in enumerate(lines):
        if pattern.match(line):
            return first_line + i
    return first_line


def split_front_matter(text: str, path: Path) -> tuple[dict[str, str], str, int]:
    """Separate and parse the front matter: (fields, body, number of lines before the body)."""
    lines = text.split("\n")
    fence = lines[0].rstrip() if lines else ""
    if fence not in ("+++", "---"):
        return {}, text, 0
    closers = ("+++",) if fence == "+++" else ("---", "...")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in closers), None)
    if end is None:
        raise _front_matter_error(path, f"no closing {fence!r} line", 1, hint=f"close the front matter with {fence}")
    raw_lines = lines[1:end]
    raw = "\n".join(raw_lines)
    data: Any
    if fence == "+++":
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            line = 1 + int(found.group(1)) if found else 1 + len(raw_lines)
            raise _front_matter_error(path, f"invalid TOML: {exc}", line) from None
    else:
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = 2 + mark.line if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise _front_matter_error(path, f"invalid YAML: {problem}", line) from None
        if data is None:
            data = {}
    if not isinstance(data, dict):
        raise _front_matter_error(path, "must be a table of keys and values", 2)
    fields: dict[str, str] = {}
    for key, value in data.items():
        line = _key_line(raw_lines, str(key), 2)
        if key not in FRONT_MATTER_KEYS:
            raise _front_matter_error(
                path, f"unknown key {key!r}", line, hint=f"the keys are {', '.join(FRONT_MATTER_KEYS)}"
            )
        if not isinstance(value, str):
            raise _front_matter_error(path, f"{key} must be a string, not {type(value).__name__}", line)
        control = _CONTROL_RE.search(value)
        if control is not None:
            raise _front_matter_error(
                path,
                f"{key} holds the control character U+{ord(control.group()):04X}",
                line,
                hint="remove the escape sequence from the value",
            )
        fields[key] = value
    return fields, "\n".join(lines[end + 1 :]), end + 1


# ------------------------------------------------------------------------------------------- inline


def _join_lines(text: str) -> str:
    """Join a paragraph's source lines: no space between CJK characters, one space elsewhere."""
    lines = [line.strip() for line in text.split("\n")]
    out = ""
    for line in lines:
        if not line:
            continue
        if out and not (_WIDE_EDGE_RE.match(out[-1]) or _WIDE_EDGE_RE.match(line[0])):
            out += " "
        out += line
    return out


class _Flattener:
    """Turns inline tokens into plain text, dropping raw HTML and images with a warning."""

    def __init__(self, path: Path, line_offset: int) -> None:
        self.path = path
        self.line_offset = line_offset

    def _warn(self, what: str, token: Token, parent: Token) -> None:
        line = (parent.map[0] if parent.map else 0) + 1 + self.line_offset
        log.warning("%s:%d: %s removed (manuscripts hold plain text only): %s", self.path, line, what, token.content.strip()[:60])

    def inline(self, parent: Token) -> str:
        """The text of an inline token, with `\\n` where the source had line breaks."""
        out: list[str] = []
        skipping: str | None = None
        for child in parent.children or []:
            if child.type == "html_inline":
                self._warn("raw HTML", child, parent)
                if skipping is None:
                    opened = _OPEN_TAG_RE.match(child.content)
                    if opened and opened.group(1).lower() in _OPAQUE_TAGS and not child.content.rstrip().endswith("/>"):
                        skipping = opened.group(1).lower()
                else:
                    closed = _CLOSE_TAG_RE.match(child.content)
                    if closed and closed.group(1).lower() == skipping:
                        skipping = None
                continue
            if skipping is not None:
                continue
            if child.type in ("text", "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append("\n")
            elif child.type == "image":
                self._warn("image", child, parent)
        return "".join(out)


# ------------------------------------------------------------------------------------------- blocks


def _units(tokens: list[Token], flat: _Flattener, line_offset: int) -> list[_Unit]:
    """Top-level document pieces: headings, paragraphs (list items and code included), quotes, breaks."""
    units: list[_Unit] = []
    prefix = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        line = (token.map[0] if token.map else 0) + 1 + line_offset
        if token.type == "heading_open":
            units.append(_Unit("heading", line, text=flat.inline(tokens[i + 1]), level=int(token.tag[1:])))
            i += 3
        elif token.type == "paragraph_open":
            units.append(_Unit("paragraph", line, text=prefix + flat.inline(tokens[i + 1])))
            prefix = ""
            i += 3
        elif token.type == "blockquote_open":
            depth, j = 1, i + 1
            paragraphs: list[str] = []
            while j < len(tokens) and depth:
                inner = tokens[j]
                if inner.type == "blockquote_open":
                    depth += 1
                elif inner.type == "blockquote_close":
                    depth -= 1
                elif inner.type == "inline":
                    paragraphs.append(flat.inline(inner))
                elif inner.type in ("fence", "code_block"):
                    paragraphs.append(inner.content)
                elif inner.type == "html_block":
                    log.warning("%s:%d: raw HTML removed (manuscripts hold plain text only)", flat.path,
                                (inner.map[0] if inner.map else 0) + 1 + line_offset)
                j += 1
            units.append(_Unit("quote", line, paragraphs=paragraphs))
            i = j
        elif token.type == "list_item_open":
            # An ordered item keeps its number; the bullet of an unordered one is markup.
            prefix = f"{token.info}{token.markup} " if token.info else ""
            i += 1
        elif token.type in ("fence", "code_block"):
            units.append(_Unit("paragraph", line, text=token.content))
            i += 1
        elif token.type == "hr":
            units.append(_Unit("break", line))
            i += 1
        elif token.type == "html_block":
            log.warning("%s:%d: raw HTML removed (manuscripts hold plain text only): %s", flat.path, line,
                        token.content.strip()[:60])
            i += 1
        else:
            i += 1
    return units


def _heading(text: str) -> Block:
    match = _HEADING_LABEL_RE.match(text)
    if match and is_label(match.group(1)) and wholly_quoted(match.group(2)) and len(match.group(2)) <= MAX_HEADING:
        return Block("heading", normalize_text(match.group(2)), label=normalize_text(match.group(1)))
    return Block("heading", text)


def parse_markdown(
    text: str, *, path: Path, article_id: str, source: str, title: TitleParts | None = None
) -> Article:
    """Read decoded Markdown text into an Article."""
    text = re.sub(r"\r\n|\r", "\n", text)
    fields, body, line_offset = split_front_matter(text, path)
    md = MarkdownIt("commonmark")
    # Links and images are parsed whatever their URL (javascript:, file:, data: included) so that the
    # URL is dropped with the markup: the content model keeps only a link's text, never its target.
    md.validateLink = lambda url: True
    tokens = md.parse(body)
    units = _units(tokens, _Flattener(path, line_offset), line_offset)
    for unit in units:
        if unit.kind == "quote" and unit.paragraphs:
            signed = _trailing_signature(unit.paragraphs[-1])
            if signed is not None:
                unit.paragraphs[-1], unit.signature = signed
        unit.text = normalize_text(_join_lines(unit.text))
        unit.paragraphs = [t for t in (normalize_text(_join_lines(p)) for p in unit.paragraphs) if t]
    units = [u for u in units if u.kind == "break" or u.text or u.paragraphs or u.signature]

    parts: dict[str, str] = {k: fields[k] for k in _TITLE_KEYS if fields.get(k)}
    parts.update({k: v for k, v in (title or {}).items() if v})
    override: TitleParts = {k: v for k, v in parts.items() if k in _TITLE_KEYS}  # type: ignore[assignment]

    block_text: str | None = None
    if units and units[0].kind == "heading" and units[0].level == 1:
        block_text = units.pop(0).text
    if block_text is not None:
        kicker, headline, subtitle, column = split_headline_block(block_text, override or None, path)
    elif override.get("headline"):
        kicker = normalize_text(override.get("kicker", "")) or None
        headline = title_spaces(normalize_text(override["headline"]))
        subtitle = normalize_text(override.get("subtitle", "")) or None
        column = normalize_text(override.get("column", "")) or None
    else:
        raise ManuscriptError(
            "no headline: the document has no `# ` heading first and no headline in its front matter",
            path=path,
            line=1 + line_offset,
            hint="start the document with `# headline`, or give `headline` in the front matter",
        )

    byline: str | None = title_spaces(normalize_text(override["byline"])) if override.get("byline") else None
    if byline is None and units and units[0].kind == "paragraph" and is_byline(units[0].text):
        byline = title_spaces(units.pop(0).text)

    blocks: list[Block] = []
    # A leading blockquote: the editor's note when it ends with the signature, else the epigraph.
    if units and units[0].kind == "quote":
        quote = units.pop(0)
        if quote.signature is not None:
            blocks.extend(Block("editor_note", p) for p in quote.paragraphs)
            blocks.append(Block("note_signature", quote.signature))
            if units and units[0].kind == "quote" and units[0].signature is None:
                blocks.extend(Block("epigraph", p) for p in units.pop(0).paragraphs)
        else:
            blocks.extend(Block("epigraph", p) for p in quote.paragraphs)

    end = len(units)
    while end > 0 and units[end - 1].kind == "paragraph" and is_credit(units[end - 1].text):
        end -= 1
    for unit in units[:end]:
        if unit.kind == "heading":
            blocks.append(_heading(unit.text))
        elif unit.kind == "paragraph":
            blocks.append(Block("paragraph", unit.text, lead=dateline(unit.text)))
        elif unit.kind == "quote":
            blocks.extend(Block("paragraph", p, lead=dateline(p)) for p in unit.paragraphs)
            if unit.signature is not None:
                blocks.append(Block("paragraph", unit.signature))
        elif blocks and blocks[-1].type != "part_break":
            blocks.append(Block("part_break", ""))
    while blocks and blocks[-1].type == "part_break":
        blocks.pop()
    blocks.extend(Block("credit", u.text) for u in units[end:])
    return Article(
        id=fields.get("id") or article_id,
        source=source,
        headline=headline,
        kicker=kicker,
        subtitle=subtitle,
        column=column,
        byline=byline,
        blocks=tuple(blocks),
        running_head=title_spaces(normalize_text(fields["running_head"])) if fields.get("running_head") else None,
    )


def _trailing_signature(paragraph: str) -> tuple[str, str] | None:
    """(the paragraph without its last line, the signature) when the last line is `——编者`."""
    head, _, last = paragraph.strip().rpartition("\n")
    if not is_signature(last):
        return None
    return head, signature_text(last)


def read_markdown(path: Path, *, article_id: str, source: str, title: TitleParts | None = None) -> Article:
    """Read a Markdown manuscript (.md) into an Article."""
    return parse_markdown(read_text(path), path=path, article_id=article_id, source=source, title=title)


__all__ = ["FRONT_MATTER_KEYS", "parse_markdown", "read_markdown", "split_front_matter"]

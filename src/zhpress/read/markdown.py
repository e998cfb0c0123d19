"""The Markdown reader: CommonMark (markdown-it-py) with what authors bring from pandoc and GitHub.

Pipe tables, footnotes (`[^label]`, `^[inline]`), line blocks (`| ` lines) for verse, implicit figures
(an image alone in its paragraph), ruby (`{漢字|hàn zì}`), TOML `+++` or YAML `---` front matter. It yields
the same Article as the raw reader: `#` is the headline block (unless the front matter states the title
parts), `##` and `###` are headings, a leading blockquote is the epigraph or, when it ends with `——编者`,
the editor's note. Inline markup becomes `Inline` runs. What it cannot set (raw HTML, strikethrough, an
image inside a paragraph, a link to anything but https:, http: or mailto:) is a warning naming the file and
line and what was dropped.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from posixpath import normpath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from zhpress.chars import CONTROL_RE
from zhpress.errors import ManuscriptError
from zhpress.model import FRONT_ROLES, ROLES, Article, Block, Inline, plain_text
from zhpress.normalize import INVISIBLE_RE, check_decoded, normalize_text
from zhpress.read.decode import read_text
from zhpress.read.raw import (
    MAX_HEADING,
    TitleKey,
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

FRONT_MATTER_KEYS = ("id", "kicker", "headline", "subtitle", "column", "byline", "role", "running_head")
_TITLE_KEYS: tuple[TitleKey, ...] = ("kicker", "headline", "subtitle", "column", "byline")
# Elements whose content is not text: dropped whole when written as inline HTML.
_OPAQUE_TAGS = ("script", "style", "iframe", "object", "template", "noscript", "svg", "math", "textarea")
_OPEN_TAG_RE = re.compile(r"<\s*([A-Za-z][A-Za-z0-9-]*)")
_CLOSE_TAG_RE = re.compile(r"<\s*/\s*([A-Za-z][A-Za-z0-9-]*)")
_WIDE_EDGE_RE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2014\u2026\u201c\u201d\u2018\u2019]")
_HEADING_LABEL_RE = re.compile(r"^(.{1,11}[：:])\s*(“.+”)$")


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
        control = CONTROL_RE.search(value) or INVISIBLE_RE.search(value)
        if control is not None:
            raise _front_matter_error(
                path,
                f"{key} holds the control character U+{ord(control.group()):04X}",
                line,
                hint="remove the escape sequence from the value",
            )
        if key == "role" and value not in ROLES:
            raise _front_matter_error(path, f"role {value!r} is not a role", line, hint=f"the roles are {', '.join(ROLES)}")
        fields[key] = value
    return fields, "\n".join(lines[end + 1 :]), end + 1


# ------------------------------------------------------------------------------------------- syntax

_RUBY_RE = re.compile(r"\{([^{}|\n]+)\|([^{}\n]+)\}")
_DELIMITER_ROW_RE = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_UNDEFINED_REF_RE = re.compile(r"\[\^([^\]\s]+)\]")
LINK_SCHEMES = ("https:", "http:", "mailto:")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _ruby_rule(state: Any, silent: bool) -> bool:
    """`{漢字|hàn zì}`: a ruby token (base in `content`, the reading in `meta`)."""
    if state.src[state.pos] != "{":
        return False
    match = _RUBY_RE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("ruby", "", 0)
        token.content = match.group(1)
        token.meta = {"annotation": match.group(2)}
    state.pos = match.end()
    return True


def _line_block_rule(state: Any, start: int, end: int, silent: bool) -> bool:
    """Pandoc line blocks: lines starting with `| ` (or a bare `|`), each kept as a line of verse."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    lines: list[tuple[int, str]] = []
    line = start
    while line < end:
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if text == "|" or text.startswith("| "):
            lines.append((line, text[2:]))
        elif lines and text and state.sCount[line] > state.blkIndent and not lines[-1][1] == "":
            lines[-1] = (lines[-1][0], lines[-1][1] + " " + text.strip())  # a continuation line
        else:
            break
        line += 1
    if not lines or any(_DELIMITER_ROW_RE.match(t) for _, t in lines):
        return False
    if silent:
        return True
    token = state.push("line_block_open", "div", 1)
    token.map = [start, line]
    for number, text in lines:
        token = state.push("inline", "", 0)
        token.content = text.strip()
        token.map = [number, number + 1]
        token.children = []
    state.push("line_block_close", "div", -1)
    state.line = line
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(footnote_plugin)
    md.disable("footnote_tail")  # definitions stay where they are written: duplicates and unused ones are found
    md.inline.ruler.before("emphasis", "ruby", _ruby_rule)
    md.block.ruler.after("table", "line_block", _line_block_rule, {"alt": ["paragraph"]})
    # Every URL is parsed (javascript:, file:, data: included) so that the reader decides what to keep.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


# ------------------------------------------------------------------------------------------- inline


def _edge_normalize(text: str) -> str:
    """normalize_text, keeping one space at either edge where the run had white space (runs join there)."""
    core = normalize_text(text)
    if not core:
        return " " if text and text.isspace() else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


def _wide(char: str) -> bool:
    return bool(char) and _WIDE_EDGE_RE.match(char) is not None


def _first_char(tokens: list[Token]) -> str:
    for token in tokens:
        if token.content:
            return token.content.lstrip()[:1]
    return ""


class _Reader:
    """Markdown tokens to blocks and inline runs, warning of whatever it cannot set."""

    def __init__(self, path: Path, line_offset: int, source: str, env: dict[str, Any]) -> None:
        self.path = path
        self.line_offset = line_offset
        self.folder = source.rpartition("/")[0]
        self.env = env
        self.numbers: dict[str, int] = {}
        self.definitions: dict[str, tuple[int, list[Block]]] = {}

    def warn(self, line: int, message: str) -> None:
        log.warning("%s:%d: %s", self.path, line, message)

    def line_of(self, token: Token) -> int:
        return (token.map[0] if token.map else 0) + 1 + self.line_offset

    # --------------------------------------------------------------------------------------- inline

    def runs(self, parent: Token, line: int) -> tuple[Inline, ...]:
        """The runs of an inline token (adjacent text merged, edges stripped).

        Long because it is one walk over markdown-it's inline tokens with one branch per token kind."""
        children = parent.children or []
        stack: list[tuple[str, str | None, list[Inline]]] = [("root", None, [])]
        skipping: str | None = None
        last = ""

        def add(run: Inline) -> None:
            nonlocal last
            out = stack[-1][2]
            if run.kind == "text" and out and out[-1].kind == "text":
                out[-1] = Inline("text", out[-1].text + run.text)
            elif run.kind != "text" or run.text:
                out.append(run)
            shown = plain_text((run,))
            if shown:
                last = shown[-1]

        for index, child in enumerate(children):
            kind = child.type
            if kind == "html_inline":
                self.warn(line, f"raw HTML removed (manuscripts hold no HTML): {child.content.strip()[:60]}")
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
            if kind == "text":
                for match in _UNDEFINED_REF_RE.finditer(child.content):
                    self.warn(line, f"footnote reference [^{match.group(1)}] has no definition (kept as text)")
                add(Inline("text", _edge_normalize(check_decoded(child.content, self.path, line))))
            elif kind == "softbreak":
                following = _first_char(children[index + 1 :])
                add(Inline("text", "" if (_wide(last) or _wide(following) or not following) else " "))
            elif kind == "hardbreak":
                add(Inline("line_break"))
            elif kind == "code_inline":
                add(Inline("code", child.content))
            elif kind == "ruby":
                add(Inline("ruby", normalize_text(child.content), annotation=child.meta["annotation"].strip()))
            elif kind in ("em_open", "strong_open", "link_open", "s_open"):
                target = child.attrs.get("href") if kind == "link_open" else None
                stack.append((kind[:-5], str(target) if target is not None else None, []))
                if kind == "s_open":
                    self.warn(line, "strikethrough is not set: its text is kept as plain text")
            elif kind in ("em_close", "strong_close", "link_close", "s_close"):
                name, target, inner = stack.pop()
                if name == "em":
                    add(Inline("emphasis", children=tuple(inner)))
                elif name == "strong":
                    add(Inline("strong", children=tuple(inner)))
                elif name == "link" and target is not None and target.lower().startswith(LINK_SCHEMES):
                    add(Inline("link", children=tuple(inner), target=target))
                else:
                    if name == "link":
                        self.warn(line, f"link target dropped (only https:, http: and mailto: links are kept): {target}")
                    for run in inner:
                        add(run)
            elif kind == "image":
                self.warn(line, f"image removed: an image is a figure only alone in its paragraph ({child.attrs.get('src')})")
            elif kind == "footnote_ref":
                add(self.note_ref(child, line))
            else:
                self.warn(line, f"unsupported Markdown ({kind}) removed: {child.content[:60]}")
        while len(stack) > 1:  # unbalanced: keep the words
            for run in stack.pop()[2]:
                add(run)
        return _strip_runs(tuple(stack[0][2]))

    def note_ref(self, token: Token, line: int) -> Inline:
        label = token.meta.get("label")
        if label is None:  # an inline note ^[…]: its text is the definition
            label = f"^{token.meta['id'] + 1}"
            if label not in self.definitions:
                note = self.env["footnotes"]["list"][token.meta["id"]]
                parent = Token("inline", "", 0)
                parent.children = note.get("tokens") or []
                runs = self.runs(parent, line)
                self.definitions[label] = (line, [_inline_block("paragraph", runs)])
        number = self.numbers.setdefault(label, len(self.numbers) + 1)
        return Inline("note_ref", str(number), target=label)

    # --------------------------------------------------------------------------------------- blocks

    def blocks(self, tokens: list[Token], i: int = 0, close: str | None = None) -> tuple[list[Block], int]:
        """Blocks from tokens[i:] up to the token of type `close`; returns them and the index after it.

        Long because it is one walk over markdown-it's block tokens with one branch per token kind."""
        out: list[Block] = []
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            line = self.line_of(token)
            if kind == close:
                return out, i + 1
            if kind == "heading_open":
                level = int(token.tag[1:])
                if level > 3:
                    self.warn(line, f"heading level {level} ({'#' * level}) is set as level 3 (###)")
                out.append(_inline_block("heading", self.runs(tokens[i + 1], line), level=min(level, 3), line=line))
                i += 3
            elif kind == "paragraph_open":
                out.extend(self.paragraph(tokens[i + 1], line))
                i += 3
            elif kind == "blockquote_open":
                inner, i = self.blocks(tokens, i + 1, "blockquote_close")
                out.append(Block("quote", "", children=tuple(inner), line=line))
            elif kind in ("bullet_list_open", "ordered_list_open"):
                items: list[Block] = []
                start = int(token.attrs.get("start", 1)) if kind == "ordered_list_open" else None
                i += 1
                while tokens[i].type == "list_item_open":
                    inner, i = self.blocks(tokens, i + 1, "list_item_close")
                    items.append(Block("list_item", "", children=tuple(inner)))
                out.append(Block("list", "", children=tuple(items), start=start, line=line))
                i += 1
            elif kind in ("fence", "code_block"):
                out.append(Block("code", token.content.rstrip("\n"), ident=token.info.strip() or None, line=line))
                i += 1
            elif kind == "hr":
                out.append(Block("part_break", ""))
                i += 1
            elif kind == "table_open":
                block, i = self.table(tokens, i + 1, line)
                out.append(block)
            elif kind == "line_block_open":
                lines: list[Block] = []
                i += 1
                while tokens[i].type == "inline":
                    lines.append(_inline_block("verse_line", self.runs(tokens[i], self.line_of(tokens[i]))))
                    i += 1
                out.append(Block("verse", "", children=tuple(lines), line=line))
                i += 1
            elif kind == "footnote_reference_open":
                label = token.meta["label"]
                inner, i = self.blocks(tokens, i + 1, "footnote_reference_close")
                if label in self.definitions:
                    first = self.definitions[label][0]
                    self.warn(line, f"footnote [^{label}] is defined twice: this definition is dropped (the one on line {first} is used)")
                else:
                    self.definitions[label] = (line, inner)
            elif kind == "html_block":
                self.warn(line, f"raw HTML removed (manuscripts hold no HTML): {token.content.strip()[:60]}")
                i += 1
            else:
                if not kind.endswith("_close"):
                    self.warn(line, f"unsupported Markdown ({kind}) removed: {token.content.strip()[:60]}")
                i += 1
        return out, i

    def paragraph(self, inline: Token, line: int) -> list[Block]:
        """A paragraph: a figure when it is an image alone, verse when it has hard line breaks, and the
        signature `——编者` on its last line split off."""
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        if len(children) == 1 and children[0].type == "image":
            return [self.figure(children[0], line)]
        signature: Block | None = None
        breaks = [k for k, c in enumerate(inline.children or []) if c.type in ("softbreak", "hardbreak")]
        if breaks:
            tail = inline.children[breaks[-1] + 1 :]  # type: ignore[index]
            last = "".join(c.content for c in tail)
            if all(c.type == "text" for c in tail) and is_signature(last.strip()):
                signature = Block("note_signature", signature_text(last.strip()))
                inline = _with_children(inline, inline.children[: breaks[-1]])  # type: ignore[index]
        elif all(c.type == "text" for c in children) and is_signature(inline.content.strip()):
            return [Block("note_signature", signature_text(inline.content.strip()))]
        runs = self.runs(inline, line)
        if any(r.kind == "line_break" for r in runs):
            lines: list[list[Inline]] = [[]]
            for run in runs:
                if run.kind == "line_break":
                    lines.append([])
                else:
                    lines[-1].append(run)
            block = Block("verse", "", children=tuple(_inline_block("verse_line", _strip_runs(tuple(r))) for r in lines), line=line)
        else:
            block = _inline_block("paragraph", runs)
        return [block, signature] if signature is not None else [block]

    def figure(self, image: Token, line: int) -> Block:
        """An image alone in its paragraph: caption from its alt text (or its title), the file in the book."""
        src = str(image.attrs.get("src", ""))
        title = str(image.attrs.get("title") or "").strip()
        parent = Token("inline", "", 0)
        parent.children = image.children or []
        alt_runs = self.runs(parent, line)
        alt = normalize_text(plain_text(alt_runs))
        if title:
            caption: tuple[Inline, ...] = (Inline("text", normalize_text(title)),)
        else:
            caption = alt_runs
        if not alt:
            alt = plain_text(caption)
            self.warn(line, f"figure {src} has no alt text" + (": its caption is used" if alt else ""))
        if _SCHEME_RE.match(src) or src.startswith("/"):
            raise ManuscriptError(
                f"image {src!r} is not a file of the book: images are read only from content/ and styles/, never fetched",
                path=self.path, line=line, hint="copy the image into the book and give its relative path",
            )
        from urllib.parse import unquote

        rel = normpath(f"{self.folder}/{unquote(src)}" if self.folder else unquote(src))
        if not rel.startswith(("content/", "styles/")):
            raise ManuscriptError(
                f"image {src!r} lies outside the book's content/ and styles/ folders", path=self.path, line=line,
                hint="keep images under content/ (or styles/) and refer to them by a relative path",
            )
        block = _inline_block("figure", caption, line=line)
        return replace_block(block, src=rel, alt=alt)

    def table(self, tokens: list[Token], i: int, line: int) -> tuple[Block, int]:
        rows: list[Block] = []
        header = False
        cells: list[Block] = []
        while tokens[i].type != "table_close":
            kind = tokens[i].type
            if kind == "thead_open":
                header = True
            elif kind == "tbody_open":
                header = False
            elif kind == "tr_open":
                cells = []
            elif kind in ("th_open", "td_open"):
                style = str(tokens[i].attrs.get("style", ""))
                align = style.partition("text-align:")[2].strip() or None
                cell = _inline_block("table_cell", self.runs(tokens[i + 1], line))
                cells.append(replace_block(cell, align=align))
                i += 2
            elif kind == "tr_close":
                rows.append(Block("table_row", "", children=tuple(cells), level=1 if header else None))
            i += 1
        return Block("table", "", children=tuple(rows), line=line), i + 1

    def notes(self) -> tuple[Block, ...]:
        """The definitions that are referenced, numbered in the order of their first reference."""
        for label, (line, _) in self.definitions.items():
            if label not in self.numbers:
                self.warn(line, f"footnote [^{label}] is never referenced: its text is dropped")
        out = []
        for label, number in sorted(self.numbers.items(), key=lambda item: item[1]):
            _, blocks = self.definitions[label]
            out.append(Block("footnote", "", children=tuple(blocks), start=number, ident=label))
        return tuple(out)


def replace_block(block: Block, **changes: Any) -> Block:
    from dataclasses import replace

    return replace(block, **changes)


def _with_children(token: Token, children: list[Token]) -> Token:
    copy = Token(token.type, token.tag, token.nesting, map=token.map, content=token.content)
    copy.children = children
    return copy


def _strip_runs(runs: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Runs without white space at their two ends."""
    out = list(runs)
    if out and out[0].kind == "text":
        out[0] = Inline("text", out[0].text.lstrip())
    if out and out[-1].kind == "text":
        out[-1] = Inline("text", out[-1].text.rstrip())
    return tuple(r for r in out if not (r.kind == "text" and not r.text))


def _inline_block(kind: str, runs: tuple[Inline, ...], **fields: Any) -> Block:
    """A block of inline content: plain `text` alone when the runs are one text, else `runs` beside it."""
    if not runs:
        return Block(kind, "", **fields)  # type: ignore[arg-type]
    if len(runs) == 1 and runs[0].kind == "text":
        return Block(kind, runs[0].text, **fields)  # type: ignore[arg-type]
    return Block(kind, plain_text(runs), runs=runs, **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- article


def _heading(block: Block) -> Block:
    """A top-level heading: `##` stays the default level, a lead-in label split off a plain heading."""
    level = None if block.level in (1, 2) else block.level
    if block.runs is None:
        match = _HEADING_LABEL_RE.match(block.text)
        if match and is_label(match.group(1)) and wholly_quoted(match.group(2)) and len(match.group(2)) <= MAX_HEADING:
            return Block("heading", normalize_text(match.group(2)), label=normalize_text(match.group(1)), level=level)
    return replace_block(block, level=level, line=None)


def _plain(block: Block, kind: str = "paragraph") -> bool:
    return block.type == kind and block.runs is None


def parse_markdown(
    text: str, *, path: Path, article_id: str, source: str, title: TitleParts | None = None, role: str | None = None
) -> Article:
    """Read decoded Markdown text into an Article.

    Long because it is the reader's sequence: front matter, parse, title block, body, notes, each checked where its line is known."""
    text = re.sub(r"\r\n|\r", "\n", text)
    fields, body, line_offset = split_front_matter(text, path)
    env: dict[str, Any] = {}
    tokens = _parser().parse(body, env)
    reader = _Reader(path, line_offset, source, env)
    units, _ = reader.blocks(tokens)
    notes = reader.notes()
    role = role or fields.get("role")

    stated = title or TitleParts()
    override = TitleParts()
    for key in _TITLE_KEYS:  # a part book.toml states wins over the front matter
        value = stated.get(key) or fields.get(key)
        if value:
            override[key] = value

    block_text: str | None = None
    if units and units[0].type == "heading" and units[0].level == 1:
        block_text = units.pop(0).text
    if block_text is not None:
        kicker, headline, subtitle, column = split_headline_block(block_text, override or None, path)
    elif override.get("headline"):
        kicker = normalize_text(override.get("kicker", "")) or None
        headline = title_spaces(normalize_text(override["headline"]))
        subtitle = normalize_text(override.get("subtitle", "")) or None
        column = normalize_text(override.get("column", "")) or None
    elif role in FRONT_ROLES:  # a dedication or an epigraph needs no headline
        kicker = subtitle = column = None
        headline = ""
    else:
        raise ManuscriptError(
            "no headline: the document has no `# ` heading first and no headline in its front matter",
            path=path,
            line=1 + line_offset,
            hint="start the document with `# headline`, or give `headline` in the front matter",
        )

    byline: str | None = title_spaces(normalize_text(override["byline"])) if override.get("byline") else None
    if byline is None and headline and units and _plain(units[0]) and is_byline(units[0].text):
        byline = title_spaces(units.pop(0).text)

    blocks: list[Block] = []
    # A leading blockquote of paragraphs: the editor's note when it ends with the signature, else the epigraph.
    if units and _is_note_quote(units[0]):
        quote = units.pop(0).children
        if quote[-1].type == "note_signature":
            blocks.extend(replace_block(p, type="editor_note") for p in quote[:-1])
            blocks.append(quote[-1])
            if units and _is_note_quote(units[0]) and units[0].children[-1].type != "note_signature":
                blocks.extend(replace_block(p, type="epigraph") for p in units.pop(0).children)
        else:
            blocks.extend(replace_block(p, type="epigraph") for p in quote)

    end = len(units)
    while end > 0 and _plain(units[end - 1]) and is_credit(units[end - 1].text):
        end -= 1
    for unit in units[:end]:
        if unit.type == "heading":
            blocks.append(_heading(unit))
        elif unit.type == "paragraph":
            blocks.append(replace_block(unit, lead=dateline(unit.text)))
        elif unit.type == "part_break":
            if blocks and blocks[-1].type != "part_break":
                blocks.append(unit)
        else:
            blocks.append(unit)
    while blocks and blocks[-1].type == "part_break":
        blocks.pop()
    blocks.extend(Block("credit", u.text) for u in units[end:])
    blocks = [b for b in blocks if b.type not in ("paragraph", "heading") or b.text or b.runs]
    return Article(
        id=fields.get("id") or article_id,
        source=source,
        headline=headline,
        kicker=kicker,
        subtitle=subtitle,
        column=column,
        byline=byline,
        blocks=tuple(blocks),
        notes=notes,
        role=None if role in (None, "chapter") else role,
        running_head=title_spaces(normalize_text(fields["running_head"])) if fields.get("running_head") else None,
    )


def _is_note_quote(block: Block) -> bool:
    """A blockquote holding only paragraphs (and perhaps the closing signature)."""
    return (
        block.type == "quote"
        and bool(block.children)
        and all(c.type == "paragraph" for c in block.children[:-1])
        and block.children[-1].type in ("paragraph", "note_signature")
    )


def read_markdown(
    path: Path, *, article_id: str, source: str, title: TitleParts | None = None, role: str | None = None
) -> Article:
    """Read a Markdown manuscript (.md) into an Article."""
    return parse_markdown(read_text(path), path=path, article_id=article_id, source=source, title=title, role=role)


__all__ = ["FRONT_MATTER_KEYS", "LINK_SCHEMES", "parse_markdown", "read_markdown", "split_front_matter"]

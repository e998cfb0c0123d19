"""Loading a project: book.toml read confined to content/, cleaned, validated with lines in its errors;
the manuscripts' list; the profiles."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..chars import CONTROL_RE
from ..errors import ConfigError
from ..files import real_path, resolving
from ..normalize import strip_invisible, warn_invisible
from .lines import line_of_key
from .profiles import resolve_profiles
from .resolved import ArticleSource, Project
from .schema import ArticleConfig, BookConfig, ProjectConfig
from .values import CONFIG_NAME, MANUSCRIPT_SUFFIXES, nearest, slugify

log = logging.getLogger("zhpress")

def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    from ..files import read_confined

    raw = read_confined(path, path.parent, what="book configuration", error=ConfigError)  # a regular file in content/
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("book.toml is not UTF-8", path=path, offset=exc.start) from exc
    try:
        return tomllib.loads(text), text
    except RecursionError:
        raise ConfigError(
            "not valid TOML: arrays or tables nested too deeply", path=path, hint="a book.toml needs a few levels at most"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"not valid TOML: {message}",
            path=path,
            line=int(match[1]) if match else None,
            column=int(match[2]) if match else None,
        ) from exc


# Keys whose values name things (files, ids, tags): invisible characters there are refused by the schema
# instead of removed, so that what is built is what the editor sees named.
_NAME_KEYS = frozenset({"id", "file", "language", "stylesheets", "extends", "font_family"})


def _strip_controls(value: Any, loc: tuple[Any, ...], path: Path, text: str) -> Any:
    """Remove control characters from every string of book.toml, and invisible characters (zero-width,
    bidi controls) from its text, with a warning naming key and line: XML metadata cannot hold the
    former, and nobody means either."""
    if isinstance(value, str):
        found = CONTROL_RE.findall(value)
        names = {str(k) for k in loc if not isinstance(k, int)} & _NAME_KEYS or loc == ("profiles",)
        invisible = [] if names else strip_invisible(value)[1]
        if not found and not invisible:
            return value
        dotted = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc).replace(".[", "[")
        line = line_of_key(text, loc) if loc else None
        where = f"{path}:{line}" if line else str(path)
        if found:
            codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
            log.warning("%s: control characters (%s) removed from %s", where, codes, dotted)
            value = CONTROL_RE.sub("", value)
        if invisible:
            warn_invisible(invisible, lambda index: f"{where}: {dotted}")
            value = strip_invisible(value)[0]
        return value
    if isinstance(value, dict):
        return {_strip_controls(k, loc, path, text): _strip_controls(v, (*loc, k), path, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_controls(v, (*loc, i), path, text) for i, v in enumerate(value)]
    return value


def _validation_error(exc: ValidationError, path: Path | None, text: str, model: type[BaseModel]) -> ConfigError:
    """The first pydantic error as one message with the key's line and, for unknown keys, the nearest name."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    dotted = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc).replace(".[", "[")
    hint = None
    if err["type"] == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        hint = nearest(str(loc[-1]), valid)
        message = f"unknown key {dotted!r}; valid keys here: {', '.join(valid)}"
    elif err["type"] == "missing":
        message = f"missing required key {dotted!r}"
    else:
        message = f"{dotted}: {err['msg'].removeprefix('Value error, ')}"
        if err["type"] == "literal_error":
            message = f"{dotted} = {err.get('input')!r} is not allowed; {err['msg'].lower()}"
    return ConfigError(message, path=path, line=line_of_key(text, loc), hint=hint)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found by walking `loc` (keys of models, of dicts, list indexes)."""
    import typing

    def unwrap(annotation: Any) -> tuple[str, Any]:
        """('model', M), ('dict', value type), ('list', item type) or ('other', None)."""
        for _ in range(4):
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return "model", annotation
            origin = typing.get_origin(annotation)
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if origin is dict and args:
                return "dict", args[-1]
            if origin is list and args:
                return "list", args[0]
            if not args:
                break
            annotation = args[0]  # Optional[X] / Union: the first non-None member
        return "other", None

    kind, current = "model", model
    for key in loc:
        if kind == "list" or kind == "dict":
            kind, current = unwrap(current)  # an index or a dict key: step into the item type
            continue
        if kind != "model":
            return []
        field = current.model_fields.get(str(key))
        if field is None:
            return []
        kind, current = unwrap(field.annotation)
    return list(current.model_fields) if kind == "model" else []


def load_project(root: Path) -> Project:
    """Load the project in `root`: content/book.toml (optional), the manuscripts, the profiles."""
    root = root.resolve()
    content = root / "content"
    if not content.is_dir():
        raise ConfigError("no content/ folder here; run zhpress in a book project or pass -C DIR", path=root)
    config_path: Path | None  # None: no book.toml
    config_path = content / CONFIG_NAME
    text = ""
    if os.path.lexists(config_path):  # a FIFO or a link leading out is refused, never skipped
        data, text = _load_toml(config_path)
        try:
            data = _strip_controls(data, (), config_path, text)
            config = ProjectConfig.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc, config_path, text, ProjectConfig) from exc
        except RecursionError:
            raise ConfigError("arrays or tables nested too deeply", path=config_path) from None
    else:
        config_path = None
        config = ProjectConfig(book=BookConfig(title=root.name))
    book_id = config.book.id or slugify(config.book.title if config_path else root.name)
    with resolving():
        articles = _article_sources(root, config, config_path, text)
    profiles = resolve_profiles(config.profiles, config.conversion, config_path, text)
    return Project(root, config_path, config, book_id, articles, profiles)


def _article_sources(root: Path, config: ProjectConfig, config_path: Path | None, text: str) -> tuple[ArticleSource, ...]:
    content = root / "content"
    if config.articles is None:
        # every manuscript-named entry but folders: a FIFO, device or broken link is refused when read, never skipped
        files = sorted(p for p in content.iterdir() if p.suffix.lower() in MANUSCRIPT_SUFFIXES and not p.is_dir())
        if not files:
            raise ConfigError("content/ holds no manuscripts (.txt or .md)", path=content)
        entries = [ArticleConfig(file=p.name) for p in files]
    else:
        entries = config.articles
        if not entries:
            raise ConfigError("the article list is empty", path=config_path)
    seen_files: dict[Path, int] = {}
    seen_ids: dict[str, int] = {}
    out: list[ArticleSource] = []
    inside = content.resolve()
    for index, entry in enumerate(entries):
        line = line_of_key(text, ("articles", index, "file")) if text else None
        path = Path(real_path(content / entry.file))  # a symbolic link loop is refused when read
        if not path.is_relative_to(inside):
            raise ConfigError(f"article file {entry.file!r} is outside content/", path=config_path, line=line)
        if path in seen_files:
            raise ConfigError(
                f"manuscript {entry.file!r} is listed twice (entries {seen_files[path] + 1} and {index + 1})",
                path=config_path,
                line=line,
            )
        seen_files[path] = index
        article_id = entry.id or slugify(Path(entry.file).stem)
        if article_id in seen_ids:
            raise ConfigError(
                f"two articles have the id {article_id!r} (entries {seen_ids[article_id] + 1} and {index + 1}); "
                "give one an `id`",
                path=config_path,
                line=line,
            )
        seen_ids[article_id] = index
        title = {
            k: v
            for k, v in entry.model_dump(include={"kicker", "headline", "subtitle", "column", "byline"}).items()
            if v is not None
        }
        out.append(ArticleSource(path, f"content/{entry.file}", article_id, title, entry.role, entry.running_head))
    return tuple(out)


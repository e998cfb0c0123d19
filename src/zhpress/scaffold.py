"""`zhpress new`: a book project that builds at once, from the starters in `zhpress/data/new/`.

Each starter is a folder of files copied as they are (`_common/` first, then the starter's own); a file
ending in `.j2` is a jinja2 template given the title, the book id and the starter's name, and a file
named `gitignore` becomes `.gitignore` (package data keeps no dot files).
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2

from .config import slugify
from .errors import InputError

TEMPLATES = ("news", "essays", "blank")

# The title a starter gets when `--title` is not given (blank: the folder's name).
DEFAULT_TITLES = {"news": "乡村新图景", "essays": "河与灯"}


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    """(relative path, file) for every file under `folder`, sorted."""
    out: list[tuple[str, Traversable]] = []
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        name = f"{prefix}{item.name}"
        if item.is_dir():
            out.extend(_files(item, name + "/"))
        elif item.is_file():
            out.append((name, item))
    return out


def new_project(target: Path, *, template: str = "news", title: str | None = None) -> list[Path]:
    """Write a new book project into `target` (absent or empty); the files written, in order."""
    if template not in TEMPLATES:
        raise InputError(f"unknown template {template!r}; templates: {', '.join(TEMPLATES)}")
    if target.exists() and not target.is_dir():
        raise InputError("is a file, not a folder", path=target, hint="choose a new folder")
    if target.is_dir() and any(target.iterdir()):
        raise InputError("the folder is not empty", path=target, hint="choose a new folder or an empty one")
    title = title if title is not None else DEFAULT_TITLES.get(template, target.resolve().name)
    if not title.strip():
        raise InputError("the title is empty", hint="give --title a title")
    context = {"title": title, "book_id": slugify(target.resolve().name), "template": template}
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["toml"] = _toml_string
    root = resources.files("zhpress").joinpath("data/new")
    files: dict[str, bytes] = {}
    for folder in ("_common", template):
        for name, item in _files(root.joinpath(folder)):
            data = item.read_bytes()
            if name.endswith(".j2"):
                name = name[: -len(".j2")]
                data = env.from_string(data.decode("utf-8")).render(**context).encode("utf-8")
            parts = name.split("/")
            parts[-1] = ".gitignore" if parts[-1] == "gitignore" else parts[-1]
            name = "/".join(parts)
            files[name] = data
    written = []
    try:
        for name, data in files.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    except OSError as exc:
        raise InputError(f"cannot write the new project: {exc.strerror}", path=exc.filename or target) from None
    return written

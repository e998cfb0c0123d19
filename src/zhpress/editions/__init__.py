"""Edition kinds: one module per kind (EPUB, PDF) behind one small protocol, found by the profile's
`format` in a registry of module names (loaded when a build asks for the kind, so an EPUB-only build
never imports the PDF stage). A new kind is a module with an `EDITION` and one line in `KINDS`."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Profile, Project
    from ..model import Book

#: The templates every edition renders its articles and edition stylesheet with.
COMMON_TEMPLATES = ("_article.html", "edition.css.j2")

#: Edition kinds by profile format: the module under zhpress.editions that defines its `EDITION`.
KINDS: dict[str, str] = {"epub": "epub", "pdf": "pdf"}


@dataclass
class Job:
    """What building one edition takes: the resolved profile, the edition's book, and how to run."""

    project: Project
    profile: Profile
    book: Book
    date: dt.datetime
    convert: Callable[[str], str]  # the edition's converter, for book furniture
    out_dir: Path
    cache: bool = True
    jobs: int = 1  # processes for a long PDF's chunks
    render_pool: Any = None  # worker processes that have WeasyPrint loaded
    executor: Any = None  # where a long PDF's chunks render (`zhpress.pdf.executor`); None: forked workers
    cover: Any = None  # the resolved cover settings (`zhpress.cover.CoverPlan`)
    layouts: dict[str, list[Any]] | None = None  # print layouts this build made, by profile (`zhpress.pagelist`)

    @property
    def target(self) -> Path:
        """The edition's main output file."""
        return self.out_dir / output_name(self.project, self.profile)


@dataclass
class Built:
    """An edition's files (complete and checked, written into the output folder later) and its page count."""

    files: list[tuple[Path, bytes]] = field(default_factory=list)
    pages: int | None = None
    layout: list[Any] | None = None  # a print edition's pages as laid out, for the page lists of its EPUBs


class Edition(Protocol):
    """One edition kind, as the build sequence sees it."""

    suffix: str  # of the output file
    templates: tuple[str, ...]  # the templates it needs besides COMMON_TEMPLATES, checked before any work
    self_contained: bool  # its stylesheets may fetch nothing from outside the file (an EPUB)
    renders_in_workers: bool  # built with WeasyPrint in worker processes forked while the book is read

    def check_engine(self) -> None:
        """Refuse an engine this kind cannot work with, before any work."""

    def single_pass(self, job: Job) -> bool:
        """Whether the edition renders in one engine pass (then only that pass goes to a worker)."""

    def needs_engine(self, job: Job) -> bool:
        """Whether building it starts the rendering engine (nothing given or cached replaces it)."""

    def build(self, job: Job) -> Built:
        """The edition's files, checked."""

    def layout_from(self, project: Project, profile: Profile) -> str | None:
        """The profile whose layout this edition needs (it is built first when both are asked for), or None."""


def edition(profile: Profile) -> Edition:
    """The edition kind of a profile, by its format."""
    module = KINDS.get(profile.format)
    if module is None:
        raise ConfigError(f"profile {profile.name!r}: no edition kind {profile.format!r}; kinds: {', '.join(KINDS)}")
    found: Edition = importlib.import_module(f"{__name__}.{module}").EDITION
    return found


def output_name(project: Project, profile: Profile) -> str:
    """`{book-id}-{profile}.{epub|pdf}`."""
    return f"{project.book_id}-{profile.name}.{edition(profile).suffix}"


__all__ = ["COMMON_TEMPLATES", "KINDS", "Built", "Edition", "Job", "edition", "output_name"]

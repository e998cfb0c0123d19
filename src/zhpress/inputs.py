"""Everything a build reads, checked before anything is written: the book's folders, images, templates,
stylesheets, fonts and glyphs. A problem is a user error naming file and place (exit 2, `dist/` as it was)."""

from __future__ import annotations

import os

from . import fallback, files, fonts, images, pagelist, stylesheets
from .config import Profile, Project, line_of_key
from .editions import COMMON_TEMPLATES, edition
from .errors import InputError
from .model import Book
from .render import Renderer, kai_family


def check_inputs(project: Project, profiles: list[Profile], editions: dict[str, Book]) -> None:
    """Everything a build reads, checked before anything is written: templates, stylesheets, fonts, glyphs."""
    for book in {id(b): b for b in editions.values()}.values():
        images.book_images(project, book)

    roots = [project.content_dir, project.styles_dir]
    for profile in profiles:
        renderer = Renderer(project, profile, convert=lambda s: s)
        kind = edition(profile)
        renderer.check_templates([*COMMON_TEMPLATES, *kind.templates])
        for name, css in renderer.stylesheets():
            if name.startswith("base-"):  # zhpress's own sheets: only the syntax is worth a look
                stylesheets.check_syntax(css, name, project.styles_dir)
            else:
                stylesheets.check_stylesheet(
                    css, name, project.styles_dir, roots, self_contained=kind.self_contained
                )
        try:
            face = fonts.require_font(profile.font_family, profile=profile.name)
        except InputError as exc:
            if exc.path is None and project.config_path is not None:
                exc.path = str(project.config_path)
                exc.line = _profile_key_line(project, profile.name, "font_family")
            raise
        if profile.emphasis == "kai":  # emphasis set in a Kai face: the face must be there, never a fallback
            try:
                fonts.require_font(kai_family(profile.language), profile=profile.name)
            except InputError as exc:
                exc.path = str(project.config_path) if project.config_path else None
                exc.line = _profile_key_line(project, profile.name, "emphasis")
                raise
        try:
            fallback.require_fallback_fonts(profile)
        except InputError as exc:
            exc.path = str(project.config_path) if project.config_path else None
            exc.line = _profile_key_line(project, profile.name, "fallback_font")
            raise
        fallback.check_glyphs(project, face, profile, editions[profile.name])
        pagelist.print_profile_for(project, profile)  # a page list names a print edition of the same text
        if profile.page is not None and profile.page.pdf_variant.startswith("pdf/x"):
            images.check_print_resolution(project, profile, editions[profile.name])


def _profile_key_line(project: Project, profile: str, key: str) -> int | None:
    """The line of `[profiles.NAME]`'s key in book.toml, when the book sets it."""
    if project.config_path is None or profile not in project.config.profiles:
        return None
    if getattr(project.config.profiles[profile], key, None) is None:
        return None
    return line_of_key(project.config_path.read_text("utf-8-sig"), ("profiles", profile, key))


def check_book_folders(project: Project) -> None:
    """content/, styles/ and styles/templates/ are the book's own folders: none may lead outside it."""
    root = os.path.realpath(project.root)
    for folder in (project.content_dir, project.styles_dir, project.styles_dir / "templates"):
        if os.path.lexists(folder) and not files.is_inside(os.path.realpath(folder), root):
            raise InputError(
                "this folder of the book leads outside it (a symbolic link)", path=folder,
                hint="zhpress reads only files inside the book; copy the files into the book",
            )

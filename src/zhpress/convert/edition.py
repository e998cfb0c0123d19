"""An edition's conversion: the settings a profile asks for, and the book as that edition prints it."""

from __future__ import annotations

from dataclasses import replace

from ..config import Profile, Project, line_of_key
from ..model import Book
from .book import convert_book
from .settings import ConversionSettings


def conversion_settings(project: Project, profile: Profile) -> ConversionSettings:
    """The conversion stage's settings for a profile, with book.toml and the line of each book-level term
    for the errors that name one."""
    return ConversionSettings(
        config=profile.conversion,  # type: ignore[arg-type]
        quotes=profile.quotes,
        protected=tuple(project.config.conversion.protected),
        overrides=profile.overrides,
        verbatim=tuple(project.config.conversion.verbatim),
        vocabulary=profile.vocabulary,
        origin=str(project.config_path) if project.config_path else None,
        lines=_term_lines(project, profile),
    )


def _term_lines(project: Project, profile: Profile) -> tuple[tuple[str, str, int], ...]:
    """(kind, term, line) for the book's protected and verbatim terms and its overrides (a profile's
    overrides winning over the book's)."""
    if project.config_path is None:
        return ()
    text = project.config_path.read_text("utf-8-sig")
    conversion = project.config.conversion
    places: list[tuple[str, str, tuple[object, ...]]] = [
        *(("protected", term, ("conversion", "protected", i)) for i, term in enumerate(conversion.protected)),
        *(("verbatim", term, ("conversion", "verbatim", i)) for i, term in enumerate(conversion.verbatim)),
        *(("override", source, ("conversion", "overrides", source)) for source in conversion.overrides),
    ]
    declared = project.config.profiles.get(profile.name)
    overrides = (declared and declared.overrides) or {}
    places += [("override", source, ("profiles", profile.name, "overrides", source)) for source in overrides]
    found = {(kind, term): line for kind, term, loc in places if (line := line_of_key(text, loc)) is not None}
    return tuple(sorted((kind, term, line) for (kind, term), line in found.items()))


def edition_book(
    project: Project, profile: Profile, book: Book, converted: dict[object, tuple[Book, object]] | None = None
) -> tuple[Book, object]:
    """The book as this edition prints it: converted, with the edition's language and identifier.
    `converted` remembers conversions by their settings, so editions that share them (ebook-tw and
    print-tw) convert the book once."""
    settings = conversion_settings(project, profile)
    if converted is None or settings not in converted:
        result = convert_book(book, settings)
        if converted is None:
            converted = {}
        converted[settings] = result
    converted_book, report = converted[settings]
    identifier = project.config.book.identifiers.get(profile.name)
    meta = replace(converted_book.meta, language=profile.language, identifier=identifier)
    return replace(converted_book, meta=meta), report

"""Profiles resolved once: the shipped defaults, a book's tables over them, `extends`, the page geometry."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from .lines import line_of_key, toml_lines
from .resolved import PageGeometry, Profile
from .schema import ConversionConfig, PageConfig, ProfileConfig
from .values import MARK_MIN_LENGTH_MM, MARK_OFFSET_MM, MIN_TEXT_EMS, check_id, nearest, parse_length, parse_trim

log = logging.getLogger("zhpress")

def _default_profiles() -> dict[str, ProfileConfig]:
    text = resources.files("zhpress").joinpath("data/profiles.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {name: ProfileConfig.model_validate(value) for name, value in data.items()}


def _merge(base: ProfileConfig, child: ProfileConfig) -> ProfileConfig:
    data = base.model_dump(exclude_none=True)
    over = child.model_dump(exclude_none=True)
    page = {**data.get("page", {}), **over.get("page", {})}
    data.update(over)
    if page:
        data["page"] = page
    return ProfileConfig.model_validate(data)


def resolve_profiles(
    declared: dict[str, ProfileConfig], conversion: ConversionConfig, path: Path | None, text: str = ""
) -> dict[str, Profile]:
    defaults = _default_profiles()
    raw: dict[str, ProfileConfig] = dict(defaults)
    for name, cfg in declared.items():
        # A book's table for a default profile changes that profile; `extends` restarts from another.
        raw[name] = _merge(defaults[name], cfg) if name in defaults and cfg.extends is None else cfg
    resolved: dict[str, ProfileConfig] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> ProfileConfig:
        if name in resolved:
            return resolved[name]
        cfg = raw[name]
        if cfg.extends is not None:
            if cfg.extends == name or cfg.extends in chain:
                raise ConfigError(
                    f"profile {name!r} extends itself (through {' → '.join((*chain, name, cfg.extends))})",
                    path=path,
                    line=line_of_key(text, ("profiles", name, "extends")) if text else None,
                    hint="make it extend one of the default profiles, or none",
                )
            if cfg.extends not in raw:
                raise ConfigError(
                    f"profile {name!r} extends unknown profile {cfg.extends!r}; valid profiles: {', '.join(raw)}",
                    path=path,
                    line=line_of_key(text, ("profiles", name, "extends")) if text else None,
                    hint=nearest(cfg.extends, raw),
                )
            cfg = _merge(resolve(cfg.extends, (*chain, name)), cfg.model_copy(update={"extends": None}))
        resolved[name] = cfg
        return cfg

    profiles: dict[str, Profile] = {}
    for name in raw:
        cfg = resolve(name, ())
        profiles[name] = _finish_profile(name, cfg, conversion, path, text)
    return profiles


def _finish_profile(
    name: str, cfg: ProfileConfig, conversion: ConversionConfig, path: Path | None, text: str = ""
) -> Profile:
    def line(*keys: str) -> int | None:
        """The line of the first of these page keys the book sets, else of the profile's table."""
        lines = toml_lines(text).lines if text else {}
        for key in keys:
            if ("profiles", name, "page", key) in lines:
                return lines[("profiles", name, "page", key)]
        return line_of_key(text, ("profiles", name, "page"))

    missing = [k for k in ("format", "language", "font_family") if getattr(cfg, k) is None]
    if missing:
        raise ConfigError(f"profile {name!r} sets no {missing[0]} (and extends no profile that does)", path=path)
    try:
        check_id(name)
    except ValueError as exc:
        raise ConfigError(f"profile name {name!r} {exc}", path=path, line=line_of_key(text, ("profiles", name))) from None
    if cfg.writing == "vertical" and cfg.format != "epub":
        raise ConfigError(
            f"profile {name!r}: vertical writing is for EPUB editions (the PDF engine sets horizontal text only)",
            path=path,
            line=line_of_key(text, ("profiles", name, "writing")) if text else None,
        )
    page = None
    if cfg.format == "pdf":
        page = _page_geometry(name, cfg.page or PageConfig(), path, line)
        if page.marks and page.bleed + page.slug - max(page.bleed, MARK_OFFSET_MM) < MARK_MIN_LENGTH_MM + 1:
            raise ConfigError(
                f"profiles.{name}.page.slug = {page.slug:g}mm leaves no room for crop marks outside the bleed",
                path=path, line=line("slug") or line("marks"),
                hint=f"a slug of {MARK_MIN_LENGTH_MM + 1 + max(0.0, MARK_OFFSET_MM - page.bleed):g}mm at least, or marks = false",
            )
    overrides = {**conversion.overrides, **(cfg.overrides or {})}
    return Profile(
        name=name,
        description=cfg.description or "",
        format=cfg.format,  # type: ignore[arg-type]
        conversion=None if cfg.conversion in (None, "none") else cfg.conversion,
        quotes=cfg.quotes or "curly",
        language=cfg.language,  # type: ignore[arg-type]
        font_family=cfg.font_family,  # type: ignore[arg-type]
        stylesheets=tuple(cfg.stylesheets or ()),
        missing_glyphs=cfg.missing_glyphs or ("error" if cfg.format == "pdf" else "warn"),
        overrides=tuple(sorted(overrides.items())),
        page=page,
        embed_fonts=(cfg.format == "epub") if cfg.embed_fonts is None else cfg.embed_fonts,
        writing=cfg.writing or "horizontal",
        vocabulary=cfg.vocabulary or "news",
        emphasis=cfg.emphasis or "dots",
        punctuation=cfg.punctuation or ("full" if cfg.language.startswith("zh-Hant") else "compress"),  # type: ignore[union-attr]
        fallback_font=_fallback_fonts(cfg.fallback_font),
        page_list=(cfg.page_list or "print") if cfg.format == "epub" else "none",
    )


def _fallback_fonts(value: str | list[str] | None) -> tuple[str, ...] | None:
    """A profile's `fallback_font` as a tuple of families (None: found by fontconfig)."""
    return None if value is None else (value,) if isinstance(value, str) else tuple(value)


def _page_geometry(name: str, p: PageConfig, path: Path | None, line: Callable[..., int | None]) -> PageGeometry:
    """The resolved page of a PDF profile; a text area too small for the body size is refused here, at
    load, not after rendering (the values themselves were checked by PageConfig)."""
    trim_name, width, height = parse_trim(p.trim or "A5")
    margins = {
        key: parse_length(getattr(p, key) or default, "margin")
        for key, default in (("margin_top", "18mm"), ("margin_bottom", "20mm"), ("margin_inner", "20mm"), ("margin_outer", "16mm"))
    }
    font_size = p.font_size or "10.5pt"
    em = parse_length(font_size, "font_size")
    for across, (a, b), side in ((True, ("margin_inner", "margin_outer"), width), (False, ("margin_top", "margin_bottom"), height)):
        room = side - margins[a] - margins[b]
        if room < MIN_TEXT_EMS * em:
            raise ConfigError(
                f"profile {name!r}: margins {margins[a]:g} mm + {margins[b]:g} mm leave {max(room, 0):g} mm "
                f"{'across' if across else 'down'} a page {side:g} mm {'wide' if across else 'high'}; the text "
                f"needs at least {MIN_TEXT_EMS} characters of {font_size} ({MIN_TEXT_EMS * em:.1f} mm)",
                path=path,
                line=line(a, b, "trim", "font_size"),
                hint="make the margins or the font size smaller, or the trim larger",
            )
    return PageGeometry(
        trim_name=trim_name,
        width=width,
        height=height,
        bleed=parse_length(p.bleed or "0mm", "bleed"),
        marks=bool(p.marks),
        font_size=font_size,
        pdf_variant=p.pdf_variant or "none",
        links=bool(p.links),
        latin_spacing=True if p.latin_spacing is None else p.latin_spacing,
        slug=parse_length(p.slug or "10mm", "slug") if p.marks else 0.0,
        signature=p.signature or 2,
        **margins,
    )



"""The converter of one edition: OpenCC with the extra dictionaries, then quotation marks."""

from __future__ import annotations

from functools import cache

import opencc

from ..errors import RenderError
from .configs import build_config, load_opencc
from .dictionaries import book_entries, shipped_entries
from .quotes import corner_quotes
from .settings import ConversionSettings, Entry


class Converter:
    """Converts strings for one edition: OpenCC (with the extra dictionaries), then quotation marks."""

    def __init__(self, settings: ConversionSettings) -> None:
        self.settings = settings
        self.book_entries = book_entries(settings)
        self.zhpress_entries: tuple[Entry, ...] = shipped_entries(settings.region) if settings.region else ()
        if settings.region and settings.vocabulary == "computing":
            self.zhpress_entries += shipped_entries(f"{settings.region}-computing")
        self.config_path: str | None = None
        self._opencc: opencc.OpenCC | None = None
        if settings.opencc_config is not None:
            self.config_path = build_config(settings.opencc_config, self.book_entries + self.zhpress_entries)
            self._opencc = load_opencc(self.config_path)
        self._corner = settings.quotes == "corner"

    def convert_many(self, texts: list[str]) -> list[str]:
        """The OpenCC part for many strings in one call: joined by newlines, which no phrase spans.

        Segments never cross a newline (no dictionary phrase contains one), so the result equals converting
        each string alone, without paying the binding's per-call cost for every paragraph.
        """
        if self._opencc is None:
            return list(texts)
        joined = [t for t in texts if "\n" not in t]
        done = self._opencc.convert("\n".join(joined)).split("\n") if joined else []
        if len(done) != len(joined):  # never expected; stay correct anyway
            done = [self._opencc.convert(t) for t in joined]
        it = iter(done)
        return [next(it) if "\n" not in t else self._opencc.convert(t) for t in texts]

    def convert(self, text: str) -> str:
        """One string in the edition's script and quotation style (also used for book furniture)."""
        if self._opencc is not None and text:
            text = self._opencc.convert(text)
        return corner_quotes(text) if self._corner else text

    def passes(self) -> tuple[opencc.OpenCC, opencc.OpenCC, opencc.OpenCC]:
        """Converters for the report's comparison: OpenCC alone, with zhpress's corrections, with everything."""
        config = self.settings.opencc_config
        if config is None or self._opencc is None:
            raise RenderError("no script conversion: there are no passes to compare")
        base = load_opencc(f"{config}.json")
        zhpress = load_opencc(build_config(config, self.zhpress_entries))
        return base, zhpress, self._opencc


@cache
def get_converter(settings: ConversionSettings) -> Converter:
    """The converter for `settings`, cached per process so each OpenCC config loads once."""
    return Converter(settings)

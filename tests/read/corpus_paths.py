"""Where the reader tests find the default manuscripts and the news corpus."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
DEFAULT_000 = CONTENT / "000_0fae3850b1093c81.txt"
DEFAULT_001 = CONTENT / "001_2287bdb840369872.txt"

_CORPUS_CANDIDATES = [
    Path(os.environ["ZHPRESS_CORPUS"]) if os.environ.get("ZHPRESS_CORPUS") else None,
    ROOT / "tests" / "data" / "corpus" / "news-2026-06",
    ROOT.parent / "shared" / "corpus" / "news-2026-06",
]


def corpus_dir() -> Path | None:
    """The directory of the 28 real news articles, wherever this checkout has it."""
    for candidate in _CORPUS_CANDIDATES:
        if candidate is not None and candidate.is_dir() and any(candidate.glob("*.txt")):
            return candidate
    return None


def corpus_files() -> list[Path]:
    """The corpus files, sorted (empty when the corpus is not available)."""
    directory = corpus_dir()
    return sorted(directory.glob("*.txt")) if directory else []

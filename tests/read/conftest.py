"""Fixtures for the reader tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_paths import corpus_files


@pytest.fixture
def corpus() -> list[Path]:
    """The 28 corpus files (the test is skipped when this checkout lacks the corpus)."""
    files = corpus_files()
    if not files:
        pytest.skip("news corpus not found (set ZHPRESS_CORPUS)")
    return files

"""The worker start-up: WeasyPrint's libraries found by one reading of ldconfig's list, as ctypes finds them."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys

import pytest

from zhpress.pdf import engine

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is Linux's")

NAMES = [
    "gobject-2.0", "pango-1.0", "harfbuzz", "harfbuzz-subset", "fontconfig", "pangoft2-1.0", "c", "m",
    "libgobject-2.0-0", "gobject-2.0-0", "harfbuzz-vector", "no-such-library-anywhere",
]


def test_names_are_found_as_ctypes_finds_them() -> None:
    lookup = engine._ldconfig_names()
    assert lookup is not None
    assert lookup("harfbuzz") is not None  # WeasyPrint's own libraries are installed
    for name in NAMES:
        assert lookup(name) == ctypes.util.find_library(name), name


def test_weasyprint_imports_with_the_lookup_and_the_usual_one_is_put_back() -> None:
    code = (
        "import ctypes.util, sys\n"
        "usual = ctypes.util.find_library\n"
        "from zhpress.pdf import engine\n"
        "engine.import_weasyprint()\n"
        "import weasyprint.text.ffi as ffi\n"
        "assert ctypes.util.find_library is usual\n"
        "assert ffi.harfbuzz_subset is not None and ffi.pangoft2 is not None\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

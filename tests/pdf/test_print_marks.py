"""Crop marks and the slug that carries them: geometry read back from real builds (pikepdf), the
print-on-demand setting without marks, and a slug too narrow for marks refused with its line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pytest

from tests.pdf.test_chunked import inputs
from tests.print_marks import crop_marks, mark_problems
from zhpress.config import load_project
from zhpress.errors import ConfigError
from zhpress.pdf.edition import build_single_pdf

ROOT = Path(__file__).resolve().parents[2]
MM = 72 / 25.4


def project_with(tmp_path: Path, profiles: str = "") -> Path:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "styles", tmp_path / "styles")
    if profiles:
        with (tmp_path / "content" / "book.toml").open("a", encoding="utf-8") as handle:
            handle.write("\n" + profiles)
    return tmp_path


def boxes(page: pikepdf.Page) -> tuple[list[float], list[float], list[float]]:
    return ([float(v) for v in page.mediabox], [float(v) for v in page.bleedbox], [float(v) for v in page.trimbox])


def test_marks_sit_in_a_slug_beyond_the_bleed(tmp_path: Path) -> None:
    """A wider slug and bleed in a profile: media box = bleed box + slug, bleed box = trim + bleed, marks
    from the bleed outwards."""
    root = project_with(tmp_path, '[profiles.wide]\nextends = "print"\npage = { bleed = "5mm", slug = "15mm" }\n')
    data, _ = build_single_pdf(*inputs(root, "wide"))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert mark_problems(pdf, offset=5 * MM) == []
        for page in pdf.pages:
            media, bleed, trim = boxes(page)
            assert [round(b - t, 2) for b, t in zip(bleed, trim, strict=True)] == [round(-5 * MM, 2)] * 2 + [round(5 * MM, 2)] * 2
            assert [round(m - b, 2) for m, b in zip(media, bleed, strict=True)] == [round(-15 * MM, 2)] * 2 + [round(15 * MM, 2)] * 2
            horizontal = [start for start, end, _ in crop_marks(page) if start[1] == end[1]]
            nearest = min(min(abs(x - trim[0]), abs(x - trim[2])) for x, _ in horizontal)
            assert abs(nearest - 5 * MM) < 0.01  # the marks start where the bleed ends


def test_no_marks_no_slug_for_print_on_demand(tmp_path: Path) -> None:
    root = project_with(tmp_path, '[profiles.pod]\nextends = "print"\npage = { marks = false }\n')
    project, profile, *rest = inputs(root, "pod")
    assert profile.page.slug == 0
    data, _ = build_single_pdf(project, profile, *rest)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            media, bleed, trim = boxes(page)
            assert media == bleed and bleed != trim
            assert crop_marks(page) == []


def test_a_slug_too_narrow_for_marks_is_a_user_error(tmp_path: Path) -> None:
    root = project_with(tmp_path, '[profiles.tight]\nextends = "print"\n[profiles.tight.page]\nslug = "1mm"\n')
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    lines = (root / "content" / "book.toml").read_text("utf-8").splitlines()
    assert lines[caught.value.line - 1].startswith("slug")
    assert "slug" in str(caught.value)


def test_signature_is_a_profile_setting_with_known_sizes(tmp_path: Path) -> None:
    root = project_with(tmp_path, '[profiles.offset]\nextends = "print"\npage = { signature = 16 }\n')
    project = load_project(root)
    assert project.profiles["offset"].page.signature == 16
    assert project.profiles["print"].page.signature == 2 and project.profiles["screen"].page.signature == 1
    (root / "content" / "book.toml").write_text(
        (root / "content" / "book.toml").read_text("utf-8").replace("signature = 16", "signature = 7"), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    assert "signature" in str(caught.value) and caught.value.line is not None

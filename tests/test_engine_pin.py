"""The WeasyPrint range pyproject allows is exactly the range the version-guarded hook supports."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from zhpress.errors import RenderError
from zhpress.pdf.weasy70 import guard

ROOT = Path(__file__).resolve().parents[1]


def _weasyprint_requirement() -> Requirement:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    (requirement,) = [Requirement(d) for d in dependencies if Requirement(d).name == "weasyprint"]
    return requirement


def test_pyproject_allows_only_the_versions_the_hook_supports() -> None:
    specifier = _weasyprint_requirement().specifier
    for supported in guard.SUPPORTED_WEASYPRINT:
        assert specifier.contains(supported), f"pyproject refuses supported WeasyPrint {supported}"
    # Neighbours of the supported releases: the last minor before and the next major must be refused.
    for unsupported in ("62.0", "69.9", "71.0", "80.0"):
        assert not specifier.contains(unsupported), f"pyproject allows unsupported WeasyPrint {unsupported}"


def test_the_installed_engine_is_a_supported_one() -> None:
    assert importlib.metadata.version("weasyprint") in guard.SUPPORTED_WEASYPRINT
    guard.check_engine_version()


def test_an_unsupported_engine_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from zhpress.build import BuildRequest, prepare
    from zhpress.config import load_project

    monkeypatch.setattr(guard, "SUPPORTED_WEASYPRINT", ("71.0",))
    project_dir = tmp_path / "book"
    (project_dir / "content").mkdir(parents=True)
    (project_dir / "content" / "book.toml").write_text('[book]\ntitle = "书"\n', "utf-8")
    (project_dir / "content" / "a.txt").write_text("　　正文。\n", "utf-8")
    project = load_project(project_dir)
    import zhpress.build

    def must_not_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the manuscripts were read before the engine was checked")

    monkeypatch.setattr(zhpress.build, "read_book", must_not_read)
    pdf = [p for p in project.profiles.values() if p.format == "pdf"]
    with pytest.raises(RenderError, match="WeasyPrint 71.0"):
        prepare(BuildRequest(project=project, profiles=pdf, out_dir=tmp_path / "dist"))

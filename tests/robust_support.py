"""Helpers for the robustness tests: small book projects, snapshots of dist/, and the checks every
bad-input case shares (exit status 2, one message naming the file, no traceback, dist/ unchanged)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import run_zhpress

BOOK_ID = "robust"
# A short article in the raw archive form: headline block, then paragraphs marked by two ideographic spaces.
RAW_ARTICLE = (
    "测试文章标题\n"
    "　　本报北京4月5日电　这是第一段正文，讲述社区工作人员如何为群众服务。\n"
    "　　这是第二段正文，他们每天早出晚归，守护着大家的平安。\n"
)
MARKDOWN_ARTICLE = "# 测试文章标题\n\n这是第一段正文，讲述社区工作人员如何为群众服务。\n\n这是第二段正文。\n"
# Terminal width for the subprocess: messages are checked whole, not as rich wraps them.
WIDE = {"COLUMNS": "400"}


def book_toml(*, articles: list[dict[str, str]] | None = None, extra: str = "", title: str = "测试书") -> str:
    """A minimal book.toml with the given article entries and extra TOML appended."""
    text = f'[book]\nid = "{BOOK_ID}"\ntitle = "{title}"\ndate = "2022-05-10"\n'
    for entry in articles or []:
        text += "\n[[articles]]\n" + "".join(f'{k} = "{v}"\n' for k, v in entry.items())
    return text + extra


def make_project(
    root: Path,
    manuscripts: dict[str, bytes | str] | None = None,
    *,
    toml: str | None = None,
    css: str | None = None,
    templates: dict[str, str] | None = None,
) -> Path:
    """A book project under `root`: content/ with the manuscripts and book.toml, styles/ with book.css."""
    content = root / "content"
    content.mkdir(parents=True, exist_ok=True)
    if manuscripts is None:
        manuscripts = {"a.txt": RAW_ARTICLE}
    for name, data in manuscripts.items():
        (content / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    (content / "book.toml").write_text(toml if toml is not None else book_toml(), "utf-8")
    styles = root / "styles"
    styles.mkdir(exist_ok=True)
    if css is not None:
        (styles / "book.css").write_text(css, "utf-8")
    for name, text in (templates or {}).items():
        path = styles / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


def seed_dist(root: Path) -> dict[str, bytes]:
    """Put a previous build's files into dist/ and return the snapshot to compare against."""
    dist = root / "dist"
    dist.mkdir(exist_ok=True)
    (dist / f"{BOOK_ID}-ebook.epub").write_bytes(b"previous ebook bytes")
    (dist / f"{BOOK_ID}-print.pdf").write_bytes(b"%PDF-1.7 previous print bytes")
    return snapshot(dist)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones included) with its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(root: Path, *profiles: str) -> subprocess.CompletedProcess[str]:
    """`zhpress build -C root PROFILE...` in a fresh interpreter."""
    return run_zhpress("build", "-C", str(root), *profiles, env=WIDE)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    """Neither stream shows a Python traceback or an internal error."""
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert "internal error" not in stream, stream


def refused(root: Path, *profiles: str, expect: list[str]) -> str:
    """Build and check the shared contract of bad input: exit 2, one error line naming the file and
    everything in `expect`, no traceback, dist/ byte-for-byte as before. Returns the message."""
    before = seed_dist(root)
    result = build(root, *profiles)
    no_traceback(result)
    assert result.returncode == 2, (result.returncode, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    message = " ".join(result.stderr.split())
    for part in expect:
        assert part in message, (part, message)
    assert snapshot(root / "dist") == before
    return message

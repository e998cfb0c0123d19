"""The print copyright page (版权页): the press's fields in the region's order and wording, labels aligned,
the CIP block, and an ISBN with a wrong check digit refused naming book.toml's line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pdfplumber
import pytest

from tests.conftest import run_zhpress
from tests.pdf.test_chunked import inputs
from zhpress.pdf.edition import build_single_pdf

ROOT = Path(__file__).resolve().parents[2]
PRESS = '''isbn = "978-0-306-40615-7"
price = "36.00元"
editor_in_charge = "王小明"
cover_designer = "李华"
print_run = "1—3000册"
cip = """党旗飘扬在上海抗疫一线 / zhpress 编辑组编. —上海：zhpress 示例出版，2022.5
中国版本图书馆 CIP 数据核字（2022）第 000000 号"""
'''


def project(tmp_path: Path, extra: str) -> Path:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "styles", tmp_path / "styles")
    toml = tmp_path / "content" / "book.toml"
    text = toml.read_text("utf-8")
    toml.write_text(text.replace('printing = "2022年5月第1次印刷"\n', 'printing = "2022年5月第1次印刷"\n' + extra), "utf-8")
    return tmp_path


def copyright_rows(data: bytes) -> tuple[list[tuple[str, float, float]], str]:
    """(label, x of its first character, x1 of its last) per row of the copyright page, and the page's text."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = next(p for p in pdf.pages if "Noto Serif CJK" in (p.extract_text() or ""))
        text = page.extract_text()
        rows: dict[float, list[dict]] = {}
        for char in page.chars:
            rows.setdefault(round(char["top"]), []).append(char)
        out = []
        for _, chars in sorted(rows.items()):
            chars.sort(key=lambda c: c["x0"])
            label = [c for c in chars if c["x0"] < chars[0]["x0"] + 4.2 * chars[0]["size"] and c["fontname"] == chars[0]["fontname"]]
            out.append(("".join(c["text"] for c in label), label[0]["x0"], label[-1]["x1"]))
        return out, text


def bare(label: str) -> str:
    return label.replace(" ", "").replace("\u3000", "").replace("\u2002", "")


@pytest.fixture(scope="module")
def press_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project(tmp_path_factory.mktemp("press"), PRESS)


def test_mainland_copyright_page(press_book: Path) -> None:
    data, _ = build_single_pdf(*inputs(press_book))
    rows, text = copyright_rows(data)
    assert "图书在版编目（CIP）数据" in text and "中国版本图书馆 CIP 数据核字" in text
    labels = [label for label, _, _ in rows if bare(label) in {
        "书名", "编者", "责任编辑", "封面设计", "出版发行", "开本", "印张", "字数", "版次", "印次", "印数", "书号", "定价", "字体"}]
    assert [bare(label) for label in labels] == [
        "书名", "编者", "责任编辑", "封面设计", "出版发行", "开本", "印张", "字数", "版次", "印次", "印数", "书号", "定价", "字体"]
    aligned = [(x0, x1) for label, x0, x1 in rows if bare(label) in {bare(other) for other in labels}]
    assert len({round(x0, 1) for x0, _ in aligned}) == 1 and len({round(x1, 1) for _, x1 in aligned}) == 1
    assert "本电子版" not in text and "ISBN 978-0-306-40615-7" in text


def test_taiwan_copyright_page_uses_its_own_labels(press_book: Path) -> None:
    data, _ = build_single_pdf(*inputs(press_book, "print-tw"))
    _, text = copyright_rows(data)
    flat = text.replace(" ", "").replace("\u2002", "").replace("\u3000", "")
    order = [flat.index(label) for label in ("書名", "編者", "責任編輯", "出版者", "出版日期", "定價", "ISBN")]
    assert order == sorted(order)
    assert "出版日期2022年5月" in flat  # the book's date, not its edition statement
    assert "國家圖書館出版品預行編目" in text
    for mainland in ("出版發行", "開本", "書號", "字數"):
        assert mainland not in flat


@pytest.mark.parametrize("isbn", ["978-0-306-40615-8", "0-306-40615-3", "12345"])
def test_a_wrong_isbn_is_a_user_error_naming_the_line(tmp_path: Path, isbn: str) -> None:
    root = project(tmp_path, f'isbn = "{isbn}"\n')
    line = next(n for n, text in enumerate((root / "content" / "book.toml").read_text("utf-8").splitlines(), 1) if text.startswith("isbn"))
    result = run_zhpress("build", "print", "-C", str(root), "--quiet", env={"COLUMNS": "400"})
    assert result.returncode == 2
    assert f"book.toml:{line}" in result.stderr and "ISBN" in result.stderr and "Traceback" not in result.stderr
    assert not (root / "dist").exists() or not any((root / "dist").glob("*.pdf"))

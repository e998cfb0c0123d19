"""Running heads stay on one line: an article's `running_head` (book.toml or front matter), else its
headline cut at a phrase with a warning naming the manuscript; read back from real builds with pdfplumber."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from types import SimpleNamespace

import pdfplumber
import pytest

from tests.pdf.test_chunked import inputs
from zhpress.pdf.chunked import build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf
from zhpress.pdf.sources import running_head

LONG_A = "发挥组织优势　凝聚强大合力　上海市广大党员干部积极投身抗疫一线守护城市平安和人民健康"
LONG_B = "党旗飘扬在上海抗疫一线，广大党员挺身而出承担险重任务，深入社区为群众排忧解难办实事"
LONG_C = "社区防控一线的党员干部日夜坚守岗位为群众排忧解难确保每一户居民的基本生活物资供应充足"
PARAGRAPH = "上海本轮疫情发生以来，全市广大党员干部积极投身抗疫一线，发挥组织优势，凝聚强大合力，守护城市平安。" * 6


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three articles with headlines too long for a running head: one shortened in book.toml, one in its
    front matter, one left to be cut."""
    root = tmp_path_factory.mktemp("heads")
    content = root / "content"
    content.mkdir()
    (content / "book.toml").write_text(
        '[book]\nid = "heads"\ntitle = "长标题测试"\ndate = "2022-05-10"\n\n'
        '[[articles]]\nfile = "a.md"\n\n[[articles]]\nfile = "b.md"\nrunning_head = "党旗飘扬在上海抗疫一线"\n\n'
        '[[articles]]\nfile = "c.md"\n', "utf-8")
    body = "\n\n".join([PARAGRAPH] * 10)
    (content / "a.md").write_text(f"# {LONG_A}\n\n{body}\n", "utf-8")
    (content / "b.md").write_text(f"# {LONG_B}\n\n{body}\n", "utf-8")
    (content / "c.md").write_text(f"+++\nrunning_head = \"社区防控一线\"\n+++\n# {LONG_C}\n\n{body}\n", "utf-8")
    return root


def running_heads(data: bytes) -> list[list[str]]:
    """Per page, the lines of 8 pt text above the type area (the running head), top to bottom."""
    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                if round(char["size"]) == 8 and char["top"] < 130:
                    rows.setdefault(round(char["top"]), []).append(char)
            pages.append(["".join(c["text"] for c in sorted(row, key=lambda c: c["x0"])) for _, row in sorted(rows.items())])
    return pages


def test_running_heads_are_one_line_and_short_forms_are_used(book: Path, caplog: pytest.LogCaptureFixture) -> None:
    args = inputs(book)
    with caplog.at_level(logging.WARNING, logger="zhpress"):
        single, _ = build_single_pdf(*args)
    warnings = [r.getMessage() for r in caplog.records if "running head" in r.getMessage()]
    chunked, _ = build_chunked_pdf(*args, jobs=1, cache=False, chunk_articles=1)
    heads = running_heads(single)
    assert heads == running_heads(chunked)
    assert all(len(lines) <= 1 for lines in heads), heads
    seen = {lines[0] for lines in heads if lines}
    assert seen == {"长标题测试", "发挥组织优势　凝聚强大合力", "党旗飘扬在上海抗疫一线", "社区防控一线"}
    assert len(warnings) == 1 and "content/a.md" in warnings[0] and "running_head" in warnings[0]


def test_a_headline_is_cut_at_its_last_phrase_that_fits() -> None:
    article = SimpleNamespace(running_head=None, headline=LONG_B, source="content/b.md")
    assert running_head(article, len(LONG_B), "print") == LONG_B
    assert running_head(article, 30, "print") == "党旗飘扬在上海抗疫一线，广大党员挺身而出承担险重任务"
    assert running_head(article, 12, "print") == "党旗飘扬在上海抗疫一线"
    assert running_head(article, 8, "print") == "党旗飘扬在上海抗"  # no phrase fits: cut at the measure

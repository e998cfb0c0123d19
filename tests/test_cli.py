"""The command line on the default book: inspect (pinned by a reviewed golden file), convert, profiles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import ROOT, run_zhpress

GOLDEN = ROOT / "tests" / "golden" / "default-book.json"


def test_inspect_json_matches_the_reviewed_golden_file() -> None:
    """The golden file is rewritten only by `nox -s golden`, never by this test."""
    result = run_zhpress("inspect", "--json", "-C", str(ROOT))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(GOLDEN.read_text("utf-8"))


def test_inspect_json_structure_of_the_default_book() -> None:
    data = json.loads(run_zhpress("inspect", "--json", "-C", str(ROOT)).stdout)
    first, second = data["articles"]
    assert first["column"] == "党旗在基层一线高高飘扬"
    assert first["kicker"] == "上海市广大党员干部积极投身抗疫一线"
    assert first["headline"] == "发挥组织优势　凝聚强大合力"
    types = [b["type"] for b in first["blocks"]]
    assert types[:3] == ["editor_note", "editor_note", "note_signature"]
    headings = [(b.get("label"), b["text"]) for b in first["blocks"] if b["type"] == "heading"]
    assert headings == [
        ("下沉干部：", "“群众肯定就是最好褒奖”"),
        ("基层干部：", "“我就是第一责任人”"),
        ("党员志愿者：", "“党员就该闻令而动”"),
    ]
    assert first["blocks"][-1] == {"type": "credit", "text": "版式设计：张芳曼"}
    assert second["column"] == "抓细抓实各项防疫工作"
    assert second["blocks"][0] == {"type": "epigraph", "text": "“关键时刻冲得上去，危难关头豁得出来，才是真正的共产党人。”"}
    assert [b["text"] for b in second["blocks"] if b["type"] == "heading"] == [
        "感染者健康是医护人员天大的事",
        "想方设法解决群众生活困难",
        "党员志愿者在一线亮身份、见行动",
    ]
    assert {"type": "paragraph", "text": "每个感染者的健康，都是医护人员天大的事。"} in second["blocks"]


def test_convert_shows_one_article_as_an_edition_converts_it() -> None:
    result = run_zhpress("convert", "ebook-tw", "fahui-zuzhi-youshi", "-C", str(ROOT))
    assert result.returncode == 0, result.stderr
    assert "幹部" in result.stdout and "「群眾肯定就是最好褒獎」" in result.stdout
    assert "党旗飘扬在上海抗疫一线" not in result.stdout  # only the one article
    hk = run_zhpress("convert", "ebook-hk", "dangqi-piaoyang", "-C", str(ROOT)).stdout
    assert "黨旗飄揚在上海抗疫一線" in hk and "「關鍵時刻" in hk


def test_convert_unknown_article_is_a_user_error() -> None:
    result = run_zhpress("convert", "ebook-tw", "no-such-article", "-C", str(ROOT))
    assert result.returncode == 2
    assert "fahui-zuzhi-youshi" in result.stderr


def test_profiles_lists_every_default_profile_resolved() -> None:
    result = run_zhpress("profiles", "--json", "-C", str(ROOT))
    assert result.returncode == 0, result.stderr
    profiles = json.loads(result.stdout)
    assert set(profiles) >= {"ebook", "ebook-tw", "ebook-hk", "print", "print-tw", "print-hk", "screen"}
    assert profiles["print-tw"]["page"]["bleed"] == 3.0 and profiles["print-tw"]["conversion"] == "s2tw"
    assert profiles["screen"]["page"]["bleed"] == 0.0 and profiles["screen"]["page"]["pdf_variant"] == "pdf/ua-1"
    assert profiles["ebook-hk"]["language"] == "zh-Hant-HK" and profiles["ebook-hk"]["font_family"] == "Noto Serif CJK HK"


def test_inspect_outline_shows_what_containers_hold(tmp_path: Path) -> None:
    """A list, a table or a quotation has no text of its own: the outline shows the texts inside it, a
    figure its file, the notes after the blocks and the article's role."""
    book = tmp_path / "book"
    shutil.copytree(ROOT / "tests" / "data" / "rich-book", book, ignore=shutil.ignore_patterns(".zhpress-cache", "dist"))
    result = run_zhpress("inspect", "-C", str(book))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    table = next(line for line in lines if " table " in line)
    assert "桥名 / 建成年份" in table
    assert any(" list " in line and "梁桥，最简单；" in line for line in lines)
    assert any(" figure " in line and "content/images/arch.png" in line for line in lines)
    assert any(" footnote " in line and "小石桥建于清代" in line for line in lines)
    assert any(line.startswith("preface ") and line.endswith("preface") for line in lines)

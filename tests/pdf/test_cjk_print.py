"""Chinese print typography in real WeasyPrint PDFs: justification, punctuation, line breaking, text layer.

Positions are read with pdfplumber (x0/x1 of each drawn glyph), text with pdftotext (see conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhpress.chars import is_han
from zhpress.errors import RenderError
from zhpress.pdf import weasy70

EM = 10.5
TOLERANCE = 0.5  # pt
NEVER_FIRST = "、。，．：；？！）」』》〉】”’"
NEVER_LAST = "（「『《〈【“‘"


@pytest.fixture(scope="module")
def sample(pdfkit) -> list[str]:
    """About 1500 characters of the default manuscripts: quotes, dashes, ellipses, numbers with units."""
    paragraphs, total = [], 0
    for paragraph in pdfkit.paragraphs():
        paragraphs.append(paragraph)
        total += len(paragraph)
        if total > 1500:
            break
    return paragraphs


@pytest.fixture(scope="module", params=[None, 50], ids=["A5", "50mm"])
def rendered(request, pdfkit, sample):
    """(column width in pt, PDF) for the sample set at A5 and in a 50 mm column, with the hook."""
    width = (request.param or 108) * pdfkit.MM
    return width, pdfkit.render(pdfkit.html(sample, width_mm=request.param))


def test_non_final_lines_end_flush_with_the_right_margin(pdfkit, rendered):
    width, pdf = rendered
    lines = pdfkit.non_final(pdfkit.lines(pdf), pdfkit.LEFT)
    assert len(lines) > 20
    right = pdfkit.LEFT + width
    ragged = [(round(right - line.right, 2), line.text) for line in lines if abs(right - line.right) > TOLERANCE]
    assert ragged == []


def test_without_the_hook_chinese_is_ragged(pdfkit, sample):
    """Control: WeasyPrint alone stretches only spaces, so the same check fails."""
    lines = pdfkit.non_final(pdfkit.lines(pdfkit.render(pdfkit.html(sample), hook=False)), pdfkit.LEFT)
    right = pdfkit.LEFT + 108 * pdfkit.MM
    assert sum(abs(right - line.right) <= TOLERANCE for line in lines) < len(lines) / 2


def test_line_breaking_rules_hold(pdfkit, rendered):
    _, pdf = rendered
    lines = pdfkit.lines(pdf)
    for line, following in zip(lines, lines[1:], strict=False):
        assert line.text[-1] not in NEVER_LAST, line.text
        assert following.text[0] not in NEVER_FIRST, following.text
        for mark in "—…":
            assert not (line.text.endswith(mark) and following.text.startswith(mark)), (line.text, following.text)
        assert not (line.text[-1].isdigit() and is_han(following.text[0])), (line.text, following.text)


def test_number_and_unit_stay_together(pdfkit):
    """`72万` placed where WeasyPrint alone breaks it: the print layout keeps it on one line (a no-break
    attribute; without the hook nothing does)."""
    text = "一二三四五六七八九十72万余名党员报到参加社区工作。"
    plain = pdfkit.lines(pdfkit.render(pdfkit.html([text], width_mm=50, use_typeset=False), hook=False))
    assert plain[0].text.endswith("72"), "control: the unprotected number should break before its unit"
    lines = pdfkit.lines(pdfkit.render(pdfkit.html([text], width_mm=50)))
    assert all("72万" in line.text or "72" not in line.text for line in lines), [line.text for line in lines]


def _gap_after(line, index: int) -> float:
    """Distance from the end of the full-width character at `index` to the start of the next one."""
    return line.chars[index + 1]["x0"] - line.chars[index]["x1"]


@pytest.mark.parametrize("pair", ["。”", "，“", "”“", "》、", "）、"])
def test_adjacent_punctuation_takes_one_and_a_half_em(pdfkit, pair):
    text = f"前文字甲{pair}乙后文字"
    for use_typeset, expected in ((True, 1.5), (False, 2.0)):  # the plain text is the control
        line = pdfkit.lines(pdfkit.render(pdfkit.html([text], use_typeset=use_typeset, align="left")))[0]
        chars = [char["text"] for char in line.chars]
        before, after = chars.index("甲"), chars.index("乙")
        pair_width = line.chars[after]["x0"] - line.chars[before]["x1"]
        assert pair_width == pytest.approx(expected * EM, abs=0.3), (pair, use_typeset)


def test_opening_mark_at_paragraph_start_sits_at_the_indent(pdfkit):
    for use_typeset, expected in ((True, 2.5), (False, 3.0)):
        line = pdfkit.lines(pdfkit.render(pdfkit.html(["“开头的引号”后面的文字。"], use_typeset=use_typeset)))[0]
        first_han = next(char for char in line.chars if char["text"] == "开")
        assert first_han["x0"] - pdfkit.LEFT == pytest.approx(expected * EM, abs=0.3), use_typeset


def _han_gap_spaces(extracted: str, source: str) -> list[str]:
    """Spaces pdftotext put between two Han characters where the source has none."""
    source_pairs = {match.group(1) + match.group(2) for match in re.finditer(r"(\S)\s+(\S)", source)}
    found = []
    for match in re.finditer(r"(\S) +(\S)", extracted):
        first, second = match.group(1), match.group(2)
        if is_han(first) and is_han(second) and first + second not in source_pairs:
            found.append(extracted[max(0, match.start() - 5): match.end() + 5])
    return found


def test_text_layer_is_the_manuscript_text(pdfkit, sample):
    pdf = pdfkit.render(pdfkit.html(sample))
    extracted = pdfkit.pdftotext(pdf)
    source = "".join(sample)
    assert re.sub(r"\s", "", extracted) == re.sub(r"\s", "", source)
    # Lines are joined without a separator: Chinese has no word spaces at line ends.
    assert _han_gap_spaces(extracted.replace("\n", "").replace("\f", ""), source) == []
    drawn_spaces = sum(char["text"] == " " for line in pdfkit.lines(pdf) for char in line.chars)
    assert drawn_spaces <= source.count(" ") + source.count("\u00a0")


LATIN_TEXT = (
    "今年的GDP增速达到5.2%，比去年提高了0.8个百分点。研究团队使用Python和WeasyPrint生成PDF文件，"
    "并在iPhone 15与Android手机上测试了EPUB阅读效果。会议于2024年3月在北京举行，共有120名代表参加，"
    "其中来自UNESCO的专家介绍了OpenType字体特性halt与palt的用法。COVID病毒检测数据显示阳性率下降，"
    "ISO标准12647规定了胶印的色彩条件，Fogra提供了FOGRA39特性数据。"
)


def test_latin_gets_a_quarter_em_next_to_han(pdfkit):
    for latin_spacing, expected in ((True, 0.25), (False, 0.0)):
        lines = pdfkit.lines(pdfkit.render(
            pdfkit.html([LATIN_TEXT], latin_spacing=latin_spacing, align="left")))
        gaps = []
        for line in lines:
            for index in range(len(line.chars) - 1):
                first, second = line.chars[index]["text"], line.chars[index + 1]["text"]
                if (is_han(first) and second.isascii() and second.isalnum()) or (
                        first.isascii() and first.isalnum() and is_han(second)):
                    gaps.append(_gap_after(line, index))
        assert len(gaps) > 20
        assert all(gap == pytest.approx(expected * EM, abs=0.3) for gap in gaps), (latin_spacing, gaps)


CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "news-2026-06"


def flanked_runs(line) -> list[tuple[str, float, float]]:
    """Each run of Latin letters, digits and signs with a Han character on both sides on one line: (the
    run, the gap before it, the gap after it)."""
    chars, runs, index = line.chars, [], 1
    while index < len(chars) - 1:
        if chars[index]["text"].isascii() and chars[index]["text"] != " " and is_han(chars[index - 1]["text"]):
            end = index
            while end < len(chars) - 1 and chars[end + 1]["text"].isascii():
                end += 1
            if end < len(chars) - 1 and is_han(chars[end + 1]["text"]) and chars[end]["text"] != " ":
                run = "".join(c["text"] for c in chars[index:end + 1])
                runs.append((run, chars[index]["x0"] - chars[index - 1]["x1"], chars[end + 1]["x0"] - chars[end]["x1"]))
            index = end + 1
        else:
            index += 1
    return runs


def test_latin_between_han_is_spaced_alike_on_both_sides(pdfkit):
    """`占50%以上`: a quarter em (plus the line's justification) before the run and after it, the sign
    that closes a number included; measured on every such run of the shared news articles."""
    paragraphs = []
    for path in sorted(CORPUS.glob("*.txt")):
        paragraphs += [p.strip() for p in path.read_text("utf-8").split("\u3000\u3000") if re.search(r"[\u4e00-\u9fff][0-9A-Za-z]", p)]
    runs = [run for line in pdfkit.lines(pdfkit.render(pdfkit.html(paragraphs))) for run in flanked_runs(line)]
    assert len(runs) > 50 and any(run.endswith("%") for run, _, _ in runs)
    for run, before, after in runs:
        if not any(char.isalnum() for char in run):
            continue  # `元/吨`: no Latin run
        assert abs(before - after) < 0.35, (run, before, after)
        if run[0].isalnum() and (run[-1].isalnum() or run[-1] in "%"):  # not `(001229.SZ)`: no space by brackets
            assert before > 0.25 * EM - 0.3, (run, before, after)


@pytest.mark.parametrize("width_mm", [40, 47, 55, 63])
def test_no_latin_spacing_at_line_edges(pdfkit, width_mm):
    pdf = pdfkit.render(pdfkit.html([LATIN_TEXT, LATIN_TEXT[7:]], width_mm=width_mm))
    lines = pdfkit.lines(pdf)
    right = pdfkit.LEFT + width_mm * pdfkit.MM
    non_final = pdfkit.non_final(lines, pdfkit.LEFT)
    starts = [line for line in non_final[1:] if line.text[0].isascii() and line.chars[0]["x0"] - pdfkit.LEFT < EM]
    for line in starts:
        assert line.chars[0]["x0"] == pytest.approx(pdfkit.LEFT, abs=0.2), line.text
    for line in non_final:
        assert line.right == pytest.approx(right, abs=TOLERANCE), line.text


def test_latin_at_line_edges_occurs_in_the_edge_test(pdfkit):
    """Guard for the test above: some line of those widths does start and some does end with Latin."""
    starts = ends = 0
    for width_mm in (40, 47, 55, 63):
        lines = pdfkit.lines(pdfkit.render(pdfkit.html([LATIN_TEXT, LATIN_TEXT[7:]], width_mm=width_mm)))
        starts += sum(line.text[0].isascii() and line.text[0].isalnum() for line in lines[1:])
        ends += sum(line.text[-1].isascii() and line.text[-1].isalnum() for line in lines[:-1])
    assert starts and ends


def test_hook_installs_and_restores_weasyprint():
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    before = (inline.justify_line, inline.remove_last_whitespace, line_break.Layout.set_text)
    with weasy70.cjk_justification():
        with weasy70.cjk_justification():
            assert inline.justify_line is not before[0]
        assert inline.justify_line is not before[0]
    assert (inline.justify_line, inline.remove_last_whitespace, line_break.Layout.set_text) == before


def test_hook_refuses_another_weasyprint_version(monkeypatch):
    import weasyprint

    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with pytest.raises(RenderError, match="71.0"):
        weasy70.install()


def test_hook_refuses_changed_internals(monkeypatch):
    from weasyprint.layout import inline

    monkeypatch.setattr(inline, "justify_line", lambda context, line: None)
    with pytest.raises(RenderError, match="justify_line"):
        weasy70.install()


def test_leader_dots_are_one_text_run_at_the_same_places(pdfkit):
    """Contents leaders: with the hook, the dots of an entry are drawn as one run of text, not a box a dot
    (the cost of a long contents), and every dot sits where WeasyPrint alone puts it."""
    import io

    import pdfplumber
    import pikepdf

    entries = "".join(f'<li><a href="#e{i}">第{i}篇　党旗飘扬在上海抗疫一线</a></li>' for i in range(1, 6))
    source = (
        "<html lang='zh-Hans'><head><style>@page { size: 148mm 210mm; margin: 20mm; }"
        "body { font-family: 'Noto Serif CJK SC'; font-size: 10.5pt; } ol { list-style: none; padding: 0; }"
        "a::after { content: leader('.') '12'; }</style></head>"
        f"<body><ol>{entries}</ol>" + "".join(f'<p id="e{i}">正文</p>' for i in range(1, 6)) + "</body></html>"
    )

    def dots_and_runs(pdf: bytes) -> tuple[list[tuple[float, float]], int]:
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            dots = sorted((round(c["top"], 1), round(c["x0"], 2)) for c in document.pages[0].chars if c["text"] == ".")
        with pikepdf.open(io.BytesIO(pdf)) as document:
            runs = sum(str(op) in ("Tj", "TJ") for _, op in pikepdf.parse_content_stream(document.pages[0]))
        return dots, runs

    hooked, hooked_runs = dots_and_runs(pdfkit.render(source))
    plain, plain_runs = dots_and_runs(pdfkit.render(source, hook=False))
    assert len(plain) > 5 * 30  # dozens of dots an entry
    assert len(hooked) == len(plain)
    assert all(a[0] == b[0] and abs(a[1] - b[1]) < 0.05 for a, b in zip(hooked, plain, strict=True))
    assert plain_runs - hooked_runs >= len(plain) - 5  # one run an entry instead of one a dot

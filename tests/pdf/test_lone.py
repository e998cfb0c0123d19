"""No paragraph ends with one character alone on its last line (孤字), read from real WeasyPrint PDFs.

The paragraphs are cut from the default manuscripts at lengths chosen against a control rendered with the
justification hook but without the lone-character rule (`zhpress.pdf.lone`): in the control many end in a
lone character; with the rule none does, and the text layer is the manuscript's, in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pdf.test_chunked import inputs, make_project
from zhpress.chars import is_han
from zhpress.pdf import weasy70
from zhpress.pdf.chunked import build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf

EM = 10.5


def letters(text: str) -> int:
    """Letters and digits in a line (Han included); punctuation and spaces do not count."""
    return sum(unicodedata.category(char)[0] in "LN" for char in text)


def lone_lines(lines) -> list[str]:
    return [line.text for line in lines if letters(line.text) == 1]


@contextmanager
def without_rule() -> Iterator[None]:
    """The patches as before the rule: install() leaves WeasyPrint's line iteration alone."""
    rule = {target: weasy70.PATCHES.pop(target) for target in ("layout.block:iter_line_boxes", "layout.inline:split_inline_box")}
    try:
        yield
    finally:
        weasy70.PATCHES.update(rule)


def paragraphs_of(lines, left: float) -> list[list]:
    """The lines grouped by paragraph: each paragraph opens with a line at the 2-em indent."""
    groups: list[list] = []
    for line in lines:
        if line.chars[0]["x0"] - left > EM or not groups:
            groups.append([])
        groups[-1].append(line)
    return groups


@pytest.fixture(scope="module")
def chosen(pdfkit) -> list[str]:
    """Manuscript paragraphs cut one character after a line end of the control and closed by `。` (so
    that, the lines before breaking alike, the character and the mark are left alone on the last line), of
    which those the control sets so, and as many others."""
    source = [p for p in pdfkit.paragraphs()[:40] if " " not in p]
    with without_rule():
        groups = paragraphs_of(pdfkit.lines(pdfkit.render(pdfkit.html(source))), pdfkit.LEFT)
    assert ["".join(line.text for line in group) for group in groups] == source
    cut = []
    for paragraph, group in zip(source, groups, strict=True):
        end = 0
        for line in group[:-1]:
            end += len(line.text)
            if is_han(paragraph[end]) and end + 1 < len(paragraph):
                cut.append(paragraph[: end + 1] + "。")
    with without_rule():
        groups = paragraphs_of(pdfkit.lines(pdfkit.render(pdfkit.html(cut))), pdfkit.LEFT)
    assert len(groups) == len(cut)
    lone_ones = [text for text, group in zip(cut, groups, strict=True) if letters(group[-1].text) == 1]
    others = [text for text, group in zip(cut, groups, strict=True) if letters(group[-1].text) > 1]
    return lone_ones + others[: len(lone_ones)]


def test_the_control_has_lone_last_characters(pdfkit, chosen) -> None:
    with without_rule():
        found = lone_lines(pdfkit.lines(pdfkit.render(pdfkit.html(chosen))))
    assert len(found) >= 8, found


def test_no_paragraph_ends_in_a_lone_character(pdfkit, chosen) -> None:
    pdf = pdfkit.render(pdfkit.html(chosen))
    lines = pdfkit.lines(pdf)
    assert lone_lines(lines) == []
    assert sum(line.chars[0]["x0"] - pdfkit.LEFT > EM for line in lines) == len(chosen)  # one indent each
    # the lines that gave up a character are still justified flush with the measure
    right = 128 * pdfkit.MM  # the A5 page's right margin
    ragged = [line.text for line in pdfkit.non_final(lines, pdfkit.LEFT) if abs(right - line.right) > 0.5]
    assert ragged == []
    # a last line that took the character back ends at the measure but for the blank half of its final mark
    assert all(line.right - right < EM / 2 + 0.01 for line in lines)


def test_text_layer_holds_every_character_in_order(pdfkit, chosen) -> None:
    extracted = pdfkit.pdftotext(pdfkit.render(pdfkit.html(chosen)))
    assert re.sub(r"\s", "", extracted) == re.sub(r"\s", "", "".join(chosen))
    # no justification gap wide enough for pdftotext to read as a word space between two Han characters
    joined = extracted.replace("\n", "").replace("\f", "")
    assert not re.search(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]", joined)


def by_text(lines, texts: list[str]) -> list[list]:
    """The lines grouped by the paragraph (of `texts`, in order) whose characters they hold."""
    groups: list[list] = []
    pending = list(lines)
    for text in texts:
        group, joined = [], ""
        while pending and len(joined) < len(text):
            group.append(pending.pop(0))
            joined += group[-1].text
        assert joined == text
        groups.append(group)
    return groups


def test_centred_lines_are_balanced(pdfkit) -> None:
    """Centred text (an epigraph, a headline): no short last line, the lines of a paragraph about equal."""
    texts = [paragraph[: 32 + 5 * i].rstrip("，、：“（《") + "。”" for i, paragraph in enumerate(pdfkit.paragraphs()[:12])]
    texts = [text for text in texts if " " not in text]
    source = pdfkit.html(texts, align="center").replace("text-indent: 2em", "text-indent: 0")
    with without_rule():
        control = by_text(pdfkit.lines(pdfkit.render(source)), texts)
    balanced = by_text(pdfkit.lines(pdfkit.render(source)), texts)

    def spread(group) -> float:
        widths = [line.right - line.chars[0]["x0"] for line in group]
        return max(widths) - min(widths)

    assert [len(group) for group in balanced] == [len(group) for group in control]
    assert max(spread(group) for group in control) > 12 * EM  # the control has short last lines
    assert [round(spread(group) / EM, 1) for group in balanced if spread(group) > 2.5 * EM] == []


def test_rule_is_installed_and_removed_with_the_hook() -> None:
    from weasyprint.layout import block, inline

    from zhpress.pdf.weasy70 import cjk_justification

    before = (block.iter_line_boxes, inline.split_inline_box)
    with cjk_justification():
        assert block.iter_line_boxes is not before[0] and inline.split_inline_box is not before[1]
    assert (block.iter_line_boxes, inline.split_inline_box) == before


def test_chunked_and_single_pass_books_have_no_lone_character(pdfkit, tmp_path: Path) -> None:
    """A book rendered in forked workers, chunk by chunk, keeps the rule (and equals the single pass)."""
    book = make_project(tmp_path / "book", [700, 900, 600, 800])
    args = inputs(book)
    single, _ = build_single_pdf(*args)
    chunked, _ = build_chunked_pdf(*args, jobs=2, cache=False, chunk_articles=2, folio_group=2)
    for data in (single, chunked):
        lines = [line for line in pdfkit.lines(data) if line.chars[0]["size"] > 10]
        assert len(lines) > 100
        assert lone_lines(lines) == []
    with without_rule():
        control, _ = build_single_pdf(*args)
    assert lone_lines([line for line in pdfkit.lines(control) if line.chars[0]["size"] > 10])


@pytest.mark.parametrize(("lang", "setting", "full"), [
    ("zh-Hans", "full", True), ("zh-Hans", "compress", False), ("zh-Hant-TW", "compress", False),
    ("zh-Hant-TW", None, True), ("zh-Hans", None, False),
])
def test_the_rule_compresses_marks_as_the_editions_punctuation_setting_says(lang: str, setting: str | None, full: bool) -> None:
    """The rule's last step (marks in half their box) follows the profile's `punctuation` (the page rules'
    `--zh-punctuation`), the language tag only when no edition says."""
    import weasyprint
    from weasyprint.layout import block

    from zhpress.pdf.weasy70 import lone

    seen: list[bool] = []
    laid_out = block.iter_line_boxes

    def watch(*args):  # type: ignore[no-untyped-def]
        seen.append(lone.centred_marks(args[5].style))
        return laid_out(*args)

    style = f' style="--zh-punctuation: {setting}"' if setting else ""
    block.iter_line_boxes = watch
    try:
        weasyprint.HTML(string=f'<html lang="{lang}"{style}><p>“你好。”</p></html>').render()
    finally:
        block.iter_line_boxes = laid_out
    assert seen and set(seen) == {full}

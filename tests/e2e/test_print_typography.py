"""Glyph positions on the default book's print PDF: flush justification, punctuation compression, line breaking."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pytest

from zhpress.chars import is_han
from zhpress.typeset import CLOSING_MARKS, OPENING_MARKS

MM = 72 / 25.4
EM = 10.5  # the print profiles' body size in points
BLEED, INNER, OUTER, TOP, BOTTOM = 3 * MM, 20 * MM, 16 * MM, 18 * MM, 20 * MM
SLUG = 10 * MM  # the crop marks' strip beyond the bleed: the media box is trim + bleed + slug
PAIRS = {"。”", "，“", "”“", "》、", "）、", "’”", "”，", "”。", "：“"}


@dataclass
class Line:
    page: int
    chars: list[dict]

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)


def body_lines(path: Path) -> tuple[list[Line], list[tuple[float, float]]]:
    """Lines inside the type area of every body page, with each page's left and right margin."""
    lines: list[Line] = []
    margins: list[tuple[float, float]] = []
    with pdfplumber.open(path) as pdf:
        first_body = next(i for i, p in enumerate(pdf.pages) if "上海本轮疫情" in (p.extract_text() or "")
                          or "上海本輪疫情" in (p.extract_text() or ""))
        for index, page in enumerate(pdf.pages):
            right_hand = index % 2 == 0
            # pdfplumber's x runs from the trim box's origin (the media box starts at -bleed - slug)
            left = INNER if right_hand else OUTER
            right = float(page.width) - 2 * (BLEED + SLUG) - (OUTER if right_hand else INNER)
            margins.append((left, right))
            if index < first_body:
                continue
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                # pdfplumber's top is the media box's height minus y: the trim's top edge is at 2 * (bleed + slug)
                if 2 * (BLEED + SLUG) + TOP - 1 < char["top"] < float(page.height) - BOTTOM:
                    rows.setdefault(round(char["top"], 0), []).append(char)
            for top in sorted(rows):
                lines.append(Line(index, sorted(rows[top], key=lambda c: c["x0"])))
    return lines, margins


def han(char: dict) -> bool:
    return len(char["text"]) == 1 and is_han(char["text"])


@pytest.fixture(scope="module")
def print_lines(built: Path) -> tuple[list[Line], list[tuple[float, float]]]:
    return body_lines(built / "dangqi-shanghai-print.pdf")


def paragraph_lines(lines: list[Line], margins: list[tuple[float, float]]) -> list[tuple[Line, bool]]:
    """Body paragraph lines (starting at the margin or at the 2-em indent) and whether each is non-final."""
    out = []
    for line, following in zip(lines, [*lines[1:], None], strict=True):
        left, _ = margins[line.page]
        start = line.chars[0]["x0"] - left
        if not (abs(start) < 0.6 or abs(start - 2 * EM) < 0.6 or abs(start - 1.5 * EM) < 0.6):
            continue
        non_final = (
            following is not None
            and following.page == line.page
            and abs(following.chars[0]["x0"] - left) < 0.6
        )
        out.append((line, non_final))
    return out


def test_every_non_final_body_line_ends_flush(print_lines) -> None:
    lines, margins = print_lines
    checked = [(line, margins[line.page][1] - line.chars[-1]["x1"]) for line, non_final in paragraph_lines(lines, margins) if non_final]
    assert len(checked) > 120  # the default book has about 150 such lines
    ragged = [(line.page + 1, line.text[-12:], round(gap, 2)) for line, gap in checked if abs(gap) > 0.5]
    assert ragged == []


def pair_widths(lines: list[Line], pairs: set[str]) -> list[tuple[float, float, Line, str]]:
    """Each adjacent mark pair followed by a Han character on a line of five Han gaps or more: (the pair's
    advance, the line's justification space per gap, the line, the pair)."""
    found = []
    for line in lines:
        chars = line.chars
        advances = [b["x0"] - a["x0"] for a, b in zip(chars, chars[1:], strict=False) if han(a) and han(b)]
        if len(advances) < 5:
            continue
        delta = statistics.median(advances) - EM  # the justification's extra space per gap on this line
        for i in range(len(chars) - 2):
            pair = chars[i]["text"] + chars[i + 1]["text"]
            if pair in pairs and han(chars[i + 2]):
                found.append((chars[i + 2]["x0"] - chars[i]["x0"], delta, line, pair))
    return found


def test_adjacent_punctuation_takes_one_and_a_half_em(print_lines) -> None:
    lines, _ = print_lines
    measured = pair_widths(lines, PAIRS)
    for width, delta, line, pair in measured:
        assert abs(width - (1.5 * EM + 2 * delta)) < 0.6, (line.page + 1, line.text, pair, width)
    assert len(measured) >= 20


CORNER_PAIRS = {"。」", "，「", "」「", "：「", "」，", "」。", "」、", "》、", "）、", "』」"}


@pytest.mark.parametrize("profile", ["print-tw", "print-hk"])
def test_traditional_editions_set_each_mark_in_a_full_square(built: Path, profile: str) -> None:
    """`punctuation = "full"` (the traditional print profiles' default): a pair takes two em."""
    lines, _ = body_lines(built / f"dangqi-shanghai-{profile}.pdf")
    measured = pair_widths(lines, CORNER_PAIRS)
    for width, delta, line, pair in measured:
        assert abs(width - (2 * EM + 2 * delta)) < 0.6, (line.page + 1, line.text, pair, width)
    assert len(measured) >= 20


def contents_pairs(path: Path, pair: str) -> list[tuple[float, float, str]]:
    """On the contents page: (advance of `pair`, the glyphs' size, the line) for each occurrence."""
    found = []
    with pdfplumber.open(path) as pdf:
        page = next(p for p in pdf.pages if (p.extract_text() or "").replace(" ", "").lstrip().startswith(("目录", "目錄")))
        rows: dict[float, list[dict]] = {}
        for char in page.chars:
            rows.setdefault(round(char["top"], 0), []).append(char)
        for row in rows.values():
            chars = sorted(row, key=lambda c: c["x0"])
            text = "".join(c["text"] for c in chars)
            for i in range(len(chars) - 2):
                if chars[i]["text"] + chars[i + 1]["text"] == pair:
                    found.append((chars[i + 2]["x0"] - chars[i]["x0"], chars[i]["size"], text))
    return found


@pytest.mark.parametrize(("profile", "pair", "ems"), [("print", "：“", 1.5), ("print-tw", "：「", 2.0)])
def test_contents_page_sets_pairs_like_the_body(built: Path, profile: str, pair: str, ems: float) -> None:
    """The contents entries go through the same typesetting: `下沉干部：“…` compressed in simplified
    editions, full squares in traditional ones."""
    measured = contents_pairs(built / f"dangqi-shanghai-{profile}.pdf", pair)
    assert measured, "no such pair on the contents page"
    for width, size, text in measured:
        assert abs(width - ems * size) < 0.3, (text, width, size)


def test_no_forbidden_punctuation_at_line_edges(print_lines) -> None:
    lines, margins = print_lines
    for line, _ in paragraph_lines(lines, margins):
        assert line.text[0] not in CLOSING_MARKS + "…—", (line.page + 1, line.text)
        assert line.text[-1] not in OPENING_MARKS, (line.page + 1, line.text)
        # a dash or ellipsis pair is never split: a line never starts or ends with half of one
        for mark in "—…":
            assert not (line.text.startswith(mark) and not line.text.startswith(mark * 2)), line.text
            assert not (line.text.endswith(mark) and not line.text.endswith(mark * 2)), line.text


@pytest.mark.parametrize("profile", ["print", "print-tw"])
def test_no_paragraph_ends_in_a_lone_character(built: Path, profile: str) -> None:
    """孤字: no body line holds a single letter or Han character (`作。`, `影……` once did, three per edition)."""
    lines, _ = body_lines(built / f"dangqi-shanghai-{profile}.pdf")
    assert len(lines) > 200
    lone = [(line.page + 1, line.text) for line in lines if sum(c["text"].isalnum() for c in line.chars) == 1]
    assert lone == []

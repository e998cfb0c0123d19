"""The body's line grid, read from real WeasyPrint PDFs with pdfplumber (baselines) and pypdf (page labels).

Every body line sits a whole number of pitches (the root's line height) below the first line's baseline;
every body page that is neither an article's last page nor followed by a page opening with a heading ends
on the same last baseline; a paragraph whose last line alone would go over is set one line longer (伸行)
where the justification cap allows. Controls rendered without the grid, or without the 伸行 step, show that
each measure can fail.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
import pypdf
import pytest

from tests.pdf.test_chunked import inputs, make_project
from zhpress.pdf.chunked import build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf
from zhpress.pdf.weasy70 import grid

TOLERANCE = 0.5  # pt


@dataclass
class Page:
    """One body page: the baselines (pt from the top) of its body-size lines and their left edges."""

    label: str
    baselines: list[float]
    lefts: list[float]
    heading_at_top: bool
    notes: bool


@dataclass
class Grid:
    """What a PDF's body pages measure."""

    pitch: float
    pages: list[Page] = field(default_factory=list)

    def off_grid(self) -> list[tuple[str, float]]:
        """Body lines whose baseline is not a whole number of pitches below the common first baseline."""
        first = Counter(page.baselines[0] for page in self.pages if page.baselines).most_common(1)[0][0]
        out = []
        for page in self.pages:
            for baseline in page.baselines:
                steps = (baseline - first) / self.pitch
                if abs(steps - round(steps)) * self.pitch > TOLERANCE:
                    out.append((page.label, baseline))
        return out

    def full_pages(self) -> list[tuple[Page, Page]]:
        """Body pages followed by a body page of the same article that does not open with a heading, and
        with no notes at their foot: the pages that must end on the common last baseline."""
        return [(page, following) for page, following in zip(self.pages, self.pages[1:], strict=False)
                if page.baselines and following.baselines and not following.heading_at_top and not page.notes]

    def short_pages(self) -> list[tuple[str, float]]:
        """Full pages whose last baseline is not the common one (label, how far above it)."""
        lasts = Counter(round(page.baselines[-1], 1) for page, _ in self.full_pages())
        common = lasts.most_common(1)[0][0]
        return [(page.label, round(common - page.baselines[-1], 2)) for page, _ in self.full_pages()
                if abs(page.baselines[-1] - common) > TOLERANCE]

    def widows(self) -> int:
        """Pages whose first body line is a paragraph's last one (flush left, the next line indented)."""
        count = 0
        for _page, following in self.full_pages():
            lefts = following.lefts
            if len(lefts) >= 2 and abs(lefts[0] - min(lefts)) < 1 and lefts[1] - min(lefts) > 15:
                count += 1
        return count


def measure(pdf: bytes) -> Grid:
    labels = list(pypdf.PdfReader(io.BytesIO(pdf)).page_labels)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        sizes = Counter(round(char["size"], 2) for page in document.pages for char in page.chars)
        body = sizes.most_common(1)[0][0]
        measured = Grid(pitch=body * 1.75)
        for label, page in zip(labels, document.pages, strict=True):
            if not label.isdigit():
                continue
            rows: dict[float, float] = {}
            for char in page.chars:
                if abs(char["size"] - body) < 0.01 and char["text"].strip():
                    baseline = round(page.height - char["matrix"][5], 2)
                    rows[baseline] = min(rows.get(baseline, char["x0"]), char["x0"])
            big = [char["top"] for char in page.chars if char["size"] > body * 1.05]
            first = min(rows, default=page.height)
            measured.pages.append(Page(
                label, sorted(rows), [rows[key] for key in sorted(rows)],
                heading_at_top=bool(big) and min(big) < first,
                notes=any(6 < char["size"] < body * 0.85 for char in page.chars if char["top"] > page.height / 2),
            ))
    return measured


def without_grid(book: Path) -> None:
    """The book's own stylesheet turns the grid off (and restores widows and orphans of two)."""
    css = book / "styles" / "book.css"
    css.write_text(css.read_text("utf-8") + "\n.bodymatter { --zh-line-grid: none; widows: 2; orphans: 2; }\n", "utf-8")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A six-article book, single pass and chunked by two workers, and the control without the grid."""
    sizes = [2600, 3400, 1900, 3000, 2300, 2800]
    book = make_project(tmp_path_factory.mktemp("grid") / "book", sizes)
    args = inputs(book)
    single, _ = build_single_pdf(*args)
    chunked, _ = build_chunked_pdf(*args, jobs=2, cache=False, chunk_articles=2, folio_group=2)
    control = make_project(tmp_path_factory.mktemp("control") / "book", sizes)
    without_grid(control)
    plain, _ = build_single_pdf(*inputs(control))
    return {"single": single, "chunked": chunked, "control": plain}


def test_the_control_is_off_the_grid(books: dict[str, bytes]) -> None:
    control = measure(books["control"])
    assert len(control.full_pages()) >= 10
    assert len(control.off_grid()) > 50
    assert len(control.short_pages()) >= 3


@pytest.mark.parametrize("build", ["single", "chunked"])
def test_every_body_line_is_on_the_grid(books: dict[str, bytes], build: str) -> None:
    measured = measure(books[build])
    assert sum(len(page.baselines) for page in measured.pages) > 300
    assert measured.off_grid() == []


@pytest.mark.parametrize("build", ["single", "chunked"])
def test_full_pages_end_on_one_baseline(books: dict[str, bytes], build: str) -> None:
    measured = measure(books[build])
    assert len(measured.full_pages()) >= 10
    assert measured.short_pages() == []


def test_the_grid_keeps_the_text_in_order(books: dict[str, bytes]) -> None:
    """The grid moves lines, never characters: the body text reads the same with and without it."""

    def text(pdf: bytes) -> str:
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            return "".join(char["text"] for page in document.pages for char in page.chars
                           if char["size"] > 10 and not char["text"].isspace())

    def body(pdf: bytes) -> str:
        whole = text(pdf)
        return whole[whole.rindex("第1篇"):]  # from the first headline (not its contents entry) on

    assert books["single"] == books["chunked"] or body(books["single"]) == body(books["chunked"])
    grid_text, plain_text = body(books["single"]), body(books["control"])
    assert len(grid_text) > 10000
    assert "".join(sorted(grid_text)) == "".join(sorted(plain_text))


def test_a_lone_last_line_is_not_left_at_a_page_top_when_the_paragraph_can_take_a_line_more(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """伸行: with the step, fewer pages open with a paragraph's last line than without it."""
    book = make_project(tmp_path / "book", [3300, 2900, 3700, 4100, 3500])
    with_fill = measure(build_single_pdf(*inputs(book))[0])
    monkeypatch.setattr(grid, "_longer", lambda paragraph, held: None)
    without = measure(build_single_pdf(*inputs(book))[0])
    assert without.widows() >= 2
    assert with_fill.widows() < without.widows()
    assert with_fill.short_pages() == [] and with_fill.off_grid() == []

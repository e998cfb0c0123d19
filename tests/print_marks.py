"""Reading crop marks back from a print PDF's page contents (pikepdf), for the PDF tests."""

from __future__ import annotations

from typing import Any

import pikepdf

Segment = tuple[tuple[float, ...], tuple[float, ...], "float | None"]


def stroked_lines(page: Any) -> list[Segment]:
    """Every straight segment a page strokes in default user space (no `cm` in force): (start, end, the K
    of a CMYK stroke colour). The crop marks are drawn there."""
    lines: list[Segment] = []
    transformed = [False]  # per graphics-state level: has a `cm` changed the coordinates?
    start: tuple[float, ...] | None = None
    end: tuple[float, ...] | None = None
    k: float | None = None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            transformed.append(transformed[-1])
        elif op == "Q":
            transformed.pop()
        elif op == "cm":
            transformed[-1] = True
        elif op == "K":
            k = float(operands[3]) if all(float(v) == 0 for v in operands[:3]) else None
        elif op == "m":
            start = tuple(float(v) for v in operands)
        elif op == "l":
            end = tuple(float(v) for v in operands)
        elif op == "S" and start and end and not transformed[-1]:
            lines.append((start, end, k))
    return lines


def crop_marks(page: Any) -> list[Segment]:
    """The segments a page strokes in 100 % K (and no C, M, Y) in default user space."""
    return [line for line in stroked_lines(page) if line[2] == 1.0]


def mark_problems(pdf: Any, *, offset: float) -> list[str]:
    """What is wrong with the crop marks of every page of an open pikepdf document, as messages (empty:
    right). Right means: eight marks a page, each on the line of a trim edge, wholly outside the bleed box
    and at least `offset` (pt) from the trim, inside the media box."""
    problems: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        x0, y0, x1, y1 = (float(v) for v in page.trimbox)
        bx0, by0, bx1, by1 = (float(v) for v in page.bleedbox)
        mx0, my0, mx1, my1 = (float(v) for v in page.mediabox)
        marks = crop_marks(page)
        if len(marks) != 8:
            problems.append(f"page {number}: {len(marks)} crop marks")
            continue
        for (ax, ay), (bx, by), _k in marks:
            vertical = ax == bx and min(abs(ax - x0), abs(ax - x1)) < 0.01
            horizontal = ay == by and min(abs(ay - y0), abs(ay - y1)) < 0.01
            if not (vertical or horizontal):
                problems.append(f"page {number}: mark off the trim lines")
            for x, y in ((ax, ay), (bx, by)):
                if not (mx0 - 0.01 <= x <= mx1 + 0.01 and my0 - 0.01 <= y <= my1 + 0.01):
                    problems.append(f"page {number}: mark outside the media box")
                if bx0 + 0.01 < x < bx1 - 0.01 and by0 + 0.01 < y < by1 - 0.01:
                    problems.append(f"page {number}: mark inside the bleed box")
                distance = max(x0 - x, x - x1, 0) if vertical is False else max(y0 - y, y - y1, 0)
                if distance < offset - 0.01:
                    problems.append(f"page {number}: mark {distance:.2f} pt from the trim")
    return problems

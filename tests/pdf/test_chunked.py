"""Chunked PDF builds against the single pass, for real: a small book of six articles forced into three
chunks, rendered with WeasyPrint both ways and compared page by page, glyph by glyph; and the chunk cache."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from tests.print_marks import crop_marks, mark_problems
from zhpress.build import build_date
from zhpress.config import load_project
from zhpress.convert import get_converter
from zhpress.convert.edition import conversion_settings, edition_book
from zhpress.pdf.chunked import ChunkStats, build_chunked_pdf
from zhpress.pdf.edition import build_single_pdf
from zhpress.pdf.schedule import chunking_applies
from zhpress.read.book import read_book

pdfplumber = pytest.importorskip("pdfplumber")

ROOT = Path(__file__).resolve().parents[2]
SEP = "\u3000\u3000"
ARTICLES = 6


def make_project(folder: Path, sizes: list[int]) -> Path:
    """A book of short articles (about `size` characters each, one section heading) cut from the default
    manuscripts, so that articles end on both left and right pages."""
    paragraphs: list[str] = []
    for path in sorted((ROOT / "content").glob("*.txt")):
        paragraphs += [p for p in path.read_text("utf-8").split(SEP)[1:] if len(p) > 40]
    content = folder / "content"
    content.mkdir(parents=True)
    shutil.copytree(ROOT / "styles", folder / "styles")
    (content / "book.toml").write_text('[book]\nid = "chunks"\ntitle = "分块测试"\ndate = "2022-05-10"\n', "utf-8")
    cursor = 0
    for i, size in enumerate(sizes):
        body: list[str] = []
        while sum(map(len, body)) < size:
            body.append(paragraphs[cursor % len(paragraphs)])
            cursor += 1
        body.insert(len(body) // 2, "第{}部分".format("一二三四五六"[i % 6]))
        (content / f"{i:03d}.txt").write_text(f"第{i + 1}篇　上海抗疫一线报道" + SEP + SEP.join(body), "utf-8")
    return folder


def inputs(root: Path, profile_name: str = "print", variant: str | None = None) -> tuple[Any, ...]:
    project = load_project(root)
    profile = project.profiles[profile_name]
    if variant is not None:
        assert profile.page is not None
        profile = dataclasses.replace(profile, page=dataclasses.replace(profile.page, pdf_variant=variant))
    book = read_book(project)
    edition, _ = edition_book(project, profile, book)
    convert = get_converter(conversion_settings(project, profile)).convert
    return project, profile, edition, build_date(project, book), convert


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("chunks"), [700, 1500, 900, 1200, 600, 1000])


#: Page numbers per folio piece in these tests: pieces that begin and end inside chunks.
FOLIO_PAGES = 6
#: Front-matter pages per late piece in these tests: the contents' numbers in several pieces.
LATE_PAGES = 2


@pytest.fixture(scope="module")
def pair(book: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, ChunkStats]:
    """The print edition single-pass and in three chunks by two workers (no cache)."""
    args = inputs(book)
    single, single_pages = build_single_pdf(*args)
    stats = ChunkStats()
    chunked, chunked_pages = build_chunked_pdf(*args, jobs=2, cache=False, chunk_articles=2, folio_pages=FOLIO_PAGES,
                                               late_pages=LATE_PAGES, stats=stats)
    assert single_pages == chunked_pages
    return single, chunked, stats


def glyphs(data: bytes) -> list[list[tuple[Any, ...]]]:
    """Every drawn character of every page: text, position, size, font."""
    with pdfplumber.open(io.BytesIO(data)) as document:
        return [
            sorted((c["text"], round(c["x0"], 3), round(c["top"], 3), round(c["size"], 3), c["fontname"]) for c in page.chars)
            for page in document.pages
        ]


def outline(data: bytes) -> list[tuple[int, str, int, tuple[float, ...]]]:
    reader = PdfReader(io.BytesIO(data))
    out: list[tuple[int, str, int, tuple[float, ...]]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item), (round(float(item.left), 3), round(float(item.top), 3))))

    walk(reader.outline, 1)
    return out


def fonts(data: bytes, tmp: Path) -> list[tuple[str, str, str]]:
    """(name, embedded, subset) per font object, from poppler's pdffonts."""
    path = tmp / "f.pdf"
    path.write_bytes(data)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return sorted((line.split()[0], *line.split()[-5:-3]) for line in lines)


def body_pages(data: bytes) -> int:
    """The body's pages: from the first page labelled 1 to the last page with text."""
    reader = PdfReader(io.BytesIO(data))
    first = reader.page_labels.index("1")
    last = max(i for i, page in enumerate(reader.pages) if page.extract_text().strip())
    return last + 1 - first + (last + 1 - first) % 2  # the last article ends on a left-hand page


def test_chunking_is_forced_into_three_chunks(pair: tuple[bytes, bytes, ChunkStats]) -> None:
    _, chunked, stats = pair
    assert stats.chunks == 3
    pieces = -(-body_pages(chunked) // FOLIO_PAGES)
    assert pieces >= 3  # pieces of page numbers, some beginning inside a chunk
    front = PdfReader(io.BytesIO(chunked)).page_labels.index("1")
    assert front > LATE_PAGES  # the contents' numbers in pieces
    assert stats.rendered == {"body": 3, "front": 1, "folio": pieces, "late": -(-front // LATE_PAGES)}


FOLIO_CSS = "@page body:right { @bottom-right { content: \"— \" counter(page) \" —\"; } }\n"


def test_a_book_that_styles_its_folios_gets_pieces_by_chunks_alike(tmp_path: Path) -> None:
    """A book's own margin-box rules may show something on blank pages or differ by the page's place: its
    folio pieces follow the chunks, blank pages and all, and give the single pass's pages."""
    root = make_project(tmp_path / "book", [700, 1500, 900, 1200, 600, 1000])
    (root / "styles" / "book.css").write_text((root / "styles" / "book.css").read_text("utf-8") + FOLIO_CSS, "utf-8")
    args = inputs(root)
    single, _ = build_single_pdf(*args)
    stats = ChunkStats()
    chunked, _ = build_chunked_pdf(*args, jobs=2, cache=False, chunk_articles=2, folio_group=2, folio_pages=FOLIO_PAGES, stats=stats)
    assert stats.rendered == {"body": 3, "front": 1, "folio": 2, "late": 1}  # folios of chunks 1-2, then of chunk 3
    assert glyphs(chunked) == glyphs(single)
    assert any("— 3 —" in page.extract_text() for page in PdfReader(io.BytesIO(chunked)).pages)


def test_same_pages_and_glyph_positions(pair: tuple[bytes, bytes, ChunkStats]) -> None:
    single, chunked, _ = pair
    a, b = glyphs(single), glyphs(chunked)
    assert len(a) == len(b) > 20
    for number, (x, y) in enumerate(zip(a, b, strict=True)):
        assert x == y, f"page {number + 1} differs"


def test_blank_versos_are_bare(pair: tuple[bytes, bytes, ChunkStats]) -> None:
    """A verso left empty before an opening carries neither running head (8 pt) nor folio (9 pt), in both
    builds: no page holds only those, and the body has empty pages (articles end on both sides)."""
    for data in pair[:2]:
        pages = glyphs(data)
        margin_only = [n + 1 for n, page in enumerate(pages) if page and {c[3] for c in page} <= {8.0, 9.0}]
        assert margin_only == []
        assert sum(1 for page in pages[6:] if not page) >= 2


def test_same_outline_labels_and_boxes(pair: tuple[bytes, bytes, ChunkStats]) -> None:
    single, chunked, _ = pair
    marks = outline(single)
    assert [level for level, *_ in marks] == [1, 2] * ARTICLES
    assert outline(chunked) == marks
    ra, rb = PdfReader(io.BytesIO(single)), PdfReader(io.BytesIO(chunked))
    assert list(ra.page_labels) == list(rb.page_labels)
    for pa, pb in zip(ra.pages, rb.pages, strict=True):
        for box in ("mediabox", "trimbox", "bleedbox"):
            assert list(getattr(pa, box)) == list(getattr(pb, box))


def test_one_font_object_per_face(pair: tuple[bytes, bytes, ChunkStats], tmp_path: Path) -> None:
    single, chunked, _ = pair
    merged = fonts(chunked, tmp_path)
    assert merged == fonts(single, tmp_path)
    assert all(emb == sub == "yes" for _, emb, sub in merged)
    assert len({name for name, _, _ in merged}) == len(merged)
    with pikepdf.open(io.BytesIO(chunked)) as pdf:
        files = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and "/Subtype" in o and o.Subtype == "/OpenType"]
        assert len(files) == len(merged)


def _font_programs(pdf: Any) -> dict[str, bytes]:
    """Each embedded font program of a document, by its font's name."""
    found = {}
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
            stream = obj.get("/FontFile3", obj.get("/FontFile2"))
            found[str(obj.FontName)] = stream.read_bytes()
    return found


def test_parts_embed_no_subset_and_the_merge_the_single_pass_subsets(book: Path, tmp_path: Path) -> None:
    """A part's fonts are made again by the merge, so a part embeds a stub of the subset's kind; the merged
    file's font programs are the single pass's, byte for byte."""
    args = inputs(book)
    single, _ = build_single_pdf(*args)
    chunked, _ = build_chunked_pdf(*args, jobs=2, cache_folder=tmp_path / "cache", chunk_articles=2, folio_group=2)
    parts = sorted((tmp_path / "cache").rglob("*.pdf"))
    assert len(parts) >= 6  # three chunks, a folio piece, the front matter and the late piece
    for part in parts:
        with pikepdf.open(part) as pdf:
            programs = _font_programs(pdf)
            assert programs and all(program in (b"OTTO", b"\x00\x01\x00\x00") for program in programs.values()), part
    with pikepdf.open(io.BytesIO(single)) as one, pikepdf.open(io.BytesIO(chunked)) as merged:
        expected = _font_programs(one)
        assert all(len(program) > 10_000 for program in expected.values())
        assert _font_programs(merged) == expected


def test_pdfx_kept_once_and_file_is_valid(pair: tuple[bytes, bytes, ChunkStats], tmp_path: Path) -> None:
    single, chunked, _ = pair
    path = tmp_path / "c.pdf"
    path.write_bytes(chunked)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    with pikepdf.open(path) as pdf:
        assert len(pdf.Root.OutputIntents) == 1
        assert b"GTS_PDFXVersion" in pdf.Root.Metadata.read_bytes()
        profiles = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/N") == 4]
        assert len(profiles) == 1, "the CMYK profile is embedded once"
        assert all("/Annots" not in page.obj for page in pdf.pages)
    assert len(chunked) <= 1.2 * len(single)


def links(data: bytes) -> list[list[tuple[tuple[float, ...], int, tuple[float, ...]]]]:
    """Per page: each link's rectangle and where it leads (page index and point)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        names = pdf.Root.Names.Dests.Names
        dests = {str(names[i]): names[i + 1] for i in range(0, len(names), 2)}
        out = []
        for page in pdf.pages:
            found = []
            for annot in page.obj.get("/Annots", []):
                dest = dests[str(annot.Dest)]
                found.append((tuple(round(float(v), 3) for v in annot.Rect), index[dest[0].objgen],
                              tuple(round(float(v), 3) for v in list(dest)[2:4])))
            out.append(sorted(found))
        return out


def test_crop_marks_on_every_page_of_a_chunked_book(pair: tuple[bytes, bytes, ChunkStats]) -> None:
    """The merged pages are the page tree's, not the front matter's (pikepdf's cached page list): each page
    of the chunked book carries its eight marks outside the bleed, as in the single pass."""
    for data in pair[:2]:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) > 20
            assert [len(crop_marks(page)) for page in pdf.pages] == [8] * len(pdf.pages)
            assert mark_problems(pdf, offset=3 * 72 / 25.4) == []


def test_page_count_padded_at_the_end_alike_in_both_builds(book: Path, pair: tuple[bytes, bytes, ChunkStats]) -> None:
    """Even by default; to a multiple of a 16-page signature when set: blank pages after the last page of
    text (which keeps its place), the same count, labels and outline in the single pass and chunked."""
    single, _, _ = pair
    project, profile, *rest = inputs(book)
    assert profile.page is not None and profile.page.signature == 2
    unpadded = len(PdfReader(io.BytesIO(single)).pages)
    page = dataclasses.replace(profile.page, signature=16)
    args = (project, dataclasses.replace(profile, page=page), *rest)
    one, one_pages = build_single_pdf(*args)
    many, many_pages = build_chunked_pdf(*args, jobs=1, cache=False, chunk_articles=2)
    assert one_pages == many_pages == len(PdfReader(io.BytesIO(one)).pages) == len(PdfReader(io.BytesIO(many)).pages)
    assert one_pages % 16 == 0 and unpadded % 2 == 0 and one_pages - unpadded < 16
    assert glyphs(one) == glyphs(many)
    text = glyphs(one)
    last_text = max(n for n, chars in enumerate(text) if chars)
    assert last_text < unpadded and all(not chars for chars in text[last_text + 1:])
    # nothing before the padding moved (but the copyright page's 印张, printed for the padded count)
    copyright_page = next(n for n, chars in enumerate(text) if any(c[0] == "体" for c in chars) and n < 6)
    kept = [n for n in range(unpadded) if n != copyright_page]
    assert [glyphs(single)[n] for n in kept] == [text[n] for n in kept]
    assert outline(one) == outline(many) == outline(single)
    labels = list(PdfReader(io.BytesIO(one)).page_labels)
    assert labels == list(PdfReader(io.BytesIO(many)).page_labels)
    assert labels[:unpadded] == list(PdfReader(io.BytesIO(single)).page_labels)
    with pikepdf.open(io.BytesIO(many)) as pdf:
        assert mark_problems(pdf, offset=3 * 72 / 25.4) == []


def test_internal_links_lead_to_the_same_places(book: Path) -> None:
    args = inputs(book, variant="none")  # not PDF/X, so the contents keep their links
    single, _ = build_single_pdf(*args)
    chunked, _ = build_chunked_pdf(*args, jobs=1, cache=False, chunk_articles=2)
    expected = links(single)
    assert sum(map(len, expected)) >= 2 * ARTICLES
    assert links(chunked) == expected


def test_page_styles_shared_by_equal_pages_change_no_byte(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook computing page and margin-box styles once per set of matching @page selectors gives the
    very PDF of WeasyPrint's own computation for every page (left, right, blank, first, nth, named pages)."""
    from weasyprint.layout import page

    from zhpress.pdf.weasy70 import guard, speedups

    computed: list[Any] = []
    own = page.set_page_type_computed_styles

    def spy(page_type: Any, html: Any, style_for: Any) -> None:
        computed.append(page_type)
        own(page_type, html, style_for)

    monkeypatch.setattr(page, "set_page_type_computed_styles", spy)  # what the hook calls on a miss
    args = inputs(book)
    build_single_pdf(*args)  # so that the page count 印张 is printed for is known: one render per build below
    computed.clear()
    shared, pages = build_single_pdf(*args)
    misses = len(computed)
    computed.clear()
    monkeypatch.setattr(speedups, "page_styles", lambda *a: guard.original("layout.page:set_page_type_computed_styles")(*a))
    unshared, _ = build_single_pdf(*args)
    assert len(computed) >= pages and misses < pages / 3  # a page may be laid out again
    assert shared == unshared


def test_cache_reuses_chunks_and_an_edit_renders_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", [600, 900, 700, 800, 600, 700])
    folder = tmp_path / "cache"
    first = ChunkStats()
    data, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=2, stats=first)
    assert first.rendered["body"] == 3
    again = ChunkStats()
    same, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=2, stats=again)
    assert same == data
    assert again.rendered == {} and again.reused == {"body": 3, "front": 1, "folio": 1, "late": 1}

    manuscript = root / "content" / "002.txt"
    text = manuscript.read_text("utf-8")
    manuscript.write_text(text.replace("上海", "沪", 1), "utf-8")  # a same-length-ish edit in the second chunk
    edited = ChunkStats()
    events: list[tuple[str, int, bool]] = []
    incremental, _ = build_chunked_pdf(
        *inputs(root), cache_folder=folder, chunk_articles=2, stats=edited,
        on_chunk=lambda kind, index, cached, pages: events.append((kind, index, cached)),
    )
    assert edited.rendered["body"] == 1
    assert edited.reused["body"] == 2
    # the chunk whose article changed since the last build is made and rendered before the others
    assert [e for e in events if e[0] == "body"] == [("body", 1, False), ("body", 0, True), ("body", 2, True)]
    clean, _ = build_chunked_pdf(*inputs(root), cache=False, chunk_articles=2)
    assert incremental == clean
    assert incremental != data


def test_the_cache_key_covers_every_module_the_layout_runs() -> None:
    """A rendered part depends on the worker's code, every WeasyPrint patch and the typesetting rules the
    layout applies: the source of each is in every key, so changing any of them renders again."""
    import hashlib

    import zhpress
    from zhpress.pdf import cache

    package = Path(zhpress.__file__).parent
    modules = [*(package / "pdf" / "weasy70").glob("*.py"), package / "typeset.py", package / "chars.py",
               package / "pdf" / "engine.py", package / "pdf" / "pagestarts.py"]
    assert len(modules) >= 12
    key = cache.versions()
    for module in modules:
        assert hashlib.sha256(module.read_bytes()).hexdigest() in key, module.name


def test_stale_or_damaged_entries_are_not_reused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", [500, 500, 500])
    folder = tmp_path / "cache"
    data, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=1)
    for pdf in folder.glob("*.pdf"):
        pdf.write_bytes(pdf.read_bytes()[:-10])  # damaged entries
    stats = ChunkStats()
    again, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=1, stats=stats)
    assert stats.reused == {} and again == data
    maps = sorted(folder.glob("*.fonts.json"))
    assert len(maps) == len(list(folder.glob("*.pdf")))  # every part's font maps are kept beside it
    maps[0].write_text('{"damaged": true}', "utf-8")
    stats = ChunkStats()
    third, _ = build_chunked_pdf(*inputs(root), cache_folder=folder, chunk_articles=1, stats=stats)
    assert sum(stats.rendered.values()) == 1 and third == data


def test_when_chunking_applies(book: Path) -> None:
    project, profile, edition, *_ = inputs(book)
    assert chunking_applies(project, profile, edition, min_articles=ARTICLES)
    assert not chunking_applies(project, profile, edition, min_articles=ARTICLES + 1)
    screen = inputs(book, "screen")
    assert not chunking_applies(screen[0], screen[1], screen[2], min_articles=1), "tagged PDF stays single-pass"


def test_no_cache_flag() -> None:
    from zhpress.cli import _parser

    assert _parser().parse_args(["build", "print", "--no-cache"]).no_cache is True
    assert _parser().parse_args(["build", "print"]).no_cache is False


def _job(folder: Path, index: int) -> Any:
    from zhpress.pdf.engine import RenderJob

    html = '<html lang="zh"><body><p>中文排版。</p></body></html>'
    return RenderJob("body", index, html, (("a.css", "p { margin: 0 }"),), str(folder), str(folder), (str(folder),),
                     (), f"k{index}", str(folder / f"{index}.pdf"))


def test_forked_workers_render_each_job_once(tmp_path: Path) -> None:
    from zhpress.pdf.executor import _forked

    results = dict(_forked(2, [(i, _job(tmp_path, i)) for i in range(5)]))
    assert sorted(results) == list(range(5))
    for i, result in results.items():
        assert result.path == str(tmp_path / f"{i}.pdf") and result.pages == 1
        assert len(PdfReader(result.path).pages) == 1


def test_a_worker_error_reaches_the_build_with_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error raised in a forked worker is raised by the build, as it was (type, file), not lost."""
    from zhpress.errors import InputError
    from zhpress.pdf import executor

    def failing(job: Any) -> Any:
        if job.index == 2:
            raise InputError("stylesheet cannot be used: test", path=tmp_path / "bad.css")
        return real(job)

    real = executor.render_job
    monkeypatch.setattr(executor, "render_job", failing)
    with pytest.raises(InputError) as caught:
        list(executor._forked(2, [(i, _job(tmp_path, i)) for i in range(4)]))
    assert caught.value.path == str(tmp_path / "bad.css")


def test_a_worker_that_dies_is_reported_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from zhpress.errors import RenderError
    from zhpress.pdf import executor

    monkeypatch.setattr(executor, "render_job", lambda job: os._exit(3))
    with pytest.raises(RenderError, match="exit code 3"):
        list(executor._forked(2, [(i, _job(tmp_path, i)) for i in range(3)]))


def test_the_front_matter_renders_first_and_its_late_values_last(tmp_path: Path) -> None:
    """One run of the workers: the front matter first (it waits for no chunk: its contents' numbers and
    印张 are hidden boxes, and it is the longest document of a long book), the body chunks beside it, the
    folio pieces, then the late piece with those values. In this process the order is exact."""
    root = make_project(tmp_path / "book", [500, 700, 500, 600])
    events: list[tuple[str, int]] = []
    stats = ChunkStats()
    pages: dict[str, int] = {}

    def heard(kind: str, index: int, cached: bool, count: int) -> None:
        events.append((kind, index))
        pages[kind] = pages.get(kind, 0) + count

    data, _ = build_chunked_pdf(*inputs(root), jobs=1, cache=False, chunk_articles=1, folio_pages=2, stats=stats, on_chunk=heard)
    pieces = -(-pages["body"] // 2)
    assert pieces >= 2
    assert events == [("front", 0), *(("body", i) for i in range(4)), *(("folio", i) for i in range(pieces)), ("late", 0)]
    parallel, _ = build_chunked_pdf(*inputs(root), jobs=2, cache=False, chunk_articles=1, folio_pages=2)
    assert parallel == data


def test_a_job_source_that_waits_with_nothing_running_is_an_error(tmp_path: Path) -> None:
    """None from the job source means "wait for the next result"; with no job running none will come."""
    from zhpress.errors import RenderError
    from zhpress.pdf.executor import _forked

    with pytest.raises(RenderError, match="waiting for results"):
        list(_forked(2, [None]))
    results = dict(_forked(2, [(0, _job(tmp_path, 0)), None, (1, _job(tmp_path, 1))]))
    assert sorted(results) == [0, 1]

"""A long PDF edition built in chunks: the front matter and the body in groups of whole articles rendered in
parallel, the body without folios and the front without its late values (the contents' numbers, 印张),
then the folio pieces and the late piece drawn over them, and one merge that gives the single-pass result
(how and why: docs/pdf-stage.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import files, memo
from ..config import Profile, Project
from ..errors import RenderError
from ..model import Book
from ..workers import scratch_dir
from . import sheets
from .cache import ChunkCache, cache_dir, faces_fingerprint, html_code, job_key, versions
from .engine import Rendered, RenderJob, refused_error
from .executor import Executor, LocalExecutor
from .finish import PLACEHOLDER_DATE, Finished, finish_document, padded_count, refinish
from .merge import merge
from .pages import Page, chunked_pages
from .schedule import (
    CHUNK_ARTICLES,
    CHUNK_END,
    EARLY_FRONT_CSS,
    FOLIO_GROUP,
    FOLIO_PAGES,
    LATE_CSS,
    LATE_PAGES,
    NO_FOLIOS_CSS,
    articles_digest,
    chunks,
    folio_css,
    folio_html,
    folio_range_html,
    folios_by_number,
    late_html,
)
from .sources import PDFX_VARIANTS, Sources, edition_sources, fetch_roots, pdf_options

log = logging.getLogger("zhpress")

#: `on_chunk(kind, index, from_cache, pages)`: told of every finished document.
OnChunk = Callable[[str, int, bool, int], None]


@dataclass
class ChunkStats:
    """What a chunked build did, for tests and progress: renders by kind, cache hits, timings."""

    rendered: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    chunks: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    patched: int | None = None  # pages replaced in the file a warm process kept (None: a whole merge)


class NotCached(Exception):
    """A build asked to use only cached documents met one that is not cached (its kind)."""


class _Runner:
    """Runs render jobs through the cache and an executor (`zhpress.pdf.executor`)."""

    def __init__(self, executor: Executor, cache: ChunkCache | None, scratch: Path, stats: ChunkStats,
                 on_chunk: OnChunk | None, cached_only: bool = False, kept: dict[str, Any] | None = None) -> None:
        self.cached_only = cached_only  # a document not in the cache raises NotCached instead of rendering
        self.executor = executor
        self.cache = cache
        self.scratch = scratch
        self.stats = stats
        self.on_chunk = on_chunk
        # A warm process (`zhpress.memo`): the results of earlier builds by key, with their files' stamps.
        self.kept = kept if cache is not None else None
        self.used: set[str] = set()

    def remembered(self, key: str) -> Rendered | None:
        """The result of `key` an earlier build of this process had, when its files are as they were."""
        entry = self.kept.get(key) if self.kept is not None else None
        if entry is None:
            return None
        result, stamps = entry
        if _stamps(result) != stamps:
            del self.kept[key]  # type: ignore[union-attr]
            return None
        return result

    def _keep(self, key: str, result: Rendered) -> None:
        self.used.add(key)
        if self.kept is not None and key not in self.kept:
            stamps = _stamps(result)
            if stamps is not None:
                self.kept[key] = (result, stamps)

    def lookup(self, key: str) -> Rendered | None:
        """The result of `key` from an earlier build of this process or from the cache, if any."""
        hit = self.remembered(key)
        if hit is None and self.cache is not None:
            hit = self.cache.load(key)
        return hit

    def reuse(self, kind: str, index: int, key: str, result: Rendered, on_result: Callable[[str, int, Rendered], None]) -> None:
        """A result taken from the cache or from an earlier build of this process."""
        self._keep(key, result)
        self.stats.reused[kind] = self.stats.reused.get(kind, 0) + 1
        if self.on_chunk:
            self.on_chunk(kind, index, True, result.pages)
        on_result(kind, index, result)

    def path_for(self, key: str) -> str:
        """Where the document of `key` is written: its cache entry, else the build's scratch folder."""
        if self.cache is not None:
            return str(self.cache.pdf_path(key))
        return str(self.scratch / f"{key}.pdf")

    def run(self, jobs: Iterable[RenderJob | None], on_result: Callable[[str, int, Rendered], None]) -> None:
        """Each job's result, from the cache when valid, else rendered (in parallel), given to `on_result`
        (kind, index, result) as it comes. `jobs` is consumed lazily, when a worker is free: a job's HTML
        can be made while the workers render the ones before it, and a job may depend on earlier results.
        None from `jobs` means nothing is ready until the next result."""
        seen: list[tuple[str, int, str]] = []  # kind, index, key: not the job, whose HTML may be large

        def todo() -> Iterator[tuple[int, RenderJob] | None]:
            for job in jobs:
                if job is None:
                    yield None
                    continue
                seen.append((job.kind, job.index, job.key))
                hit = self.lookup(job.key)
                if hit is None and self.cached_only:
                    raise NotCached(job.kind)
                if hit is None:
                    yield len(seen) - 1, job
                    continue
                self.reuse(job.kind, job.index, job.key, hit, on_result)

        for i, result in self.executor.run(todo(), self.scratch):
            self._done(seen[i], result, on_result)

    def _done(self, tag: tuple[str, int, str], result: Rendered, on_result: Callable[[str, int, Rendered], None]) -> None:
        kind, index, key = tag
        self.stats.rendered[kind] = self.stats.rendered.get(kind, 0) + 1
        self.stats.seconds[kind] = self.stats.seconds.get(kind, 0.0) + result.seconds
        if self.cache is not None and not result.refused:
            self.cache.store(key, result)
            self._keep(key, result)
        if self.on_chunk:
            self.on_chunk(kind, index, False, result.pages)
        on_result(kind, index, result)


#: The page of a folio piece drawn over a body page: the piece and the page's index in it (None: no folio).
Overlay = tuple[Rendered, int] | None


class _Plan:
    """The documents of one chunked build in the order they can be made, and their results as they come:
    the front matter first (its late values, the contents' numbers and 印张, hidden boxes), body chunks
    (those not in the last build first), the folio pieces, and the late piece (those values, drawn over the
    front matter) once every chunk and the front are. A folio piece carries `folio_pages` page numbers and
    is made once the chunks rendered so far have more pages than the numbers before it (`folios_by_number`;
    an edit that moves pages then renders none), or else the folios of `folio_group` chunks, blank pages as
    theirs, once those chunks are rendered."""

    def __init__(self, src: Sources, book: Book, groups: list[range], order: list[int], folio_group: int,
                 job: Callable[[str, int, str, list[tuple[str, str]]], RenderJob], runner: _Runner,
                 known: dict[str, str], texts: list[str], folio_pages: int = FOLIO_PAGES, new_first: int = 0,
                 late_pages: int = LATE_PAGES) -> None:
        self.src, self.book, self.groups, self.order, self.job = src, book, groups, order, job
        self.new_first = new_first
        self.texts = texts  # repr of each of the book's articles
        self.runner = runner
        # Each body chunk's job key by what its HTML is made from (`_made_from`), from the last build.
        self.known = known if runner.cache is not None and not src.renderer.own_templates() else None
        self.made_from: dict[int, str] = {}
        self.language = src.renderer.profile.language
        self.signature = src.renderer.profile.page.signature  # type: ignore[union-attr]
        self.views = src.context["articles"]
        self.folio_groups = chunks(len(groups), max(1, folio_group))
        self.folio_pages = folio_pages if folios_by_number(src.sheets) else 0  # 0: pieces by groups of chunks
        assert self.folio_pages % 2 == 0
        self.bodies: list[Rendered | None] = [None] * len(groups)
        self.pieces: list[Rendered | None] = [None] * (0 if self.folio_pages else len(self.folio_groups))
        self.fronts: list[Rendered] = []
        self.lates: list[Rendered | None] = []  # the late pieces, each of `late_pages` front pages
        self.late_pages = late_pages
        self.front_html: list[str] = []  # the front matter's and the late pieces' HTML (the file's id seed)
        self.body_keys: dict[int, str] = {}  # the keys only: a job's HTML is let go once a worker has it

    def jobs(self, project: Project) -> Iterator[RenderJob | None]:
        """Every job, made when a worker is free for it; None: nothing is ready until the next result.
        The front matter (the largest document of a long book) goes first, then the body chunks, then the
        folio pieces, and the late piece last; in a build after an edit, the `new_first` chunks of new
        articles go before the front matter, whose HTML is made to find it cached, most often."""
        sheets = [*self.src.sheets, ("chunk-body.css", NO_FOLIOS_CSS)]
        if self.known is not None:
            self._made_from(sheets)
        yield from self._body_jobs(sheets, self.order[:self.new_first])
        yield self._front_job()
        bodies = self._body_jobs(sheets, self.order[self.new_first:])
        next_folio = 0
        lates: Iterator[RenderJob] | None = None
        late_made = False
        while not (late_made and next_folio == self._folio_count()):
            made = next(bodies, None)
            if made is None and self._folio_ready(next_folio):
                made = self._folio_job(next_folio)
                next_folio += 1
            if made is None and lates is None and self.fronts and all(b is not None for b in self.bodies):
                lates = self._late_jobs(project)
            if made is None and lates is not None and not late_made:
                made = next(lates, None)
                if made is None:
                    late_made = True
                    continue
            yield made

    def _folio_count(self) -> int | None:
        """How many folio pieces the book needs (None: not known before every chunk is rendered)."""
        if not self.folio_pages:
            return len(self.folio_groups)
        if any(b is None for b in self.bodies):
            return None
        return -(-self.body_pages() // self.folio_pages)

    def _folio_ready(self, index: int) -> bool:
        """Whether folio piece `index` is needed and can be made now."""
        if self.folio_pages:
            return self.body_pages() > index * self.folio_pages
        return index < len(self.folio_groups) and all(b is not None for b in self.bodies[:self.folio_groups[index][-1] + 1])

    def take(self, kind: str, index: int, result: Rendered) -> None:
        """A document's result, rendered or from the cache."""
        if kind == "body":
            self.bodies[index] = result
        elif kind == "folio":
            self.pieces += [None] * (index + 1 - len(self.pieces))
            self.pieces[index] = result
        elif kind == "late":
            self.lates[index] = result
        else:
            self.fronts.append(result)

    def _body_jobs(self, sheets: list[tuple[str, str]], indexes: list[int]) -> Iterator[RenderJob]:
        """The body chunks `indexes`, without folios, each ending where its next article would open; without
        the build's date, which only the front matter's document gives the merged file (a book without a date
        of its own has one derived from its whole text, and an edit must not change every chunk)."""
        for index in indexes:
            known = self.known.get(self.made_from[index]) if self.known is not None else None
            hit = self.runner.lookup(known) if known is not None else None
            if known is not None and hit is not None:
                self.body_keys[index] = known  # the same HTML as in an earlier build: not made again
                self.runner.reuse("body", index, known, hit, self.take)
                continue
            html = self.src.book_html(include_front=False, body_articles=[self.views[i] for i in self.groups[index]], date_iso="")
            if index < len(self.groups) - 1:
                head, main_end, tail = html.rpartition("</main>")
                html = head + CHUNK_END + main_end + tail
            made = self.job("body", index, html, sheets)
            self.body_keys[index] = made.key
            yield made

    def _made_from(self, sheets: list[tuple[str, str]]) -> None:
        """A digest of all a body chunk's HTML is made from, for each chunk: the book template's frame
        (everything around the articles, rendered once with none), the edition's settings, labels, images
        and stylesheets, and each of its articles as zhpress's own article template sees it (its content,
        anchors and running head), and zhpress's code and templates. Only for zhpress's own templates: a
        book's may read anything."""
        frame = self.src.book_html(include_front=False, body_articles=[], date_iso="")
        shared = hashlib.sha256("\0".join([
            html_code(), frame, repr(self.src.renderer.profile), repr(self.src.context["labels"]), repr(self.src.context["images"]),
            repr(sheets), repr(self.src.renderer.fallback_families),
        ]).encode()).hexdigest()
        heads = self.src.context.get("running_heads", {})
        for index, group in enumerate(self.groups):
            parts = [shared, str(index == len(self.groups) - 1)]
            for i in group:
                v = self.views[i]
                text = self.texts[i] if self.book.articles[i] is v.article else repr(v.article)
                parts += [text, v.anchor, v.filename, repr(v.headings), repr(sorted(v.heading_anchors.items())),
                          repr(v.role_label), repr(heads.get(v.anchor))]
            self.made_from[index] = hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _start_pages(self, count: int) -> list[int]:
        """The first folio of each of the first `count` chunks (all rendered)."""
        firsts, folio = [], 1
        for body in self.bodies[:count]:
            assert body is not None
            firsts.append(folio)
            folio += body.pages
        return firsts

    def _front_job(self) -> RenderJob:
        """The front matter, its late values hidden boxes of their own width (it depends on no chunk)."""
        # 印张 of 1 page, hidden; the date set in the merged file (a book's own date may change with any edit)
        self.front_html[:] = [sheets.early_front_html(self.src, self.book, date_iso=PLACEHOLDER_DATE)]
        return self.job("front", 0, self.front_html[0], [*self.src.sheets, ("chunk-front.css", EARLY_FRONT_CSS)])

    def _late_jobs(self, project: Project) -> Iterator[RenderJob]:
        """The late pieces: the contents' page numbers from the chunks' anchors and 印张 from the real page
        count, each where the front matter left its box, in pieces of `late_pages` front pages (rendered
        side by side; an edit that moves pages renders only those whose numbers changed)."""
        bodies = [b for b in self.bodies if b is not None]
        _raise_refused(bodies, project)
        numbers: dict[str, str] = {}
        for body, first in zip(bodies, self._start_pages(len(bodies)), strict=True):
            for name, number in body.anchors.items():
                numbers.setdefault(name, str(first + number))
        missing = [v.anchor for v in self.views if v.anchor not in numbers]
        if missing:
            raise RenderError(f"chunked build: the anchors {', '.join(missing[:5])} were not rendered")
        (front,) = self.fronts
        values = dict.fromkeys((v.anchor for v in self.views), "toc-article")
        values.update((h.anchor, "toc-heading") for v in self.views for h in v.headings)
        boxes = [(int(page), x, y, holder, "toc-num", numbers[name])
                 for name, holder in values.items() if name in front.late for page, x, y in [front.late[name]]]
        if "sheets" in front.late:
            page, x, y = front.late["sheets"]
            real = padded_count(self.front_pages() + self.body_pages(), self.signature)
            count = sheets.sheets_text(real, sheets.pages_per_sheet(project, self.src.renderer.profile))
            boxes.append((int(page), x, y, "sheets", "sheets", count))
        characters = sheets.late_value(self.src, "characters_label")
        if "characters" in front.late and characters is not None:
            page, x, y = front.late["characters"]
            boxes.append((int(page), x, y, "sheets", "characters", characters))
        starts = list(range(0, self.front_pages(), self.late_pages))
        self.lates = [None] * len(starts)
        for index, start in enumerate(starts):
            size = min(self.late_pages, self.front_pages() - start)
            html = late_html(self.language, size, [(page - start, x, y, holder, kind, text)
                                                   for page, x, y, holder, kind, text in boxes if start <= page < start + size])
            self.front_html.append(html)
            yield self.job("late", index, html, [*self.src.sheets, ("chunk-late.css", LATE_CSS)])

    def front_pages(self) -> int:
        """The front matter's page count (rendered)."""
        return self.fronts[0].anchors.get("zh-body-start", 0)

    def body_pages(self) -> int:
        """The body chunks' pages so far."""
        return sum(b.pages for b in self.bodies if b is not None)

    def _folio_job(self, index: int) -> RenderJob:
        """A folio piece: its page numbers; or a group's: where its first chunk starts and which of its pages
        are blank."""
        if self.folio_pages:
            return self.job("folio", index, folio_range_html(self.language, self.folio_pages),
                            [*self.src.sheets, ("chunk-folio.css", folio_css(index * self.folio_pages + 1))])
        group = self.folio_groups[index]
        blank = [b for i in group for b in self.bodies[i].blank]  # type: ignore[union-attr]
        first = self._start_pages(group[0] + 1)[-1]
        return self.job("folio", index, folio_html(self.language, blank),
                        [*self.src.sheets, ("chunk-folio.css", folio_css(first))])

    def parts(self, project: Project) -> tuple[Rendered, int, list[Rendered], list[Rendered], list[list[Overlay]]]:
        """Once every job is done: the front matter, its page count, the late piece, the body chunks and
        for each page of each chunk the folio piece's page drawn over it (None: none, a blank page's),
        checked to fit together."""
        bodies = [b for b in self.bodies if b is not None]
        lates = [late for late in self.lates if late is not None]
        assert len(bodies) == len(self.groups) and len(self.fronts) == 1 and len(lates) == len(self.lates) > 0
        (front,) = self.fronts
        overlays = self._by_number(bodies) if self.folio_pages else self._by_group(bodies)
        pieces = [p for p in self.pieces if p is not None]
        _raise_refused([front, *lates, *pieces], project)
        front_pages = front.anchors.get("zh-body-start")
        if front_pages is None:
            raise RenderError("chunked build: the front matter has no body start", path=project.styles_dir)
        if sum(late.pages for late in lates) != front_pages:
            raise RenderError(f"chunked build: the late pieces have {sum(late.pages for late in lates)} pages for {front_pages}")
        return front, front_pages, lates, bodies, overlays

    def _by_number(self, bodies: list[Rendered]) -> list[list[Overlay]]:
        """Each page's folio: page `number - 1` of its piece of numbers; none on a blank page."""
        size = self.folio_pages
        needed = -(-sum(b.pages for b in bodies) // size)
        if len(self.pieces) != needed or any(p is None or p.pages != size or any(p.blank) for p in self.pieces):
            raise RenderError(f"chunked build: the folio pieces do not carry {needed} × {size} page numbers")
        overlays: list[list[Overlay]] = []
        for body, first in zip(bodies, self._start_pages(len(bodies)), strict=True):
            overlays.append([None if blank else (self.pieces[(number - 1) // size], (number - 1) % size)  # type: ignore[misc]
                             for number, blank in enumerate(body.blank, start=first)])
        return overlays

    def _by_group(self, bodies: list[Rendered]) -> list[list[Overlay]]:
        """Each page's folio from its group's piece, whose pages are the group's chunks', blank pages alike."""
        overlays: list[list[Overlay]] = []
        for group, piece in zip(self.folio_groups, self.pieces, strict=True):
            assert piece is not None
            first = 0
            for i in group:  # each chunk's share of the piece's pages
                count = bodies[i].pages
                if piece.blank[first:first + count] != bodies[i].blank:
                    raise RenderError(f"chunked build: the folio piece {group[0]}-{group[-1]} does not match chunk {i}")
                overlays.append([(piece, first + page) for page in range(count)])
                first += count
            if first != piece.pages:
                raise RenderError(f"chunked build: a folio piece has {piece.pages} pages for {first}")
        return overlays


def article_texts(articles: tuple[Any, ...], profile: str) -> list[str]:
    """Each article's repr (every field: what a chunk's key holds of it). A warm process keeps the repr of
    each Article object of the profile's last build (frozen, so its repr never changes; the read cache
    gives the same object for an unchanged manuscript): 0.26 s of each rebuild at 1000 articles."""
    kept = memo.table(f"article-texts:{profile}")  # per profile: each edition has Article objects of its own
    if kept is None:
        return [repr(article) for article in articles]
    found: dict[int, tuple[Any, str]] = {}
    for article in articles:
        entry = kept.get(id(article))
        found[id(article)] = entry if entry is not None and entry[0] is article else (article, repr(article))
    kept.clear()
    kept.update(found)
    return [found[id(article)][1] for article in articles]


def build_chunked_pdf(
    project: Project,
    profile: Profile,
    book: Book,
    date: dt.datetime,
    convert: Callable[[str], str],
    *,
    jobs: int = 1,
    cache: bool = True,
    cache_folder: Path | None = None,
    chunk_articles: int = CHUNK_ARTICLES,
    folio_group: int = FOLIO_GROUP,
    folio_pages: int = FOLIO_PAGES,
    late_pages: int = LATE_PAGES,
    stats: ChunkStats | None = None,
    on_chunk: OnChunk | None = None,
    executor: Executor | None = None,
    on_pages: Callable[[list[Page]], None] | None = None,
    pages_only: bool = False,
    cached_only: bool = False,
) -> tuple[bytes, int]:
    """The PDF of one edition rendered in chunks of `chunk_articles` articles by `jobs` worker processes and
    merged into the single-pass result; its page count. The folios of `folio_pages` page numbers come from
    one document (of `folio_group` chunks when the book styles margin boxes or blank pages itself), the contents'
    numbers from late pieces of `late_pages` front pages. `cache` reuses rendered chunks from `cache_folder` (default: PROJECT/.zhpress-cache/pdf).
    `executor` renders the jobs (default: `jobs` forked processes; a Dask cluster's, for instance).
    `on_pages` hears where each page begins (`pages`); `pages_only` stops before the merge (no PDF);
    `cached_only` raises NotCached at the first document not in the cache.
    Long because of its eighteen parameters, one a line; the body is the steps in order."""
    page = profile.page
    assert page is not None
    stats = stats if stats is not None else ChunkStats()
    src = edition_sources(project, profile, book, date, convert)
    options = pdf_options(profile)
    made_with = versions() + "\0" + faces_fingerprint(src.renderer.faces)
    roots = tuple(str(r) for r in fetch_roots(project))
    store = ChunkCache.open(cache_folder or cache_dir(project), fetch_roots(project), base=project.root) if cache else None
    groups = chunks(len(src.context["articles"]), max(1, chunk_articles))
    stats.chunks = len(groups)
    # Chunks whose articles were not in this profile's last build are likely to need rendering: they are
    # made and sent first (only the order changes; the cache decides what renders).
    texts = article_texts(book.articles, profile.name)  # each article's every field, made once for both uses
    digests = [articles_digest(texts[i] for i in group) for group in groups]
    seen_before = store.recent(profile.name) if store is not None else set()
    order = sorted(range(len(groups)), key=lambda i: digests[i] in seen_before)
    new_first = sum(digest not in seen_before for digest in digests) if seen_before else 0

    with scratch_dir("zhpress-chunks-") as scratch:
        executor = executor if executor is not None else LocalExecutor(jobs)
        executor.prepare(profile)
        runner = _Runner(executor, store, Path(scratch), stats, on_chunk, cached_only, memo.table(f"rendered:{profile.name}"))

        def job(kind: str, index: int, html: str, sheets: list[tuple[str, str]]) -> RenderJob:
            key = job_key(kind, html, sheets, options, made_with, "")
            return RenderJob(kind, index, html, tuple(sheets), str(project.content_dir), str(project.styles_dir),
                             roots, tuple(sorted(options.items())), key, runner.path_for(key))

        warm_keys = memo.table(f"chunk-html:{profile.name}")
        known = warm_keys if warm_keys is not None else {}
        if store is not None and not known:
            known.update(store.html_keys(profile.name))
        plan = _Plan(src, book, groups, order, folio_group, job, runner, dict(known), texts, folio_pages, new_first, late_pages)
        runner.run(plan.jobs(project), plan.take)
        memo.trim(f"rendered:{profile.name}", runner.used)
        if plan.made_from:
            keys = {plan.made_from[i]: plan.body_keys[i] for i in range(len(groups))}
            if store is not None and keys != known:
                store.remember_html_keys(profile.name, keys)
            if warm_keys is not None:
                warm_keys.clear()
                warm_keys.update(keys)
        front, front_pages, late, bodies, overlays = plan.parts(project)
        total = padded_count(front_pages + sum(b.pages for b in bodies), page.signature)
        if on_pages is not None:
            on_pages(chunked_pages(front, front_pages, bodies, total))
        if pages_only:
            return b"", total
        started = time.perf_counter()
        seed_parts = [profile.name, src.context["date_iso"], *plan.front_html, *(plan.body_keys[i] for i in range(len(groups))),
                      *(c for _, c in src.sheets)]
        seed = hashlib.sha256("\0".join(seed_parts).encode()).hexdigest()
        data, stats.patched = _merged(memo.table(f"merged:{profile.name}") if store is not None else None, profile,
                                      front, front_pages, bodies, overlays, late, seed, src.context["date_iso"])
        stats.seconds["merge"] = time.perf_counter() - started
    if store is not None:
        store.remember(profile.name, digests)
    sheets.remember_pages(project, profile, cache=cache, pages=total)
    log.debug("chunked build of %s: %s", profile.name, dataclasses.asdict(stats))
    return data, total


def _merged(kept: dict[str, Any] | None, profile: Profile, front: Rendered, front_pages: int, bodies: list[Rendered],
            overlays: list[list[Overlay]], late: list[Rendered], seed: str, date_iso: str) -> tuple[bytes, int | None]:
    """The merged and finished file, and how many pages a patch replaced (None: merged whole). A warm process
    keeps it open (`kept`, with what finishing it noted) and patches it in the next build when only chunks of
    the same pages and folios changed."""
    page = profile.page
    assert page is not None
    cmyk = page.pdf_variant in PDFX_VARIANTS
    last = kept.pop("last", None) if kept is not None else None
    if last is not None:
        merged, finished = last
        try:
            pages = merged.patch(front, front_pages, bodies, overlays, late)
            data = None if pages is None else refinish(merged.out, profile, finished, pages, front_pages=front_pages,
                                                       cmyk=cmyk, seed=seed, date_iso=date_iso, streams=merged.new_streams)
        except BaseException:
            merged.close()
            raise
        if data is not None:
            assert kept is not None
            kept["last"] = merged, finished
            return data, len(pages or [])
        merged.close()
    merged = merge(front, front_pages, bodies, overlays, late)
    try:
        finished = Finished()
        data = finish_document(merged.out, profile, front_pages=front_pages, cmyk=cmyk, seed=seed, date_iso=date_iso,
                               finished=finished)
    except BaseException:
        merged.close()
        raise
    if kept is None:
        merged.close()
    else:
        kept["last"] = merged, finished
    return data, None


def _stamps(result: Rendered) -> tuple[tuple[int, int, int], ...] | None:
    """What says a result's files (its PDF, font maps and every file it fetched) are unchanged; None when
    one is missing."""
    stamps = [files.stamp(p) for p in [result.path, *([result.font_maps] if result.font_maps else []), *result.fetched]]
    return None if None in stamps else tuple(s for s in stamps if s is not None)


def _raise_refused(results: list[Rendered], project: Project) -> None:
    """The user's error for any file the fetcher refused to any of `results`."""
    refused = [url for r in results for url in r.refused]
    if refused:
        raise refused_error(refused, project.styles_dir)

"""A book that trusts nothing it reads: values checked at the schema before anything is rendered, exit 2
for every user error, text the editor cannot see, and builds that end quietly on Ctrl-C and SIGTERM.

Each test is an attacker's (or a careless editor's) step, run through the real command line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.robust_support import (
    BOOK_ID,
    MARKDOWN_ARTICLE,
    RAW_ARTICLE,
    WIDE,
    book_toml,
    build,
    make_project,
    no_traceback,
    refused,
)
from zhpress.config import MAX_ID, TomlLines, load_project, slugify


def epub_documents(path: Path) -> str:
    """Every text file of an EPUB, joined (the package document and the XHTML)."""
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith((".xhtml", ".opf")))


# ------------------------------------------------------------------------------ values at the schema


@pytest.mark.parametrize(
    "language",
    ['zh\\" onload=\\"alert(1)', "zh-Hans><dc:title>x", "zh_Hans", "not a tag", "zz-Hans", "zh-Hanx-TW", ""],
)
def test_language_that_is_no_bcp47_tag_is_refused_before_it_reaches_the_opf(tmp_path: Path, language: str) -> None:
    """The attacker puts markup into a profile's language, hoping to land in content.opf and `lang`."""
    make_project(tmp_path, toml=book_toml(extra=f'\n[profiles.ebook]\nlanguage = "{language}"\n'))
    refused(tmp_path, "ebook", expect=["book.toml:7", "profiles.ebook.language", "BCP 47"])


def test_book_language_is_checked_too(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml() + 'language = "zh\\" x=\\"1"\n')
    refused(tmp_path, "ebook", expect=["book.toml:5", "book.language", "BCP 47"])


def test_registered_language_tags_build(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra='\n[profiles.ebook]\nlanguage = "zh-cmn-Hans-CN"\n'))
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert 'lang="zh-cmn-Hans-CN"' in epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")


@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        ('font_size = "10pt; color: red"', ["font_size", "not a length"]),  # CSS pasted into the page CSS
        ('font_size = "0pt"', ["font_size", "outside 5–72 pt"]),
        ('font_size = "400pt"', ["font_size", "outside 5–72 pt"]),
        ('bleed = "-3mm"', ["bleed", "not a length"]),
        ('bleed = "50mm"', ["bleed", "outside 0–20 mm"]),
        ('margin_top = "0mm"', ["margin_top", "outside 3–150 mm"]),
        ('trim = "0x0mm"', ["trim", "each side must be 50–1000 mm"]),
        ('trim = "148x99999mm"', ["trim", "each side must be 50–1000 mm"]),
        ('trim = "A5; size: 1mm"', ["trim", "'140x203mm'"]),
    ],
)
def test_impossible_lengths_are_refused_at_load(tmp_path: Path, setting: str, expect: list[str]) -> None:
    """Refused when book.toml is read, whichever profile is built (here an EPUB): never after rendering."""
    make_project(tmp_path, toml=book_toml(extra=f"\n[profiles.print.page]\n{setting}\n"))
    refused(tmp_path, "ebook", expect=["book.toml:7", *expect])


@pytest.mark.parametrize(
    ("page", "line", "expect"),
    [
        ('margin_top = "150mm"\nmargin_bottom = "100mm"', 7, ["150 mm + 100 mm", "210 mm high"]),
        ('margin_inner = "70mm"\nmargin_outer = "70mm"', 7, ["70 mm + 70 mm", "148 mm wide"]),
        ('font_size = "36pt"', 7, ["10 characters of 36pt"]),
        ('trim = "60x60mm"', 7, ["60 mm wide"]),
    ],
)
def test_margins_larger_than_the_page_are_refused_at_load(tmp_path: Path, page: str, line: int, expect: list[str]) -> None:
    make_project(tmp_path, toml=book_toml(extra=f"\n[profiles.print.page]\n{page}\n"))
    refused(tmp_path, "print", expect=[f"book.toml:{line}", "profile 'print'", *expect])


def test_margins_inherited_by_an_extending_profile_are_checked(tmp_path: Path) -> None:
    """A new profile shrinks the trim it inherits: the inherited margins no longer fit; its page line is named."""
    extra = '\n[profiles.tiny]\nextends = "print"\npage = { trim = "60x80mm" }\n'
    make_project(tmp_path, toml=book_toml(extra=extra))
    refused(tmp_path, "ebook", expect=["book.toml:8", "profile 'tiny'", "60 mm wide"])


def test_book_id_of_300_characters_is_refused_before_rendering(tmp_path: Path) -> None:
    """An id that long made every output's file name too long for the file system, after rendering."""
    make_project(tmp_path, toml=book_toml().replace(f'id = "{BOOK_ID}"', f'id = "{"a" * 300}"'))
    refused(tmp_path, "print", expect=["book.toml:2", "book.id", f"at most {MAX_ID}"])


@pytest.mark.parametrize("article_id", ["a" * 300, "../../etc", "x y", "[red]hidden[/red]", "中文"])
def test_article_ids_outside_the_safe_set_are_refused(tmp_path: Path, article_id: str) -> None:
    make_project(tmp_path, toml=book_toml(articles=[{"file": "a.txt", "id": article_id}]))
    refused(tmp_path, "ebook", expect=["book.toml:8", "articles[0].id"])


def test_front_matter_id_is_held_to_the_same_rule(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.md": f'+++\nid = "{"b" * 100}"\n+++\n' + MARKDOWN_ARTICLE})
    refused(tmp_path, "ebook", expect=["content/a.md", "article id", f"at most {MAX_ID}"])


def test_profile_name_of_300_characters_is_refused(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml(extra=f'\n[profiles.{"p" * 300}]\nextends = "ebook"\n'))
    refused(tmp_path, "ebook", expect=["book.toml:6", "profile name", f"at most {MAX_ID}"])


def test_file_name_with_a_bidi_override_is_refused(tmp_path: Path) -> None:
    """`a\u202etxt.md` shows as `adm.txt` in a listing: a Trojan file name."""
    make_project(tmp_path, toml=book_toml(articles=[{"file": "a\u202etxt.md"}]))
    refused(tmp_path, "ebook", expect=["book.toml:7", "articles[0].file", "U+202E"])


def test_long_titles_give_ids_within_the_limit() -> None:
    long = slugify("A Very Long English Title " * 20)
    assert len(long) <= MAX_ID and long.startswith("a-very-long-english-title")
    assert slugify("A Very Long English Title " * 21) != long  # the hash keeps different titles apart
    assert slugify("Short Title") == "short-title"


# ------------------------------------------------------------------------------ exit 2, never exit 1


def test_deeply_nested_toml_is_a_user_error(tmp_path: Path) -> None:
    """Python's TOML parser recurses per level: 5000 nested arrays were an `internal error`."""
    make_project(tmp_path, toml=book_toml() + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    refused(tmp_path, "ebook", expect=["book.toml", "nested too deeply"])


def test_deeply_nested_inline_tables_are_a_user_error(tmp_path: Path) -> None:
    make_project(tmp_path, toml=book_toml() + "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    refused(tmp_path, "ebook", expect=["book.toml", "nested too deeply"])


@pytest.mark.parametrize("entity", ["&#12;", "&#x0C;", "&#x000c;"])  # markdown-it turns other controls into U+FFFD
def test_control_character_from_a_markdown_entity_is_refused_with_its_line(tmp_path: Path, entity: str) -> None:
    """`&#12;` decoded to a form feed that broke the EPUB's XHTML after the PDF had been written."""
    text = MARKDOWN_ARTICLE.replace("这是第二段正文。", f"这是第二{entity}段正文。")
    make_project(tmp_path, {"a.md": text})
    refused(tmp_path, "ebook", "print", expect=["content/a.md:5", "control character", "entity"])


# ------------------------------------------------------------------------------ [[articles]] lines


def test_error_in_the_third_article_names_its_own_line(tmp_path: Path) -> None:
    articles = [{"file": "a.txt"}, {"file": "b.txt"}, {"file": "c.txt", "headlin": "x"}]
    toml = book_toml(articles=articles)
    line = toml.splitlines().index('headlin = "x"') + 1
    make_project(tmp_path, {"a.txt": RAW_ARTICLE, "b.txt": RAW_ARTICLE, "c.txt": RAW_ARTICLE}, toml=toml)
    refused(tmp_path, "ebook", expect=[f"book.toml:{line}", "articles[2].headlin", "did you mean 'headline'"])


def test_duplicate_in_the_third_article_names_its_own_line(tmp_path: Path) -> None:
    articles = [{"file": "a.txt"}, {"file": "b.txt"}, {"file": "a.txt", "id": "again"}]
    toml = book_toml(articles=articles)
    line = len(toml.splitlines()) - 1  # the `file = "a.txt"` of the third entry
    assert toml.splitlines()[line - 1] == 'file = "a.txt"'
    make_project(tmp_path, {"a.txt": RAW_ARTICLE, "b.txt": RAW_ARTICLE}, toml=toml)
    refused(tmp_path, "ebook", expect=[f"book.toml:{line}", "listed twice (entries 1 and 3)"])


def test_key_lines_of_every_toml_form() -> None:
    text = (
        '[book]\ntitle = """two\nlines = 1\n"""\nauthors = [\n  "a",\n  "b = c",\n]\n'
        '"quoted.key" = 1\npage = { trim = "32k" }\n'
        '[[articles]]\nfile = "a.txt"\n[[articles]]\n# note\n  id = \'x\'\nfile = "b.txt"\n'
        '[profiles."my.p".page]\ntrim = "A5"\n'
    )
    lines = TomlLines(text)
    assert lines.line(("book", "title")) == 2
    assert lines.line(("book", "authors", 1)) == 5
    assert lines.line(("book", "quoted.key")) == 9
    assert lines.line(("book", "page", "trim")) == 10
    assert lines.line(("articles", 0, "file")) == 12
    assert lines.line(("articles", 1, "id")) == 15
    assert lines.line(("articles", 1, "file")) == 16
    assert lines.line(("articles", 1, "byline")) == 13  # a key the entry lacks: the entry's header
    assert lines.line(("profiles", "my.p", "page", "trim")) == 18
    assert lines.line(("nowhere",)) is None


def test_ten_thousand_articles_load(tmp_path: Path) -> None:
    """The line lookup was quadratic (23.5 s for this book); every entry still gets its own line."""
    content = tmp_path / "content"
    content.mkdir()
    toml = book_toml(articles=[{"file": f"a{i:05d}.txt", "id": f"art-{i:05d}"} for i in range(10_000)])
    (content / "book.toml").write_text(toml, "utf-8")
    project = load_project(tmp_path)
    assert len(project.articles) == 10_000
    lines = TomlLines(toml)
    assert lines.line(("articles", 9_999, "id")) == toml.splitlines().index('id = "art-09999"') + 1


# ------------------------------------------------------------------------------ text the editor cannot see

TROJAN = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: the text after it is shown reversed
POP = "\u202c"  # POP DIRECTIONAL FORMATTING


def warnings_of(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("name", ["a.txt", "a.md"])
def test_bidi_override_in_a_manuscript_is_removed_with_a_warning(tmp_path: Path, name: str) -> None:
    """The attacker hides a reversal in a paragraph: the EPUB must not carry it, and the editor is told where."""
    base = RAW_ARTICLE if name == "a.txt" else MARKDOWN_ARTICLE
    text = base.replace("这是第二段正文", f"这是第二段{TROJAN}正文{POP}")
    make_project(tmp_path, {name: text})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    message = warnings_of(result)
    line = text.splitlines().index(next(row for row in text.splitlines() if TROJAN in row)) + 1
    column = text.splitlines()[line - 1].index(TROJAN) + 1
    assert f"content/{name}:{line}:{column}: U+202E RIGHT-TO-LEFT OVERRIDE (a bidi control" in message, message
    assert "U+202C POP DIRECTIONAL FORMATTING" in message and "removed" in message
    documents = epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
    assert TROJAN not in documents and POP not in documents
    assert "这是第二段正文" in documents  # the words themselves are all there, in order


@pytest.mark.parametrize(
    "char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u061c", "\u2066", "\u2069"]
)
def test_invisible_characters_between_han_characters_are_removed(tmp_path: Path, char: str) -> None:
    text = RAW_ARTICLE.replace("社区工作人员", f"社区{char}工作{char}人员")
    make_project(tmp_path, {"a.txt": text})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "content/a.txt:2:" in warnings_of(result) and f"U+{ord(char):04X}" in warnings_of(result)
    assert "2 in all, the first here" in warnings_of(result)
    documents = epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
    assert char not in documents and "社区工作人员" in documents


def test_joiners_that_shape_an_emoji_or_a_word_are_kept(tmp_path: Path) -> None:
    """ZWJ in 👩‍💻 and ZWNJ in the Persian word می‌خواهم do something: they stay, without a warning."""
    family, persian = "\U0001f469\u200d\U0001f4bb", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    text = RAW_ARTICLE.replace("守护着大家的平安", f"守护着大家的平安{family}{persian}")
    make_project(tmp_path, {"a.txt": text})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "U+200D" not in result.stderr and "U+200C" not in result.stderr
    documents = epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
    assert family in documents and persian in documents


def test_invisible_characters_from_markdown_entities_are_removed_with_their_line(tmp_path: Path) -> None:
    text = MARKDOWN_ARTICLE.replace("这是第二段正文。", "这是第二&#x202E;段&ZeroWidthSpace;正文。")
    make_project(tmp_path, {"a.md": text})
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    message = warnings_of(result)
    assert "content/a.md:5: U+202E" in message and "content/a.md:5: U+200B" in message, message
    documents = epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
    assert "\u202e" not in documents and "\u200b" not in documents and "这是第二段正文" in documents


def test_invisible_characters_in_book_toml_titles_are_removed_and_in_names_refused(tmp_path: Path) -> None:
    toml = book_toml(title="测试\u200b书\u202e")
    make_project(tmp_path, toml=toml)
    result = build(tmp_path, "ebook")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "book.toml:3: book.title: U+200B ZERO WIDTH SPACE" in warnings_of(result)
    documents = epub_documents(tmp_path / "dist" / f"{BOOK_ID}-ebook.epub")
    assert "测试书" in documents and "\u200b" not in documents and "\u202e" not in documents


def test_invisible_character_escaped_in_front_matter_is_refused(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.md": '+++\nkicker = "引\\u202e题"\n+++\n' + MARKDOWN_ARTICLE})
    refused(tmp_path, "ebook", expect=["content/a.md:2", "kicker", "U+202E"])


# ------------------------------------------------------------------------------ Ctrl-C and SIGTERM

DEFAULT_ID = "dangqi-shanghai"
PREVIOUS_PDF = b"%PDF-1.7\n% the previous print edition\n"


def live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are still running (zombies waiting for a reaper excluded)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def wait_until(condition, timeout: float = 180) -> bool:  # type: ignore[no-untyped-def]
    """Poll `condition` until it holds or `timeout` seconds pass (a bound, never an assertion on time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def interruptible(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the default book with a previous print edition, and a private TMPDIR."""
    import shutil

    book = tmp_path / "book"
    shutil.copytree(ROOT / "content", book / "content")
    shutil.copytree(ROOT / "styles", book / "styles")
    (book / "dist").mkdir()
    (book / "dist" / f"{DEFAULT_ID}-print.pdf").write_bytes(PREVIOUS_PDF)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return book, scratch


def start_build(book: Path, scratch: Path, *profiles: str) -> subprocess.Popen[str]:
    """`zhpress build` in a session of its own (so a signal can go to the whole group, as a terminal's)."""
    return subprocess.Popen(
        [sys.executable, "-m", "zhpress", "build", "-C", str(book), "--no-cache", *profiles],
        cwd=ROOT,
        env={**os.environ, **WIDE, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def ended_quietly(proc: subprocess.Popen[str], book: Path, scratch: Path, status: int, word: str) -> None:
    """Exit status `status`, one line saying so and no traceback, no process of the build left, no
    temporary folder left, the previous output intact and no `.part` file."""
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert "Traceback" not in err and "Exception" not in err and "internal error" not in err, err
    assert err.strip().splitlines()[-1] == word, err
    assert wait_until(lambda: not live_in_group(proc.pid), 60), live_in_group(proc.pid)
    assert list(scratch.iterdir()) == []
    dist = book / "dist"
    assert (dist / f"{DEFAULT_ID}-print.pdf").read_bytes() == PREVIOUS_PDF
    assert [p.name for p in dist.iterdir() if ".part-" in p.name] == []


def terminated_cleanly(proc: subprocess.Popen[str], scratch: Path) -> None:
    """After SIGTERM: exit 143, "terminated" and no traceback, no process of the group left, no temporary
    folder left."""
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "terminated", err
    assert wait_until(lambda: not live_in_group(proc.pid), 60), live_in_group(proc.pid)
    assert list(scratch.iterdir()) == []


def test_early_ctrl_c_prints_no_traceback_from_the_workers(interruptible: tuple[Path, Path]) -> None:
    """Ctrl-C while the workers are still importing WeasyPrint: the terminal sends SIGINT to every process."""
    book, scratch = interruptible
    proc = start_build(book, scratch, "print", "ebook")
    assert wait_until(lambda: len(children(proc.pid)) >= 1 or proc.poll() is not None)
    os.killpg(proc.pid, signal.SIGINT)
    ended_quietly(proc, book, scratch, 130, "interrupted")


@pytest.mark.parametrize("profiles", [("print",), ("print", "ebook")])
@pytest.mark.parametrize("to_group", [False, True])
def test_sigterm_while_rendering_leaves_no_temporary_folder(
    interruptible: tuple[Path, Path], profiles: tuple[str, ...], to_group: bool
) -> None:
    """SIGTERM (from `kill`, or to the whole group as `timeout` and service managers send it) while the
    PDF renders into its temporary folder: the folder goes, the workers go, exit 143."""
    book, scratch = interruptible
    proc = start_build(book, scratch, *profiles)
    assert wait_until(lambda: any(scratch.iterdir()) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.3)  # into the render
    os.killpg(proc.pid, signal.SIGTERM) if to_group else proc.send_signal(signal.SIGTERM)
    ended_quietly(proc, book, scratch, 143, "terminated")


def test_ctrl_c_while_rendering(interruptible: tuple[Path, Path]) -> None:
    book, scratch = interruptible
    proc = start_build(book, scratch, "print", "ebook")
    assert wait_until(lambda: any(scratch.iterdir()) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    ended_quietly(proc, book, scratch, 130, "interrupted")


# ------------------------------------------------------------------------------ the other user errors


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        ("directory", ["content/a.txt", "is a directory, not a regular file"]),
        ("docx", ["content/a.docx", "unknown manuscript type '.docx'"]),
        ("no-content", ["no content/ folder here"]),
        ("no-manuscripts", ["content", "holds no manuscripts"]),
        ("empty-list", ["book.toml", "the article list is empty"]),
        ("no-language", ["book.toml", "profile 'bare' sets no language"]),
        ("unknown-extends", ["book.toml:7", "extends unknown profile 'ebok'", "did you mean 'ebook'"]),
    ],
)
def test_every_configuration_error_is_exit_2_naming_the_file(tmp_path: Path, setup: str, expect: list[str]) -> None:
    if setup == "directory":
        make_project(tmp_path, {}, toml=book_toml(articles=[{"file": "a.txt"}]))
        (tmp_path / "content" / "a.txt").mkdir()
    elif setup == "docx":
        make_project(tmp_path, {"a.docx": "PK"}, toml=book_toml(articles=[{"file": "a.docx"}]))
    elif setup == "no-content":
        (tmp_path / "styles").mkdir()
    elif setup == "no-manuscripts":
        make_project(tmp_path, {}, toml=book_toml())
    elif setup == "empty-list":
        make_project(tmp_path, toml="articles = []\n" + book_toml())
    elif setup == "no-language":
        make_project(tmp_path, toml=book_toml(extra='\n[profiles.bare]\nformat = "epub"\n'))
    else:
        make_project(tmp_path, toml=book_toml(extra='\n[profiles.mine]\nextends = "ebok"\n'))
    refused(tmp_path, "ebook", expect=expect)


def test_source_date_epoch_that_is_no_number(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "zhpress", "build", "-C", str(tmp_path), "ebook"],
        cwd=ROOT, env={**os.environ, **WIDE, "SOURCE_DATE_EPOCH": "yesterday"}, capture_output=True, text=True,
    )
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "SOURCE_DATE_EPOCH='yesterday' is not a number of seconds" in " ".join(result.stderr.split())
    assert not (tmp_path / "dist" / f"{BOOK_ID}-ebook.epub").exists()


def test_check_with_nothing_built(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "zhpress", "check", "-C", str(tmp_path)], cwd=ROOT, env={**os.environ, **WIDE},
        capture_output=True, text=True,
    )
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "no built files to check" in result.stderr


def test_sigterm_during_a_chunked_build_leaves_no_temporary_folder(tmp_path: Path) -> None:
    """A book long enough to render in chunks: the worker building it forks a process per chunk into its
    `zhpress-chunks-*` folder; SIGTERM to the build ends them all and the folder goes."""
    from tests.pdf.test_chunked import make_project as chunked_project

    book = chunked_project(tmp_path / "book", [600] * 24)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = start_build(book, scratch, "print")
    assert wait_until(lambda: any(p.name.startswith("zhpress-chunks-") for p in scratch.iterdir()) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)  # the first chunks are rendering
    proc.send_signal(signal.SIGTERM)
    terminated_cleanly(proc, scratch)
    assert not (book / "dist").exists() or list((book / "dist").glob("*.pdf")) == []

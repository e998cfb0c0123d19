"""Decoding manuscript bytes: UTF-8, BOM, GB18030, Big5, and clear refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zhpress.errors import ManuscriptError
from zhpress.read.decode import decode_manuscript, read_text

SIMPLIFIED = "发挥组织优势　凝聚强大合力　　上海本轮疫情发生以来，全市广大党员干部亮身份、见行动。"
TRADITIONAL = "發揮組織優勢　凝聚強大合力　　上海本輪疫情發生以來，全市廣大黨員幹部亮身份、見行動。"
P = Path("m.txt")


@pytest.mark.parametrize(
    "data",
    [
        SIMPLIFIED.encode("utf-8"),
        b"\xef\xbb\xbf" + SIMPLIFIED.encode("utf-8"),
        SIMPLIFIED.encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_simplified_encodings_decode_to_the_same_text(data: bytes) -> None:
    assert decode_manuscript(data, P) == SIMPLIFIED


def test_big5_is_read_as_big5_not_as_gb18030_mojibake(caplog: pytest.LogCaptureFixture) -> None:
    data = TRADITIONAL.encode("big5")
    # The trap: these bytes are valid GB18030 too.
    assert data.decode("gb18030") != TRADITIONAL
    with caplog.at_level(logging.WARNING, logger="zhpress"):
        assert decode_manuscript(data, P) == TRADITIONAL
    assert "Big5" in caplog.text


def test_default_manuscript_in_gb18030_and_big5(tmp_path: Path) -> None:
    from corpus_paths import DEFAULT_000

    text = DEFAULT_000.read_text(encoding="utf-8")
    assert decode_manuscript(text.encode("gb18030"), P) == text
    traditional = text.replace("党", "黨").replace("组织", "組織")
    big5 = traditional.encode("big5", errors="replace")
    assert decode_manuscript(big5, P) == big5.decode("big5")


def test_nul_byte_is_refused_with_its_offset() -> None:
    with pytest.raises(ManuscriptError) as info:
        decode_manuscript("标题　　正文".encode() + b"\x00abc", P)
    assert info.value.offset == len("标题　　正文".encode())
    assert info.value.path == "m.txt"
    assert "byte" in str(info.value) and info.value.hint


def test_utf16_is_refused() -> None:
    with pytest.raises(ManuscriptError, match="UTF-16"):
        decode_manuscript(SIMPLIFIED.encode("utf-16"), P)


def test_damaged_utf8_names_the_offset() -> None:
    good = "标题　　正文".encode()
    with pytest.raises(ManuscriptError) as info:
        decode_manuscript(good + b"\xe4\xb8" + "继续".encode(), P)
    assert info.value.offset == len(good)
    assert "UTF-8" in info.value.message


def test_damaged_bom_file_names_the_offset() -> None:
    with pytest.raises(ManuscriptError) as info:
        decode_manuscript(b"\xef\xbb\xbf" + "标题".encode() + b"\xff", P)
    assert info.value.offset == 3 + len("标题".encode())


def test_bytes_no_encoding_explains_are_refused() -> None:
    # Neither UTF-8 nor GB18030 nor Big5 (0x80 and 0xFF are lead bytes of none of them).
    with pytest.raises(ManuscriptError) as info:
        decode_manuscript(b"abc\x80\xff\x80\xff", P)
    assert info.value.offset is not None


def test_implausible_text_is_refused_not_mojibaked() -> None:
    # Valid GB18030 (private use) and Big5-HKSCS (rare characters), but neither reads as Chinese text.
    data = bytes([0xFA, 0xA1, 0xFB, 0xA2, 0xFC, 0xA3, 0xFD, 0xA4, 0xFE, 0xA5, 0xF8, 0xA6]) * 3
    with pytest.raises(ManuscriptError, match="cannot tell the encoding"):
        decode_manuscript(data, P)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n", "\u3000\u3000\n".encode()])
def test_empty_manuscript_is_refused(data: bytes) -> None:
    with pytest.raises(ManuscriptError, match="empty"):
        decode_manuscript(data, P)


def test_control_character_is_refused() -> None:
    with pytest.raises(ManuscriptError) as info:
        decode_manuscript("标题\x07正文".encode(), P)
    assert info.value.offset == len("标题".encode())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="not found") as info:
        read_text(tmp_path / "nope.txt")
    assert info.value.path == str(tmp_path / "nope.txt")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError):
        read_text(tmp_path)


def test_short_gb18030_that_is_also_utf8_symbols_is_read_as_chinese() -> None:
    """`娄` in GB18030 (C2 A6) is also valid UTF-8 (`¦`, a common symbol): a manuscript with no Han
    character in its UTF-8 reading and only common Han in its GB18030 reading is Chinese."""
    assert decode_manuscript("娄\n".encode("gb18030"), Path("p.txt")) == "娄\n"
    assert decode_manuscript("¦ 在此\n".encode(), Path("p.txt")) == "¦ 在此\n"  # Han in UTF-8: kept

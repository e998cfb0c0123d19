"""normalize_text: the typesetting normalization every reader shares."""

from __future__ import annotations

import unicodedata

import pytest

from zhpress.chars import han_chars
from zhpress.normalize import normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("——编\u00a0\u00a0者", "——编者"),  # newspaper letter-spacing
        ("中国,美国", "中国，美国"),
        ("他问:“是吗?”", "他问：“是吗？”"),
        ("好!走;再见", "好！走；再见"),
        ("是吗?", "是吗？"),  # at the end of the text, after a Han character
        ("公司(含子公司)业务", "公司（含子公司）业务"),
        ("发挥优势(党旗飘扬)", "发挥优势（党旗飘扬）"),
        ("  正文  ", "正文"),
        ("\u3000\u3000正文\u3000", "正文"),
    ],
)
def test_normalizes(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "魅视科技(001229.SZ)昨日",  # a stock code in ASCII parentheses stays
        "比分为3:2",
        "Hello, world! (yes)",
        "价格1,627,520股",
        "Yahoo!中国",
        "10\u00a0km",  # NBSP inside Latin text stays
        "A股“含科量”",  # quotes are a later stage
        "2026/1/13",
    ],
)
def test_leaves_latin_numbers_and_quotes_alone(text: str) -> None:
    assert normalize_text(text) == text


def test_nfc() -> None:
    decomposed = "Cafe\u0301里"
    assert normalize_text(decomposed) == unicodedata.normalize("NFC", decomposed)


def test_idempotent_on_chains() -> None:
    text = "中国,(美国)：好, 是吗?!"
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_han_chars_in_order_and_after_nfc() -> None:
    assert han_chars("A股“含科量”3月") == "股含科量月"
    assert han_chars("々〇𠮷") == "々〇𠮷"
    # A compatibility ideograph counts as its unified form, as NFC makes it.
    assert han_chars("\uf900") == "\u8c48"

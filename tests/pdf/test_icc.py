"""The shipped FOGRA39 CMYK profile works as WeasyPrint's PDF/X-4 output intent (checked with pikepdf)."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf

import zhpress

ICC = Path(zhpress.__file__).parent / "data" / "icc" / "FOGRA39L-zhpress.icc"


def test_profile_is_a_cmyk_output_profile_with_provenance():
    header = ICC.read_bytes()[:128]
    assert header[12:16] == b"prtr" and header[16:20] == b"CMYK" and header[20:24] == b"Lab "
    readme = (ICC.parent / "README.md").read_text(encoding="utf-8")
    assert "icc-profiles-free" in readme and "Zlib" in readme and "colprof -qm" in readme


def test_weasyprint_writes_it_as_pdfx4_output_intent_with_cmyk_text():
    from weasyprint import CSS, HTML

    color_profiles: dict = {}
    css = CSS(string=(
        f'@color-profile device-cmyk {{ src: url("{ICC.as_uri()}"); components: cyan, magenta, yellow, black }}'
        "@page { size: A6 } body { color: device-cmyk(0 0 0 1); font-family: 'Noto Serif CJK SC' }"
    ), color_profiles=color_profiles)
    pdf = HTML(string='<html lang="zh-Hans"><p>印刷用黑色文字 K100</p></html>').write_pdf(
        stylesheets=[css], color_profiles=color_profiles, pdf_variant="pdf/x-4")

    document = pikepdf.open(io.BytesIO(pdf))
    intents = document.Root.OutputIntents
    assert len(intents) == 1
    intent = intents[0]
    assert intent.S == pikepdf.Name.GTS_PDFX
    assert str(intent.OutputConditionIdentifier) == "FOGRA39 (ISO Coated v2)"
    assert intent.DestOutputProfile.N == 4
    assert intent.DestOutputProfile.read_bytes()[16:20] == b"CMYK"
    operators = {str(operator) for page in document.pages for _, operator in pikepdf.parse_content_stream(page)}
    assert "Tj" in operators or "TJ" in operators
    assert not operators & {"rg", "RG"}

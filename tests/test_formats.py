"""Formats real users have: .doc, .odt, .rtf through LibreOffice, .pdf through its text layer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fpdf import FPDF

from drafts import formats
from drafts.parsing import (
    LEFT_OUT_PAGE_NUMBER,
    LEFT_OUT_SIGNATURE,
    ParseError,
    parse_regulation,
)
from tests.conservation import missing_lines, source_lines
from tests.docbuild import DocxBuilder, zip_bytes
from tests.office import convert
from tests.test_parsing_conservation import counts

LONG = (
    "Quy chế này quy định về tổ chức, nhiệm vụ, quyền hạn và hoạt động của các Cụm, Khối thi "
    "đua trong ngành Kiểm sát nhân dân tỉnh, việc chấm điểm và xếp loại thi đua hằng năm."
)


def regulation() -> bytes:
    doc = DocxBuilder()
    doc.paragraphs("VIỆN KIỂM SÁT NHÂN DÂN TỈNH", bold=True, center=True)
    doc.paragraphs("QUY CHẾ", "Thi đua, khen thưởng", bold=True, center=True)
    doc.paragraphs("Chương I", "QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Điều 1. Phạm vi điều chỉnh", bold=True)
    doc.paragraph(f"1. {LONG}")
    doc.paragraph("2. Quy chế này áp dụng đối với các đơn vị sau:")
    doc.paragraphs("a) Phòng nghiệp vụ;", "b) Văn phòng.")
    doc.paragraphs("Chương II", "TỔ CHỨC THỰC HIỆN", bold=True, center=True)
    doc.paragraph("Điều 2. Hiệu lực", bold=True)
    doc.paragraph("Quy chế có hiệu lực từ ngày ký.")
    doc.paragraphs("Nơi nhận:", "- Các đơn vị;", "VIỆN TRƯỞNG")
    return doc.to_bytes()


EXPECTED = {"chapter": 2, "article": 2, "clause": 2, "point": 2}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The regulation saved by LibreOffice as .odt, .doc, .rtf and .pdf."""
    workdir = tmp_path_factory.mktemp("formats")
    source = {"quy-che.docx": regulation()}
    out = {}
    for target in ("odt", "doc", "rtf", "pdf"):
        target_dir = workdir / target
        target_dir.mkdir()
        out[target] = convert(source, target_dir, target)["quy-che.docx"].read_bytes()
    return out


@pytest.mark.parametrize("target", ["odt", "doc", "rtf", "pdf"])
def test_other_formats_parse_like_the_docx(converted: dict[str, bytes], target: str) -> None:
    data = converted[target]

    assert formats.identify(data, f"quy-che.{target}") == target
    result = parse_regulation(data, filename=f"quy-che.{target}")

    assert counts(result.nodes) == EXPECTED
    assert result.title == "QUY CHẾ Thi đua, khen thưởng"
    assert result.nodes[0].children[0].children[0].text == LONG
    assert [i.text for i in result.left_out if i.reason == LEFT_OUT_SIGNATURE] == [
        "Nơi nhận:",
        "- Các đơn vị;",
        "VIỆN TRƯỞNG",
    ]
    assert missing_lines(source_lines(regulation()), result) == []


def test_pdf_says_its_layout_was_inferred(converted: dict[str, bytes]) -> None:
    result = parse_regulation(converted["pdf"], filename="quy-che.pdf")

    assert any(w.startswith("Tệp PDF: bố cục") for w in result.warnings)


def test_a_scanned_pdf_without_text_layer_is_refused() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")  # a page that is only a picture

    with pytest.raises(ParseError) as caught:
        parse_regulation(bytes(pdf.output()), filename="ban-quet.pdf")

    assert caught.value.message == formats.MSG_PDF_SCANNED


def test_a_broken_pdf_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        parse_regulation(b"%PDF-1.7\n" + b"\x00garbage" * 50, filename="hong.pdf")

    assert caught.value.message in (formats.MSG_PDF_UNREADABLE, formats.MSG_PDF_SCANNED)


def test_without_libreoffice_the_message_names_the_format(
    converted: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "soffice_binary", lambda: None)

    with pytest.raises(ParseError) as caught:
        parse_regulation(converted["odt"], filename="quy-che.odt")

    assert caught.value.message == formats.MSG_NO_CONVERTER % {"name": "OpenDocument (.odt)"}


def test_a_conversion_that_runs_too_long_is_stopped(
    converted: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "CONVERT_TIMEOUT_SECONDS", 0.01)
    started = time.monotonic()

    with pytest.raises(ParseError) as caught:
        parse_regulation(converted["rtf"], filename="quy-che.rtf")

    assert caught.value.message == formats.MSG_CONVERT_TIMEOUT % {"name": "RTF (.rtf)"}
    assert time.monotonic() - started < 10


def test_an_unconvertible_doc_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ParseError) as caught:
        parse_regulation(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 1024, filename="cu.doc")

    assert caught.value.message == formats.MSG_CONVERT_FAILED % {"name": "Word 97-2003 (.doc)"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.4\n", "pdf"),
        (b"{\\rtf1\\ansi ", "rtf"),
        (b"  {\\rtf1", "rtf"),
        (bytes.fromhex("D0CF11E0A1B11AE1"), "doc"),
        (zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text"}), "odt"),
        (zip_bytes({"[Content_Types].xml": b"<Types/>"}), "docx"),
        (b"plain text", "docx"),  # the .docx reader refuses it with its own message
    ],
    ids=["pdf", "rtf", "rtf-after-spaces", "doc", "odt", "docx", "plain-text"],
)
def test_formats_are_told_apart_by_content_not_by_name(data: bytes, expected: str) -> None:
    assert formats.identify(data, "misnamed.docx") == expected


def test_converted_results_pickle_and_serialise(converted: dict[str, bytes]) -> None:
    import json
    import pickle

    result = parse_regulation(converted["odt"], filename="quy-che.odt")

    assert pickle.loads(pickle.dumps(result)) == result
    assert json.loads(result.to_json())["title"] == "QUY CHẾ Thi đua, khen thưởng"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def test_pdf_page_numbers_are_left_out_and_articles_run_across_pages() -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    for page, lines in enumerate(
        [["QUY CHẾ", "Thi đua", "Điều 1. Phạm vi", "Nội dung điều một."], ["Điều 2. Hiệu lực"]],
        start=1,
    ):
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-20)
        pdf.cell(0, 10, str(page), align="C")

    result = parse_regulation(bytes(pdf.output()), filename="quy-che.pdf")

    assert [(n.number, n.title, n.text) for n in result.nodes] == [
        ("1", "Phạm vi", "Nội dung điều một."),
        ("2", "Hiệu lực", ""),
    ]
    assert [(i.text, i.reason) for i in result.left_out] == [
        ("1", LEFT_OUT_PAGE_NUMBER),
        ("2", LEFT_OUT_PAGE_NUMBER),
    ]


REAL = Path(__file__).parent / "fixtures" / "real"


def test_decree_30_printed_to_pdf_parses_with_its_counts(tmp_path: Path) -> None:
    name = "nghi-dinh-30-2020.docx"
    data = (REAL / name).read_bytes()
    pdf = convert({name: data}, tmp_path, "pdf")[name].read_bytes()

    result = parse_regulation(pdf, filename="nghi-dinh-30-2020.pdf")

    assert counts(result.nodes) == {
        "chapter": 7,
        "section": 5,
        "article": 38,
        "clause": 116,
        "point": 94,
    }
    assert missing_lines(source_lines(data), result) == []

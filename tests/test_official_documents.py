"""Every generated .docx follows the layout of Decree 30/2020/NĐ-CP, Appendix I: the heading
block, the italic place-and-date line, the drawn rule under the motto, page numbers from page 2,
landscape pages for wide tables and a signer printed once; checked in the .docx structure and
in the PDF LibreOffice renders from it."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.officedoc import (
    MOTTO_WIDTH,
    NATIONAL_MOTTO,
    NATIONAL_NAME,
    Signer,
    number_line,
    valid_symbol,
)
from comments.consolidation.reports import (
    CommentLetterItem,
    ComparisonRow,
    build_comment_letter_docx,
    build_comparison_docx,
    build_consolidation_docx,
)
from tests.office import convert_to_pdf
from tests.test_reports import make_comparison, make_letter, make_report

PLACEHOLDERS = ("…", "...", "[", "Họ và tên", "Chức vụ")


def letter_docx() -> bytes:
    return build_comment_letter_docx(make_letter([CommentLetterItem("Điều 5", "Đề nghị sửa.")]))


DOCUMENTS: dict[str, Callable[[], bytes]] = {
    "report": lambda: build_consolidation_docx(make_report()),
    "comparison": lambda: build_comparison_docx(make_comparison()),
    "letter": letter_docx,
}
SYMBOLS = {"report": "Số: 15/BC-VP", "comparison": "Số: 16/BSS-VP", "letter": "Số: 15/VKSKV1"}
SIGNERS = {
    "report": ["CHÁNH VĂN PHÒNG", "Nguyễn Văn An"],
    "comparison": ["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Lê Văn Cường"],
    "letter": ["VIỆN TRƯỞNG", "Trần Thị Bình"],
}


def open_docx(data: bytes) -> DocxDocument:
    return Document(io.BytesIO(data))


def texts_of(doc: DocxDocument) -> list[str]:
    return [
        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))
    ]


def heading_cells(doc: DocxDocument) -> tuple[_Cell, _Cell]:
    left, right = doc.tables[0].rows[0].cells
    return left, right


def paragraph_with(cell: _Cell, text: str) -> Paragraph:
    return next(p for p in cell.paragraphs if p.text == text)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_heading_block_has_the_agency_and_number_left_and_the_national_heading_right(
    kind: str,
) -> None:
    doc = open_docx(DOCUMENTS[kind]())
    left, right = heading_cells(doc)

    assert [p.text for p in left.paragraphs][:1] == ["VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"]
    assert SYMBOLS[kind] in [p.text for p in left.paragraphs]
    assert [p.text for p in right.paragraphs][:2] == [NATIONAL_NAME, NATIONAL_MOTTO]
    assert all(run.bold for p in right.paragraphs[:2] for run in p.runs)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_place_and_date_line_is_italic_under_the_motto(kind: str) -> None:
    _left, right = heading_cells(doc := open_docx(DOCUMENTS[kind]()))
    lines = [p for p in right.paragraphs if p.text]

    assert lines[2].text.startswith("Bắc Giang, ngày ")
    assert all(run.italic for run in lines[2].runs)
    assert lines[2].text in texts_of(doc)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_the_rule_under_the_motto_is_a_border_as_long_as_the_motto(kind: str) -> None:
    doc = open_docx(DOCUMENTS[kind]())
    _left, right = heading_cells(doc)
    motto = paragraph_with(right, NATIONAL_MOTTO)

    border = motto._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:val")) == "single"
    # The paragraph, so its border, is narrowed to the motto's width (plus a little slack).
    fmt = motto.paragraph_format
    text_width = right.width - 2 * 108 * 635 - fmt.left_indent - fmt.right_indent
    assert MOTTO_WIDTH <= text_width <= MOTTO_WIDTH + 0.3 * 360000
    assert not any(set(t) <= set("-_—–") for t in texts_of(doc) if t.strip())


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_page_numbers_start_on_page_two_centred_at_the_top(kind: str) -> None:
    section = open_docx(DOCUMENTS[kind]()).sections[0]

    assert section.different_first_page_header_footer
    assert section.first_page_header.paragraphs[0].text == ""
    header = section.header.paragraphs[0]
    assert header.alignment == 1  # centred
    instructions = [i.text.strip() for i in header._p.iter(qn("w:instrText"))]
    assert instructions == ["PAGE"]


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_signer_is_printed_once_with_no_placeholder(kind: str) -> None:
    doc = open_docx(DOCUMENTS[kind]())
    texts = texts_of(doc)
    signature = [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text]

    assert signature == SIGNERS[kind]
    for line in SIGNERS[kind]:
        assert texts.count(line) == 1
    assert not any(marker in text for text in texts for marker in PLACEHOLDERS)
    assert "Nơi nhận:" in texts


@pytest.mark.parametrize(("kind", "landscape"), [("report", True), ("comparison", True),
                                                 ("letter", False)])  # fmt: skip
def test_documents_with_wide_tables_are_landscape(kind: str, landscape: bool) -> None:
    doc = open_docx(DOCUMENTS[kind]())
    section = doc.sections[0]
    wide = [table for table in doc.tables[1:-1] if len(table.columns) >= 4]

    assert bool(wide) == landscape
    assert (section.orientation == WD_ORIENT.LANDSCAPE) == landscape
    assert (section.page_width > section.page_height) == landscape


def test_report_table_starts_with_an_stt_column() -> None:
    table = open_docx(DOCUMENTS["report"]()).tables[1]

    assert table.rows[0].cells[0].text == "STT"


def test_a_unit_letter_without_a_number_leaves_room_for_the_clerk() -> None:
    assert number_line("/VKSKV1") == "Số:       /VKSKV1"
    assert number_line("BC-VP") == "Số:       /BC-VP"
    assert number_line("15/BC-VP") == "Số: 15/BC-VP"


@pytest.mark.parametrize("symbol", ["15/BC-VP", "/BC-VKS", "BC", "2026/QĐ-VKSBG"])
def test_valid_symbols(symbol: str) -> None:
    assert valid_symbol(symbol)


@pytest.mark.parametrize("symbol", ["", "15/", "bc-vp", "15/BC VP", "15//BC", "<b>", "A" * 41])
def test_invalid_symbols(symbol: str) -> None:
    assert not valid_symbol(symbol)


# --------------------------------------------------------------------------- word marks


def marked(cell: _Cell) -> tuple[str, str, str]:
    """(the text under the label, struck-through text, bold underlined text) of a cell."""
    runs = [run for p in cell.paragraphs[1:] for run in p.runs]
    return (
        "\n".join(p.text for p in cell.paragraphs[1:]),
        "".join(r.text for r in runs if r.font.strike),
        "".join(r.text for r in runs if r.bold and r.underline),
    )


def test_comparison_marks_deletions_and_insertions() -> None:
    cmp = make_comparison()
    cmp.rows = [
        ComparisonRow(
            label="Điều 6",
            old_text="Cụm trưởng tổ chức giao ban hằng tháng.",
            new_text="Cụm trưởng tổ chức giao ban hằng quý.",
            changes=frozenset({"changed"}),
        )
    ]
    row = open_docx(build_comparison_docx(cmp)).tables[1].rows[1]

    assert marked(row.cells[0]) == ("Cụm trưởng tổ chức giao ban hằng tháng.", "tháng", "")
    assert marked(row.cells[1]) == ("Cụm trưởng tổ chức giao ban hằng quý.", "", "quý")


WORDS = st.lists(st.sampled_from(["Cụm", "trưởng", "tổ", "chức", "giao", "ban", "quý", "1."]))
TEXTS = st.lists(WORDS.map(" ".join), min_size=1, max_size=3).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(old=TEXTS, new=TEXTS)
def test_each_side_of_the_comparison_keeps_its_text_whatever_the_edit(old: str, new: str) -> None:
    cmp = make_comparison()
    cmp.rows = [ComparisonRow("Điều 1", old, new, changes=frozenset({"changed"}))]
    row = open_docx(build_comparison_docx(cmp)).tables[1].rows[1]
    old_text, _deleted, old_inserted = marked(row.cells[0])
    new_text, new_deleted, _inserted = marked(row.cells[1])

    assert old_text == old and new_text == new
    assert old_inserted == "" and new_deleted == ""


# --------------------------------------------------------------------------- rendered


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def pdf_page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def assert_official_page_one(text: str) -> None:
    lines = [line.strip() for line in text.splitlines()]
    # The national name on one line, beside the agency: it must not wrap.
    assert any(line.endswith(NATIONAL_NAME) for line in lines)
    assert any(line.endswith(NATIONAL_MOTTO) for line in lines)
    assert not any(line == "2" for line in lines[:3])  # no number on page 1


def test_rendered_documents_keep_the_heading_on_one_line_and_a_stable_page_count(
    tmp_path: Path,
) -> None:
    documents = {f"{kind}.docx": build() for kind, build in DOCUMENTS.items()}
    first = convert_to_pdf(documents, tmp_path / "first")
    second = convert_to_pdf(documents, tmp_path / "second")

    for name in documents:
        assert pdf_pages(first[name]) == pdf_pages(second[name])
        assert_official_page_one(pdf_page_text(first[name], 1))
    # The sample report fills its first landscape page and signs on the second, which is
    # numbered at the top.
    assert pdf_pages(first["report.docx"]) == 2
    assert pdf_page_text(first["report.docx"], 2).strip().splitlines()[0].strip() == "2"
    assert pdf_pages(first["comparison.docx"]) == 1
    assert pdf_pages(first["letter.docx"]) == 1


def test_a_configured_signer_signs_the_report(tmp_path: Path) -> None:
    report = make_report()
    report.signer = Signer("PHÓ VIỆN TRƯỞNG", "Lê Văn Cường", "KT. VIỆN TRƯỞNG")
    doc = open_docx(build_consolidation_docx(report))
    signature = [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text]

    assert signature == ["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Lê Văn Cường"]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    for sub in ("first", "second"):
        (tmp_path / sub).mkdir()
    return tmp_path

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from openpyxl import load_workbook

from accounts.officedoc import NATIONAL_NAME
from comments.consolidation.reports import (
    CommentLetter,
    CommentLetterItem,
    ComparisonRow,
    ComparisonTable,
    ConsolidationReport,
    ReportCounts,
    ReportRow,
    Signer,
    build_comment_letter_docx,
    build_comparison_docx,
    build_consolidation_docx,
    build_consolidation_xlsx,
    change_note,
    place_and_date,
)
from tests import sheets
from tests.office import convert_to_pdf

ARTICLE_5 = "Điều 5. Nhiệm vụ của Cụm trưởng"
CLAUSE_2_ARTICLE_7 = "Khoản 2 Điều 7"
GENERAL = "Ý kiến chung"


def make_report() -> ConsolidationReport:
    # General comments are deliberately not first in the input: the report puts them first.
    rows = [
        ReportRow(
            "a5",
            ARTICLE_5,
            ["VKSND khu vực 1", "VKSND khu vực 2"],
            "Đề nghị bổ sung nhiệm vụ tổ chức giao ban Cụm hằng quý.",
            "tiep_thu",
            "Đã bổ sung tại khoản 3 Điều 5.",
            [11, 12],
        ),
        ReportRow("general", GENERAL, ["Phòng 1"], "Đề nghị rà soát lỗi chính tả.", "tiep_thu"),
        ReportRow(
            "a5",
            ARTICLE_5,
            ["Phòng 2"],
            "Đề nghị quy định rõ thời hạn Cụm trưởng gửi báo cáo.",
            "khong_tiep_thu",
            "Thời hạn đã được quy định tại Điều 12.",
            [13],
        ),
        ReportRow(
            "a5",
            ARTICLE_5,
            ["Thanh tra"],
            "Đề nghị bỏ cụm từ <thường xuyên> & thay bằng định kỳ.",
            "giai_trinh",
            "Giữ nguyên vì phù hợp Quy chế mẫu.\nĐã trao đổi với đơn vị.",
            [14],
        ),
        ReportRow(
            "general",
            GENERAL,
            ["VKSND khu vực 3"],
            "Thống nhất bố cục, đề nghị ban hành sớm.",
            "giai_trinh",
            "",
            [15],
        ),
        ReportRow(
            "a7k2",
            CLAUSE_2_ARTICLE_7,
            ["VKSND khu vực 4"],
            "Đề nghị sửa “05 ngày” thành “07 ngày làm việc”.",
            "tiep_thu_mot_phan",
            "Sửa thành 06 ngày làm việc.",
            [16],
        ),
        ReportRow("a9", "Điều 9. Khen thưởng", ["Phòng 3"], "Chưa rõ tiêu chí xét.", None),
    ]
    return ConsolidationReport(
        agency_name="VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG",
        drafting_unit="VĂN PHÒNG",
        draft_title="Quy chế tổ chức và hoạt động của Cụm, Khối thi đua",
        version_label="Dự thảo lần 2",
        place="Bắc Giang",
        date=datetime.date(2026, 11, 25),
        counts=ReportCounts(
            units_invited=12,
            units_answered=10,
            units_agreed_without_comments=4,
            comments_total=37,
            accepted=20,
            partly_accepted=5,
            not_accepted=7,
            explained=5,
        ),
        rows=rows,
        signer=Signer("CHÁNH VĂN PHÒNG", "Nguyễn Văn An"),
        symbol="15/BC-VP",
    )


def open_docx(data: bytes) -> DocxDocument:
    return Document(io.BytesIO(data))


def all_paragraph_texts(doc: DocxDocument) -> list[str]:
    """Every paragraph of the body, table cells included."""
    return [
        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))
    ]


def main_table(doc: DocxDocument) -> Table:
    # The first and last tables are the header and signature layouts.
    return doc.tables[1]


def physical_cells(table: Table, row_index: int) -> list[_Cell]:
    """The row's own w:tc elements, so a merged cell's text is not repeated per row."""
    return [_Cell(tc, table) for tc in table.rows[row_index]._tr.tc_lst]


def test_counts_paragraph_states_the_figures() -> None:
    doc = open_docx(build_consolidation_docx(make_report()))

    assert (
        "Văn phòng đã gửi xin ý kiến 12 đơn vị; đã nhận được ý kiến của 10 đơn vị, trong đó 4 "
        "đơn vị thống nhất với dự thảo, không có ý kiến khác. Tổng số có 37 ý kiến góp ý; đã "
        "tiếp thu 20 ý kiến, tiếp thu một phần 5 ý kiến, không tiếp thu 7 ý kiến, giải trình 5 "
        "ý kiến."
    ) in [p.text for p in doc.paragraphs]


def test_unanswered_comments_are_mentioned_only_when_there_are_some() -> None:
    report = make_report()
    report.counts.unanswered = 3

    texts = all_paragraph_texts(open_docx(build_consolidation_docx(report)))

    assert any(text.endswith("giải trình 5 ý kiến; còn 3 ý kiến chưa xử lý.") for text in texts)


def test_title_subject_and_signature() -> None:
    texts = all_paragraph_texts(open_docx(build_consolidation_docx(make_report())))

    assert "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý" in texts
    assert (
        "Đối với dự thảo Quy chế tổ chức và hoạt động của Cụm, Khối thi đua (Dự thảo lần 2)"
        in texts
    )
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert "Độc lập - Tự do - Hạnh phúc" in texts
    signature = texts[texts.index("Bắc Giang, ngày 25 tháng 11 năm 2026") :]
    assert "CHÁNH VĂN PHÒNG" in signature
    assert signature[-1] == "Nguyễn Văn An"


def test_table_header_is_stt_and_the_four_official_columns_and_repeats() -> None:
    table = main_table(open_docx(build_consolidation_docx(make_report())))

    assert [c.text for c in table.rows[0].cells] == [
        "STT",
        "Điều, khoản (nhóm vấn đề)",
        "Chủ thể góp ý",
        "Nội dung góp ý",
        "Nội dung tiếp thu, giải trình",
    ]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_each_comment_appears_once_in_its_group_and_general_group_comes_first() -> None:
    report = make_report()
    table = main_table(open_docx(build_consolidation_docx(report)))
    body_rows = table.rows[1:]

    comment_cells = [physical_cells(table, i)[3].text for i in range(1, len(table.rows))]
    for row in report.rows:
        assert comment_cells.count(row.comment_text) == 1
        index = comment_cells.index(row.comment_text)
        # row.cells resolves a merged continuation cell to the top cell of its group.
        assert body_rows[index].cells[1].text == row.group_label

    group_labels = [r.cells[1].text for r in body_rows]
    expected = [GENERAL] * 2 + [ARTICLE_5] * 3 + [CLAUSE_2_ARTICLE_7, "Điều 9. Khen thưởng"]
    assert group_labels == expected
    # STT numbers the groups, merged over each group's rows like its label.
    assert [r.cells[0].text for r in body_rows] == ["1", "1", "2", "2", "2", "3", "4"]
    assert comment_cells[0] == "Đề nghị rà soát lỗi chính tả."


def test_groups_with_several_rows_have_a_vertically_merged_first_column() -> None:
    table = main_table(open_docx(build_consolidation_docx(make_report())))

    def v_merge(row_index: int) -> str | None:
        assert physical_cells(table, row_index)[0]._tc.vMerge == (
            physical_cells(table, row_index)[1]._tc.vMerge
        )
        return physical_cells(table, row_index)[1]._tc.vMerge

    assert [v_merge(i) for i in range(1, 8)] == [
        "restart",
        "continue",
        "restart",
        "continue",
        "continue",
        None,
        None,
    ]
    # python-docx resolves each continuation cell to the group's top cell.
    top_cells = [row.cells[1]._tc for row in table.rows[3:6]]
    assert all(tc is top_cells[0] for tc in top_cells)
    # Only the top cell carries the label; continuation cells stay empty.
    assert [physical_cells(table, i)[1].text for i in range(3, 6)] == [ARTICLE_5, "", ""]


def test_response_starts_with_the_decision_in_bold() -> None:
    table = main_table(open_docx(build_consolidation_docx(make_report())))
    responses = {physical_cells(table, i)[3].text: physical_cells(table, i)[4] for i in range(1, 8)}

    partly = responses["Đề nghị sửa “05 ngày” thành “07 ngày làm việc”."]
    first_run = partly.paragraphs[0].runs[0]
    assert first_run.bold and first_run.text == "Tiếp thu một phần."
    assert partly.text == "Tiếp thu một phần. Sửa thành 06 ngày làm việc."

    explained = responses["Đề nghị bỏ cụm từ <thường xuyên> & thay bằng định kỳ."]
    assert [p.text for p in explained.paragraphs] == [
        "Giải trình. Giữ nguyên vì phù hợp Quy chế mẫu.",
        "Đã trao đổi với đơn vị.",
    ]
    assert responses["Thống nhất bố cục, đề nghị ban hành sớm."].text == "Giải trình"
    assert responses["Chưa rõ tiêu chí xét."].text == "Chưa xử lý"


def test_shared_comment_lists_every_unit() -> None:
    table = main_table(open_docx(build_consolidation_docx(make_report())))
    row = next(
        physical_cells(table, i)
        for i in range(1, 8)
        if physical_cells(table, i)[3].text.startswith("Đề nghị bổ sung nhiệm vụ")
    )

    assert [p.text for p in row[2].paragraphs] == ["VKSND khu vực 1", "VKSND khu vực 2"]


def test_page_is_a4_landscape_for_the_five_columns_with_times_new_roman() -> None:
    doc = open_docx(build_consolidation_docx(make_report()))
    section = doc.sections[0]

    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (29.7, 21.0)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.cm, 1) for m in margins] == [2.0, 2.0, 3.0, 1.5]
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert 13 <= normal.font.size.pt <= 14
    fonts = normal.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "Times New Roman"


def test_report_without_comments_has_only_the_header_row() -> None:
    report = make_report()
    report.rows = []

    doc = open_docx(build_consolidation_docx(report))

    assert len(main_table(doc).rows) == 1
    ws = load_workbook(io.BytesIO(build_consolidation_xlsx(report))).active
    assert len(sheets.table(ws, "STT")) == 1


def test_unknown_decision_is_rejected() -> None:
    report = make_report()
    report.rows[0].decision = "dong_y"

    with pytest.raises(ValueError, match="không hợp lệ"):
        build_consolidation_docx(report)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (datetime.date(2026, 11, 25), "Bắc Giang, ngày 25 tháng 11 năm 2026"),
        (datetime.date(2026, 2, 5), "Bắc Giang, ngày 05 tháng 02 năm 2026"),
        (datetime.date(2026, 3, 9), "Bắc Giang, ngày 09 tháng 3 năm 2026"),
    ],
)
def test_place_and_date_follow_the_administrative_style(date: datetime.date, expected: str) -> None:
    assert place_and_date("Bắc Giang", date) == expected


def test_xlsx_has_one_row_per_comment_with_a_filtered_frozen_header() -> None:
    report = make_report()
    ws = load_workbook(io.BytesIO(build_consolidation_xlsx(report))).active
    rows = sheets.table(ws, "STT")
    start = sheets.header_row(ws, "STT")

    assert rows[0] == (
        "STT",
        "Điều/khoản",
        "Đơn vị",
        "Nội dung góp ý",
        "Quyết định",
        "Tiếp thu/giải trình",
    )
    assert len(rows) == 1 + len(report.rows)
    assert ws.auto_filter.ref == f"A{start}:F{start + len(rows) - 1}"
    sheets.assert_official_layout(ws, "STT", "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý")
    assert [r[0] for r in rows[1:]] == list(range(1, len(report.rows) + 1))
    assert rows[1][1] == GENERAL
    assert rows[3] == (
        3,
        ARTICLE_5,
        "VKSND khu vực 1; VKSND khu vực 2",
        "Đề nghị bổ sung nhiệm vụ tổ chức giao ban Cụm hằng quý.",
        "Tiếp thu",
        "Đã bổ sung tại khoản 3 Điều 5.",
    )
    assert ws.cell(row=start + 2, column=4).alignment.wrap_text


def test_xlsx_carries_the_official_heading_and_the_signer_of_the_docx() -> None:
    report = make_report()
    ws = load_workbook(io.BytesIO(build_consolidation_xlsx(report))).active
    start = sheets.header_row(ws, "STT")

    above = sheets.texts(ws, 1, start - 1)
    assert above[:2] == [report.agency_name, NATIONAL_NAME]
    assert report.drafting_unit in above and "Số: 15/BC-VP" in above
    assert f"Đối với dự thảo {report.draft_title} ({report.version_label})" in above
    below = sheets.texts(ws, start + len(report.rows) + 1)
    assert [*report.signer.heading_lines, report.signer.name] == [
        text for text in below if text in (*report.signer.heading_lines, report.signer.name)
    ]
    assert "- Lưu: VT." in below


def make_comparison() -> ComparisonTable:
    return ComparisonTable(
        agency_name="VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG",
        drafting_unit="VĂN PHÒNG",
        draft_title="Quy chế tổ chức và hoạt động của Cụm, Khối thi đua",
        old_version_label="Dự thảo lần 1",
        new_version_label="Dự thảo lần 2",
        place="Bắc Giang",
        date=datetime.date(2026, 11, 28),
        signer=Signer("PHÓ VIỆN TRƯỞNG", "Lê Văn Cường", "KT. VIỆN TRƯỞNG"),
        symbol="16/BSS-VP",
        rows=[
            ComparisonRow(
                label="Điều 6",
                old_label="Điều 5",
                old_text="Cụm trưởng tổ chức giao ban.",
                new_text="Cụm trưởng tổ chức giao ban hằng quý.",
                comments=["VKSND khu vực 1: đề nghị giao ban hằng quý."],
                changes=frozenset({"renumbered", "changed"}),
            ),
            ComparisonRow(
                label="Điều 5",
                old_text="",
                new_text="Nguyên tắc chấm điểm.",
                changes=frozenset({"added"}),
                note="Theo ý kiến của Phòng 2",
            ),
            ComparisonRow(
                label="Điều 9",
                old_text="Quy định chuyển tiếp.",
                new_text="",
                changes=frozenset({"removed"}),
            ),
        ],
    )


def test_comparison_table_is_landscape_with_four_columns() -> None:
    doc = open_docx(build_comparison_docx(make_comparison()))
    section = doc.sections[0]
    table = main_table(doc)

    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (29.7, 21.0)
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert "BẢNG SO SÁNH" in all_paragraph_texts(doc)
    assert [c.text for c in table.rows[0].cells] == [
        "Dự thảo lần 1",
        "Dự thảo lần 2",
        "Ý kiến góp ý được tiếp thu, giải trình",
        "Ghi chú",
    ]
    renumbered, added, removed = ([c.text for c in row.cells] for row in table.rows[1:])
    assert renumbered == [
        "Điều 5\nCụm trưởng tổ chức giao ban.",
        "Điều 6\nCụm trưởng tổ chức giao ban hằng quý.",
        "- VKSND khu vực 1: đề nghị giao ban hằng quý.",
        "Sửa đổi; Đánh số lại",
    ]
    assert added == [
        "",
        "Điều 5\nNguyên tắc chấm điểm.",
        "",
        "Bổ sung mới\nTheo ý kiến của Phòng 2",
    ]
    assert removed == ["Điều 9\nQuy định chuyển tiếp.", "", "", "Bãi bỏ"]


def test_change_note_orders_and_translates_change_kinds() -> None:
    assert change_note(["moved", "renumbered"]) == "Đánh số lại; Di chuyển"
    assert change_note([]) == ""


def make_letter(items: list[CommentLetterItem]) -> CommentLetter:
    return CommentLetter(
        agency_name="VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG",
        unit_name="VIỆN KIỂM SÁT NHÂN DÂN KHU VỰC 1",
        symbol="15/VKSKV1",
        draft_title="Quy chế tổ chức và hoạt động của Cụm, Khối thi đua",
        version_label="Dự thảo lần 2",
        recipient="Văn phòng Viện kiểm sát nhân dân tỉnh Bắc Giang",
        place="Bắc Giang",
        date=datetime.date(2026, 11, 20),
        signer=Signer("VIỆN TRƯỞNG", "Trần Thị Bình"),
        items=items,
    )


def test_letter_from_a_unit_that_agrees() -> None:
    texts = all_paragraph_texts(open_docx(build_comment_letter_docx(make_letter([]))))
    body = " ".join(texts)

    assert "Số: 15/VKSKV1" in texts
    assert "V/v góp ý dự thảo Quy chế tổ chức và hoạt động của Cụm, Khối thi đua" in texts
    assert "Kính gửi: Văn phòng Viện kiểm sát nhân dân tỉnh Bắc Giang." in texts
    assert "Bắc Giang, ngày 20 tháng 11 năm 2026" in texts
    assert (
        "Viện kiểm sát nhân dân khu vực 1 thống nhất với nội dung dự thảo, không có ý kiến khác."
        in body
    )
    assert "có ý kiến góp ý như sau" not in body
    assert "Nơi nhận:" in texts
    assert texts[-1] == "Trần Thị Bình"


def test_letter_with_comments_lists_them_by_article() -> None:
    letter = make_letter(
        [
            CommentLetterItem(None, "Đề nghị rà soát lỗi chính tả."),
            CommentLetterItem("Điều 5", "Đề nghị bổ sung nhiệm vụ giao ban hằng quý."),
            CommentLetterItem("khoản 2 Điều 7", "Đề nghị sửa thời hạn thành 07 ngày làm việc."),
        ]
    )

    texts = all_paragraph_texts(open_docx(build_comment_letter_docx(letter)))

    assert any(t.endswith("có ý kiến góp ý như sau:") for t in texts)
    assert "1. Ý kiến chung: Đề nghị rà soát lỗi chính tả." in texts
    assert "2. Về Điều 5: Đề nghị bổ sung nhiệm vụ giao ban hằng quý." in texts
    assert "3. Về khoản 2 Điều 7: Đề nghị sửa thời hạn thành 07 ngày làm việc." in texts
    assert not any("không có ý kiến khác" in t for t in texts)
    assert texts[texts.index("Nơi nhận:") + 1 :][:2] == ["- Như trên;", "- Lưu: VT."]


def test_reports_convert_to_pdf_with_libreoffice(tmp_path: Path) -> None:
    convert_to_pdf(
        {
            "tong-hop.docx": build_consolidation_docx(make_report()),
            "so-sanh.docx": build_comparison_docx(make_comparison()),
        },
        tmp_path,
    )

"""Parsers for uploaded regulations (drafts.parsing) and criteria tables (criteria_parsing)."""

from __future__ import annotations

import json
import unicodedata
import zipfile
from decimal import Decimal

import pytest

from drafts.criteria_parsing import (
    MSG_NO_HEADER,
    CriteriaNode,
    check_criteria_sums,
    parse_criteria,
    parse_points,
)
from drafts.officefile import MSG_BOMB, MSG_CORRUPT, MSG_EMPTY, MSG_OLE
from drafts.parsing import (
    LEFT_OUT_HEADER_FOOTER,
    LEFT_OUT_LETTERHEAD,
    LEFT_OUT_OTHER_DOCUMENT,
    LEFT_OUT_SIGNATURE,
    MSG_NO_STRUCTURE,
    MSG_NOT_OFFICE,
    MSG_XLSX_NOT_DOCX,
    Node,
    ParseError,
    parse_regulation,
    sniff_office_file,
)
from tests.docbuild import (
    DOCX_CONTENT_TYPES,
    OLE_HEADER,
    W_NS,
    DocxBuilder,
    Level,
    Sheet,
    xlsx_bytes,
    zip_bomb,
    zip_bytes,
)


def tree(nodes: list[Node]) -> list[tuple]:
    """(kind, number, title, text, children) tuples: short to write, exact to compare."""
    return [(n.kind, n.number, n.title, n.text, tree(n.children)) for n in nodes]


def heading(doc: DocxBuilder, *lines: str) -> None:
    doc.paragraphs(*lines, bold=True, center=True)


# ---------------------------------------------------------------------------------------------
# Regulations: typed numbering
# ---------------------------------------------------------------------------------------------


def typed_regulation() -> DocxBuilder:
    doc = DocxBuilder()
    doc.header("DỰ THẢO LẦN 2 - Điều 99. Văn bản ở đầu trang")
    doc.footer("Trang 1")
    heading(doc, "VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "DỰ THẢO", "QUY CHẾ", "Thi đua, khen thưởng")
    doc.paragraph("")
    heading(doc, "Chương I", "QUY ĐỊNH CHUNG")
    doc.paragraph("Điều 1. Phạm vi điều chỉnh", bold=True)
    doc.paragraph("Quy chế này quy định về thi đua.")
    doc.paragraph("Điều 2. Giải thích từ ngữ", bold=True)
    doc.paragraph("1. Cụm thi đua là tập hợp các đơn vị.")
    doc.paragraph("Cụm được tổ chức theo địa bàn.")
    doc.paragraph("   ")
    doc.paragraph("1a. Khối thi đua là tập hợp các phòng.")
    doc.paragraph("2. Đơn vị gồm:")
    doc.paragraphs("a) Phòng nghiệp vụ;", "a1) Văn phòng;", "b) Thanh tra;", "c) Viện khu vực;")
    doc.paragraphs("d) Đơn vị khác;", "đ) Đơn vị mới thành lập.")
    doc.paragraph("Điểm này áp dụng từ năm 2026.")
    heading(doc, "Chương II", "TỔ CHỨC")
    heading(doc, "Mục 1", "CỤM THI ĐUA")
    doc.paragraph("Điều 3. Cụm trưởng", bold=True)
    doc.paragraph("Điều 3a. Cụm phó", bold=True)
    doc.paragraph("1. Do Cụm bầu.")
    doc.paragraph("2) Nhiệm kỳ một năm.")
    return doc


def test_typed_numbering_builds_the_full_tree() -> None:
    result = parse_regulation(typed_regulation().to_bytes())

    points = [
        ("point", "a", "", "Phòng nghiệp vụ;", []),
        ("point", "a1", "", "Văn phòng;", []),
        ("point", "b", "", "Thanh tra;", []),
        ("point", "c", "", "Viện khu vực;", []),
        ("point", "d", "", "Đơn vị khác;", []),
        ("point", "đ", "", "Đơn vị mới thành lập.\nĐiểm này áp dụng từ năm 2026.", []),
    ]
    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi điều chỉnh", "Quy chế này quy định về thi đua.", []),
            ("article", "2", "Giải thích từ ngữ", "", [
                ("clause", "1", "", "Cụm thi đua là tập hợp các đơn vị.\n"
                 "Cụm được tổ chức theo địa bàn.", []),
                ("clause", "1a", "", "Khối thi đua là tập hợp các phòng.", []),
                ("clause", "2", "", "Đơn vị gồm:", points),
            ]),
        ]),
        ("chapter", "II", "TỔ CHỨC", "", [
            ("section", "1", "CỤM THI ĐUA", "", [
                ("article", "3", "Cụm trưởng", "", []),
                ("article", "3a", "Cụm phó", "", [
                    ("clause", "1", "", "Do Cụm bầu.", []),
                    ("clause", "2", "", "Nhiệm kỳ một năm.", []),
                ]),
            ]),
        ]),
    ]  # fmt: skip
    assert result.warnings == []


def test_headers_footers_are_left_out_with_their_reason_and_title_block_out_of_the_tree() -> None:
    result = parse_regulation(typed_regulation().to_bytes())
    in_tree = json.dumps([node.as_dict() for node in result.nodes], ensure_ascii=False)

    for outside in ("Điều 99", "Trang 1", "DỰ THẢO", "VIỆN KIỂM SÁT", "Thi đua, khen thưởng"):
        assert outside not in in_tree
    assert result.title == "QUY CHẾ Thi đua, khen thưởng"
    assert [(item.text, item.reason) for item in result.left_out] == [
        ("VIỆN KIỂM SÁT NHÂN DÂN TỈNH", LEFT_OUT_LETTERHEAD),
        ("DỰ THẢO", LEFT_OUT_LETTERHEAD),
        ("DỰ THẢO LẦN 2 - Điều 99. Văn bản ở đầu trang", LEFT_OUT_HEADER_FOOTER),
        ("Trang 1", LEFT_OUT_HEADER_FOOTER),
    ]


def test_result_has_the_contract_shape() -> None:
    result = parse_regulation(typed_regulation().to_bytes())

    data = json.loads(result.to_json())
    assert list(data) == ["title", "preamble", "nodes", "warnings", "left_out"]
    assert list(data["nodes"][0]) == ["kind", "number", "title", "text", "children"]
    assert data == result.as_dict()


def test_decomposed_unicode_and_soft_line_breaks() -> None:
    doc = DocxBuilder()
    heading(doc, "Chương I\nQUY ĐỊNH CHUNG")
    doc.paragraph(unicodedata.normalize("NFD", "Điều 1. Phạm vi điều chỉnh"), bold=True)
    doc.paragraph("Điều 2. Đối tượng\nvà phạm vi áp dụng", bold=True)
    doc.paragraph("1. Câu thứ nhất;\ncâu thứ hai.")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi điều chỉnh", "", []),
            ("article", "2", "Đối tượng và phạm vi áp dụng", "", [
                ("clause", "1", "", "Câu thứ nhất;\ncâu thứ hai.", []),
            ]),
        ]),
    ]  # fmt: skip


def test_tracked_deletions_and_hidden_text_are_not_read() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Hiệu lực", bold=True)
    doc.raw_paragraph(
        '<w:r><w:t xml:space="preserve">1. Có hiệu lực từ ngày </w:t></w:r>'
        '<w:del w:id="1" w:author="VP" w:date="2026-01-01T00:00:00Z">'
        "<w:r><w:delText>ban hành</w:delText></w:r></w:del>"
        '<w:ins w:id="2" w:author="VP" w:date="2026-01-01T00:00:00Z">'
        "<w:r><w:t>ký</w:t></w:r></w:ins>"
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>ghi chú ẩn</w:t></w:r>"
        '<w:hyperlink w:anchor="dieu2"><w:r><w:t xml:space="preserve"> theo Điều 2</w:t></w:r>'
        "</w:hyperlink>"
    )

    result = parse_regulation(doc.to_bytes())

    assert result.nodes[0].children[0].text == "Có hiệu lực từ ngày ký theo Điều 2"


def test_paragraphs_inside_content_controls_are_read() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.raw_block(
        f"<w:sdt {W_NS}><w:sdtPr/><w:sdtContent>"
        "<w:p><w:r><w:t>1. Nội dung trong ô nhập liệu.</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("article", "1", "Phạm vi", "", [("clause", "1", "", "Nội dung trong ô nhập liệu.", [])])
    ]


# ---------------------------------------------------------------------------------------------
# Regulations: headings by style or by bold
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "look", [{"bold": True}, {"style": "Heading 2"}], ids=["bold", "heading-style"]
)
def test_article_title_on_its_own_line_needs_a_heading_look(look: dict) -> None:
    doc = DocxBuilder()
    doc.document.styles["Heading 2"].font.bold = False  # the style alone must be enough
    doc.paragraph("Chương I", style="Heading 1")
    doc.paragraph("QUY ĐỊNH CHUNG", style="Heading 1")
    doc.paragraph("Điều 1.", **look)
    doc.paragraph("Phạm vi điều chỉnh", **look)
    doc.paragraph("1. Nội dung.")
    doc.paragraph("Điều 2.", **look)
    doc.paragraph("Quy chế này có hiệu lực từ ngày ký.")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi điều chỉnh", "", [("clause", "1", "", "Nội dung.", [])]),
            ("article", "2", "", "Quy chế này có hiệu lực từ ngày ký.", []),
        ]),
    ]  # fmt: skip


def test_unpunctuated_article_label_counts_only_when_emphasised() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1 Phạm vi", bold=True)
    doc.paragraph("1. Theo quy định sau:")
    doc.paragraph("Điều 5 Luật Thi đua, khen thưởng quy định rõ việc này.")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("article", "1", "Phạm vi", "", [
            ("clause", "1", "", "Theo quy định sau:\n"
             "Điều 5 Luật Thi đua, khen thưởng quy định rõ việc này.", []),
        ]),
    ]  # fmt: skip


def test_bold_part_of_an_article_line_is_its_title() -> None:
    doc = DocxBuilder()
    doc.paragraph(("Điều 9. Hiệu lực thi hành.", True), (" Quy chế có hiệu lực từ ngày ký.", False))

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("article", "9", "Hiệu lực thi hành", "Quy chế có hiệu lực từ ngày ký.", [])
    ]
    assert result.warnings == ["Số thứ tự không liên tục: Điều 9 là điều đầu tiên nhưng "
                               "không được đánh số 1."]  # fmt: skip


def test_chapter_title_over_two_lines_in_capitals() -> None:
    doc = DocxBuilder()
    heading(doc, "Chương I", "QUY ĐỊNH VỀ TỔ CHỨC", "VÀ HOẠT ĐỘNG")
    doc.paragraph("Điều 1. Phạm vi", bold=True)

    result = parse_regulation(doc.to_bytes())

    assert result.nodes[0].title == "QUY ĐỊNH VỀ TỔ CHỨC VÀ HOẠT ĐỘNG"
    assert result.nodes[0].children[0].title == "Phạm vi"


def test_parts_and_subsections() -> None:
    doc = DocxBuilder()
    heading(doc, "PHẦN THỨ NHẤT", "NHỮNG QUY ĐỊNH CHUNG", "Chương I: PHẠM VI")
    heading(doc, "Mục 1. CỤM", "Tiểu mục 1", "CỤM KHU VỰC")
    doc.paragraph("Điều 1. Thành lập", bold=True)

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("part", "thứ nhất", "NHỮNG QUY ĐỊNH CHUNG", "", [
            ("chapter", "I", "PHẠM VI", "", [
                ("section", "1", "CỤM", "", [
                    ("subsection", "1", "CỤM KHU VỰC", "", [
                        ("article", "1", "Thành lập", "", []),
                    ]),
                ]),
            ]),
        ]),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Regulations: Word automatic numbering
# ---------------------------------------------------------------------------------------------


def test_automatic_multilevel_numbering_restarts_lower_levels() -> None:
    doc = DocxBuilder()
    lists = doc.add_list(
        Level("decimal", "Điều %1."), Level("decimal", "%2."), Level("lowerLetter", "%3)")
    )
    num = doc.add_list_instance(lists)
    heading(doc, "QUY CHẾ")
    doc.paragraph("Phạm vi điều chỉnh", bold=True, numbering=(num, 0))
    doc.paragraph("Quy chế này quy định về thi đua.", numbering=(num, 1))
    doc.paragraph("Đơn vị gồm:", numbering=(num, 1))
    for unit in ("Phòng 1;", "Phòng 2;", "Phòng 3;", "Phòng 4;", "Văn phòng."):
        doc.paragraph(unit, numbering=(num, 2))
    doc.paragraph("Nguyên tắc", bold=True, numbering=(num, 0))
    doc.paragraph("Công khai.", numbering=(num, 1))

    result = parse_regulation(doc.to_bytes())

    # Word's lowerLetter list runs a b c d e: the label shown is kept, not the Vietnamese "đ".
    assert tree(result.nodes) == [
        ("article", "1", "Phạm vi điều chỉnh", "", [
            ("clause", "1", "", "Quy chế này quy định về thi đua.", []),
            ("clause", "2", "", "Đơn vị gồm:", [
                ("point", letter, "", unit, [])
                for letter, unit in zip(
                    "abcde", ("Phòng 1;", "Phòng 2;", "Phòng 3;", "Phòng 4;", "Văn phòng."),
                    strict=True,
                )
            ]),
        ]),
        ("article", "2", "Nguyên tắc", "", [("clause", "1", "", "Công khai.", [])]),
    ]  # fmt: skip
    assert result.warnings == []


def test_list_instances_share_a_counter_unless_restarted() -> None:
    doc = DocxBuilder()
    lists = doc.add_list(Level("decimal", "%1)", start=1))
    first, restarted, continued = (
        doc.add_list_instance(lists),
        doc.add_list_instance(lists, start_overrides={0: 1}),
        doc.add_list_instance(lists),
    )
    doc.paragraph("Điều 1. Một", bold=True)
    doc.paragraph("Khoản một.", numbering=(first, 0))
    doc.paragraph("Khoản hai.", numbering=(first, 0))
    doc.paragraph("Điều 2. Hai", bold=True)
    doc.paragraph("Khoản một.", numbering=(restarted, 0))
    doc.paragraph("Khoản hai.", numbering=(restarted, 0))
    doc.paragraph("Điều 3. Ba", bold=True)
    doc.paragraph("Khoản tiếp theo.", numbering=(continued, 0))

    result = parse_regulation(doc.to_bytes())

    numbers = [[clause.number for clause in article.children] for article in result.nodes]
    # As Word shows it: an instance without startOverride continues the shared list.
    assert numbers == [["1", "2"], ["1", "2"], ["3"]]


def test_level_start_and_roman_outline_numbering() -> None:
    doc = DocxBuilder()
    lists = doc.add_list(Level("upperRoman", "%1."), Level("decimal", "%2.", start=3))
    num = doc.add_list_instance(lists)
    doc.paragraph("MỤC ĐÍCH", numbering=(num, 0))
    doc.paragraph("Nội dung ba.", numbering=(num, 1))
    doc.paragraph("YÊU CẦU", numbering=(num, 0))
    doc.paragraph("Nội dung ba nữa.", numbering=(num, 1))

    result = parse_regulation(doc.to_bytes())

    assert [(n.kind, n.number, n.title) for n in result.nodes] == [
        ("section", "I", "MỤC ĐÍCH"),
        ("section", "II", "YÊU CẦU"),
    ]
    assert [n.children[0].number for n in result.nodes] == ["3", "3"]


def test_numbering_linked_to_heading_styles() -> None:
    doc = DocxBuilder()
    lists = doc.add_list(
        Level("upperRoman", "Chương %1", style="Heading1"),
        Level("decimal", "Điều %2.", style="Heading2", restart=0),
    )
    num = doc.add_list_instance(lists)
    doc.link_style("Heading 1", num, 0)
    doc.link_style("Heading 2", num)  # ilvl found through the level's w:pStyle
    doc.paragraph("QUY ĐỊNH CHUNG", style="Heading 1")
    doc.paragraph("Phạm vi", style="Heading 2")
    doc.paragraph("Quy chế này quy định về thi đua.")
    doc.paragraph("TỔ CHỨC", style="Heading 1")
    doc.paragraph("Cụm thi đua", style="Heading 2")

    result = parse_regulation(doc.to_bytes())

    # Articles run on through chapters: lvlRestart 0 keeps level 2 from restarting.
    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi", "Quy chế này quy định về thi đua.", []),
        ]),
        ("chapter", "II", "TỔ CHỨC", "", [("article", "2", "Cụm thi đua", "", [])]),
    ]  # fmt: skip


def test_bullets_from_word_lists_become_paragraphs() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Giải thích từ ngữ", bold=True)
    doc.paragraph("Trong Quy chế này:")
    doc.paragraph("Cụm là nhóm đơn vị;", style="List Bullet")
    doc.paragraph("Khối là nhóm phòng.", style="List Bullet")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("article", "1", "Giải thích từ ngữ", "Trong Quy chế này:", [
            ("paragraph", "", "", "Cụm là nhóm đơn vị;", []),
            ("paragraph", "", "", "Khối là nhóm phòng.", []),
        ]),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Regulations: Quyết định wrapper, outlines, tables, warnings
# ---------------------------------------------------------------------------------------------


def decision(doc: DocxBuilder, signature_in_table: bool) -> None:
    doc.table([["VIỆN KIỂM SÁT NHÂN DÂN TỈNH\nSố: 12/QĐ-VKS", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA"]])
    heading(doc, "QUYẾT ĐỊNH", "Về việc ban hành Quy chế thi đua")
    doc.paragraphs("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;", "QUYẾT ĐỊNH:")
    doc.paragraph("Điều 1. Ban hành kèm theo Quyết định này Quy chế thi đua.")
    doc.paragraph("Điều 2. Quyết định này có hiệu lực kể từ ngày ký.")
    doc.paragraph("Điều 3. Chánh Văn phòng chịu trách nhiệm thi hành Quyết định này./.")
    if signature_in_table:
        doc.table([["Nơi nhận:\n- Như Điều 3;\n- Lưu: VT.", "VIỆN TRƯỞNG\n(Đã ký)"]])
    else:
        doc.paragraphs("Nơi nhận:", "- Như Điều 3;", "- Lưu: VT.", "VIỆN TRƯỞNG", "Nguyễn Văn A")


@pytest.mark.parametrize("signature_in_table", [True, False])
@pytest.mark.parametrize("with_attachment_line", [True, False])
def test_decision_wrapper_yields_the_attached_regulation(
    signature_in_table: bool, with_attachment_line: bool
) -> None:
    doc = DocxBuilder()
    decision(doc, signature_in_table)
    heading(doc, "QUY CHẾ", "Thi đua, khen thưởng")
    if with_attachment_line:
        doc.paragraph("(Ban hành kèm theo Quyết định số 12/QĐ-VKS ngày 05/01/2026)")
    heading(doc, "Chương I", "QUY ĐỊNH CHUNG")
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.paragraph("1. Quy chế này quy định về thi đua.")
    doc.paragraph("Điều 2. Hiệu lực", bold=True)
    doc.paragraph("Quy chế có hiệu lực từ ngày ký.")
    doc.paragraphs("Nơi nhận:", "- Các đơn vị;", "VIỆN TRƯỞNG")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi", "", [
                ("clause", "1", "", "Quy chế này quy định về thi đua.", []),
            ]),
            ("article", "2", "Hiệu lực", "Quy chế có hiệu lực từ ngày ký.", []),
        ]),
    ]  # fmt: skip
    assert result.warnings == [
        "Quyết định ban hành (3 điều) được đưa vào phần mở đầu; "
        "chỉ nhập văn bản kèm theo thành cây điều khoản."
    ]
    assert result.title == "QUY CHẾ Thi đua, khen thưởng"
    assert result.preamble[:4] == [
        "QUYẾT ĐỊNH",
        "Về việc ban hành Quy chế thi đua",
        "Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;",
        "QUYẾT ĐỊNH:",
    ]
    assert "Điều 1. Ban hành kèm theo Quyết định này Quy chế thi đua." in result.preamble
    assert {item.reason for item in result.left_out} == {LEFT_OUT_LETTERHEAD, LEFT_OUT_SIGNATURE}


def test_decision_recognised_by_its_first_article() -> None:
    doc = DocxBuilder()
    doc.table([["VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "QUYẾT ĐỊNH\nVề việc ban hành Quy chế"]])
    doc.paragraph("Điều 1. Ban hành kèm theo Quyết định này Quy chế thi đua.")
    doc.paragraph("Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.")
    heading(doc, "QUY CHẾ", "Thi đua")
    doc.paragraph("Điều 1. Phạm vi", bold=True)

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [("article", "1", "Phạm vi", "", [])]
    assert result.warnings[0].startswith("Quyết định ban hành (2 điều) được đưa vào phần mở đầu")


def test_chapter_right_after_the_decision_articles_starts_the_regulation() -> None:
    doc = DocxBuilder()
    heading(doc, "QUYẾT ĐỊNH")
    doc.paragraph("Điều 1. Ban hành Quy chế thi đua.")
    doc.paragraph("Điều 2. Quyết định có hiệu lực từ ngày ký.")
    heading(doc, "Chương I", "QUY ĐỊNH CHUNG")
    doc.paragraph("Điều 1. Phạm vi", bold=True)

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [("article", "1", "Phạm vi", "", [])])
    ]
    assert len(result.warnings) == 1


def test_decision_alone_is_parsed_as_it_is() -> None:
    doc = DocxBuilder()
    decision(doc, signature_in_table=False)

    result = parse_regulation(doc.to_bytes())

    assert [(n.kind, n.number) for n in result.nodes] == [
        ("article", "1"),
        ("article", "2"),
        ("article", "3"),
    ]
    # The articles of a Quyết định have no titles: their sentence is their text.
    assert [n.title for n in result.nodes] == ["", "", ""]
    assert result.nodes[2].text.endswith("thi hành Quyết định này./.")
    assert result.title == "QUYẾT ĐỊNH Về việc ban hành Quy chế thi đua"
    assert result.preamble == ["Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;", "QUYẾT ĐỊNH:"]
    assert result.warnings == []


def test_administrative_outline_without_articles() -> None:
    doc = DocxBuilder()
    heading(doc, "KẾ HOẠCH", "Công tác thi đua năm 2026")
    doc.paragraph("I. MỤC ĐÍCH, YÊU CẦU", bold=True)
    doc.paragraph("1. Mục đích")
    doc.paragraph("Nâng cao chất lượng công tác.")
    doc.paragraph("2. Yêu cầu:")
    doc.paragraph("a) Bám sát chỉ tiêu;")
    doc.paragraphs("- Chỉ tiêu nghiệp vụ;", "+ Tỷ lệ giải quyết tin báo;", "+ Tỷ lệ truy tố;")
    doc.paragraphs("- Chỉ tiêu quản lý.", "b) Bảo đảm tiến độ.")
    doc.paragraph("II. NỘI DUNG", bold=True)
    doc.paragraphs("1. Phát động thi đua.", "1.1. Phát động đầu năm.", "1.2. Sơ kết giữa năm.")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("section", "I", "MỤC ĐÍCH, YÊU CẦU", "", [
            ("clause", "1", "", "Mục đích\nNâng cao chất lượng công tác.", []),
            ("clause", "2", "", "Yêu cầu:", [
                ("point", "a", "", "Bám sát chỉ tiêu;", [
                    ("paragraph", "", "", "Chỉ tiêu nghiệp vụ;", [
                        ("paragraph", "", "", "Tỷ lệ giải quyết tin báo;", []),
                        ("paragraph", "", "", "Tỷ lệ truy tố;", []),
                    ]),
                    ("paragraph", "", "", "Chỉ tiêu quản lý.", []),
                ]),
                ("point", "b", "", "Bảo đảm tiến độ.", []),
            ]),
        ]),
        ("section", "II", "NỘI DUNG", "", [
            ("clause", "1", "", "Phát động thi đua.", [
                ("point", "1.1", "", "Phát động đầu năm.", []),
                ("point", "1.2", "", "Sơ kết giữa năm.", []),
            ]),
        ]),
    ]  # fmt: skip
    assert result.warnings == []


def test_tables_in_the_body_are_kept_as_rows_with_a_warning() -> None:
    doc = DocxBuilder()
    doc.table([["VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]])
    doc.paragraph("Điều 1. Mức thưởng", bold=True)
    doc.paragraph("1. Mức thưởng như sau:")
    doc.table([["Danh hiệu", "Mức thưởng"], ["Cờ thi đua", "5 triệu đồng"]])
    doc.paragraph("2. Tiền thưởng chi từ quỹ thi đua.")
    doc.table([["Nơi nhận:\n- Các đơn vị;", "KT. VIỆN TRƯỞNG\nPHÓ VIỆN TRƯỞNG"]])
    doc.paragraphs("Phụ lục", "1. Nội dung phụ lục không thuộc Quy chế.")

    result = parse_regulation(doc.to_bytes())

    assert tree(result.nodes) == [
        ("article", "1", "Mức thưởng", "", [
            ("clause", "1", "", "Mức thưởng như sau:\nDanh hiệu | Mức thưởng\n"
             "Cờ thi đua | 5 triệu đồng", []),
            ("clause", "2", "", "Tiền thưởng chi từ quỹ thi đua.", []),
        ]),
    ]  # fmt: skip
    assert result.warnings == [
        "Chỉ nhập văn bản đầu tiên trong tệp; các văn bản phía sau được liệt kê ở phần không nhập.",
        "Bảng trong khoản 1 Điều 1 được nhập thành 2 dòng văn bản (các ô cách nhau bởi “|”); "
        "hãy kiểm tra lại nội dung bảng.",
    ]
    assert [(item.text, item.reason) for item in result.left_out] == [
        ("VIỆN KIỂM SÁT NHÂN DÂN TỈNH | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", LEFT_OUT_LETTERHEAD),
        ("Nơi nhận: - Các đơn vị; | KT. VIỆN TRƯỞNG PHÓ VIỆN TRƯỞNG", LEFT_OUT_SIGNATURE),
        ("Phụ lục", LEFT_OUT_OTHER_DOCUMENT),
        ("1. Nội dung phụ lục không thuộc Quy chế.", LEFT_OUT_OTHER_DOCUMENT),
    ]


def test_numbering_problems_are_warnings() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Một", bold=True)
    doc.paragraph("Điều 3. Ba", bold=True)
    doc.paragraphs("1. Khoản một.", "1. Khoản một nữa.", "2. Khoản hai:")
    doc.paragraphs("a) Điểm a;", "b) Điểm b;", "c) Điểm c;", "d) Điểm d;", "e) Điểm e.")

    result = parse_regulation(doc.to_bytes())

    assert result.warnings == [
        "Số thứ tự không liên tục: Điều 3 đứng ngay sau Điều 1.",
        "Trùng số: khoản 1 Điều 3 xuất hiện nhiều lần.",
        "Số thứ tự không liên tục: điểm e khoản 2 Điều 3 đứng ngay sau điểm d.",
    ]
    assert [n.number for n in result.nodes[1].children[2].children] == list("abcde")


def test_document_without_structure_is_refused() -> None:
    doc = DocxBuilder()
    doc.paragraphs("Kính gửi các đơn vị.", "Văn phòng đề nghị các đơn vị góp ý.")

    with pytest.raises(ParseError) as caught:
        parse_regulation(doc.to_bytes())

    assert str(caught.value) == MSG_NO_STRUCTURE


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def stored_docx_with_bad_crc() -> bytes:
    data = zip_bytes(
        {"[Content_Types].xml": DOCX_CONTENT_TYPES, "word/document.xml": b"<w:document>ABCDEF"},
        compression=zipfile.ZIP_STORED,
    )
    return data.replace(b"ABCDEF", b"ABCDEX")


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Types>&b;</Types>'
)

BAD_INPUTS = {
    "empty": (lambda: b"", MSG_EMPTY),
    "not a zip": (lambda: b"Day khong phai tep Word", MSG_NOT_OFFICE),
    "truncated zip": (lambda: typed_regulation().to_bytes()[:5000], MSG_CORRUPT),
    "encrypted OLE": (lambda: OLE_HEADER, MSG_OLE),
    "zip bomb by size": (lambda: zip_bomb(60 * 1024 * 1024), MSG_BOMB),
    "zip bomb by ratio": (lambda: zip_bomb(2 * 1024 * 1024), MSG_BOMB),
    "bad crc": (stored_docx_with_bad_crc, MSG_CORRUPT),
    "zip of other files": (lambda: zip_bytes({"a.txt": b"xin chao"}), MSG_NOT_OFFICE),
    "entities in xml": (lambda: zip_bytes({"[Content_Types].xml": ENTITY_BOMB}), MSG_NOT_OFFICE),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_files_raise_parse_error_with_one_clear_line(case: str) -> None:
    make, message = BAD_INPUTS[case]
    data = make()

    # A regulation in an OLE container is tried as a Word 97-2003 .doc (see test_formats).
    regulation = parse_regulation if case != "encrypted OLE" else None
    for parse in (sniff_office_file, regulation, parse_criteria):
        if parse is None:
            continue
        with pytest.raises(ParseError) as caught:
            parse(data)
        assert str(caught.value) == message
        assert "\n" not in message


def test_broken_document_part_raises_parse_error() -> None:
    data = zip_bytes(
        {"[Content_Types].xml": DOCX_CONTENT_TYPES, "word/document.xml": b"<w:document"}
    )

    for parse in (parse_regulation, parse_criteria):
        with pytest.raises(ParseError, match="Word"):
            parse(data)


def test_workbook_given_as_regulation_is_refused() -> None:
    data = xlsx_bytes(Sheet([["STT", "Tiêu chí", "Điểm chuẩn"]]))

    assert sniff_office_file(data) == "xlsx"
    assert sniff_office_file(typed_regulation().to_bytes()) == "docx"
    with pytest.raises(ParseError) as caught:
        parse_regulation(data)
    assert str(caught.value) == MSG_XLSX_NOT_DOCX


# ---------------------------------------------------------------------------------------------
# Criteria tables
# ---------------------------------------------------------------------------------------------

CRITERIA_ROWS = [
    ["VIỆN KIỂM SÁT NHÂN DÂN TỈNH"],
    ["BẢNG TIÊU CHÍ CHẤM ĐIỂM THI ĐUA NĂM 2026"],
    [],
    ["STT", "NỘI DUNG TIÊU CHÍ", "Điểm tối đa", "Hướng dẫn chấm điểm", "Điểm tự chấm"],
    ["(1)", "(2)", "(3)", "(4)", "(5)"],
    ["I", "CÔNG TÁC NGHIỆP VỤ", None, None],
    ["1", "Thực hành quyền công tố", 25, None],
    ["1.1", "Giải quyết tin báo", "10", "Thiếu 1% trừ 0,5 điểm"],
    ["1.2", "Không có án bị hủy", "15 điểm", "Mỗi trường hợp trừ 2,5 điểm"],
    ["2", "Kiểm sát dân sự", "2,5", None],
    ["3", "Thống kê", 32.5, "Chậm báo cáo"],
    [None, None, None, "mỗi lần trừ 1 điểm"],
    ["II.", "QUẢN LÝ, CHỈ ĐẠO", 20, None],
    ["1.", "Thông tin, báo cáo", 10, None],
    ["2.", "Chuyển đổi số", "tối đa 10 điểm", None],
    [None, "Điểm cộng", None, "Có sáng kiến: cộng 2,5 điểm; tối đa 5 điểm"],
    [None, "Điểm trừ", None, "Mỗi trường hợp bị kỷ luật trừ 5 điểm"],
    [None, "Tổng cộng", 80],
]

EXPECTED_CRITERIA = {
    "criteria": [
        {
            "kind": "criterion",
            "code": "I",
            "title": "CÔNG TÁC NGHIỆP VỤ",
            "max_points": 60,
            "guidance": "",
            "children": [
                {
                    "kind": "criterion",
                    "code": "1",
                    "title": "Thực hành quyền công tố",
                    "max_points": 25,
                    "guidance": "",
                    "children": [
                        {"kind": "criterion", "code": "1.1", "title": "Giải quyết tin báo",
                         "max_points": 10, "guidance": "Thiếu 1% trừ 0,5 điểm", "children": []},
                        {"kind": "criterion", "code": "1.2", "title": "Không có án bị hủy",
                         "max_points": 15, "guidance": "Mỗi trường hợp trừ 2,5 điểm",
                         "children": []},
                    ],
                },
                {"kind": "criterion", "code": "2", "title": "Kiểm sát dân sự",
                 "max_points": 2.5, "guidance": "", "children": []},
                {"kind": "criterion", "code": "3", "title": "Thống kê", "max_points": 32.5,
                 "guidance": "Chậm báo cáo\nmỗi lần trừ 1 điểm", "children": []},
            ],
        },
        {
            "kind": "criterion",
            "code": "II",
            "title": "QUẢN LÝ, CHỈ ĐẠO",
            "max_points": 20,
            "guidance": "",
            "children": [
                {"kind": "criterion", "code": "1", "title": "Thông tin, báo cáo",
                 "max_points": 10, "guidance": "", "children": []},
                {"kind": "criterion", "code": "2", "title": "Chuyển đổi số",
                 "max_points": 10, "guidance": "", "children": []},
            ],
        },
        {"kind": "bonus", "code": "", "title": "Điểm cộng", "max_points": 5,
         "guidance": "Có sáng kiến: cộng 2,5 điểm; tối đa 5 điểm", "children": []},
        {"kind": "deduction", "code": "", "title": "Điểm trừ", "max_points": None,
         "guidance": "Mỗi trường hợp bị kỷ luật trừ 5 điểm", "children": []},
    ],
    "total_max_points": 80,
}  # fmt: skip


def test_xlsx_with_title_rows_merged_groups_and_decimal_commas() -> None:
    data = xlsx_bytes(Sheet(CRITERIA_ROWS, merged=["B6:D6"]))

    result = parse_criteria(data, "bang-tieu-chi.xlsx")

    assert json.loads(result.to_json()) == EXPECTED_CRITERIA
    assert result.total_max_points == Decimal("80")
    assert result.criteria[0].children[1].max_points == Decimal("2.5")
    assert result.warnings == []


def test_first_sheet_with_a_header_is_read() -> None:
    instructions = Sheet([["Hướng dẫn sử dụng"], ["Điền điểm vào sheet sau."]], title="HD")
    data = xlsx_bytes(instructions, Sheet(CRITERIA_ROWS, merged=["B6:D6"], title="Tiêu chí"))

    assert parse_criteria(data).as_dict() == EXPECTED_CRITERIA


def test_letter_groups_rows_merged_across_and_items_without_codes() -> None:
    rows = [
        ["BẢNG TIÊU CHÍ"],
        ["Mã", "Tiêu chí chấm điểm", "Thang điểm", "Phương pháp chấm"],
        ["A. TIÊU CHÍ CHUNG", None, None, None],
        ["I. CÔNG TÁC NGHIỆP VỤ", None, None, None],
        [1, "Công tố", 30, None],
        [1.1, "Tin báo", 10, None],
        [1.2, "Đình chỉ", "20", None],
        ["II", "Quản lý", 20, None],
        ["B", "ĐIỂM THƯỞNG", "+10", None],
        [1, "Sáng kiến", 5, None],
        [None, "Điểm trừ", "Không giới hạn", "Trừ 5 điểm mỗi trường hợp"],
        ["-", "Cán bộ vi phạm kỷ luật", "5", None],
        [None, "Cộng", 50],
    ]

    result = parse_criteria(xlsx_bytes(Sheet(rows, merged=["A3:D3", "A4:D4"])))

    def outline(nodes: list[CriteriaNode]) -> list[tuple]:
        return [(n.kind, n.code, n.title, n.max_points, outline(n.children)) for n in nodes]

    assert outline(result.criteria) == [
        ("criterion", "A", "TIÊU CHÍ CHUNG", 50, [
            ("criterion", "I", "CÔNG TÁC NGHIỆP VỤ", 30, [
                ("criterion", "1", "Công tố", 30, [
                    ("criterion", "1.1", "Tin báo", 10, []),
                    ("criterion", "1.2", "Đình chỉ", 20, []),
                ]),
            ]),
            ("criterion", "II", "Quản lý", 20, []),
        ]),
        ("bonus", "B", "ĐIỂM THƯỞNG", 10, [("bonus", "1", "Sáng kiến", 5, [])]),
        ("deduction", "", "Điểm trừ", None, [
            ("deduction", "", "Cán bộ vi phạm kỷ luật", 5, []),
        ]),
    ]  # fmt: skip
    assert result.total_max_points == 50
    assert result.warnings == []


def test_group_sum_mismatch_and_unreadable_points_are_warnings() -> None:
    rows = [
        ["TT", "Tiêu chí", "Điểm chuẩn", "Cách chấm"],
        ["I", "Nghiệp vụ", 60, None],
        ["1", "Công tố", 30, None],
        ["2", "Kiểm sát", 25, None],
        ["3", "Thống kê", "chưa xác định", None],
        [None, "Tổng cộng", 100],
    ]

    result = parse_criteria(xlsx_bytes(Sheet(rows)))

    assert result.criteria[0].children[2].max_points is None
    assert result.warnings == [
        "Dòng 5 (3): không đọc được điểm “chưa xác định”, để trống.",
        "Dòng tổng cộng ghi 100 điểm, khác tổng điểm chuẩn các nhóm tiêu chí 60.",
    ]
    rows[4][2] = 5.5
    result = parse_criteria(xlsx_bytes(Sheet(rows)))
    assert result.warnings[0] == "Nhóm I: điểm chuẩn 60 khác tổng các tiêu chí con 60,5."


def test_criteria_table_inside_a_word_document() -> None:
    doc = DocxBuilder()
    heading(doc, "BẢNG TIÊU CHÍ CHẤM ĐIỂM THI ĐUA")
    doc.table([["Ghi chú: bảng kèm theo Quy chế"]])
    rows = [[str(cell) if cell is not None else "" for cell in row[:4]] for row in CRITERIA_ROWS]
    rows = [row + [""] * (4 - len(row)) for row in rows[3:]]
    doc.table(rows, merge=[(2, 1, 2, 3)])  # the "I" group row, title merged over three columns

    result = parse_criteria(doc.to_bytes())

    assert result.as_dict() == EXPECTED_CRITERIA
    assert result.warnings == []


def test_word_table_with_vertical_merge_and_two_header_rows() -> None:
    doc = DocxBuilder()
    rows = [
        ["TT", "Tiêu chí", "Điểm", "Cách chấm"],
        ["", "", "Chuẩn", ""],
        ["1", "Tin báo", "10", "Thiếu 1% trừ 0,5 điểm"],
        ["2", "Đình chỉ", "15", ""],
    ]
    doc.table(rows, merge=[(0, 2, 0, 2), (2, 3, 3, 3)])  # guidance shared by rows 1 and 2

    result = parse_criteria(doc.to_bytes())

    assert [(n.code, n.max_points, n.guidance) for n in result.criteria] == [
        ("1", Decimal(10), "Thiếu 1% trừ 0,5 điểm"),
        ("2", Decimal(15), ""),
    ]
    assert result.total_max_points == Decimal(25)
    assert result.warnings == []


def test_file_without_a_criteria_header_is_refused() -> None:
    data = xlsx_bytes(Sheet([["Họ tên", "Đơn vị"], ["Nguyễn Văn A", "Phòng 1"]]))

    with pytest.raises(ParseError) as caught:
        parse_criteria(data)
    assert str(caught.value) == MSG_NO_HEADER
    with pytest.raises(ParseError, match="bảng tiêu chí"):
        parse_criteria(typed_regulation().to_bytes())


def test_check_criteria_sums_skips_bonus_caps_and_names_nested_groups() -> None:
    items = [
        CriteriaNode("criterion", "1.1", "a", Decimal(4)),
        CriteriaNode("criterion", "1.2", "b", Decimal("1.5")),
    ]
    group = CriteriaNode("criterion", "1", "Nhóm", Decimal(5), children=items)
    top = CriteriaNode("criterion", "I", "Lớn", Decimal("5.5"), children=[group])
    bonus_items = [CriteriaNode("bonus", "1", "Sáng kiến", Decimal(8))] * 2
    bonus = CriteriaNode("bonus", "", "Điểm thưởng", Decimal(10), children=bonus_items)

    assert check_criteria_sums([top, bonus]) == [
        "Nhóm I: điểm chuẩn 5,5 khác tổng các tiêu chí con 5.",
        "Nhóm 1: điểm chuẩn 5 khác tổng các tiêu chí con 5,5.",
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, (None, True)),
        ("", (None, True)),
        (10, (Decimal(10), True)),
        (2.5, (Decimal("2.5"), True)),
        ("2,5", (Decimal("2.5"), True)),
        ("2.5", (Decimal("2.5"), True)),
        ("1.000", (Decimal(1000), True)),
        ("1.000,5", (Decimal("1000.5"), True)),
        ("tối đa 5 điểm", (Decimal(5), True)),
        ("từ 0 đến 10", (Decimal(10), True)),
        ("-5", (Decimal(5), True)),
        ("Không giới hạn", (None, True)),
        ("x", (None, False)),
    ],
)
def test_parse_points(cell: object, expected: tuple) -> None:
    assert parse_points(cell) == expected  # type: ignore[arg-type]

"""Shapes real Word files of decrees, circulars, Procuracy decisions and attached regulations
have: automatic numbering, headings over two paragraphs or broken by a line break, tabs and
no-break spaces after labels, text boxes, tables used as page layout, page headers and
footers, and a Quyết định wrapping its Quy chế. Each is read as if the text had been typed,
and every paragraph is conserved."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from docx.enum.style import WD_STYLE_TYPE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafts.parsing import (
    LEFT_OUT_CONTENTS,
    LEFT_OUT_HEADER_FOOTER,
    LEFT_OUT_LETTERHEAD,
    LEFT_OUT_NATIONAL_HEADING,
    LEFT_OUT_SIGNATURE,
    Node,
    ParseResult,
    parse_regulation,
)
from tests.conservation import missing_lines, source_lines
from tests.docbuild import DocxBuilder, Level, text_box_xml


def tree(nodes: list[Node]) -> list[tuple]:
    return [(n.kind, n.number, n.title, n.text, tree(n.children)) for n in nodes]


def outline(nodes: list[Node]) -> list[tuple]:
    """(kind, number, children) only: the shape of the tree."""
    return [(n.kind, n.number, outline(n.children)) for n in nodes]


def counts(nodes: list[Node]) -> dict[str, int]:
    found: Counter[str] = Counter()

    def walk(children: list[Node]) -> None:
        for node in children:
            found[node.kind] += 1
            walk(node.children)

    walk(nodes)
    return dict(found)


def parse_conserved(doc: DocxBuilder) -> ParseResult:
    data = doc.to_bytes()
    result = parse_regulation(data)
    assert missing_lines(source_lines(data), result) == []
    return result


def letterhead_table(doc: DocxBuilder, agency: str = "VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO") -> None:
    doc.table(
        [
            [
                f"{agency}\n_______\nSố: 123/QĐ-VKSTC",
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
                "_______________\nHà Nội, ngày 05 tháng 01 năm 2026",
            ]
        ]
    )


# --- A Procuracy decision issuing a regulation, numbered by Word -------------------------------


def procuracy_decision_with_regulation() -> DocxBuilder:
    doc = DocxBuilder()
    doc.header("Quy chế thi đua, khen thưởng")
    doc.footer("2")
    letterhead_table(doc)
    doc.raw_paragraph(text_box_xml("DỰ THẢO"))
    doc.paragraphs("QUYẾT ĐỊNH", "Ban hành Quy chế công tác thi đua, khen thưởng", bold=True)
    doc.paragraph("VIỆN TRƯỞNG VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", bold=True, center=True)
    doc.paragraph("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân năm 2014;")
    doc.paragraph("Theo đề nghị của Chánh Văn phòng,")
    doc.paragraph("QUYẾT ĐỊNH:", bold=True, center=True)
    doc.paragraph(
        ("Điều 1.", True),
        ("\tBan hành kèm theo Quyết định này Quy chế công tác thi đua, khen thưởng.", False),
    )
    doc.paragraph(("Điều 2.", True), (" Quyết định này có hiệu lực kể từ ngày ký.", False))
    doc.paragraph(("Điều 3.", True), (" Chánh Văn phòng chịu trách nhiệm thi hành./.", False))
    doc.table([["Nơi nhận:\n- Như Điều 3;\n- Lưu: VT, VP.", "VIỆN TRƯỞNG\n\n\nLê Minh Trí"]])
    # The attached regulation, with its own letterhead, name, chapters and signature.
    doc.paragraph("VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", bold=True, center=True)
    doc.paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True)
    doc.paragraphs("QUY CHẾ", "Công tác thi đua, khen thưởng", bold=True, center=True)
    doc.paragraph("(Ban hành kèm theo Quyết định số 123/QĐ-VKSTC ngày 05/01/2026)", center=True)
    articles = doc.add_list(
        Level("decimal", "Điều %1."), Level("decimal", "%2."), Level("lowerLetter", "%3)")
    )
    num = doc.add_list_instance(articles)
    doc.paragraph("Chương I\nQUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Phạm vi điều chỉnh", bold=True, numbering=(num, 0))
    doc.paragraph("Quy chế này quy định về thi đua.", numbering=(num, 1))
    doc.paragraph("Đối tượng áp dụng gồm:", numbering=(num, 1))
    doc.paragraph("Các đơn vị;", numbering=(num, 2))
    doc.paragraph("Công chức.", numbering=(num, 2))
    doc.paragraph("Nguyên tắc", bold=True, numbering=(num, 0))
    doc.paragraph("Công khai, minh bạch:", numbering=(num, 1))
    doc.paragraph("-\u00a0Bảo đảm dân chủ;")
    doc.paragraph("+ Trong đơn vị.")
    doc.paragraph("Chương\u00a0II", bold=True, center=True)
    doc.paragraph("TỔ CHỨC THI ĐUA", bold=True, center=True)
    doc.paragraph("Mục 1. CỤM THI ĐUA", bold=True, center=True)
    doc.paragraph("Cụm thi đua", bold=True, numbering=(num, 0))
    doc.paragraph("Cụm gồm các đơn vị cùng cấp.", numbering=(num, 1))
    doc.paragraphs("KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "(Đã ký)", "Nguyễn Văn A", bold=True)
    return doc


def test_procuracy_decision_numbered_by_word_yields_its_regulation() -> None:
    result = parse_conserved(procuracy_decision_with_regulation())

    assert tree(result.nodes) == [
        ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
            ("article", "1", "Phạm vi điều chỉnh", "", [
                ("clause", "1", "", "Quy chế này quy định về thi đua.", []),
                ("clause", "2", "", "Đối tượng áp dụng gồm:", [
                    ("point", "a", "", "Các đơn vị;", []),
                    ("point", "b", "", "Công chức.", []),
                ]),
            ]),
            ("article", "2", "Nguyên tắc", "", [
                ("clause", "1", "", "Công khai, minh bạch:", [
                    ("paragraph", "", "", "Bảo đảm dân chủ;", [
                        ("paragraph", "", "", "Trong đơn vị.", []),
                    ]),
                ]),
            ]),
        ]),
        ("chapter", "II", "TỔ CHỨC THI ĐUA", "", [
            ("section", "1", "CỤM THI ĐUA", "", [
                ("article", "3", "Cụm thi đua", "", [
                    ("clause", "1", "", "Cụm gồm các đơn vị cùng cấp.", []),
                ]),
            ]),
        ]),
    ]  # fmt: skip
    assert result.title == "QUY CHẾ Công tác thi đua, khen thưởng"
    assert result.preamble[0] == "QUYẾT ĐỊNH"
    assert "Điều 1. Ban hành kèm theo Quyết định này Quy chế công tác thi đua, khen thưởng." in (
        result.preamble
    )
    left_out = [(item.text, item.reason) for item in result.left_out]
    assert ("DỰ THẢO", LEFT_OUT_LETTERHEAD) in left_out  # in a text box
    assert ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", LEFT_OUT_NATIONAL_HEADING) in left_out
    assert ("KT. VIỆN TRƯỞNG", LEFT_OUT_SIGNATURE) in left_out
    assert left_out[-2:] == [
        ("Quy chế thi đua, khen thưởng", LEFT_OUT_HEADER_FOOTER),
        ("2", LEFT_OUT_HEADER_FOOTER),
    ]


def decision_wrapper(doc: DocxBuilder) -> None:
    letterhead_table(doc)
    doc.paragraphs("QUYẾT ĐỊNH", "Ban hành Quy chế làm việc", bold=True, center=True)
    doc.paragraph("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân năm 2014;")
    doc.paragraph("QUYẾT ĐỊNH:", bold=True, center=True)
    doc.paragraph(("Điều 1.", True), (" Ban hành kèm theo Quyết định này Quy chế làm việc.", False))
    doc.paragraph(("Điều 2.", True), (" Quyết định này có hiệu lực kể từ ngày ký./.", False))


def attached_body(doc: DocxBuilder) -> None:
    doc.paragraphs("Chương I", "QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.paragraph("Quy chế này quy định về làm việc.")


ATTACHED_TREE = [
    ("chapter", "I", "QUY ĐỊNH CHUNG", "", [
        ("article", "1", "Phạm vi", "Quy chế này quy định về làm việc.", []),
    ]),
]  # fmt: skip


def test_signature_typed_with_tabs_then_a_one_line_regulation_name() -> None:
    doc = DocxBuilder()
    decision_wrapper(doc)
    # Two columns typed with tabs, as many drafters set the signature.
    doc.paragraph("Nơi nhận:\t\t\t\tVIỆN TRƯỞNG")
    doc.paragraphs("- Như Điều 2;", "- Lưu: VT.\t\t\t\t(Đã ký)", "\t\t\t\t\tLê Minh Trí")
    doc.paragraph("QUY CHẾ LÀM VIỆC CỦA VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", bold=True, center=True)
    attached_body(doc)

    result = parse_conserved(doc)

    assert tree(result.nodes) == ATTACHED_TREE
    assert result.title == "QUY CHẾ LÀM VIỆC CỦA VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO"
    assert [item.text for item in result.left_out if item.reason == LEFT_OUT_SIGNATURE] == [
        "Nơi nhận: VIỆN TRƯỞNG", "- Như Điều 2;", "- Lưu: VT. (Đã ký)", "Lê Minh Trí",
    ]  # fmt: skip


def test_a_letterhead_table_after_the_signature_starts_the_attached_regulation() -> None:
    doc = DocxBuilder()
    decision_wrapper(doc)
    doc.paragraphs("Nơi nhận:", "- Như Điều 2;", "VIỆN TRƯỞNG", "Lê Minh Trí")
    doc.table([["VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]])
    doc.paragraphs("QUY CHẾ", "Làm việc của Viện kiểm sát", bold=True, center=True)
    doc.paragraph("(Ban hành kèm theo Quyết định số 123/QĐ-VKSTC ngày 05/01/2026)")
    attached_body(doc)

    result = parse_conserved(doc)

    assert tree(result.nodes) == ATTACHED_TREE
    assert result.title == "QUY CHẾ Làm việc của Viện kiểm sát"
    assert (
        "VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        LEFT_OUT_LETTERHEAD,
    ) in [(item.text, item.reason) for item in result.left_out]
    assert result.preamble[-1] == "(Ban hành kèm theo Quyết định số 123/QĐ-VKSTC ngày 05/01/2026)"


def test_sample_forms_with_signatures_and_national_headings_do_not_cut_the_body() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Văn thư", bold=True, center=True)
    doc.paragraph("Điều 1. Mẫu văn bản", bold=True)
    doc.paragraph("1. Mẫu công văn:")
    doc.table([["Nơi nhận:\n- Như trên;\n- Lưu: VT.", "KT. VIỆN TRƯỞNG\nPHÓ VIỆN TRƯỞNG"]])
    letterhead_table(doc, "TÊN CƠ QUAN")
    doc.paragraphs("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Nơi nhận:", "- Như trên.")
    doc.paragraph("2. Mẫu báo cáo theo Phụ lục kèm theo.")
    doc.paragraph("Điều 2. Hiệu lực", bold=True)

    result = parse_conserved(doc)

    assert outline(result.nodes) == [
        ("article", "1", [("clause", "1", [("paragraph", "", [])]), ("clause", "2", [])]),
        ("article", "2", []),
    ]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in result.nodes[0].children[0].text
    assert result.left_out == []


def test_an_unsigned_wrapper_then_a_one_line_regulation_name() -> None:
    doc = DocxBuilder()
    decision_wrapper(doc)
    doc.paragraph("QUY CHẾ LÀM VIỆC CỦA VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO", bold=True, center=True)
    attached_body(doc)

    result = parse_conserved(doc)

    assert tree(result.nodes) == ATTACHED_TREE
    assert result.title == "QUY CHẾ LÀM VIỆC CỦA VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO"
    assert result.preamble[-1] == "Điều 2. Quyết định này có hiệu lực kể từ ngày ký./."


# --- Automatic numbering as real files use it --------------------------------------------------


def test_clause_lists_restarted_per_article_and_letter_points_at_the_second_level() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Làm việc", bold=True, center=True)
    chapters = doc.add_list(Level("upperRoman", "Chương %1"))
    chapter_num = doc.add_list_instance(chapters)
    clauses = doc.add_list(Level("decimal", "%1."), Level("lowerLetter", "%2)"))
    for article in (1, 2):
        doc.paragraph("", numbering=(chapter_num, 0))  # "Chương I" alone, as Word shows it
        doc.paragraph("NHỮNG QUY ĐỊNH CHUNG", bold=True, center=True)
        doc.paragraph(f"Điều {article}.\tĐiều khoản {article}", bold=True)
        # Word's "Restart numbering": a new list instance that starts over at 1.
        num = doc.add_list_instance(clauses, start_overrides={0: 1})
        doc.paragraph("Khoản một:", numbering=(num, 0))
        for text in ("điểm a;", "điểm b;", "điểm c;", "điểm d;", "điểm e."):
            doc.paragraph(text, numbering=(num, 1))
        doc.paragraph("Khoản hai.", numbering=(num, 0))
        doc.paragraph("Khoản ba.", numbering=(num, 0))

    result = parse_conserved(doc)

    clause_shape = [
        ("clause", "1", [("point", letter, []) for letter in "abcde"]),
        ("clause", "2", []),
        ("clause", "3", []),
    ]
    assert outline(result.nodes) == [
        ("chapter", "I", [("article", "1", clause_shape)]),
        ("chapter", "II", [("article", "2", clause_shape)]),
    ]
    assert [n.title for n in result.nodes] == ["NHỮNG QUY ĐỊNH CHUNG"] * 2
    assert result.warnings == []


def test_level_start_values_and_continued_instances() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Làm việc", bold=True, center=True)
    articles = doc.add_list(Level("decimal", "Điều %1.", start=98))
    first = doc.add_list_instance(articles)
    second = doc.add_list_instance(articles)  # a second instance goes on counting
    doc.paragraph("Sửa đổi", bold=True, numbering=(first, 0))
    doc.paragraph("Nội dung.")
    doc.paragraph("Bổ sung", bold=True, numbering=(second, 0))
    doc.paragraph("Hiệu lực", bold=True, numbering=(first, 0))

    result = parse_conserved(doc)

    assert [(n.number, n.title) for n in result.nodes] == [
        ("98", "Sửa đổi"), ("99", "Bổ sung"), ("100", "Hiệu lực"),
    ]  # fmt: skip


# --- Headings over two paragraphs, line breaks, tabs, colons ----------------------------------


def test_split_and_broken_headings_tabs_colons_and_big_article_numbers() -> None:
    doc = DocxBuilder()
    doc.paragraphs("THÔNG TƯ", "Quy định về công tác kiểm sát", bold=True, center=True)
    doc.paragraph("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;")
    doc.paragraph("Phần thứ nhất", bold=True, center=True)
    doc.paragraph("NHỮNG QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Chương I", bold=True, center=True)
    doc.paragraph("PHẠM VI", bold=True, center=True)
    doc.paragraph("Mục 1.", bold=True, center=True)
    doc.paragraph("ĐỐI TƯỢNG", bold=True, center=True)
    doc.paragraph(("Điều 99.", True))
    doc.paragraph(("Đối tượng áp dụng", True))
    doc.paragraph("1.\tCơ quan;\u00a0đơn vị.")
    doc.paragraph("Phần thứ hai\nTỔ CHỨC THỰC HIỆN", bold=True, center=True)
    doc.paragraph("Chương\tII\u00a0\nHIỆU LỰC", bold=True, center=True)
    doc.paragraph(("Điều 100:", True), ("\tHiệu lực", True))
    doc.paragraph("Thông tư này có hiệu lực từ ngày 01/01/2026.")
    doc.paragraph(("Điều\u00a0101", True), ("\u00a0.\u00a0Trách nhiệm", True))
    doc.paragraph("1. Các đơn vị thực hiện:")
    doc.paragraph("a)\tKiểm sát viên;")
    doc.paragraph("đ) Điểm đ sau điểm a là lỗi đánh số;")

    result = parse_conserved(doc)

    assert outline(result.nodes) == [
        ("part", "thứ nhất", [
            ("chapter", "I", [
                ("section", "1", [("article", "99", [("clause", "1", [])])]),
            ]),
        ]),
        ("part", "thứ hai", [
            ("chapter", "II", [
                ("article", "100", []),
                ("article", "101", [("clause", "1", [("point", "a", []), ("point", "đ", [])])]),
            ]),
        ]),
    ]  # fmt: skip
    assert [n.title for n in result.nodes] == ["NHỮNG QUY ĐỊNH CHUNG", "TỔ CHỨC THỰC HIỆN"]
    chapter_i = result.nodes[0].children[0]
    assert (chapter_i.title, chapter_i.children[0].title) == ("PHẠM VI", "ĐỐI TƯỢNG")
    article_99 = chapter_i.children[0].children[0]
    assert article_99.title == "Đối tượng áp dụng"
    assert article_99.children[0].text == "Cơ quan; đơn vị."
    chapter_ii = result.nodes[1].children[0]
    assert chapter_ii.title == "HIỆU LỰC"
    assert [(a.title, a.text) for a in chapter_ii.children] == [
        ("Hiệu lực", "Thông tư này có hiệu lực từ ngày 01/01/2026."),
        ("Trách nhiệm", ""),
    ]
    assert result.title == "THÔNG TƯ Quy định về công tác kiểm sát"
    # Only the numbering that is really off is warned about.
    assert result.warnings == [
        "Số thứ tự không liên tục: Điều 99 là điều đầu tiên nhưng không được đánh số 1.",
        "Số thứ tự không liên tục: điểm đ khoản 1 Điều 101 đứng ngay sau điểm a.",
    ]


# --- Text in boxes and frame tables; articles laid out in a table ------------------------------


def test_text_boxes_frame_tables_and_articles_in_a_layout_table() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Tiếp công dân", bold=True, center=True)
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.raw_paragraph(
        '<w:r><w:t xml:space="preserve">Quy chế này áp dụng tại trụ sở.</w:t></w:r>'
        + text_box_xml("Ghi chú trong khung: bản dự thảo lần 2.", vml_only=True)
    )
    doc.table([["Khung: nội dung này do Văn phòng đề xuất bổ sung."]])
    doc.table(
        [
            ["Điều 2.", "Thời gian tiếp công dân"],
            ["", "1. Sáng thứ Hai hằng tuần."],
            ["", "2. Chiều thứ Năm hằng tuần."],
            ["Điều 3.", "Hiệu lực"],
            ["", "Quy chế có hiệu lực từ ngày ký."],
        ]
    )
    doc.paragraph("Điều 4. Tổ chức thực hiện", bold=True)
    doc.paragraph("Văn phòng chủ trì.")

    result = parse_conserved(doc)

    assert tree(result.nodes) == [
        ("article", "1", "Phạm vi", "Quy chế này áp dụng tại trụ sở.\n"
         "Ghi chú trong khung: bản dự thảo lần 2.\n"
         "Khung: nội dung này do Văn phòng đề xuất bổ sung.", []),
        ("article", "2", "Thời gian tiếp công dân", "", [
            ("clause", "1", "", "Sáng thứ Hai hằng tuần.", []),
            ("clause", "2", "", "Chiều thứ Năm hằng tuần.", []),
        ]),
        ("article", "3", "Hiệu lực", "Quy chế có hiệu lực từ ngày ký.", []),
        ("article", "4", "Tổ chức thực hiện", "Văn phòng chủ trì.", []),
    ]  # fmt: skip
    assert result.warnings == []


def test_a_data_table_with_headings_in_its_cells_stays_a_table() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Văn thư", bold=True, center=True)
    doc.paragraph("Điều 1. Phông chữ", bold=True)
    doc.table(
        [
            ["Thành phần", "Kiểu chữ", "Ví dụ"],
            ["Tên điều", "Đứng, đậm", "Điều 1. Bản sao văn bản"],
            ["Chương", "In hoa", "Chương I"],
        ]
    )
    doc.paragraph("Điều 2. Hiệu lực", bold=True)

    result = parse_conserved(doc)

    assert outline(result.nodes) == [("article", "1", []), ("article", "2", [])]
    assert "Tên điều | Đứng, đậm | Điều 1. Bản sao văn bản" in result.nodes[0].text


def test_a_table_of_contents_is_left_out_not_read_as_headings() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Làm việc", bold=True, center=True)
    for name in ("TOC Heading", "toc 1", "toc 2"):
        if name not in [style.name for style in doc.document.styles]:
            doc.document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    doc.paragraph("MỤC LỤC", style="TOC Heading")
    doc.paragraph("Chương I. QUY ĐỊNH CHUNG\t1", style="toc 1")
    doc.paragraph("Điều 1. Phạm vi\t1", style="toc 2")
    doc.paragraph("Điều 2. Hiệu lực\t2", style="toc 2")
    doc.paragraphs("Chương I", "QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.paragraph("Điều 2. Hiệu lực", bold=True)

    result = parse_conserved(doc)

    assert outline(result.nodes) == [("chapter", "I", [("article", "1", []), ("article", "2", [])])]
    assert [(item.text, item.reason) for item in result.left_out] == [
        ("MỤC LỤC", LEFT_OUT_CONTENTS),
        ("Chương I. QUY ĐỊNH CHUNG 1", LEFT_OUT_CONTENTS),
        ("Điều 1. Phạm vi 1", LEFT_OUT_CONTENTS),
        ("Điều 2. Hiệu lực 2", LEFT_OUT_CONTENTS),
    ]
    assert result.warnings == []


# --- Generated documents with Word's shapes ---------------------------------------------------

_SENTENCES = (
    "Đơn vị thực hiện đúng quy định",
    "Hồ sơ gửi về Văn phòng",
    "Kết quả được công khai",
    "Thủ trưởng đơn vị chịu trách nhiệm",
    "Nơi nhận hồ sơ là Văn phòng",
    "Phần thứ hai của báo cáo gồm số liệu",
)
ROMAN = ["I", "II", "III", "IV"]
PARTS = ["thứ nhất", "thứ hai"]
VIETNAMESE_LETTERS = "abcdđeg"


@dataclass
class Generated:
    doc: DocxBuilder = field(default_factory=DocxBuilder)
    counts: Counter[str] = field(default_factory=Counter)
    article: int = 0
    chapter: int = 0
    part: int = 0
    title: str = "QUY CHẾ Làm việc của Viện kiểm sát"


@st.composite
def word_regulations(draw: st.DrawFn) -> Generated:
    """Regulations whose labels are typed or come from Word numbering (numPr), whose headings
    are split over two paragraphs or broken by a line break, with tabs and no-break spaces
    after labels, wrapped or not in a Quyết định."""
    out = Generated()
    doc = out.doc
    article_list = doc.add_list(Level("decimal", "Điều %1."))
    article_num = doc.add_list_instance(article_list)
    clause_list = doc.add_list(Level("decimal", "%1."), Level("lowerLetter", "%2)"))
    gap = draw(st.sampled_from([" ", "\t", "\u00a0", " \t"]))

    def sentence() -> str:
        return draw(st.sampled_from(_SENTENCES)) + draw(st.sampled_from([".", ";", ":"]))

    def heading(label: str, title: str) -> None:
        shape = draw(st.sampled_from(["two paragraphs", "line break", "one line"]))
        if shape == "two paragraphs":
            doc.paragraphs(label, title, bold=True, center=True)
        elif shape == "line break":
            doc.paragraph(f"{label}\n{title}", bold=True, center=True)
        else:
            doc.paragraph(f"{label}. {title}", bold=True, center=True)

    def article() -> None:
        out.article += 1
        out.counts["article"] += 1
        title = draw(st.sampled_from(["Phạm vi", "Đối tượng", "Trách nhiệm"]))
        style = draw(st.sampled_from(["typed", "numbered", "title below", "colon"]))
        if style == "numbered":
            doc.paragraph(title, bold=True, numbering=(article_num, 0))
        elif style == "title below":
            doc.paragraph(f"Điều {out.article}.", bold=True)
            doc.paragraph(title, bold=True)
        else:
            mark = ":" if style == "colon" else "."
            doc.paragraph((f"Điều {out.article}{mark}", True), (f"{gap}{title}", True))
        numbered = draw(st.booleans())
        num = doc.add_list_instance(clause_list, start_overrides={0: 1})
        clauses = draw(st.integers(0, 3))
        if not clauses:
            doc.paragraph(sentence())
        for number in range(1, clauses + 1):
            out.counts["clause"] += 1
            if numbered:
                doc.paragraph(sentence(), numbering=(num, 0))
            else:
                doc.paragraph(f"{number}.{gap}{sentence()}")
            for index in range(draw(st.integers(0, 3))):
                out.counts["point"] += 1
                if numbered:
                    doc.paragraph(sentence(), numbering=(num, 1))
                else:
                    doc.paragraph(f"{VIETNAMESE_LETTERS[index]}){gap}{sentence()}")
                if draw(st.integers(0, 3)) == 0:
                    out.counts["paragraph"] += 1
                    doc.paragraph(f"-{gap}{sentence()}")
            if draw(st.integers(0, 4)) == 0:
                doc.paragraph(f"{draw(st.sampled_from(_SENTENCES))},\nmột dòng tiếp theo.")

    def chapters() -> None:
        for _ in range(draw(st.integers(1, 2))):
            out.chapter += 1
            out.counts["chapter"] += 1
            heading(f"Chương {ROMAN[out.chapter - 1]}", "QUY ĐỊNH CHUNG")
            for _ in range(draw(st.integers(1, 2))):
                article()

    def name() -> None:
        if draw(st.booleans()):
            doc.paragraphs("QUY CHẾ", "Làm việc của Viện kiểm sát", bold=True, center=True)
        else:
            out.title = "QUY CHẾ LÀM VIỆC CỦA VIỆN KIỂM SÁT"
            doc.paragraph(out.title, bold=True, center=True)

    if draw(st.booleans()):
        doc.header("Quy chế làm việc")
    letterhead_table(doc)
    if draw(st.booleans()):
        doc.raw_paragraph(text_box_xml("DỰ THẢO", vml_only=draw(st.booleans())))
    if draw(st.booleans()):  # the wrapper: a Quyết định issuing the regulation
        doc.paragraphs("QUYẾT ĐỊNH", "Ban hành Quy chế làm việc", bold=True, center=True)
        doc.paragraphs("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;", "QUYẾT ĐỊNH:")
        doc.paragraph(("Điều 1.", True), (f"{gap}Ban hành kèm theo Quyết định này Quy chế.", False))
        doc.paragraph(("Điều 2.", True), (f"{gap}Quyết định có hiệu lực từ ngày ký./.", False))
        signature = draw(st.sampled_from(["table", "tabs", "none"]))
        if signature == "table":
            doc.table([["Nơi nhận:\n- Như Điều 2;\n- Lưu: VT.", "VIỆN TRƯỞNG\n\nLê Văn B"]])
        elif signature == "tabs":
            doc.paragraphs("Nơi nhận:\t\t\tVIỆN TRƯỞNG", "- Lưu: VT.\t\t(Đã ký)", "\t\tLê Văn B")
        if signature != "none" and draw(st.booleans()):
            letterhead_table(doc)
        name()
        if draw(st.booleans()):
            doc.paragraph("(Ban hành kèm theo Quyết định số 123/QĐ-VKSTC ngày 05/01/2026)")
    else:
        name()
    parts = draw(st.integers(0, 2))
    for _ in range(parts):
        out.part += 1
        out.counts["part"] += 1
        heading(f"Phần {PARTS[out.part - 1]}", "QUY ĐỊNH CHUNG")
        chapters()
    if not parts:
        if draw(st.booleans()):
            chapters()
        else:
            for _ in range(draw(st.integers(1, 3))):
                article()
    if draw(st.booleans()):
        doc.paragraphs("KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Nguyễn Văn A", bold=True)
    return out


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(generated=word_regulations())
def test_generated_word_regulations_keep_their_structure_and_conserve_text(
    generated: Generated,
) -> None:
    data = generated.doc.to_bytes()

    result = parse_regulation(data)

    assert counts(result.nodes) == dict(generated.counts)
    assert missing_lines(source_lines(data), result) == []
    assert result.title == generated.title
    assert not any("Nơi nhận hồ sơ" in item.text for item in result.left_out)

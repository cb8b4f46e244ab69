"""Cases seen on real Vietnamese legal documents, each once: nothing may be lost unsaid."""

from __future__ import annotations

import io
import textwrap
import unicodedata
import zipfile

import pytest

from drafts.formats import refuse_legacy_encoding
from drafts.parsing import (
    LEFT_OUT_NATIONAL_HEADING,
    LEFT_OUT_SIGNATURE,
    Node,
    ParseError,
    open_docx,
    parse_regulation,
)
from tests.conservation import missing_lines, source_lines
from tests.docbuild import DocxBuilder


def kinds(nodes: list[Node]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for node in nodes:
        out.append((node.kind, node.number))
        out.extend(kinds(node.children))
    return out


def conserved(doc_bytes: bytes) -> None:
    assert missing_lines(source_lines(doc_bytes), parse_regulation(doc_bytes)) == []


def regulation_head(doc: DocxBuilder) -> None:
    doc.paragraphs("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
    doc.paragraphs("QUY CHẾ", "Thi đua, khen thưởng", bold=True, center=True)


# --- "Nơi nhận" in the body -----------------------------------------------------------------


def test_nơi_nhận_inside_the_body_does_not_cut_the_document() -> None:
    doc = DocxBuilder()
    regulation_head(doc)
    doc.paragraph("Điều 1. Hồ sơ", bold=True)
    doc.paragraph("1. Hồ sơ gửi về Văn phòng, là")
    doc.paragraph("nơi nhận.")  # a wrapped line
    doc.paragraph("Nơi nhận hồ sơ là Văn phòng Viện kiểm sát tỉnh.")
    doc.paragraph("2. Thời hạn gửi hồ sơ.")
    doc.paragraph("Điều 2. Hiệu lực", bold=True)
    doc.paragraph("Quy chế có hiệu lực từ ngày ký./.")
    doc.paragraphs("Nơi nhận:", "- Các đơn vị;", "- Lưu: VT.")

    data = doc.to_bytes()
    result = parse_regulation(data)

    assert kinds(result.nodes) == [
        ("article", "1"),
        ("clause", "1"),
        ("clause", "2"),
        ("article", "2"),
    ]
    assert result.nodes[0].children[0].text == (
        "Hồ sơ gửi về Văn phòng, là\nnơi nhận.\nNơi nhận hồ sơ là Văn phòng Viện kiểm sát tỉnh."
    )
    assert [(i.text, i.reason) for i in result.left_out if i.reason == LEFT_OUT_SIGNATURE] == [
        ("Nơi nhận:", LEFT_OUT_SIGNATURE),
        ("- Các đơn vị;", LEFT_OUT_SIGNATURE),
        ("- Lưu: VT.", LEFT_OUT_SIGNATURE),
    ]
    conserved(data)


def test_a_signature_shaped_line_followed_by_more_articles_is_body_text() -> None:
    doc = DocxBuilder()
    regulation_head(doc)
    doc.paragraph("Điều 1. Cách ký", bold=True)
    doc.paragraph("Văn bản ký thay ghi như sau:")
    doc.paragraphs("KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG")
    doc.paragraph("Điều 2. Nơi nhận văn bản", bold=True)
    doc.paragraphs("Nơi nhận:", "- Như Điều 1.")

    result = parse_regulation(doc.to_bytes())

    assert kinds(result.nodes) == [("article", "1"), ("article", "2")]
    assert result.nodes[0].text.endswith("KT. VIỆN TRƯỞNG\nPHÓ VIỆN TRƯỞNG")
    assert [i.text for i in result.left_out if i.reason == LEFT_OUT_SIGNATURE] == [
        "Nơi nhận:",
        "- Như Điều 1.",
    ]


# --- tables in the body ---------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["TM. HỘI ĐỒNG THI ĐUA", "KT. VIỆN TRƯỞNG", "Nơi nhận:"])
def test_a_form_table_in_the_body_keeps_its_content_and_does_not_cut(cell: str) -> None:
    doc = DocxBuilder()
    regulation_head(doc)
    doc.paragraph("Điều 1. Mẫu tờ trình", bold=True)
    doc.paragraph("1. Tờ trình theo mẫu sau:")
    doc.table([["Nơi gửi", "Người ký"], ["Các đơn vị", cell]])
    doc.paragraph("2. Tờ trình gửi trước ngày 15/11.")
    doc.paragraph("Điều 2. Hiệu lực", bold=True)
    doc.paragraph("Quy chế có hiệu lực từ ngày ký.")

    data = doc.to_bytes()
    result = parse_regulation(data)

    assert kinds(result.nodes) == [
        ("article", "1"),
        ("clause", "1"),
        ("clause", "2"),
        ("article", "2"),
    ]
    assert result.nodes[0].children[0].text == (
        f"Tờ trình theo mẫu sau:\nNơi gửi | Người ký\nCác đơn vị | {cell}"
    )
    assert any("Bảng trong khoản 1 Điều 1" in warning for warning in result.warnings)
    conserved(data)


# --- Part headings --------------------------------------------------------------------------


def test_a_sentence_starting_with_phần_thứ_is_body_text_not_a_part() -> None:
    doc = DocxBuilder()
    regulation_head(doc)
    doc.paragraphs("Phần thứ nhất", "QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Điều 1. Nơi nhận", bold=True)
    doc.paragraph("Nơi nhận gồm hai phần:")
    doc.paragraph("Phần thứ nhất bao gồm từ “Kính gửi”, sau đó là tên các cơ quan.")
    doc.paragraph("Phần thứ hai bao gồm từ “Nơi nhận”, phía dưới là từ “Như trên”.")
    doc.paragraphs("Phần thứ hai", "TỔ CHỨC THỰC HIỆN", bold=True, center=True)
    doc.paragraph("Điều 2. Hiệu lực", bold=True)
    doc.paragraph("Phần II. Tổ chức thực hiện")  # a short heading after a separator still counts

    result = parse_regulation(doc.to_bytes())

    assert [(n.kind, n.number, n.title) for n in result.nodes] == [
        ("part", "thứ nhất", "QUY ĐỊNH CHUNG"),
        ("part", "thứ hai", "TỔ CHỨC THỰC HIỆN"),
        ("part", "II", "Tổ chức thực hiện"),
    ]
    assert result.nodes[0].children[0].text == (
        "Nơi nhận gồm hai phần:\n"
        "Phần thứ nhất bao gồm từ “Kính gửi”, sau đó là tên các cơ quan.\n"
        "Phần thứ hai bao gồm từ “Nơi nhận”, phía dưới là từ “Như trên”."
    )


# --- signature typed as paragraphs ----------------------------------------------------------


def test_signature_lines_typed_as_paragraphs_are_left_out_not_added_to_the_last_point() -> None:
    doc = DocxBuilder()
    regulation_head(doc)
    doc.paragraph("Điều 1. Đối tượng", bold=True)
    doc.paragraph("1. Gồm:")
    doc.paragraphs("a) Các phòng;", "b) Các Viện kiểm sát khu vực.")
    doc.paragraphs("Bắc Giang, ngày 05 tháng 01 năm 2026", "TM. HỘI ĐỒNG THI ĐUA", "CHỦ TỊCH")
    doc.paragraphs("(Đã ký)", "Nguyễn Văn A")

    data = doc.to_bytes()
    result = parse_regulation(data)

    assert result.nodes[0].children[0].children[1].text == "Các Viện kiểm sát khu vực."
    assert [i.text for i in result.left_out if i.reason == LEFT_OUT_SIGNATURE] == [
        "Bắc Giang, ngày 05 tháng 01 năm 2026",
        "TM. HỘI ĐỒNG THI ĐUA",
        "CHỦ TỊCH",
        "(Đã ký)",
        "Nguyễn Văn A",
    ]
    assert [i.reason for i in result.left_out[:2]] == [LEFT_OUT_NATIONAL_HEADING] * 2
    conserved(data)


# --- lookalike letters and invisible characters ---------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "\u00d0iều 1.",  # Ð (Icelandic eth) for Đ
        "Điều\u00a01.",  # no-break space
        "Đi\u200bều 1.".replace("\u200b", "\u200d"),  # zero-width joiner inside the word
        unicodedata.normalize("NFD", "Điều 1."),  # decomposed
        "Điều\u00a0\u00a01 .",
    ],
    ids=["eth", "nbsp", "zero-width", "decomposed", "spaces"],
)
def test_lookalike_letters_and_invisible_characters_still_give_articles(label: str) -> None:
    doc = DocxBuilder()
    doc.paragraph(f"{label} Phạm vi", bold=True)
    doc.paragraph("1. Nội dung.")
    doc.paragraph(f"{label.replace('1', '2')} Hiệu lực", bold=True)

    result = parse_regulation(doc.to_bytes())

    assert kinds(result.nodes) == [("article", "1"), ("clause", "1"), ("article", "2")]
    assert result.nodes[0].title == "Phạm vi"


def test_cyrillic_letters_inside_a_latin_word_are_read_as_latin() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.paragraph("1. Cơ quаn và Сụm thi đua.")  # Cyrillic а and С

    result = parse_regulation(doc.to_bytes())

    assert result.nodes[0].children[0].text == "Cơ quan và Cụm thi đua."


def _legacy_docx(text: str, font: str) -> bytes:
    doc = DocxBuilder()
    for _ in range(6):
        paragraph = doc.document.add_paragraph()
        run = paragraph.add_run(text)
        run.font.name = font
    return doc.to_bytes()


@pytest.mark.parametrize(
    ("text", "font", "named"),
    [
        ("Céng hßa x· héi chñ nghÜa ViÖt Nam. §iÒu 1. Ph¹m vi ®iÒu chØnh.", ".VnTime", "TCVN3"),
        (
            "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam. Ñieàu 1. Phaïm vi ñieàu chænh.",
            "VNI-Times",
            "VNI",
        ),
        ("Céng hßa x· héi chñ nghÜa ViÖt Nam. §iÒu 1. Ph¹m vi ®iÒu chØnh.", "Arial", "TCVN3"),
    ],
    ids=["tcvn3-font", "vni-font", "tcvn3-bytes-only"],
)
def test_legacy_vietnamese_encodings_are_refused_with_a_clear_message(
    text: str, font: str, named: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_regulation(_legacy_docx(text, font))

    assert named in caught.value.message
    assert "Unicode" in caught.value.message


def test_unicode_text_in_a_legacy_named_font_is_read() -> None:
    data = _legacy_docx(
        "Điều 1. Cộng hòa xã hội chủ nghĩa Việt Nam, phạm vi điều chỉnh.", ".VnTime"
    )

    refuse_legacy_encoding(open_docx(data))  # does not raise
    assert kinds(parse_regulation(data).nodes)[0] == ("article", "1")


# --- text pasted from a PDF -----------------------------------------------------------------

_LONG = (
    "Các đơn vị thuộc Viện kiểm sát nhân dân tỉnh có trách nhiệm tổ chức thực hiện phong trào "
    "thi đua theo đúng kế hoạch đã được phê duyệt, báo cáo kết quả về Thường trực Hội đồng "
    "thi đua, khen thưởng đúng thời hạn và chịu trách nhiệm về tính chính xác của số liệu "
    "nơi nhận báo cáo là Văn phòng Viện kiểm sát nhân dân tỉnh"
)


def test_hard_wrapped_text_is_joined_and_every_article_found() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUY CHẾ", "Thi đua, khen thưởng")
    for number in range(1, 39):
        doc.paragraph(f"Điều {number}. Nhiệm vụ của đơn vị số {number}")
        for line in textwrap.wrap(f"1. {_LONG}.", width=80):
            doc.paragraph(line)
        for line in textwrap.wrap(f"2. {_LONG} trong năm.", width=80):
            doc.paragraph(line)

    data = doc.to_bytes()
    result = parse_regulation(data)

    articles = [n for n in result.nodes if n.kind == "article"]
    assert len(articles) == 38
    assert [c.text for c in articles[17].children] == [f"{_LONG}.", f"{_LONG} trong năm."]
    assert any("ngắt dòng cứng" in warning for warning in result.warnings)
    conserved(data)


def test_ordinary_paragraphs_are_not_joined() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    for number in range(1, 15):
        doc.paragraph(f"Câu thứ {number} của điều này không kết thúc bằng dấu chấm câu")

    result = parse_regulation(doc.to_bytes())

    assert result.nodes[0].text.count("\n") == 13
    assert not any("ngắt dòng cứng" in warning for warning in result.warnings)


# --- "Điều4." -------------------------------------------------------------------------------


def test_article_label_without_a_space_is_not_an_article_and_is_warned_about() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 3. Khen thưởng", bold=True)
    doc.paragraph("Điều4. Kỷ luật", bold=True)
    doc.paragraph("Nội dung về kỷ luật.")

    result = parse_regulation(doc.to_bytes())

    assert kinds(result.nodes) == [("article", "3")]
    assert result.nodes[0].text == "Điều4. Kỷ luật\nNội dung về kỷ luật."
    assert any("“Điều4. Kỷ luật” viết liền" in warning for warning in result.warnings)


# --- decision wrapper -----------------------------------------------------------------------


def test_decision_wrapper_goes_to_the_preamble_and_the_title_is_the_documents_name() -> None:
    doc = DocxBuilder()
    doc.paragraphs("QUYẾT ĐỊNH", "Về việc ban hành Quy chế thi đua", bold=True, center=True)
    doc.paragraphs("Căn cứ Luật Thi đua, khen thưởng;", "QUYẾT ĐỊNH:")
    doc.paragraph(("Điều 1.", True), (" Ban hành kèm theo Quyết định này Quy chế thi đua.", False))
    doc.paragraph("Điều 2. Quyết định có hiệu lực từ ngày ký./.")
    doc.paragraphs("Nơi nhận:", "- Lưu: VT.", "VIỆN TRƯỞNG")
    doc.paragraphs("QUY CHẾ", "Thi đua của Viện kiểm sát nhân dân tỉnh", bold=True, center=True)
    doc.paragraph("(Ban hành kèm theo Quyết định số 12/QĐ-VKS)")
    doc.paragraph("Điều 1. Phạm vi", bold=True)

    data = doc.to_bytes()
    result = parse_regulation(data)

    assert result.title == "QUY CHẾ Thi đua của Viện kiểm sát nhân dân tỉnh"
    assert "Điều 1. Ban hành kèm theo Quyết định này Quy chế thi đua." in result.preamble
    assert "(Ban hành kèm theo Quyết định số 12/QĐ-VKS)" in result.preamble
    assert [(n.kind, n.number, n.title) for n in result.nodes] == [("article", "1", "Phạm vi")]
    conserved(data)


# --- nothing structural, mostly left out ----------------------------------------------------


def test_a_file_where_the_signature_takes_most_of_the_text_is_warned_about() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Phạm vi", bold=True)
    doc.paragraph("Ngắn.")
    doc.paragraph("Nơi nhận:")
    doc.paragraphs(*[f"- Đơn vị nhận văn bản số {n} trong danh sách gửi;" for n in range(20)])

    result = parse_regulation(doc.to_bytes())

    assert any("Phần lớn nội dung" in warning for warning in result.warnings)


# --- footnotes ------------------------------------------------------------------------------

_FOOTNOTES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:id="1"><w:p><w:r><w:t>Theo Luật Thi đua, khen thưởng năm 2022.</w:t></w:r>'
    "</w:p></w:footnote></w:footnotes>"
)


def _with_footnotes(data: bytes) -> bytes:
    """Add a footnotes part (python-docx cannot) holding footnote 1."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            elif member.filename == "word/_rels/document.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFn" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
                    b"</Relationships>",
                )
            target.writestr(member, content)
        target.writestr("word/footnotes.xml", _FOOTNOTES)
    return out.getvalue()


def test_footnotes_are_kept_with_their_clause() -> None:
    doc = DocxBuilder()
    doc.paragraph("Điều 1. Căn cứ", bold=True)
    doc.raw_paragraph(
        "<w:r><w:t>1. Danh hiệu thi đua theo quy định.</w:t></w:r>"
        '<w:r><w:footnoteReference w:id="1"/></w:r>'
    )
    doc.paragraph("2. Khoản sau.")

    data = _with_footnotes(doc.to_bytes())
    result = parse_regulation(data)

    assert [c.text for c in result.nodes[0].children] == [
        "Danh hiệu thi đua theo quy định.\nTheo Luật Thi đua, khen thưởng năm 2022.",
        "Khoản sau.",
    ]
    conserved(data)

"""Conservation of text: every paragraph of the source ends up in the title, the preamble,
the tree or the left-out list, for the stored samples and for generated regulations."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafts.parsing import (
    LEFT_OUT_HEADER_FOOTER,
    LEFT_OUT_SIGNATURE,
    LeftOut,
    Node,
    parse_regulation,
)
from tests.conservation import missing_lines, source_lines
from tests.docbuild import DocxBuilder

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
SAMPLES = FIXTURES / "samples"


def counts(nodes: list[Node]) -> dict[str, int]:
    found: Counter[str] = Counter()

    def walk(children: list[Node]) -> None:
        for node in children:
            found[node.kind] += 1
            walk(node.children)

    walk(nodes)
    return dict(found)


REAL_EXPECTED = {
    name: value
    for name, value in json.loads((REAL / "expected.json").read_text()).items()
    if not name.startswith("_")
}


@pytest.mark.parametrize("name", sorted(REAL_EXPECTED))
def test_real_documents_parse_with_their_counts_and_conserve_their_text(name: str) -> None:
    data = (REAL / name).read_bytes()

    result = parse_regulation(data, filename=name)

    assert counts(result.nodes) == REAL_EXPECTED[name]
    assert missing_lines(source_lines(data), result) == []


def test_decree_30_title_preamble_and_left_out() -> None:
    result = parse_regulation((REAL / "nghi-dinh-30-2020.docx").read_bytes())

    assert result.title == "NGHỊ ĐỊNH Về công tác văn thư"
    assert result.preamble[0].startswith("Căn cứ Luật Tổ chức Chính phủ")
    assert result.preamble[-1] == "Chính phủ ban hành Nghị định về công tác văn thư."
    body_left_out = [item for item in result.left_out if item.reason != LEFT_OUT_HEADER_FOOTER]
    assert body_left_out[-1].reason == LEFT_OUT_SIGNATURE
    assert body_left_out[-1].text.startswith("Nơi nhận:")
    # The page number Word keeps in the header is left out under its own reason.
    assert LeftOut("16", LEFT_OUT_HEADER_FOOTER) in result.left_out
    assert result.warnings == []


def points(nodes: list[Node]) -> int:
    return counts(nodes).get("point", 0)


def test_appendix_keeps_part_two_and_its_tables() -> None:
    result = parse_regulation((REAL / "nghi-dinh-30-2020-phu-luc-1.docx").read_bytes())

    assert [(n.kind, n.number, n.title) for n in result.nodes] == [
        ("part", "I", "THỂ THỨC VÀ KỸ THUẬT TRÌNH BÀY VĂN BẢN HÀNH CHÍNH"),
        ("part", "II", "THỂ THỨC VÀ KỸ THUẬT TRÌNH BÀY BẢN SAO VĂN BẢN"),
    ]
    assert result.title.startswith("Phụ lục I THỂ THỨC, KỸ THUẬT TRÌNH BÀY VĂN BẢN HÀNH CHÍNH")
    # The counts of expected.json, section by section as read in the document (clauses, then
    # the points under them): Part I, sections I-V; Part II, sections I-II.
    assert [
        (part.number, section.number, len(section.children), points(section.children))
        for part in result.nodes
        for section in part.children
    ] == [
        ("I", "I", 7, 0), ("I", "II", 9, 34), ("I", "III", 4, 9), ("I", "IV", 2, 0),
        ("I", "V", 0, 0), ("II", "I", 3, 7), ("II", "II", 3, 13),
    ]  # fmt: skip
    # Point b) of clause 9 holds sentences that start "Phần thứ nhất/hai ...": body text.
    assert "Phần thứ hai bao gồm từ “Nơi nhận”" in result.to_json()
    assert all("Bảng trong" in w and "dòng văn bản" in w for w in result.warnings)


def test_open_sample_parses_to_its_expected_tree_and_conserves_its_text() -> None:
    data = (SAMPLES / "du-thao-quy-che-cum-khoi.docx").read_bytes()
    expected = json.loads((SAMPLES / "du-thao-quy-che-cum-khoi.expected.json").read_text())

    result = parse_regulation(data)

    assert [node.as_dict() for node in result.nodes] == expected["nodes"]
    assert missing_lines(source_lines(data), result) == []


# ---------------------------------------------------------------------------------------------
# Generated regulations
# ---------------------------------------------------------------------------------------------

_WORDS = (
    "đơn vị", "thi đua", "khen thưởng", "Viện kiểm sát", "Hội đồng", "báo cáo", "hằng năm",
    "theo quy định", "tổ chức", "thực hiện", "cán bộ", "công chức", "kết quả", "chỉ tiêu",
)  # fmt: skip
# Body sentences that look like structure or a signature block to a careless reader.
NOISE = (
    "Nơi nhận hồ sơ là Văn phòng Viện kiểm sát tỉnh.",
    "nơi nhận.",
    "Phần thứ hai của báo cáo gồm các số liệu thống kê.",
    "Phần thứ nhất bao gồm từ “Kính gửi”, sau đó là tên các cơ quan.",
    "Chương trình công tác được ban hành hằng năm.",
    "Điều kiện xét khen thưởng do Hội đồng quyết định.",
    "Điều 5 Luật Thi đua, khen thưởng quy định việc này.",
    "Mục tiêu thi đua phải cụ thể, đo đếm được.",
    "TM. là chữ viết tắt của “thay mặt”.",
    "Ðơn vị được khen thưởng theo quy định.",
)
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
PARTS = ["thứ nhất", "thứ hai", "thứ ba"]
LETTERS = "abcdđeghik"


@dataclass
class Generated:
    doc: DocxBuilder = field(default_factory=DocxBuilder)
    counts: Counter[str] = field(default_factory=Counter)
    article: int = 0
    chapter: int = 0


sentences = st.lists(st.sampled_from(_WORDS), min_size=2, max_size=6).map(
    lambda words: (" ".join(words) + ".").capitalize()
)


@st.composite
def regulations(draw: st.DrawFn) -> Generated:
    out = Generated()
    doc = out.doc

    def paragraph(text: str, **options: object) -> None:
        if draw(st.integers(0, 9)) == 0:
            text = unicodedata.normalize("NFD", text)  # decomposed, as some editors save
        doc.paragraph(text, **options)  # type: ignore[arg-type]

    def noise() -> None:
        for _ in range(draw(st.integers(0, 1))):
            paragraph(draw(st.sampled_from(NOISE) | sentences))
        if draw(st.integers(0, 5)) == 0:
            doc.paragraph("")

    def article() -> None:
        out.article += 1
        out.counts["article"] += 1
        word = draw(st.sampled_from(["Điều", "Ðiều", "Điều\u00a0"]))  # lookalike Ð, NBSP
        paragraph(f"{word} {out.article}. {draw(sentences).rstrip('.')}", bold=True)
        clauses = draw(st.integers(0, 3))
        if not clauses:
            paragraph(draw(sentences))
        for number in range(1, clauses + 1):
            out.counts["clause"] += 1
            paragraph(f"{number}. {draw(sentences)}")
            noise()
            for letter in LETTERS[: draw(st.integers(0, 3))]:
                out.counts["point"] += 1
                paragraph(f"{letter}) {draw(sentences)}")
                noise()
        if draw(st.integers(0, 4)) == 0:
            cell = draw(st.sampled_from(["TM. Hội đồng", "Nơi nhận: Văn phòng", "5 triệu"]))
            doc.table([["Danh hiệu", "Mức thưởng"], ["Cờ thi đua", cell]])

    def articles() -> None:
        for _ in range(draw(st.integers(1, 3))):
            article()

    def chapters() -> None:
        for _ in range(draw(st.integers(1, 3))):
            out.chapter += 1
            out.counts["chapter"] += 1
            doc.paragraphs(f"Chương {ROMAN[out.chapter - 1]}", "QUY ĐỊNH", bold=True, center=True)
            sections = draw(st.integers(0, 2))
            for number in range(1, sections + 1):
                out.counts["section"] += 1
                doc.paragraphs(f"Mục {number}", "TỔ CHỨC", bold=True, center=True)
                articles()
            if not sections:
                articles()

    if draw(st.booleans()):
        doc.table(
            [
                [
                    "VIỆN KIỂM SÁT NHÂN DÂN TỈNH\nSố: 12/QĐ-VKS",
                    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc",
                ]
            ]
        )
    else:
        doc.paragraphs("VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        doc.paragraphs("Độc lập - Tự do - Hạnh phúc", "_______________")
    if draw(st.booleans()):  # a Quyết định issuing the regulation
        doc.paragraphs("QUYẾT ĐỊNH", "Về việc ban hành Quy chế thi đua", bold=True, center=True)
        doc.paragraphs("Căn cứ Luật Tổ chức Viện kiểm sát nhân dân;", "QUYẾT ĐỊNH:")
        doc.paragraph("Điều 1. Ban hành kèm theo Quyết định này Quy chế thi đua.")
        doc.paragraph("Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.")
        signature(doc, draw(st.sampled_from(["paragraphs", "table", "typed"])))
        doc.paragraphs("QUY CHẾ", "Thi đua, khen thưởng", bold=True, center=True)
        doc.paragraph("(Ban hành kèm theo Quyết định số 12/QĐ-VKS ngày 05/01/2026)")
    else:
        doc.paragraphs("QUY CHẾ", "Thi đua, khen thưởng", bold=True, center=True)
        doc.paragraph("Căn cứ Luật Thi đua, khen thưởng;")
    parts = draw(st.integers(0, 2))
    for number in range(parts):
        out.counts["part"] += 1
        doc.paragraphs(f"Phần {PARTS[number]}", "QUY ĐỊNH CHUNG", bold=True, center=True)
        chapters()
    if not parts:
        if draw(st.booleans()):
            chapters()
        else:
            articles()
    signature(doc, draw(st.sampled_from(["paragraphs", "table", "typed", "none"])))
    return out


def signature(doc: DocxBuilder, shape: str) -> None:
    if shape == "paragraphs":
        doc.paragraphs("Nơi nhận:", "- Như Điều 3;", "- Lưu: VT.", "VIỆN TRƯỞNG", "Nguyễn Văn A")
    elif shape == "table":
        doc.table([["Nơi nhận:\n- Các đơn vị;\n- Lưu: VT.", "KT. VIỆN TRƯỞNG\nPHÓ VIỆN TRƯỞNG"]])
    elif shape == "typed":
        doc.paragraphs("TM. HỘI ĐỒNG THI ĐUA", "CHỦ TỊCH", "(Đã ký)", "Nguyễn Văn B")


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(generated=regulations())
def test_generated_regulations_conserve_text_and_match_their_structure(
    generated: Generated,
) -> None:
    data = generated.doc.to_bytes()

    result = parse_regulation(data)

    assert counts(result.nodes) == dict(generated.counts)
    assert missing_lines(source_lines(data), result) == []
    assert result.title == "QUY CHẾ Thi đua, khen thưởng"
    assert not any("Nơi nhận hồ sơ" in item.text for item in result.left_out)

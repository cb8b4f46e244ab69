"""Official consultation documents as .docx and .xlsx.

Pure module: callers fill the dataclasses below from the database and get bytes back. The
layout follows the Vietnamese administrative form (A4, Times New Roman, national motto header,
signature block on the right).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from accounts.i18n import N_

__all__ = [
    "CHANGE_NOTES",
    "CONSOLIDATION_HEADERS",
    "DECISION_LABELS",
    "GENERAL_GROUP_KEY",
    "XLSX_HEADERS",
    "CommentLetter",
    "CommentLetterItem",
    "ComparisonRow",
    "ComparisonTable",
    "ConsolidationReport",
    "ReportCounts",
    "ReportRow",
    "build_comment_letter_docx",
    "build_comparison_docx",
    "build_consolidation_docx",
    "build_consolidation_xlsx",
    "change_note",
    "place_and_date",
]

GENERAL_GROUP_KEY = "general"

DECISION_LABELS: dict[str, str] = {
    "tiep_thu": "Tiếp thu",
    "tiep_thu_mot_phan": "Tiếp thu một phần",
    "khong_tiep_thu": "Không tiếp thu",
    "giai_trinh": "Giải trình",
}
UNDECIDED_LABEL = "Chưa xử lý"

# Diff change kinds (drafts.diffing.Change values) as the comparison table's note column says them.
# The diff page shows them too, translated there.
CHANGE_NOTES: dict[str, str] = {
    "added": N_("Bổ sung mới"),
    "removed": N_("Bãi bỏ"),
    "changed": N_("Sửa đổi"),
    "renumbered": N_("Đánh số lại"),
    "moved": N_("Di chuyển"),
}

CONSOLIDATION_HEADERS = (
    "Điều, khoản (nhóm vấn đề)",
    "Chủ thể góp ý",
    "Nội dung góp ý",
    "Nội dung tiếp thu, giải trình",
)
XLSX_HEADERS = (
    "STT",
    "Điều/khoản",
    "Đơn vị",
    "Nội dung góp ý",
    "Quyết định",
    "Tiếp thu/giải trình",
)
COMPARISON_EXTRA_HEADERS = ("Ý kiến góp ý được tiếp thu, giải trình", "Ghi chú")

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(13)


@dataclass(slots=True)
class ReportCounts:
    units_invited: int
    units_answered: int
    units_agreed_without_comments: int
    comments_total: int
    accepted: int
    partly_accepted: int
    not_accepted: int
    explained: int
    unanswered: int = 0


@dataclass(slots=True)
class ReportRow:
    """One row of the table: one comment, or identical comments shared by several units."""

    group_key: str  # a clause lineage, or GENERAL_GROUP_KEY
    group_label: str  # "Ý kiến chung", "Điều 5. Tên điều", "Khoản 2 Điều 5"
    units: list[str]
    comment_text: str
    decision: str | None  # a DECISION_LABELS key, None while undecided
    response: str = ""
    comment_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ConsolidationReport:
    agency_name: str  # "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"
    drafting_unit: str  # "VĂN PHÒNG"
    draft_title: str  # "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua"
    version_label: str  # "Dự thảo lần 2"
    place: str  # "Bắc Giang"
    date: datetime.date
    counts: ReportCounts
    rows: list[ReportRow]  # general group first, then in document order
    signer_title: str  # "CHÁNH VĂN PHÒNG"
    signer_name: str


@dataclass(slots=True)
class ComparisonRow:
    label: str  # citation in the new version, or the old one for a removed provision
    old_text: str
    new_text: str
    comments: list[str] = field(default_factory=list)  # comments this change answers
    note: str = ""
    changes: frozenset[str] = frozenset()  # drafts.diffing change kinds
    old_label: str | None = None  # citation in the old version when it differs (renumbered)


@dataclass(slots=True)
class ComparisonTable:
    agency_name: str
    drafting_unit: str
    draft_title: str
    old_version_label: str  # "Dự thảo lần 1"
    new_version_label: str  # "Dự thảo lần 2"
    rows: list[ComparisonRow]


@dataclass(slots=True)
class CommentLetterItem:
    label: str | None  # "Điều 5", "khoản 2 Điều 5"; None for a general comment
    text: str


@dataclass(slots=True)
class CommentLetter:
    """A unit's official answer; with no items it states that the unit agrees."""

    agency_name: str  # the unit's parent agency, "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"
    # In capitals as in the header; sentences use it in sentence case ("Viện kiểm sát nhân dân
    # khu vực 1"), like ConsolidationReport.drafting_unit.
    unit_name: str  # "VIỆN KIỂM SÁT NHÂN DÂN KHU VỰC 1"
    document_number: str  # "15/VKSKV1"; "…/…" before it is numbered
    draft_title: str
    version_label: str
    recipient: str  # "Văn phòng Viện kiểm sát nhân dân tỉnh Bắc Giang"
    place: str
    date: datetime.date
    signer_title: str  # "VIỆN TRƯỞNG"
    signer_name: str
    items: list[CommentLetterItem] = field(default_factory=list)
    copies_to: list[str] = field(default_factory=lambda: ["Như trên", "Lưu: VT"])

    @property
    def agrees(self) -> bool:
        return not self.items


def place_and_date(place: str, date: datetime.date) -> str:
    """ "Bắc Giang, ngày 05 tháng 02 năm 2026": days below 10 and months below 3 take a zero."""
    day = f"{date.day:02d}"
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"{place}, ngày {day} tháng {month} năm {date.year}"


def change_note(changes: Iterable[str]) -> str:
    """Vietnamese wording of diff change kinds, in a fixed order."""
    present = set(changes)
    return "; ".join(label for kind, label in CHANGE_NOTES.items() if kind in present)


# --------------------------------------------------------------------------- consolidation


def build_consolidation_docx(report: ConsolidationReport) -> bytes:
    doc = _new_document()
    _header_block(doc, _agency_lines(report.agency_name, report.drafting_unit), _national_motto())
    _centred(doc, "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý", bold=True, space_before=12)
    _centred(doc, f"Đối với dự thảo {report.draft_title} ({report.version_label})", bold=True)
    _body(doc, _counts_sentence(report))

    table = _grid_table(doc, CONSOLIDATION_HEADERS, [Cm(3.5), Cm(3.0), Cm(4.5), Cm(5.5)])
    for group in _groups(report.rows):
        first_cells: list[_Cell] = []
        for row in group:
            cells = table.add_row().cells
            first_cells.append(cells[0])
            _fill(cells[1], "\n".join(row.units))
            _fill(cells[2], row.comment_text)
            _fill_response(cells[3], row.decision, row.response)
        _fill(first_cells[0], group[0].group_label, bold=True)
        _merge_down(first_cells)

    drafter = _sentence_case(report.drafting_unit)
    _body(
        doc,
        f"Trên đây là bản tổng hợp, tiếp thu, giải trình ý kiến góp ý đối với dự thảo "
        f"{report.draft_title} ({report.version_label}) của {drafter}.",
    )
    _signature_block(
        doc,
        report.signer_title,
        report.signer_name,
        place_date=place_and_date(report.place, report.date),
    )
    return _to_bytes(doc)


def build_consolidation_xlsx(report: ConsolidationReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp ý kiến"
    ws.append(list(XLSX_HEADERS))
    for number, row in enumerate(_ordered_rows(report.rows), start=1):
        ws.append(
            [
                number,
                row.group_label,
                "; ".join(row.units),
                row.comment_text,
                _decision_label(row.decision),
                row.response,
            ]
        )
    bold = Font(name=FONT_NAME, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = bold
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = wrap
    for letter, width in zip("ABCDEF", (6, 24, 24, 60, 18, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _counts_sentence(report: ConsolidationReport) -> str:
    c = report.counts
    drafter = _sentence_case(report.drafting_unit)
    text = (
        f"{drafter} đã gửi xin ý kiến {c.units_invited} đơn vị; đã nhận được ý kiến của "
        f"{c.units_answered} đơn vị, trong đó {c.units_agreed_without_comments} đơn vị thống "
        f"nhất với dự thảo, không có ý kiến khác. Tổng số có {c.comments_total} ý kiến góp ý; "
        f"đã tiếp thu {c.accepted} ý kiến, tiếp thu một phần {c.partly_accepted} ý kiến, "
        f"không tiếp thu {c.not_accepted} ý kiến, giải trình {c.explained} ý kiến"
    )
    if c.unanswered:
        text += f"; còn {c.unanswered} ý kiến chưa xử lý"
    return text + "."


def _groups(rows: Sequence[ReportRow]) -> list[list[ReportRow]]:
    """Rows grouped by key: general comments first, then groups in order of first appearance."""
    groups: dict[str, list[ReportRow]] = {}
    for row in rows:
        groups.setdefault(row.group_key, []).append(row)
    general = groups.pop(GENERAL_GROUP_KEY, None)
    return ([general] if general else []) + list(groups.values())


def _ordered_rows(rows: Sequence[ReportRow]) -> list[ReportRow]:
    return [row for group in _groups(rows) for row in group]


def _decision_label(decision: str | None) -> str:
    if decision is None:
        return UNDECIDED_LABEL
    try:
        return DECISION_LABELS[decision]
    except KeyError:
        raise ValueError(f"Quyết định xử lý ý kiến không hợp lệ: {decision}") from None


def _fill_response(cell: _Cell, decision: str | None, response: str) -> None:
    first, *rest = response.split("\n")
    paragraph = cell.paragraphs[0]
    paragraph.add_run(_decision_label(decision) + ("." if first else "")).bold = True
    if first:
        paragraph.add_run(" " + first)
    for line in rest:
        cell.add_paragraph(line)


def _merge_down(cells: Sequence[_Cell]) -> None:
    """Merge a column's cells vertically into the first one (the others are empty).

    Equivalent to ``cells[0].merge(cells[-1])``, whose row lookups are linear in the table size
    and made 3,000-row reports quadratic; setting w:vMerge directly is constant per cell.
    """
    if len(cells) < 2:
        return
    cells[0]._tc.vMerge = "restart"
    for cell in cells[1:]:
        cell._tc.vMerge = "continue"


# --------------------------------------------------------------------------- comparison


def build_comparison_docx(cmp: ComparisonTable) -> bytes:
    doc = _new_document(landscape=True)
    _header_block(doc, _agency_lines(cmp.agency_name, cmp.drafting_unit), _national_motto())
    _centred(doc, "BẢNG SO SÁNH", bold=True, space_before=12)
    _centred(
        doc,
        f"Dự thảo {cmp.draft_title} ({cmp.old_version_label} và {cmp.new_version_label})",
        bold=True,
    )
    headers = (cmp.old_version_label, cmp.new_version_label, *COMPARISON_EXTRA_HEADERS)
    table = _grid_table(doc, headers, [Cm(8), Cm(8), Cm(5.7), Cm(3.5)])
    for row in cmp.rows:
        cells = table.add_row().cells
        if "added" not in row.changes:
            _fill_labelled(cells[0], row.old_label or row.label, row.old_text)
        if "removed" not in row.changes:
            _fill_labelled(cells[1], row.label, row.new_text)
        _fill(cells[2], "\n".join(f"- {comment}" for comment in row.comments))
        _fill(cells[3], "\n".join(part for part in (change_note(row.changes), row.note) if part))
    return _to_bytes(doc)


def _fill_labelled(cell: _Cell, label: str, text: str) -> None:
    cell.paragraphs[0].add_run(label).bold = True
    for line in text.split("\n") if text else []:
        cell.add_paragraph(line)


# --------------------------------------------------------------------------- comment letter


def build_comment_letter_docx(letter: CommentLetter) -> bytes:
    doc = _new_document()
    subject = f"V/v góp ý dự thảo {letter.draft_title}"
    _header_block(
        doc,
        [
            *_agency_lines(letter.agency_name, letter.unit_name),
            _Line(f"Số: {letter.document_number}"),
            _Line(subject, size=_HEADER_SIZE),
        ],
        _national_motto(_Line(place_and_date(letter.place, letter.date), italic=True)),
    )
    _centred(doc, f"Kính gửi: {letter.recipient}.", space_before=12)

    unit = _sentence_case(letter.unit_name)
    request = (
        f"Thực hiện đề nghị của {letter.recipient} về việc góp ý dự thảo {letter.draft_title} "
        f"({letter.version_label}), sau khi nghiên cứu, {unit}"
    )
    if letter.agrees:
        _body(doc, f"{request} thống nhất với nội dung dự thảo, không có ý kiến khác.")
    else:
        _body(doc, f"{request} có ý kiến góp ý như sau:")
        for number, item in enumerate(letter.items, start=1):
            about = f"Về {item.label}" if item.label else "Ý kiến chung"
            _body(doc, f"{number}. {about}: {item.text}")
        _body(doc, f"Trên đây là ý kiến góp ý của {unit}, đề nghị {letter.recipient} tổng hợp.")

    _signature_block(doc, letter.signer_title, letter.signer_name, copies_to=letter.copies_to)
    return _to_bytes(doc)


# --------------------------------------------------------------------------- document setup


class _Line(NamedTuple):
    text: str
    bold: bool = False
    italic: bool = False
    size: Pt | None = None


# The short rule under the unit name and under the motto.
_RULE = _Line("—————", size=Pt(8))
_HEADER_SIZE = Pt(12)


def _new_document(*, landscape: bool = False) -> DocxDocument:
    """An A4 document with administrative margins and Times New Roman everywhere."""
    doc = Document()
    section = doc.sections[0]
    short, long = Cm(21), Cm(29.7)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    normal = doc.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = BODY_SIZE
    # font.name fills only the Latin slots; Word renders some Vietnamese characters from the
    # East Asian slot, so every slot names the same font.
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT_NAME)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    return doc


def _header_block(doc: DocxDocument, left: Sequence[_Line], right: Sequence[_Line]) -> None:
    """Agency on the left, national motto on the right, in a borderless two-column table."""
    left_cell, right_cell = _layout_table(doc, (Cm(6.5), Cm(10)))
    _stack(left_cell, left)
    _stack(right_cell, right)


def _agency_lines(agency_name: str, unit_name: str) -> list[_Line]:
    return [
        _Line(agency_name, size=_HEADER_SIZE),
        _Line(unit_name, bold=True, size=_HEADER_SIZE),
        _RULE,
    ]


def _national_motto(*extra: _Line) -> list[_Line]:
    return [
        _Line(NATIONAL_NAME, bold=True, size=_HEADER_SIZE),
        _Line(NATIONAL_MOTTO, bold=True),
        _RULE,
        *extra,
    ]


def _signature_block(
    doc: DocxDocument,
    signer_title: str,
    signer_name: str,
    *,
    place_date: str | None = None,
    copies_to: Sequence[str] = (),
) -> None:
    """Signature on the right; "Nơi nhận" on the left when the document has recipients."""
    doc.add_paragraph()
    left_cell, right_cell = _layout_table(doc, (Cm(7.5), Cm(9)))
    if copies_to:
        last = len(copies_to) - 1
        _stack(
            left_cell,
            [
                _Line("Nơi nhận:", bold=True, italic=True, size=_HEADER_SIZE),
                *(
                    _Line(f"- {name}{'.' if i == last else ';'}", size=Pt(11))
                    for i, name in enumerate(copies_to)
                ),
            ],
            align=WD_ALIGN_PARAGRAPH.LEFT,
        )
    dated = [_Line(place_date, italic=True), _Line("")] if place_date else []
    room_to_sign = [_Line("")] * 3
    _stack(
        right_cell,
        [*dated, _Line(signer_title, bold=True), *room_to_sign, _Line(signer_name, bold=True)],
    )


def _layout_table(doc: DocxDocument, widths: Sequence[Cm]) -> tuple[_Cell, _Cell]:
    """A borderless one-row table used to place blocks side by side."""
    table = doc.add_table(rows=1, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, widths, strict=True):
        column.width = width
        cell.width = width
    return cells[0], cells[1]


def _stack(
    cell: _Cell, lines: Sequence[_Line], align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER
) -> None:
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.alignment = align
        run = paragraph.add_run(line.text)
        run.bold = line.bold or None
        run.italic = line.italic or None
        if line.size is not None:
            run.font.size = line.size


def _centred(doc: DocxDocument, text: str, *, bold: bool = False, space_before: float = 0) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_before = Pt(space_before)
    paragraph.add_run(text).bold = bold


def _body(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Cm(1)
    paragraph.paragraph_format.space_before = Pt(6)


def _grid_table(doc: DocxDocument, headers: Sequence[str], widths: Sequence[Cm]) -> Table:
    """A bordered table whose bold header row repeats on every page."""
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # add_row() copies these widths into each new cell
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text, width in zip(header.cells, headers, widths, strict=True):
        cell.width = width
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _fill(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    return table


def _fill(
    cell: _Cell, text: str, *, bold: bool = False, align: WD_ALIGN_PARAGRAPH | None = None
) -> None:
    """Write text into an empty cell, one paragraph per line."""
    for index, line in enumerate(text.split("\n")):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if line:
            paragraph.add_run(line).bold = bold or None


def _sentence_case(name: str) -> str:
    """ "VĂN PHÒNG" → "Văn phòng" inside a sentence; mixed-case names stay as given."""
    return name.capitalize() if name.isupper() else name


def _to_bytes(doc: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()

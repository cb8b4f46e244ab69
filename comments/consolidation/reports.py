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

from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from openpyxl import Workbook
from openpyxl.styles import Alignment

from accounts.i18n import N_
from accounts.officedoc import (
    Masthead,
    Signer,
    add_masthead,
    add_signature,
    add_title,
    document_to_bytes,
    new_document,
    place_and_date,
    xlsx_masthead,
    xlsx_signature,
    xlsx_table,
)
from drafts.diffing import Segment, word_diff

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
    "Signer",
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
    "STT",
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
    signer: Signer
    symbol: str | None = None  # "15/BC-VP"; None before the round has one


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
    place: str
    date: datetime.date
    signer: Signer
    symbol: str | None = None


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
    symbol: str  # "15/VKSKV1"; "VKSKV1" before it is numbered
    draft_title: str
    version_label: str
    recipient: str  # "Văn phòng Viện kiểm sát nhân dân tỉnh Bắc Giang"
    place: str
    date: datetime.date
    signer: Signer
    items: list[CommentLetterItem] = field(default_factory=list)
    copies_to: list[str] = field(default_factory=lambda: ["Như trên", "Lưu: VT"])

    @property
    def agrees(self) -> bool:
        return not self.items


def change_note(changes: Iterable[str]) -> str:
    """Vietnamese wording of diff change kinds, in a fixed order."""
    present = set(changes)
    return "; ".join(label for kind, label in CHANGE_NOTES.items() if kind in present)


# --------------------------------------------------------------------------- consolidation


def build_consolidation_docx(report: ConsolidationReport) -> bytes:
    # Five columns: landscape pages, so the text does not wrap every few words.
    doc = new_document(landscape=True)
    add_masthead(doc, _report_masthead(report))
    add_title(doc, REPORT_KIND, _report_subject(report))
    _body(doc, _counts_sentence(report))

    table = _grid_table(doc, CONSOLIDATION_HEADERS, [Cm(1.4), Cm(4.3), Cm(4), Cm(7.5), Cm(8)])
    for number, group in enumerate(_groups(report.rows), start=1):
        first_cells: list[list[_Cell]] = [[], []]
        for row in group:
            cells = table.add_row().cells
            first_cells[0].append(cells[0])
            first_cells[1].append(cells[1])
            _fill(cells[2], "\n".join(row.units))
            _fill(cells[3], row.comment_text)
            _fill_response(cells[4], row.decision, row.response)
        _fill(first_cells[0][0], str(number), align=WD_ALIGN_PARAGRAPH.CENTER)
        _fill(first_cells[1][0], group[0].group_label, bold=True)
        for column in first_cells:
            _merge_down(column)

    drafter = _sentence_case(report.drafting_unit)
    _body(
        doc,
        f"Trên đây là bản tổng hợp, tiếp thu, giải trình ý kiến góp ý đối với dự thảo "
        f"{report.draft_title} ({report.version_label}) của {drafter}.",
    )
    add_signature(doc, report.signer, REPORT_COPIES)
    return document_to_bytes(doc)


def build_consolidation_xlsx(report: ConsolidationReport) -> bytes:
    """The report's rows as a spreadsheet table, under the same official heading and over the
    same signature as the .docx."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tổng hợp ý kiến"
    columns = len(XLSX_HEADERS)
    header_row = xlsx_masthead(
        ws, _report_masthead(report), columns, REPORT_KIND, _report_subject(report)
    )
    for column, title in enumerate(XLSX_HEADERS, start=1):
        ws.cell(row=header_row, column=column, value=title)
    wrap = Alignment(wrap_text=True, vertical="top")
    row_number = header_row
    for number, row in enumerate(_ordered_rows(report.rows), start=1):
        row_number += 1
        values = [
            number,
            row.group_label,
            "; ".join(row.units),
            row.comment_text,
            _decision_label(row.decision),
            row.response,
        ]
        for column, value in enumerate(values, start=1):
            ws.cell(row=row_number, column=column, value=value).alignment = wrap
    xlsx_table(ws, header_row, row_number, columns)
    xlsx_signature(ws, row_number + 2, report.signer, columns, REPORT_COPIES)
    for letter, width in zip("ABCDEF", (6, 24, 24, 60, 18, 60), strict=True):
        ws.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


REPORT_KIND = "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý"
REPORT_COPIES = ("Lãnh đạo Viện (để báo cáo)", "Lưu: VT")


def _report_masthead(report: ConsolidationReport) -> Masthead:
    return Masthead(
        report.agency_name, report.drafting_unit, report.place, report.date, report.symbol
    )


def _report_subject(report: ConsolidationReport) -> str:
    return f"Đối với dự thảo {report.draft_title} ({report.version_label})"


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
    doc = new_document(landscape=True)
    add_masthead(doc, Masthead(cmp.agency_name, cmp.drafting_unit, cmp.place, cmp.date, cmp.symbol))
    add_title(
        doc,
        "BẢNG SO SÁNH",
        f"Dự thảo {cmp.draft_title} ({cmp.old_version_label} và {cmp.new_version_label})",
    )
    headers = (cmp.old_version_label, cmp.new_version_label, *COMPARISON_EXTRA_HEADERS)
    table = _grid_table(doc, headers, [Cm(8), Cm(8), Cm(5.7), Cm(3.5)])
    for row in cmp.rows:
        cells = table.add_row().cells
        segments = word_diff(row.old_text, row.new_text)
        if "added" not in row.changes:
            _fill_marked(cells[0], row.old_label or row.label, segments, "delete")
        if "removed" not in row.changes:
            _fill_marked(cells[1], row.label, segments, "insert")
        _fill(cells[2], "\n".join(f"- {comment}" for comment in row.comments))
        _fill(cells[3], "\n".join(part for part in (change_note(row.changes), row.note) if part))
    add_signature(doc, cmp.signer, ("Lưu: VT, hồ sơ dự thảo",))
    return document_to_bytes(doc)


def _fill_marked(cell: _Cell, label: str, segments: Sequence[Segment], side: str) -> None:
    """One side of the word diff: the old text with deletions struck through (`side` "delete"),
    or the new text with insertions bold and underlined ("insert")."""
    cell.paragraphs[0].add_run(label).bold = True
    paragraph = None
    for op, text in segments:
        if op not in ("equal", side):
            continue
        for index, piece in enumerate(text.split("\n")):
            if paragraph is None or index > 0:
                paragraph = cell.add_paragraph()
            if not piece:
                continue
            run = paragraph.add_run(piece)
            if op == "delete":
                run.font.strike = True
            elif op == "insert":
                run.bold = True
                run.underline = True


# --------------------------------------------------------------------------- comment letter


def build_comment_letter_docx(letter: CommentLetter) -> bytes:
    doc = new_document()
    add_masthead(
        doc,
        Masthead(
            letter.agency_name,
            letter.unit_name,
            letter.place,
            letter.date,
            letter.symbol,
            subject=f"V/v góp ý dự thảo {letter.draft_title}",
        ),
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

    add_signature(doc, letter.signer, letter.copies_to)
    return document_to_bytes(doc)


# --------------------------------------------------------------------------- document parts


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

"""Spreadsheets and PDFs of score sheets and results, and evidence downloads.

Every figure comes from ``queries.sheet_totals`` (the one totals function) and
``queries.period_results`` (the one ranking), so an export always matches the page.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app, send_file
from flask_babel import gettext as _
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from unidecode import unidecode

from accounts.clock import format_date, local_today, now
from accounts.errors import NotFound, UserError
from accounts.letterhead import (
    AGENCY_HEAD_TITLE,
    agency_name,
    agency_place,
    agency_signer,
    unit_signer,
)
from accounts.models import Group
from accounts.officedoc import (
    Masthead,
    OfficialPDF,
    Signer,
    xlsx_masthead,
    xlsx_signature,
    xlsx_table,
)
from workflow import queries
from workflow.models import STAGE_LABELS, Evidence, ScoreSheet, ScoreStage, ScoringPeriod
from workflow.operations import evidence_path
from workflow.scoring import format_points

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")
_WRAP = Alignment(wrap_text=True, vertical="top")

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
)


class FontMissing(UserError):
    status = 503
    code = "font_missing"


def _slug(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in unidecode(text).lower())
    return "-".join(part for part in cleaned.split("-") if part)[:80] or "tep"


def results_filename(
    period: ScoringPeriod, group: Group | None = None, extension: str = "xlsx"
) -> str:
    where = f"-{_slug(group.name)}" if group is not None else ""
    return f"ket-qua-cham-diem-{_slug(period.name)}{where}.{extension}"


def sheet_filename(sheet: ScoreSheet, extension: str) -> str:
    return f"phieu-cham-diem-{_slug(sheet.unit.short_name)}-{_slug(sheet.period.name)}.{extension}"


RESULTS_KIND = "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI THI ĐUA"


def results_subject(period: ScoringPeriod, group: Group | None = None) -> str:
    """What the results document covers: the period and, for one Cụm/Khối, the Cụm/Khối."""
    return f"{period.name} — {group.name}" if group is not None else period.name


def results_title(period: ScoringPeriod, group: Group | None = None) -> str:
    return f"{RESULTS_KIND} — {results_subject(period, group).upper()}"


def _number(value: Decimal | None) -> Decimal | None:
    # openpyxl writes Decimal as a number cell, so the spreadsheet can add it up.
    return value


def _heading(ws: Worksheet, row: int, values: Sequence[Any]) -> None:
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        cell.font, cell.fill, cell.alignment = _BOLD, _HEAD_FILL, _WRAP


def _widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


def _save(workbook: Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- results ----------------------------------------------------------------------------------


def result_note(row: queries.ResultRow) -> str:
    notes = []
    if row.ranked is not None and row.ranked.needs_vote:
        notes.append("Bằng điểm, cần Cụm bỏ phiếu")
    if row.sheet.disqualified:
        notes.append(f"Vi phạm điều kiện loại trừ: {row.sheet.disqualifier}")
    if not row.complete:
        notes.append("Chưa đủ điểm để xếp hạng")
    return "; ".join(notes)


def result_figures(results: queries.Results, row: queries.ResultRow) -> list[Any]:
    """One unit's line of the results documents: each shown column's total, bonus,
    deductions, final total, ranks and classification (None: blank)."""
    ranked, classified = row.ranked, row.classified
    return [
        *[
            row.columns[stage].totals.final if row.columns[stage].shown else None
            for stage in results.period.stages
        ],
        row.final.bonus if row.complete else None,
        row.final.deductions if row.complete else None,
        row.final.final if row.complete else None,
        ranked.group_rank if ranked else None,
        ranked.overall_rank if ranked else None,
        classified.band.label if classified else "",
    ]


def _result_heads(period: ScoringPeriod) -> list[str]:
    return [
        *[STAGE_LABELS[stage] for stage in period.stages],
        "Điểm thưởng",
        "Điểm trừ",
        "Tổng điểm",
        "Hạng trong Cụm, Khối",
        "Hạng chung",
        "Xếp loại",
    ]


def results_xlsx(results: queries.Results, group: Group | None = None) -> bytes:
    """Ranking under the council's official heading and over its signer, then every criterion
    with the columns side by side per unit; ``group`` keeps one Cụm/Khối's units (their
    ranks stay those of the whole period)."""
    results = results.for_group(group.id if group is not None else None)
    period, table = results.period, results.table
    workbook = Workbook()
    ws = workbook.active
    ws.title = "Xếp hạng"
    heads = ["STT", "Đơn vị", "Cụm, Khối", *_result_heads(period), "Ghi chú"]
    row = xlsx_masthead(
        ws, _results_masthead(), len(heads), RESULTS_KIND, results_subject(period, group)
    )
    ws.cell(
        row=row,
        column=1,
        value=f"Bảng tiêu chí: {period.criteria_draft.title}; tổng điểm chuẩn "
        f"{format_points(table.total_max)}; lập ngày {format_date(now())}",
    )
    header_row = row + 2
    _heading(ws, header_row, heads)
    line = header_row
    for number, row_data in enumerate(results.rows, start=1):
        line += 1
        values = [
            number,
            row_data.sheet.unit.name,
            row_data.sheet.group.name if row_data.sheet.group else "",
            *[_number(value) for value in result_figures(results, row_data)],
            result_note(row_data),
        ]
        for column, value in enumerate(values, start=1):
            ws.cell(row=line, column=column, value=value)
    xlsx_table(ws, header_row, line, len(heads))
    xlsx_signature(ws, line + 2, results_signer(), len(heads), RESULTS_COPIES)
    _widths(ws, [6, 40, 26, 14, 14, 14, 12, 12, 12, 12, 10, 32, 40])
    _detail_sheet(workbook.create_sheet("Chi tiết"), results)
    return _save(workbook)


def _detail_sheet(ws: Worksheet, results: queries.Results) -> None:
    period, table = results.period, results.table
    stages = period.stages
    sheets = [row.sheet for row in results.rows]
    first = 4
    ws.cell(row=1, column=1, value="Mã")
    ws.cell(row=1, column=2, value="Tiêu chí")
    ws.cell(row=1, column=3, value="Điểm chuẩn")
    for index, sheet in enumerate(sheets):
        column = first + index * len(stages)
        ws.cell(row=1, column=column, value=sheet.unit.name)
        if len(stages) > 1:
            ws.merge_cells(
                start_row=1, start_column=column, end_row=1, end_column=column + len(stages) - 1
            )
        for offset, stage in enumerate(stages):
            ws.cell(row=2, column=column + offset, value=STAGE_LABELS[stage])
    for row_number in (1, 2):
        for cell in ws[row_number]:
            cell.font, cell.fill, cell.alignment = _BOLD, _HEAD_FILL, _WRAP
    columns = {row.sheet.id: row.columns for row in results.rows}
    line = 3
    for criterion in table.rows:
        ws.cell(row=line, column=1, value=criterion.code)
        ws.cell(row=line, column=2, value=criterion.title).alignment = _WRAP
        ws.cell(row=line, column=3, value=_number(criterion.max_points))
        adds_up = not criterion.is_leaf or criterion.takes_adjustments
        for index, sheet in enumerate(sheets):
            for offset, stage in enumerate(stages):
                column = columns[sheet.id][stage]
                value = None
                if column.shown:
                    value = (
                        column.totals.groups.get(criterion.key)
                        if adds_up
                        else column.value(criterion.key)
                    )
                ws.cell(row=line, column=first + index * len(stages) + offset, value=_number(value))
        if not criterion.is_leaf:
            for cell in ws[line]:
                cell.font = _BOLD
        line += 1
    for label, attribute in (
        ("Điểm thưởng (sau giới hạn)", "bonus"),
        ("Điểm trừ", "deductions"),
        ("Tổng điểm", "final"),
    ):
        ws.cell(row=line, column=2, value=label).font = _BOLD
        for index, sheet in enumerate(sheets):
            for offset, stage in enumerate(stages):
                column = columns[sheet.id][stage]
                ws.cell(
                    row=line,
                    column=first + index * len(stages) + offset,
                    value=_number(getattr(column.totals, attribute)) if column.shown else None,
                )
        line += 1
    _widths(ws, [8, 50, 10] + [12] * (len(sheets) * len(stages)))
    ws.freeze_panes = ws.cell(row=3, column=first)


def results_signer() -> Signer:
    """The agency's configured signer; without one the title alone, for a wet signature."""
    return agency_signer() or Signer(title=AGENCY_HEAD_TITLE, name="")


def results_pdf(results: queries.Results, group: Group | None = None) -> bytes:
    """The results as the council's official document: agency and national heading, the
    title naming the period (and the Cụm/Khối), the ranking table, the signature."""
    results = results.for_group(group.id if group is not None else None)
    period = results.period
    pdf = _official_pdf(landscape=True)
    pdf.add_page()
    pdf.masthead(Masthead(agency_name(), COUNCIL, agency_place(), local_today()))
    pdf.document_title(RESULTS_KIND, results_subject(period, group))
    pdf.set_font(pdf.FAMILY, size=12)
    pdf.multi_cell(
        0,
        6,
        f"Bảng tiêu chí: {period.criteria_draft.title}; tổng điểm chuẩn "
        f"{format_points(results.table.total_max)}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    heads = ["STT", "Đơn vị", "Cụm, Khối", *_result_heads(period), "Ghi chú"]
    # Unit names fit on one line; the note column takes what is left of the page.
    widths = [8, 58, 26, *[15] * len(period.stages), 13, 12, 14, 13, 12, 30]
    widths.append(max(25, pdf.epw - sum(widths)))
    pdf.set_font(pdf.FAMILY, size=9)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        line_height=5,
        headings_style=FontFace(emphasis="BOLD"),
    ) as grid:
        cells = grid.row()
        for text in heads:
            cells.cell(text)
        for number, row in enumerate(results.rows, start=1):
            cells = grid.row()
            figures = [
                format_points(value) if isinstance(value, Decimal) else str(value or "")
                for value in result_figures(results, row)
            ]
            for text in (
                str(number),
                row.sheet.unit.name,
                row.sheet.group.name if row.sheet.group else "",
                *figures,
                result_note(row),
            ):
                cells.cell(text)
    pdf.signature(results_signer(), RESULTS_COPIES)
    return bytes(pdf.output())


# --- one sheet --------------------------------------------------------------------------------


def _sheet_rows(sheet: ScoreSheet) -> tuple[list[list[str]], dict[ScoreStage, Any]]:
    """The sheet as text rows (for the PDF) plus its columns."""
    period = sheet.period
    table = queries.load_criteria(period.criteria_version_id)
    data = queries.load_sheet_data([sheet.id])[sheet.id]
    columns = queries.sheet_columns(table, data, period, sheet.reached_stages)
    evidence: dict[str | None, list[str]] = {}
    for item in sheet.evidence:
        evidence.setdefault(item.lineage, []).append(item.filename)
    rows = []
    for row in queries.sheet_rows(table, data.items, columns):
        notes = [
            data.scores[(stage, row.key)].note
            for stage in period.stages
            if (stage, row.key) in data.scores and data.scores[(stage, row.key)].note
        ]
        rows.append(
            [
                ("  " * row.depth) + row.label,
                format_points(row.max_points),
                row.guidance,
                *[format_points(row.values[stage]) for stage in period.stages],
                ", ".join(evidence.get(row.key, [])),
                "; ".join(dict.fromkeys(notes)),
            ]
        )
    return rows, columns


def _sheet_header(sheet: ScoreSheet) -> list[str]:
    period = sheet.period
    lines = [
        f"Đơn vị: {sheet.unit.name}",
        f"Kỳ chấm điểm: {period.name} — {period.criteria_draft.title}",
        f"Trạng thái: {sheet.state_label}",
    ]
    if sheet.disqualified:
        lines.append(f"Điều kiện loại trừ: {sheet.disqualifier}")
    return lines


def _total(column: Any, attribute: str) -> Decimal | None:
    return getattr(column.totals, attribute) if column.shown else None


def sheet_xlsx(sheet: ScoreSheet) -> bytes:
    """The sheet under the unit's official heading and over its head's signature; the
    criteria a table of their own, the totals and the bonus/deduction lines below it."""
    period = sheet.period
    rows, columns = _sheet_rows(sheet)
    workbook = Workbook()
    ws = workbook.active
    ws.title = "Phiếu chấm điểm"
    stage_heads = [STAGE_LABELS[stage] for stage in period.stages]
    heads = ["Tiêu chí", "Điểm chuẩn", "Cách chấm", *stage_heads, "Minh chứng", "Ghi chú"]
    line = xlsx_masthead(ws, _sheet_masthead(sheet), len(heads), SHEET_KIND, period.name)
    for text in _sheet_header(sheet):
        ws.cell(row=line, column=1, value=text)
        line += 1
    header_row = line + 1
    _heading(ws, header_row, heads)
    width = len(period.stages)
    line = header_row
    for row in rows:
        # Points as numbers so the spreadsheet can add them up again.
        numbers = [_parse(text) for text in [row[1], *row[3 : 3 + width]]]
        line += 1
        values = [row[0], numbers[0], row[2], *numbers[1:], *row[3 + width :]]
        for column, value in enumerate(values, start=1):
            ws.cell(row=line, column=column, value=value).alignment = _WRAP
    xlsx_table(ws, header_row, line, len(heads))
    line += 1
    for label, attribute in (
        ("Cộng điểm tiêu chí", "base"),
        ("Điểm thưởng (sau giới hạn)", "bonus"),
        ("Điểm trừ", "deductions"),
        ("Tổng điểm", "final"),
    ):
        line += 1
        ws.cell(row=line, column=1, value=label).font = _BOLD
        for offset, stage in enumerate(period.stages):
            ws.cell(row=line, column=4 + offset, value=_number(_total(columns[stage], attribute)))
    xlsx_signature(ws, line + 2, unit_signer(sheet.unit), len(heads), SHEET_COPIES)
    _widths(ws, [50, 10, 36, *[12] * width, 30, 30])
    return _save(workbook)


def _parse(text: str) -> Decimal | None:
    return Decimal(text.replace(",", ".")) if text else None


def font_path(name: str = "DejaVuSans.ttf") -> Path:
    """A TTF with Vietnamese glyphs from Debian's fonts (or PDF_FONT_DIR); DejaVu also from
    the copy matplotlib ships."""
    candidates = [folder / name for folder in FONT_DIRS]
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name)
    configured = current_app.config.get("PDF_FONT_DIR")
    if configured:
        candidates.insert(0, Path(configured) / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FontMissing(
        f"Không tìm thấy phông chữ {name} để xuất PDF tiếng Việt. "
        "Hãy cài gói fonts-liberation2 (Liberation Serif có đủ dấu tiếng Việt, cùng cỡ chữ "
        "với Times New Roman)."
    )


# Liberation Serif has Times New Roman's metrics, as Decree 30 asks of official documents.
SERIF_FONTS = {
    "": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}


def _official_pdf(*, landscape: bool) -> OfficialPDF:
    return OfficialPDF(
        {style: font_path(name) for style, name in SERIF_FONTS.items()}, landscape=landscape
    )


SHEET_COPIES = ("Thường trực Hội đồng Thi đua - Khen thưởng", "Lưu: VT")
RESULTS_COPIES = ("Các đơn vị trực thuộc", "Lưu: VT, Văn phòng")
COUNCIL = "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"
SHEET_KIND = "PHIẾU CHẤM ĐIỂM THI ĐUA"
RESULTS_KIND = "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI THI ĐUA"


def _sheet_masthead(sheet: ScoreSheet) -> Masthead:
    """A unit's sheet is the unit's document, under the agency."""
    return Masthead(agency_name(), sheet.unit.name.upper(), agency_place(), local_today())


def _results_masthead() -> Masthead:
    return Masthead(agency_name(), COUNCIL, agency_place(), local_today())


def sheet_pdf(sheet: ScoreSheet) -> bytes:
    period = sheet.period
    rows, columns = _sheet_rows(sheet)
    pdf = _official_pdf(landscape=True)
    pdf.add_page()
    pdf.masthead(_sheet_masthead(sheet))
    pdf.document_title(SHEET_KIND, period.name)
    pdf.set_font(pdf.FAMILY, size=12)
    for line in _sheet_header(sheet):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    width = len(period.stages)
    heads = [
        "Tiêu chí",
        "Điểm chuẩn",
        "Cách chấm",
        *[STAGE_LABELS[stage] for stage in period.stages],
        "Minh chứng",
        "Ghi chú",
    ]
    widths = (70, 16, 55, *[18] * width, 35, 35)
    pdf.set_font(pdf.FAMILY, size=10)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        line_height=5,
        headings_style=FontFace(emphasis="BOLD"),
    ) as table:
        for row in [heads, *rows]:
            cells = table.row()
            for text in row:
                cells.cell(text)
        for label, attribute in (
            ("Điểm thưởng (sau giới hạn)", "bonus"),
            ("Điểm trừ", "deductions"),
            ("Tổng điểm", "final"),
        ):
            cells = table.row()
            cells.cell(label, colspan=3)
            for stage in period.stages:
                cells.cell(format_points(_total(columns[stage], attribute)))
            cells.cell("", colspan=2)
    pdf.signature(unit_signer(sheet.unit), SHEET_COPIES)
    return bytes(pdf.output())


# --- evidence ---------------------------------------------------------------------------------


def evidence_response(evidence: Evidence):  # type: ignore[no-untyped-def]
    path = evidence_path(evidence)
    if not path.is_file():
        raise NotFound(_("Tệp minh chứng không còn trên máy chủ."))
    # Evidence is small (EVIDENCE_MAX_BYTES); reading it whole leaves no file handle open.
    return send_file(
        BytesIO(path.read_bytes()),
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=evidence.filename,
        max_age=0,
    )

"""The layout of a Vietnamese official document (Decree 30/2020/NĐ-CP, Appendix I), shared by
every generator: the .docx documents of `comments`, the PDFs of `workflow` and the .xlsx exports
of both.

Pure module (no Flask, no database): callers pass a `Masthead` and a `Signer` and get the
heading block, the place-and-date line, the title, the signature block, page numbers from
page 2 and landscape pages for wide tables, in python-docx or in fpdf2.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Length, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FONT_NAME",
    "NATIONAL_MOTTO",
    "NATIONAL_NAME",
    "SYMBOL_PATTERN",
    "Masthead",
    "OfficialPDF",
    "Signer",
    "add_masthead",
    "add_signature",
    "add_signatures_side_by_side",
    "add_title",
    "document_to_bytes",
    "new_document",
    "number_line",
    "place_and_date",
    "valid_symbol",
    "xlsx_masthead",
    "xlsx_signature",
    "xlsx_table",
]

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(13)
HEADER_SIZE = Pt(12)  # agency lines and the national name (Decree 30: 12-13)
MOTTO_SIZE = Pt(13)  # the motto (Decree 30: 13-14)
# Printed width of the motto in Times New Roman bold 13 pt (measured on Liberation Serif 2, its
# metric twin): the rule under the motto is exactly this long.
MOTTO_WIDTH = Cm(5.62)
MOTTO_SLACK = Cm(0.2)
# A short rule centred under the agency name (Decree 30: a third to a half of the name).
AGENCY_RULE_WIDTH = Cm(2.5)
CELL_PADDING = Cm(0.19)  # Word's default left and right cell margin

# "15/BC-VKS", "/BC-VKS" (number left for the clerk) or "BC-VKS": ký hiệu in capitals,
# parts joined by hyphens.
SYMBOL_PATTERN = re.compile(r"^(?:\d{1,6})?/?[A-ZĐ0-9]{1,12}(?:-[A-ZĐ0-9]{1,12}){0,4}$")
SYMBOL_MAX_LENGTH = 40


def valid_symbol(symbol: str) -> bool:
    return len(symbol) <= SYMBOL_MAX_LENGTH and bool(SYMBOL_PATTERN.match(symbol))


def number_line(symbol: str) -> str:
    """ "Số: 15/BC-VKS"; without a number the clerk writes it in by hand at registration."""
    if "/" not in symbol:
        symbol = "/" + symbol
    number, code = symbol.split("/", 1)
    return f"Số: {number or '      '}/{code}"


def place_and_date(place: str, date: datetime.date) -> str:
    """ "Bắc Giang, ngày 05 tháng 02 năm 2026": days below 10 and months below 3 take a zero."""
    day = f"{date.day:02d}"
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"{place}, ngày {day} tháng {month} năm {date.year}"


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs: "KT. VIỆN TRƯỞNG" / "PHÓ VIỆN TRƯỞNG" / name. Authority is empty when the
    holder of the office signs in their own name."""

    title: str
    name: str
    authority: str = ""

    @property
    def heading_lines(self) -> list[str]:
        return [line for line in (self.authority, self.title) if line]


@dataclass(frozen=True, slots=True)
class Masthead:
    """The heading block: issuing agency (and its parent) left, national name and motto right."""

    parent_agency: str  # "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"; "" for a top agency
    agency: str  # "VĂN PHÒNG"
    place: str
    date: datetime.date
    symbol: str | None = None  # "15/BC-VKS"; None prints no "Số:" line
    subject: str | None = None  # a letter's "V/v …" under its number

    @property
    def date_line(self) -> str:
        return place_and_date(self.place, self.date)


# --------------------------------------------------------------------------- .docx


def new_document(*, landscape: bool = False) -> DocxDocument:
    """A4 with Decree 30 margins, Times New Roman, page numbers from page 2."""
    doc = Document()
    section = doc.sections[0]
    set_orientation(section, landscape=landscape)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.header_distance = Cm(1)
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
    add_page_numbers(section)
    return doc


def set_orientation(section: Section, *, landscape: bool) -> None:
    short, long = Cm(21), Cm(29.7)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)


def text_width(section: Section) -> Length:
    return Length(section.page_width - section.left_margin - section.right_margin)


def add_page_numbers(section: Section) -> None:
    """Page 1 has an empty header; every later page a centred PAGE field at the top."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), ("end", None)):
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
    section.first_page_header.paragraphs[0].text = ""


def add_masthead(doc: DocxDocument, masthead: Masthead) -> None:
    """Agency and number left, national name, motto and place-date line right."""
    width = text_width(doc.sections[-1])
    left_width = Cm(7.2)
    left, right = _layout_table(doc, (left_width, Length(width - left_width)))
    lines: list[tuple[str, bool]] = []
    if masthead.parent_agency:
        lines.append((masthead.parent_agency, False))
    lines.append((masthead.agency, True))
    for index, (text, bold) in enumerate(lines):
        _cell_line(left, text, first=index == 0, bold=bold, size=HEADER_SIZE)
    _rule(left, left_width, AGENCY_RULE_WIDTH)
    if masthead.symbol is not None:
        _cell_line(
            left, number_line(masthead.symbol), size=BODY_SIZE
        ).paragraph_format.space_before = Pt(6)
    if masthead.subject:
        _cell_line(left, masthead.subject, size=HEADER_SIZE).paragraph_format.space_before = Pt(3)

    _cell_line(right, NATIONAL_NAME, first=True, bold=True, size=HEADER_SIZE)
    motto = _cell_line(right, NATIONAL_MOTTO, bold=True, size=MOTTO_SIZE)
    # The rule is the motto paragraph's bottom border; indents narrow the paragraph to the
    # motto's printed width, so the border is exactly as long as the motto.
    # A little slack keeps a renderer's rounding from wrapping the motto's last word.
    side = Length(max(0, (right.width - 2 * CELL_PADDING - MOTTO_WIDTH - MOTTO_SLACK) // 2))
    motto.paragraph_format.left_indent = motto.paragraph_format.right_indent = side
    _border(motto, "bottom")
    date = _cell_line(right, masthead.date_line, italic=True, size=BODY_SIZE)
    date.paragraph_format.space_before = Pt(8)


def add_title(doc: DocxDocument, kind: str, subject: str = "") -> None:
    """ "BÁO CÁO" bold 14, then the subject bold 14 on the next line."""
    for index, text in enumerate(line for line in (kind, subject) if line):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if index == 0:
            paragraph.paragraph_format.space_before = Pt(18)
        run = paragraph.add_run(text)
        run.bold = True
        run.font.size = Pt(14)
    doc.add_paragraph()


def add_signature(doc: DocxDocument, signer: Signer, copies_to: Sequence[str] = ()) -> None:
    """ "Nơi nhận:" left, the signer's authority, title and name right, printed once."""
    doc.add_paragraph()
    width = text_width(doc.sections[-1])
    half = Length(width // 2)
    left, right = _layout_table(doc, (half, Length(width - half)))
    if copies_to:
        heading = _cell_line(
            left, "Nơi nhận:", first=True, bold=True, italic=True, size=HEADER_SIZE
        )
        heading.alignment = WD_ALIGN_PARAGRAPH.LEFT
        last = len(copies_to) - 1
        for i, name in enumerate(copies_to):
            line = _cell_line(left, f"- {name}{'.' if i == last else ';'}", size=Pt(11))
            line.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for index, line in enumerate(signer.heading_lines):
        _cell_line(right, line, first=index == 0, bold=True, size=BODY_SIZE)
    for _ in range(4):  # room for the signature and the seal
        _cell_line(right, "")
    if signer.name:
        _cell_line(right, signer.name, bold=True, size=BODY_SIZE)


def add_signatures_side_by_side(doc: DocxDocument, left: Signer, right: Signer) -> None:
    """Two signers on one line, as minutes are signed: the secretary left, the chair right."""
    doc.add_paragraph()
    width = text_width(doc.sections[-1])
    half = Length(width // 2)
    cells = _layout_table(doc, (half, Length(width - half)))
    for cell, signer in zip(cells, (left, right), strict=True):
        for index, line in enumerate(signer.heading_lines):
            _cell_line(cell, line, first=index == 0, bold=True, size=BODY_SIZE)
        for _ in range(4):  # room for the signature
            _cell_line(cell, "")
        if signer.name:
            _cell_line(cell, signer.name, bold=True, size=BODY_SIZE)


def document_to_bytes(doc: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _layout_table(doc: DocxDocument, widths: Sequence[Length]) -> tuple[_Cell, _Cell]:
    """A borderless one-row table used to place blocks side by side."""
    table = doc.add_table(rows=1, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    cells = table.rows[0].cells
    for column, cell, width in zip(table.columns, cells, widths, strict=True):
        column.width = width
        cell.width = width
    return cells[0], cells[1]


def _cell_line(
    cell: _Cell,
    text: str,
    *,
    first: bool = False,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size is not None:
        run.font.size = size
    return paragraph


def _rule(cell: _Cell, cell_width: Length, length: Length) -> None:
    """A centred horizontal line `length` long: an empty 2 pt paragraph's top border."""
    paragraph = cell.add_paragraph()
    side = Length(max(0, (cell_width - 2 * CELL_PADDING - length) // 2))
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.space_before = Pt(1)
    paragraph.add_run().font.size = Pt(2)
    _border(paragraph, "top")


def _border(paragraph: Paragraph, edge: str) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{edge}")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        line.set(qn(key), value)
    borders.append(line)
    # The schema orders pPr's children: pBdr goes before spacing, ind and jc.
    ppr.insert_element_before(
        borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:rPr"
    )


# --------------------------------------------------------------------------- PDF


class OfficialPDF(FPDF):
    """An A4 fpdf2 document in a serif family with Vietnamese glyphs, numbered from page 2."""

    FAMILY = "Serif"

    def __init__(self, fonts: dict[str, Path], *, landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        for style, path in fonts.items():
            self.add_font(self.FAMILY, style, str(path))
        self.set_margins(left=30 if not landscape else 20, top=20, right=15)
        self.set_auto_page_break(auto=True, margin=20)

    def header(self) -> None:
        if self.page_no() < 2:
            return
        self.set_y(10)
        self.set_font(self.FAMILY, size=12)
        self.cell(0, 6, str(self.page_no()), align="C")
        self.set_y(20)

    def masthead(self, masthead: Masthead) -> None:
        top = self.get_y()
        # Wide enough for "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG" on one line in landscape.
        left_width = 100.0 if self.w > self.h else 80.0
        right_x = self.l_margin + left_width
        right_width = self.epw - left_width
        self.set_xy(self.l_margin, top)
        if masthead.parent_agency:
            self._centred(masthead.parent_agency, left_width, size=12)
        self._centred(masthead.agency, left_width, size=12, style="B")
        self._line_under(self.l_margin, left_width, 25.0)
        if masthead.symbol is not None:
            self.ln(2)
            self._centred(number_line(masthead.symbol), left_width, size=13)
        if masthead.subject:
            self._centred(masthead.subject, left_width, size=12)
        left_bottom = self.get_y()

        self.set_xy(right_x, top)
        self._centred(NATIONAL_NAME, right_width, size=12, style="B", x=right_x)
        self.set_font(self.FAMILY, "B", 13)
        motto_width = self.get_string_width(NATIONAL_MOTTO)
        self._centred(NATIONAL_MOTTO, right_width, size=13, style="B", x=right_x)
        self._line_under(right_x, right_width, motto_width)
        self.ln(3)
        self._centred(masthead.date_line, right_width, size=13, style="I", x=right_x)
        self.set_xy(self.l_margin, max(left_bottom, self.get_y()) + 6)

    def document_title(self, kind: str, subject: str = "") -> None:
        for text in (kind, subject):
            if text:
                self.set_font(self.FAMILY, "B", 14)
                self.multi_cell(0, 7, text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def signature(self, signer: Signer, copies_to: Sequence[str] = ()) -> None:
        needed = 8 * (len(signer.heading_lines) + 1) + 28
        if self.get_y() + needed > self.h - self.b_margin:
            self.add_page()
        self.ln(6)
        top = self.get_y()
        half = self.epw / 2
        if copies_to:
            self.set_font(self.FAMILY, "BI", 12)
            self.cell(half, 6, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
            self.set_font(self.FAMILY, size=11)
            last = len(copies_to) - 1
            for i, name in enumerate(copies_to):
                self.cell(
                    half, 5, f"- {name}{'.' if i == last else ';'}", new_x="LMARGIN", new_y="NEXT"
                )
        x = self.l_margin + half
        self.set_xy(x, top)
        for line in signer.heading_lines:
            self._centred(line, half, size=13, style="B", x=x)
        self.set_y(self.get_y() + 24)
        if signer.name:
            self._centred(signer.name, half, size=13, style="B", x=x)

    def _centred(
        self, text: str, width: float, *, size: int, style: str = "", x: float | None = None
    ) -> None:
        self.set_font(self.FAMILY, style, size)
        self.set_x(self.l_margin if x is None else x)
        self.multi_cell(width, 6, text, align="C", new_x="LEFT", new_y="NEXT")

    def _line_under(self, x: float, width: float, length: float) -> None:
        y = self.get_y() + 0.5
        start = x + (width - length) / 2
        self.set_line_width(0.3)
        self.line(start, y, start + length, y)
        self.set_y(y + 1.5)


# --------------------------------------------------------------------------- .xlsx


def xlsx_masthead(
    ws: Worksheet, masthead: Masthead, columns: int, kind: str, subject: str = ""
) -> int:
    """Heading rows over a table of ``columns`` columns: the agency left and the national name
    and motto right, each half merged across its columns; the place-and-date line in italics
    under the motto; then the document's name. Returns the first free row."""
    left_end = max(1, columns // 2)
    right_start = left_end + 1 if columns > 1 else 1
    left: list[tuple[str, Font]] = []
    if masthead.parent_agency:
        left.append((masthead.parent_agency, _xlsx_font(HEADER_SIZE)))
    left.append((masthead.agency, _xlsx_font(HEADER_SIZE, bold=True)))
    if masthead.symbol is not None:
        left.append((number_line(masthead.symbol), _xlsx_font(BODY_SIZE)))
    if masthead.subject:
        left.append((masthead.subject, _xlsx_font(HEADER_SIZE)))
    right = [
        (NATIONAL_NAME, _xlsx_font(HEADER_SIZE, bold=True)),
        # Underlined: a rule exactly as long as the motto, as on paper.
        (NATIONAL_MOTTO, _xlsx_font(MOTTO_SIZE, bold=True, underline="single")),
        (masthead.date_line, _xlsx_font(BODY_SIZE, italic=True)),
    ]
    for offset in range(max(len(left), len(right))):
        row = 1 + offset
        if offset < len(left):
            _xlsx_line(ws, row, 1, left_end, *left[offset])
        if offset < len(right) and columns > 1:
            _xlsx_line(ws, row, right_start, columns, *right[offset])
    row = 2 + max(len(left), len(right))
    for text in (kind, subject):
        if text:
            _xlsx_line(ws, row, 1, columns, text, _xlsx_font(Pt(14), bold=True))
            row += 1
    return row + 1


def xlsx_table(ws: Worksheet, header_row: int, last_row: int, columns: int) -> None:
    """Make the rows from ``header_row`` to ``last_row`` a proper table: the header bold, the
    panes frozen below it, an auto-filter over it."""
    for column in range(1, columns + 1):
        ws.cell(row=header_row, column=column).font = _xlsx_font(BODY_SIZE, bold=True)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{max(last_row, header_row)}"


def xlsx_signature(
    ws: Worksheet, row: int, signer: Signer, columns: int, copies_to: Sequence[str] = ()
) -> int:
    """The recipients left and the signer's block right, from ``row``; returns the next row.
    Room is left between the signer's title and name for the handwritten signature."""
    left_end = max(1, columns // 2)
    right_start = left_end + 1 if columns > 1 else 1
    left: list[tuple[str, Font]] = []
    if copies_to:
        left.append(("Nơi nhận:", _xlsx_font(HEADER_SIZE, bold=True, italic=True)))
        last = len(copies_to) - 1
        for index, name in enumerate(copies_to):
            left.append((f"- {name}{'.' if index == last else ';'}", _xlsx_font(Pt(11))))
    right = [(line, _xlsx_font(BODY_SIZE, bold=True)) for line in signer.heading_lines]
    right += [("", _xlsx_font(BODY_SIZE))] * 3
    right.append((signer.name, _xlsx_font(BODY_SIZE, bold=True)))
    for offset in range(max(len(left), len(right))):
        if offset < len(left) and columns > 1:
            _xlsx_line(ws, row + offset, 1, left_end, *left[offset], center=False)
        if offset < len(right):
            _xlsx_line(ws, row + offset, right_start, columns, *right[offset])
    return row + max(len(left), len(right))


def _xlsx_font(
    size: Length, *, bold: bool = False, italic: bool = False, underline: str | None = None
) -> Font:
    return Font(name=FONT_NAME, size=size.pt, bold=bold, italic=italic, underline=underline)


def _xlsx_line(
    ws: Worksheet, row: int, first: int, last: int, text: str, font: Font, *, center: bool = True
) -> None:
    cell = ws.cell(row=row, column=first, value=text or None)
    cell.font = font
    cell.alignment = Alignment(horizontal="center" if center else "left", wrap_text=True)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)

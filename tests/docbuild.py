"""Build .docx and .xlsx files in code, so tests need no fixture files on disk.

Word documents::

    doc = DocxBuilder()
    doc.paragraph("Chương I", bold=True, center=True)
    doc.paragraph("Điều 1. ", "Phạm vi")            # several runs
    lists = doc.add_list(Level("decimal", "%1."), Level("lowerLetter", "%2)"))
    num = doc.add_list_instance(lists)
    doc.paragraph("Nội dung", numbering=(num, 0))   # Word automatic numbering
    data = doc.to_bytes()

Workbooks: ``xlsx_bytes(Sheet(rows, merged=["B3:D3"]))``.
Broken inputs: ``zip_bytes``, ``zip_bomb``, ``OLE_HEADER``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import docx
import openpyxl
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

W_NS = nsdecls("w")
# The first bytes of an OLE compound file: old .doc/.xls and password-protected Office files.
OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
DOCX_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


@dataclass(frozen=True)
class Level:
    """One level of a Word list definition (w:lvl)."""

    fmt: str = "decimal"  # w:numFmt: decimal, lowerLetter, upperRoman, bullet, none, ...
    text: str = "%1."  # w:lvlText: "%1." , "Điều %1.", "%1.%2.", or the bullet character
    start: int = 1
    style: str | None = None  # w:pStyle: a paragraph style id bound to this level
    restart: int | None = None  # w:lvlRestart


class DocxBuilder:
    """A python-docx Document with helpers for runs, lists, tables, headers and footers."""

    def __init__(self) -> None:
        self.document = docx.Document()
        self._next_abstract_id = 100
        self._next_num_id = 100

    def paragraph(
        self,
        *runs: str | tuple[str, bool],
        bold: bool | None = None,
        style: str | None = None,
        center: bool = False,
        numbering: tuple[int, int] | None = None,
    ) -> DocxBuilder:
        """Add a paragraph. Each run is text, or (text, bold); "\\n" in text is a line break.

        ``bold`` applies to runs given as plain text; ``numbering`` is (numId, ilvl).
        """
        paragraph = self.document.add_paragraph(style=style)
        for run in runs:
            text, run_bold = run if isinstance(run, tuple) else (run, bold)
            paragraph.add_run(text).bold = run_bold
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if numbering is not None:
            num_id, ilvl = numbering
            paragraph._p.get_or_add_pPr().append(
                parse_xml(
                    f'<w:numPr {W_NS}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
                )
            )
        return self

    def paragraphs(self, *texts: str, **options: Any) -> DocxBuilder:
        """Add one paragraph per text, all with the same options."""
        for text in texts:
            self.paragraph(text, **options)
        return self

    def raw_paragraph(self, inner_xml: str) -> DocxBuilder:
        """Add a w:p whose content is raw WordprocessingML (runs, w:ins, w:del, hyperlinks)."""
        return self.raw_block(f"<w:p {W_NS}>{inner_xml}</w:p>")

    def raw_block(self, xml: str) -> DocxBuilder:
        """Add a body element (w:p, w:sdt, w:tbl) given as XML that declares ``W_NS``."""
        body = self.document.element.body
        body.insert(len(body) - 1, parse_xml(xml))  # before the final w:sectPr
        return self

    def table(
        self, rows: Sequence[Sequence[str]], merge: Sequence[tuple[int, int, int, int]] = ()
    ) -> DocxBuilder:
        """Add a table; ``merge`` holds (row, col, last_row, last_col) ranges to merge.

        A merged range keeps the text of its first cell.
        """
        table = self.document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        for row, col, last_row, last_col in merge:
            first = table.cell(row, col)
            keep = first.text
            first.merge(table.cell(last_row, last_col)).text = keep
        return self

    def header(self, text: str) -> DocxBuilder:
        self.document.sections[0].header.paragraphs[0].text = text
        return self

    def footer(self, text: str) -> DocxBuilder:
        self.document.sections[0].footer.paragraphs[0].text = text
        return self

    def add_list(self, *levels: Level) -> int:
        """Define a multi-level list (w:abstractNum); returns its abstractNumId."""
        abstract_id = self._next_abstract_id
        self._next_abstract_id += 1
        xml = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="{lvl.start}"/>'
            f'<w:numFmt w:val="{lvl.fmt}"/>'
            + (f'<w:lvlRestart w:val="{lvl.restart}"/>' if lvl.restart is not None else "")
            + (f'<w:pStyle w:val="{lvl.style}"/>' if lvl.style else "")
            + f'<w:lvlText w:val="{lvl.text}"/></w:lvl>'
            for i, lvl in enumerate(levels)
        )
        numbering = self._numbering()
        first_num = numbering.find(qn("w:num"))
        element = parse_xml(
            f'<w:abstractNum {W_NS} w:abstractNumId="{abstract_id}">{xml}</w:abstractNum>'
        )
        # Schema order: every w:abstractNum comes before the first w:num.
        if first_num is None:
            numbering.append(element)
        else:
            first_num.addprevious(element)
        return abstract_id

    def add_list_instance(
        self, abstract_id: int, start_overrides: dict[int, int] | None = None
    ) -> int:
        """Add a list instance (w:num) of a definition; returns the numId paragraphs use.

        ``start_overrides`` maps ilvl to a w:startOverride, as Word's "Restart numbering" does.
        """
        num_id = self._next_num_id
        self._next_num_id += 1
        overrides = "".join(
            f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
            for ilvl, start in (start_overrides or {}).items()
        )
        self._numbering().append(
            parse_xml(
                f'<w:num {W_NS} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>'
                f"{overrides}</w:num>"
            )
        )
        return num_id

    def link_style(self, style_name: str, num_id: int, ilvl: int | None = None) -> DocxBuilder:
        """Number every paragraph of a style, as Word does for numbered heading styles."""
        style = self.document.styles[style_name]
        ilvl_xml = f'<w:ilvl w:val="{ilvl}"/>' if ilvl is not None else ""
        style.element.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {W_NS}>{ilvl_xml}<w:numId w:val="{num_id}"/></w:numPr>')
        )
        return self

    def to_bytes(self) -> bytes:
        stream = io.BytesIO()
        self.document.save(stream)
        return stream.getvalue()

    def _numbering(self) -> Any:
        return self.document.part.numbering_part.element


@dataclass
class Sheet:
    """One worksheet: rows of cell values, merged ranges such as "B3:D3", and a title."""

    rows: Sequence[Sequence[Any]]
    merged: Sequence[str] = field(default_factory=tuple)
    title: str | None = None


def xlsx_bytes(*sheets: Sheet) -> bytes:
    """A workbook with the given sheets, in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for index, sheet in enumerate(sheets):
        worksheet = workbook.create_sheet(sheet.title or f"Sheet{index + 1}")
        for row in sheet.rows:
            worksheet.append(list(row))
        for cell_range in sheet.merged:
            worksheet.merge_cells(cell_range)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding ``members`` (name → content), the same bytes on every call.

    A fixed timestamp keeps the archive deterministic: test ids built from it must be equal
    in every xdist worker.
    """
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content, compression
            )
    return stream.getvalue()


def zip_bomb(member_size: int) -> bytes:
    """A .docx-looking archive whose document part inflates from a few KB to ``member_size``."""
    return zip_bytes(
        {"[Content_Types].xml": DOCX_CONTENT_TYPES, "word/document.xml": bytes(member_size)}
    )


def text_box_xml(*lines: str, vml_only: bool = False) -> str:
    """Runs holding a text box with one paragraph per line, as Word saves one: the drawing in
    mc:Choice and a VML copy in mc:Fallback (or the VML alone, as older files have it)."""
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{t}</w:t></w:r></w:p>' for t in lines
    )
    vml = (
        '<w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:100pt">'
        f"<v:textbox><w:txbxContent>{paragraphs}</w:txbxContent></v:textbox></v:shape></w:pict>"
    )
    if vml_only:
        return f"<w:r>{vml}</w:r>"
    return (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
        'markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><wp:anchor '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:txbx><w:txbxContent>{paragraphs}</w:txbxContent></wps:txbx></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>"
    )

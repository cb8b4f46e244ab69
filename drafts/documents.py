"""A version as Word documents sent out for comment: the draft itself and the comment form.

Pure module (no Flask, no database): callers pass the flattened clauses (`DiffClause` rows in
document order) and the heading data; the official layout comes from `accounts.officedoc`.

Each clause of the draft sits inside a Word bookmark named from its lineage key ("df_" + key),
so a copy a unit marks up can be mapped back to the clauses even after Word reflows the text.
The comment form's rows carry the same bookmarks in their "Điều, khoản" cell.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from accounts.officedoc import (
    Masthead,
    add_masthead,
    add_title,
    document_to_bytes,
    new_document,
)
from drafts.diffing import DiffClause
from drafts.tree import HEADING_NAMES, heading

__all__ = [
    "COMMENT_FORM_HEADERS",
    "DraftHeading",
    "StyledParagraphs",
    "bookmark_name",
    "build_comment_form_docx",
    "build_for_comment_docx",
    "clause_lines",
    "form_rows",
    "paragraph_style",
    "style_paragraph",
]

BOOKMARK_PREFIX = "df_"
COMMENT_FORM_HEADERS = (
    "STT",
    "Điều, khoản",
    "Nội dung dự thảo",
    "Nội dung góp ý",
    "Đề xuất sửa đổi",
)
# The provisions a unit comments on, one row each; headings (Chương, Mục) only group them and a
# "-" paragraph belongs to the provision that holds it.
FORM_KINDS = frozenset({"article", "clause", "point", "criterion", "bonus", "deduction"})
# Characters XML 1.0 cannot carry; a stray one in a clause must not break the export.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class DraftHeading:
    """What the documents say about the draft besides its clauses."""

    agency_name: str  # "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"
    drafting_unit: str  # "VĂN PHÒNG"
    draft_title: str
    version_label: str  # "Dự thảo lần 2"
    place: str
    date: datetime.date

    def masthead(self) -> Masthead:
        return Masthead(self.agency_name, self.drafting_unit, self.place, self.date)


def bookmark_name(lineage: str) -> str:
    """A valid Word bookmark name (a letter first, at most 40 word characters)."""
    return (BOOKMARK_PREFIX + re.sub(r"\W", "_", lineage, flags=re.ASCII))[:40]


def xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub(" ", text)


def clause_lines(clause: DiffClause) -> list[str]:
    """The clause as it is written, one string per paragraph: "Chương I" and its title apart,
    "Điều 5. Title" then the article's text, "1. text" or "a) text" in one paragraph."""
    head = heading(clause.kind, clause.number)
    text = clause.text.split("\n") if clause.text else []
    if clause.kind in HEADING_NAMES:
        lines = [part for part in (head, clause.title) if part] + text
    elif clause.kind == "article":
        lines = [" ".join(part for part in (head, clause.title) if part), *text]
    else:
        first = text[0] if text else ""
        lines = [" ".join(part for part in (head, clause.title, first) if part), *text[1:]]
    return lines or [""]


def paragraph_style(kind: str, index: int) -> str:
    """How the `index`-th paragraph of a clause is set: "heading", "article" or "body"."""
    if kind in HEADING_NAMES:
        return "heading"
    if kind == "article" and index == 0:
        return "article"
    return "body"


def style_paragraph(paragraph: Paragraph, style: str) -> bool:
    """Set the paragraph's alignment and spacing; True when its runs are bold."""
    fmt = paragraph.paragraph_format
    if style == "heading":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.space_before = Pt(6)
        return True
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Cm(1)
    fmt.space_before = Pt(6)
    return style == "article"


class StyledParagraphs:
    """Adds paragraphs set as `style_paragraph` sets them; each style's properties are built
    once and copied, which is several times faster than python-docx's setters on long texts."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self._styles: dict[str, tuple[OxmlElement, bool]] = {}

    def add(self, style: str) -> tuple[OxmlElement, bool]:
        """A new paragraph element at the end of the body, and whether its runs are bold."""
        if style not in self._styles:
            sample = self.doc.add_paragraph()
            bold = style_paragraph(sample, style)
            ppr = sample._p.pPr
            sample._p.getparent().remove(sample._p)
            self._styles[style] = (ppr, bold)
        ppr, bold = self._styles[style]
        p = self.doc.add_paragraph()._p
        p.append(copy.deepcopy(ppr))
        return p, bold


def text_run(text: str, *, bold: bool = False, deleted: bool = False) -> OxmlElement:
    run = OxmlElement("w:r")
    if bold:
        rpr = OxmlElement("w:rPr")
        rpr.append(OxmlElement("w:b"))
        run.append(rpr)
    t = OxmlElement("w:delText" if deleted else "w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = xml_text(text)
    run.append(t)
    return run


def bookmark(kind: str, ident: int, name: str | None = None) -> OxmlElement:
    """A w:bookmarkStart (with its name) or w:bookmarkEnd."""
    element = OxmlElement(f"w:bookmark{kind}")
    element.set(qn("w:id"), str(ident))
    if name is not None:
        element.set(qn("w:name"), name)
    return element


# --------------------------------------------------------------------------- the draft


def build_for_comment_docx(head: DraftHeading, clauses: Sequence[DiffClause]) -> bytes:
    """The version as an official .docx, each clause's paragraphs inside its bookmark."""
    doc = new_document()
    add_masthead(doc, head.masthead())
    add_title(doc, head.draft_title.upper(), f"({head.version_label} - lấy ý kiến góp ý)")
    ids = count(1)
    styled = StyledParagraphs(doc)
    for clause in clauses:
        paragraphs = []
        for index, line in enumerate(clause_lines(clause)):
            p, bold = styled.add(paragraph_style(clause.kind, index))
            if line:
                p.append(text_run(line, bold=bold))
            paragraphs.append(p)
        ident = next(ids)
        paragraphs[0].pPr.addnext(bookmark("Start", ident, bookmark_name(clause.lineage)))
        paragraphs[-1].append(bookmark("End", ident))
    return document_to_bytes(doc)


# --------------------------------------------------------------------------- the comment form


@dataclass(frozen=True, slots=True)
class FormRow:
    lineage: str
    label: str  # "khoản 2 Điều 5"
    text: str


def form_rows(clauses: Sequence[DiffClause]) -> list[FormRow]:
    """One row per article, khoản, điểm (or criterion), in document order; a "-" paragraph's
    text joins the row of the provision that holds it."""
    rows: list[FormRow] = []
    row_of: dict[str, int] = {}
    for clause in clauses:
        if clause.kind in FORM_KINDS:
            row_of[clause.lineage] = len(rows)
            label = clause.label[:1].upper() + clause.label[1:]
            rows.append(FormRow(clause.lineage, label, "\n".join(clause_lines(clause))))
        elif clause.parent_lineage in row_of:
            index = row_of[clause.parent_lineage]
            row_of[clause.lineage] = index
            row = rows[index]
            rows[index] = FormRow(
                row.lineage, row.label, row.text + "\n" + "\n".join(clause_lines(clause))
            )
    return rows


def build_comment_form_docx(head: DraftHeading, clauses: Sequence[DiffClause]) -> bytes:
    """The phiếu góp ý: landscape, one row per provision, two empty columns for the unit."""
    doc = new_document(landscape=True)
    add_masthead(doc, head.masthead())
    add_title(doc, "PHIẾU GÓP Ý", f"Dự thảo {head.draft_title} ({head.version_label})")
    doc.add_paragraph("Đơn vị góp ý: ").paragraph_format.space_after = Pt(6)
    widths = (Cm(1.2), Cm(3.3), Cm(8.5), Cm(6.1), Cm(6.1))
    table = doc.add_table(rows=1, cols=len(widths))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    header = table.rows[0]
    # The header row repeats on every page.
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text, width in zip(header.cells, COMMENT_FORM_HEADERS, widths, strict=True):
        cell.width = width
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(text).bold = True
    ids = count(1)
    for number, row in enumerate(form_rows(clauses), start=1):
        cells = table.add_row().cells
        cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cells[0].paragraphs[0].add_run(str(number))
        label = cells[1].paragraphs[0]
        ident = next(ids)
        label._p.append(bookmark("Start", ident, bookmark_name(row.lineage)))
        label._p.append(text_run(row.label))
        label._p.append(bookmark("End", ident))
        for index, line in enumerate(row.text.split("\n")):
            paragraph = cells[2].paragraphs[0] if index == 0 else cells[2].add_paragraph()
            if line:
                paragraph._p.append(text_run(line))
    return document_to_bytes(doc)

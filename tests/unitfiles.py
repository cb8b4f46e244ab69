"""Files a unit sends back, built as the unit would make them: the draft for comment marked up
in Word (comments, tracked changes, edits without tracking), the filled comment form, a
letter as .docx or PDF."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from docx import Document
from fpdf import FPDF
from lxml import etree

from drafts.diffing import DiffClause
from drafts.tree import VIETNAMESE_LETTERS, FlatClause, to_diff_clauses
from tests.tracked import W, add_word_comment, find_paragraph, paragraph_text, track_replace


def regulation(shape: list[list[int]], lead_points: list[int] | None = None) -> list[DiffClause]:
    """Articles 1..n; article i has len(shape[i]) khoản, khoản j has shape[i][j] điểm;
    `lead_points[i]` điểm sit directly under article i (no khoản)."""
    rows: list[FlatClause] = []

    def add(kind: str, number: str, parent: int | None) -> int:
        rows.append(
            FlatClause(
                id=len(rows) + 1,
                parent_id=parent,
                seq=len(rows),
                kind=kind,
                number=number,
                text=f"Nội dung {kind} {number} số {len(rows) + 1}",
                lineage=f"L{len(rows) + 1}",
            )
        )
        return len(rows)

    for a, khoans in enumerate(shape, start=1):
        article = add("article", str(a), None)
        for p in range((lead_points or [0] * len(shape))[a - 1]):
            add("point", VIETNAMESE_LETTERS[p], article)
        for k, points in enumerate(khoans, start=1):
            khoan = add("clause", str(k), article)
            for p in range(points):
                add("point", VIETNAMESE_LETTERS[p], khoan)
    return to_diff_clauses(rows)


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def mark_up(
    docx: bytes,
    *,
    comments: Iterable[tuple[str, str]] = (),
    tracked: Iterable[tuple[str, str, str]] = (),
    edited: Iterable[tuple[str, str, str]] = (),
) -> bytes:
    """The draft for comment as a unit returns it: a Word comment on the paragraph starting
    with each `comments` key; in the paragraph starting with each `tracked` start, old → new
    as a tracked change; in each `edited` one, old → new typed over without tracking."""
    document = Document(io.BytesIO(docx))
    for start, text in comments:
        add_word_comment(document, find_paragraph(document, start), text)
    for start, old, new in tracked:
        track_replace(find_paragraph(document, start), old, new)
    for start, old, new in edited:
        paragraph = find_paragraph(document, start)
        t = paragraph.runs[-1]._r.find(f"{{{W}}}t")
        assert t is not None and old in (t.text or "")
        t.text = (t.text or "").replace(old, new, 1)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def without_bookmarks(docx: bytes) -> bytes:
    """The same file with every bookmark gone (a copy retyped or pasted into a new file)."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                root = etree.fromstring(data)
                for tag in ("bookmarkStart", "bookmarkEnd"):
                    for element in root.findall(f".//{{{W}}}{tag}"):
                        element.getparent().remove(element)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            target.writestr(item, data)
    return out.getvalue()


def fill_form(docx: bytes, rows: Mapping[str, tuple[str, str]]) -> bytes:
    """The comment form with the "Nội dung góp ý" and "Đề xuất sửa đổi" cells of the rows
    labelled like the keys ("Khoản 2 Điều 1") filled in."""
    document = Document(io.BytesIO(docx))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "STT")
    found = set()
    for row in table.rows[1:]:
        label = row.cells[1].text.strip()
        if label in rows:
            content, proposal = rows[label]
            row.cells[3].text = content
            row.cells[4].text = proposal
            found.add(label)
    assert found == set(rows), set(rows) - found
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def letter_docx(paragraphs: Iterable[str]) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def letter_pdf(paragraphs: Iterable[str]) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    for text in paragraphs:
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
    return bytes(pdf.output())


__all__ = [
    "fill_form",
    "letter_docx",
    "letter_pdf",
    "mark_up",
    "paragraph_text",
    "regulation",
    "without_bookmarks",
]

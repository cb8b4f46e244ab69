"""The minutes of a conference (biên bản hội nghị) as an official .docx.

Pure module: the caller fills `Minutes` from the database (`comments.conference.queries`)
and gets bytes back. The heading block, title and page layout are the agency's official
layout (`accounts.officedoc`, Decree 30/2020/NĐ-CP); the minutes are signed by the
secretary (left) and the chair (right).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from accounts.officedoc import (
    Masthead,
    Signer,
    add_masthead,
    add_signatures_side_by_side,
    add_title,
    document_to_bytes,
    new_document,
)

GENERAL_HEADING = "Ý kiến chung"
NO_CONCLUSIONS = "(Chưa ghi kết luận.)"


@dataclass(frozen=True, slots=True)
class AttendeeLine:
    unit: str
    representatives: str


@dataclass(frozen=True, slots=True)
class MinutesOpinion:
    speaker: str
    unit: str
    clause_label: str  # "" for a general opinion
    text: str


@dataclass(slots=True)
class Minutes:
    agency_name: str  # "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"
    drafting_unit: str  # "VĂN PHÒNG"
    place_name: str  # "Bắc Giang", for the place-and-date line
    draft_title: str
    version_label: str  # "Dự thảo lần 1"
    starts_at: datetime.datetime  # local time
    meeting_form: str  # "Hội nghị trực tuyến"
    venue: str
    chair_name: str
    chair_title: str
    secretaries: list[str]
    attendees: list[AttendeeLine]
    absent: list[str]
    opinions: list[MinutesOpinion]  # in the order voiced
    clause_order: list[str] = field(default_factory=list)  # labels in document order
    conclusions: str = ""


def by_speaker(opinions: Sequence[MinutesOpinion]) -> list[tuple[str, str, list[MinutesOpinion]]]:
    """(speaker, unit, their opinions), speakers in the order they first spoke."""
    groups: dict[tuple[str, str], list[MinutesOpinion]] = {}
    for opinion in opinions:
        groups.setdefault((opinion.speaker, opinion.unit), []).append(opinion)
    return [(speaker, unit, items) for (speaker, unit), items in groups.items()]


def by_clause(
    opinions: Sequence[MinutesOpinion], clause_order: Sequence[str] = ()
) -> list[tuple[str, list[MinutesOpinion]]]:
    """(clause label or "", its opinions): general opinions first, then in document order."""
    rank = {label: i for i, label in enumerate(clause_order)}
    groups: dict[str, list[MinutesOpinion]] = {}
    for opinion in opinions:
        groups.setdefault(opinion.clause_label, []).append(opinion)
    return sorted(
        groups.items(), key=lambda item: (item[0] != "", rank.get(item[0], len(rank)), item[0])
    )


def time_line(moment: datetime.datetime) -> str:
    """ "08 giờ 30 phút, ngày 05 tháng 12 năm 2026"."""
    return (
        f"{moment.hour:02d} giờ {moment.minute:02d} phút, ngày {moment.day:02d} "
        f"tháng {moment.month:02d} năm {moment.year}"
    )


def build_minutes_docx(minutes: Minutes) -> bytes:
    doc = new_document()
    add_masthead(
        doc,
        Masthead(
            minutes.agency_name,
            minutes.drafting_unit,
            minutes.place_name,
            minutes.starts_at.date(),
        ),
    )
    add_title(
        doc,
        "BIÊN BẢN",
        f"Hội nghị góp ý dự thảo {minutes.draft_title} ({minutes.version_label})",
    )

    _heading(doc, "I. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN")
    _body(doc, f"1. Thời gian: {time_line(minutes.starts_at)}.")
    _body(doc, f"2. Địa điểm: {minutes.venue}. Hình thức: {minutes.meeting_form}.")
    chair = minutes.chair_name + (f", {minutes.chair_title}" if minutes.chair_title else "")
    _body(doc, f"3. Chủ trì: {chair}.")
    _body(doc, f"4. Thư ký: {', '.join(minutes.secretaries) or '…'}.")
    total = len(minutes.attendees) + len(minutes.absent)
    _body(
        doc,
        f"5. Thành phần: đại diện {len(minutes.attendees)}/{total} đơn vị được mời dự họp:",
    )
    for line in minutes.attendees:
        who = f": {line.representatives}" if line.representatives else ""
        _item(doc, f"- {line.unit}{who}.")
    if minutes.absent:
        _body(doc, f"Đơn vị không dự họp: {', '.join(minutes.absent)}.")

    _heading(doc, "II. NỘI DUNG")
    units = {o.unit for o in minutes.opinions}
    drafter = (
        minutes.drafting_unit.capitalize()
        if minutes.drafting_unit.isupper()
        else (minutes.drafting_unit)
    )
    _body(
        doc,
        f"Hội nghị nghe {drafter} trình bày dự thảo {minutes.draft_title} "
        f"({minutes.version_label}); các đại biểu thảo luận, góp ý. Có "
        f"{len(minutes.opinions)} ý kiến phát biểu của {len(units)} đơn vị, cụ thể như sau:",
    )
    _subheading(doc, "1. Ý kiến theo người phát biểu")
    for speaker, unit, items in by_speaker(minutes.opinions):
        _item(doc, f"{speaker} ({unit}):", bold=True)
        for opinion in items:
            about = f"Về {opinion.clause_label}" if opinion.clause_label else GENERAL_HEADING
            _item(doc, f"- {about}: {opinion.text}")
    _subheading(doc, "2. Ý kiến theo điều, khoản của dự thảo")
    for label, items in by_clause(minutes.opinions, minutes.clause_order):
        _item(doc, label[:1].upper() + label[1:] if label else GENERAL_HEADING, bold=True)
        for opinion in items:
            _item(doc, f"- {opinion.speaker} ({opinion.unit}): {opinion.text}")

    _heading(doc, "III. KẾT LUẬN CỦA CHỦ TRÌ HỘI NGHỊ")
    conclusions = [line for line in minutes.conclusions.splitlines() if line.strip()]
    for line in conclusions or [NO_CONCLUSIONS]:
        _body(doc, line.strip())
    _body(
        doc,
        f"Ý kiến phát biểu tại hội nghị được {drafter} tổng hợp, tiếp thu, giải trình cùng "
        "ý kiến góp ý bằng văn bản. Biên bản được lập tại hội nghị.",
    )

    secretary = minutes.secretaries[0] if minutes.secretaries else ""
    add_signatures_side_by_side(
        doc,
        Signer(title="THƯ KÝ", name=secretary),
        Signer(title="CHỦ TRÌ", name=minutes.chair_name),
    )
    return document_to_bytes(doc)


def _heading(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(12)
    paragraph.add_run(text).bold = True


def _subheading(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(6)
    paragraph.paragraph_format.first_line_indent = Cm(1)
    run = paragraph.add_run(text)
    run.bold = True
    run.italic = True


def _body(doc: DocxDocument, text: str) -> None:
    paragraph = doc.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Cm(1)
    paragraph.paragraph_format.space_before = Pt(6)


def _item(doc: DocxDocument, text: str, *, bold: bool = False) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = Cm(1)
    paragraph.paragraph_format.space_before = Pt(3)
    paragraph.add_run(text).bold = bold or None

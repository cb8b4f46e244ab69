"""The minutes (biên bản hội nghị), opened with python-docx: the official heading, time
and place, chair and secretary, attendees by unit, opinions by speaker and by clause, and
the conclusions."""

from __future__ import annotations

import io

from docx import Document

from comments.conference import operations
from comments.conference.exports import minutes_docx
from extensions import db
from tests.fixtures.conference import speak


def paragraphs(data: bytes) -> list[str]:
    doc = Document(io.BytesIO(data))
    found = [p.text for p in doc.paragraphs]
    for table in doc.tables:  # the heading and the signatures are laid out in tables
        for cell in table._cells:
            found.extend(p.text for p in cell.paragraphs)
    return found


def test_the_minutes_hold_the_whole_meeting(org, conference, secretary):
    operations.set_attendance(
        conference,
        [
            operations.AttendanceEntry(org.r1, True, "Lê Văn Trưởng, Viện trưởng"),
            operations.AttendanceEntry(org.r2, True, "Phạm Thị Cán"),
            operations.AttendanceEntry(org.r3, False),
        ],
        actor=secretary,
    )
    speak(conference, secretary, org.r1, "khoản 4 Điều 7", "Đề nghị bỏ điểm đ.", "Lê Văn Trưởng")
    speak(conference, secretary, org.r2, None, "Thống nhất bố cục.", "Phạm Thị Cán")
    speak(conference, secretary, org.r1, "Điều 2", "Bổ sung nguyên tắc.", "Lê Văn Trưởng")
    operations.set_conclusions(
        conference, text="Giao Văn phòng tiếp thu.\nHoàn thành trong tháng 12.", actor=secretary
    )
    db.session.commit()

    download = minutes_docx(conference)
    assert download.filename.startswith("bien-ban-hoi-nghi-") and download.filename.endswith(
        ".docx"
    )
    lines = paragraphs(download.data)
    text = "\n".join(lines)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "BIÊN BẢN" in lines
    assert f"Hội nghị góp ý dự thảo {conference.consultation.draft.title} (Dự thảo lần 1)" in text
    held = conference.held_on
    assert f"1. Thời gian: 08 giờ 30 phút, ngày {held.day:02d} tháng {held.month:02d}" in text
    assert (
        "2. Địa điểm: Hội trường tầng 3, Viện kiểm sát nhân dân tỉnh. "
        "Hình thức: Hội nghị trực tuyến." in text
    )
    assert "3. Chủ trì: Nguyễn Văn Chủ, Phó Viện trưởng." in text
    assert "4. Thư ký: Đỗ Thị Thư." in text
    assert "5. Thành phần: đại diện 2/3 đơn vị được mời dự họp:" in text
    assert f"- {org.r1.name}: Lê Văn Trưởng, Viện trưởng." in lines
    assert f"- {org.r2.name}: Phạm Thị Cán." in lines
    assert f"Đơn vị không dự họp: {org.r3.name}." in lines
    assert "Có 3 ý kiến phát biểu của 2 đơn vị" in text
    # By speaker: each speaker once, their opinions under them in the order voiced.
    speaker = lines.index(f"Lê Văn Trưởng ({org.r1.name}):")
    assert lines[speaker + 1 : speaker + 3] == [
        "- Về khoản 4 Điều 7: Đề nghị bỏ điểm đ.",
        "- Về Điều 2: Bổ sung nguyên tắc.",
    ]
    # By clause: general opinions first, then in the order of the text.
    by_clause_start = lines.index("2. Ý kiến theo điều, khoản của dự thảo")
    groups = [
        line
        for line in lines[by_clause_start:]
        if line in ("Ý kiến chung", "Điều 2", "Khoản 4 Điều 7")
    ]
    assert groups == ["Ý kiến chung", "Điều 2", "Khoản 4 Điều 7"]
    assert f"- Phạm Thị Cán ({org.r2.name}): Thống nhất bố cục." in lines
    conclusions = lines.index("III. KẾT LUẬN CỦA CHỦ TRÌ HỘI NGHỊ")
    assert lines[conclusions + 1 : conclusions + 3] == [
        "Giao Văn phòng tiếp thu.",
        "Hoàn thành trong tháng 12.",
    ]
    assert "THƯ KÝ" in lines and "CHỦ TRÌ" in lines and "Nguyễn Văn Chủ" in lines


def test_minutes_without_a_secretary_name_whoever_recorded(org, blind_round, create_conference):
    conference = create_conference(blind_round)
    speak(conference, org.drafter, org.r1)
    text = "\n".join(paragraphs(minutes_docx(conference).data))
    assert f"4. Thư ký: {org.drafter.full_name}." in text
    assert "(Chưa ghi kết luận.)" in text

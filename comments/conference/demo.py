"""Demo content: the online conference of the demo round, held yesterday, with its
secretary, the units that attended, a few opinions recorded live and the conclusions."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from accounts.clock import local_datetime_to_utc, local_today
from accounts.models import Unit, User
from comments.conference import operations
from comments.conference.models import Conference, MeetingMode
from comments.consultation.demo import DEMO_TITLE, _clauses_by_label, _drafter
from comments.consultation.models import Consultation
from drafts.models import Draft
from extensions import db

SECRETARY = "thuky"
PLACE = (
    "Hội trường Viện kiểm sát nhân dân tỉnh, kết nối trực tuyến với điểm cầu các Viện kiểm "
    "sát nhân dân khu vực"
)
ATTENDED = [f"KV{n}" for n in range(1, 11)] + ["P1", "P2"]
# (speaker, unit, citation label or None for "Ý kiến chung", text)
OPINIONS = [
    (
        "Lê Văn Trưởng",
        "KV1",
        "khoản 2 Điều 4",
        "Thống nhất luân phiên Cụm trưởng theo danh sách; đề nghị ghi rõ thứ tự trong phụ lục.",
    ),
    (
        "Viện trưởng khu vực 8",
        "KV8",
        "khoản 1 Điều 6",
        "Đề nghị cho phép ký giao ước thi đua bằng hình thức trực tuyến.",
    ),
    (
        "Trưởng P1",
        "P1",
        None,
        "Đề nghị rà soát để thống nhất thuật ngữ “Cụm trưởng”, “đơn vị Cụm trưởng” trong toàn "
        "bộ dự thảo.",
    ),
]
CONCLUSIONS = (
    "Các ý kiến phát biểu tại hội nghị được Văn phòng tổng hợp cùng ý kiến bằng văn bản.\n"
    "Giao Văn phòng tiếp thu, chỉnh lý dự thảo và trình Lãnh đạo Viện trước ngày hết hạn."
)


def load_demo(units: dict[str, Unit], year: int) -> None:
    """Idempotent: once the round has its conference, nothing changes."""
    draft = db.session.scalars(select(Draft).where(Draft.title == DEMO_TITLE)).first()
    if draft is None:
        return
    consultation = db.session.scalars(
        select(Consultation).where(Consultation.draft_id == draft.id).order_by(Consultation.id)
    ).first()
    drafter = _drafter(draft)
    if consultation is None or drafter is None or consultation.closed_at is not None:
        return
    if db.session.scalar(
        select(Conference.id).where(Conference.consultation_id == consultation.id)
    ):
        return
    conference = operations.create_conference(
        consultation,
        details=operations.MeetingDetails(
            starts_at=local_datetime_to_utc(local_today() - timedelta(days=1), time(8, 30)),
            mode=MeetingMode.ONLINE,
            place=PLACE,
            chair_name="Nguyễn Văn Chủ",
            chair_title="Phó Viện trưởng",
        ),
        actor=drafter,
    )
    secretary = db.session.scalars(select(User).where(User.username == SECRETARY)).first()
    if secretary is not None:
        operations.set_secretaries(conference, [secretary], actor=drafter)
    invited = {r.unit_id for r in consultation.responses}
    operations.set_attendance(
        conference,
        [
            operations.AttendanceEntry(unit=units[short], attended=True)
            for short in ATTENDED
            if short in units and units[short].id in invited
        ],
        actor=drafter,
    )
    recorder = secretary or drafter
    clauses = _clauses_by_label(consultation.version)
    for speaker, short, label, text in OPINIONS:
        unit = units.get(short)
        if unit is None or unit.id not in invited:
            continue
        operations.record_opinion(
            conference,
            unit=unit,
            clause=clauses.get(label or ""),
            speaker_name=speaker,
            text=text,
            actor=recorder,
        )
    operations.set_conclusions(conference, text=CONCLUSIONS, actor=recorder)
    db.session.flush()

"""Demo content: a consultation round on the demo regulation draft.

The round is open to the ten regional units and the departments, closes in five days,
and already has what a real round has a few days in: KV1's position sent, KV2 still
drafting, KV3 agreeing with the draft, and opinions voiced at an online conference.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from accounts.clock import end_of_local_day, local_today, now
from accounts.models import Unit, UnitKind, User
from comments.consultation import operations
from comments.consultation.models import Consultation, Visibility
from drafts.models import Clause, Draft, DraftState, Version
from drafts.tree import citation_labels
from extensions import db

DEMO_TITLE = "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua"
LETTER_NUMBER = "125/VKS-VP"
LETTER_TEXT = (
    "Thực hiện Kế hoạch công tác thi đua, khen thưởng năm, Văn phòng Viện kiểm sát nhân dân "
    "tỉnh đã xây dựng dự thảo Quy chế tổ chức và hoạt động của Cụm, Khối thi đua. Để dự thảo "
    "bảo đảm chất lượng, phù hợp với thực tiễn, Văn phòng đề nghị Thủ trưởng các đơn vị "
    "nghiên cứu, cho ý kiến góp ý bằng văn bản và gửi về Văn phòng đúng thời hạn. Quá thời hạn "
    "trên, đơn vị không có ý kiến được hiểu là thống nhất với dự thảo."
)

# (unit, citation label or None for "Ý kiến chung", text)
WRITTEN = [
    (
        "KV1",
        "khoản 2 Điều 4",
        "Đề nghị quy định rõ thứ tự luân phiên Cụm trưởng (theo danh sách đơn vị trong Cụm "
        "hoặc theo kết quả thi đua năm trước) để tránh vướng mắc khi hiệp thương, bầu chọn.",
    ),
    (
        "KV1",
        "điểm đ khoản 4 Điều 7",
        "Đề nghị làm rõ thế nào là “không thực hiện đầy đủ chế độ thông tin, báo cáo” và quy "
        "định mức trừ điểm cụ thể cho mỗi lần vi phạm, tránh trùng với điểm a khoản 4.",
    ),
    (
        "KV1",
        None,
        "Đề nghị bổ sung quy định chuyển tiếp đối với các Cụm, Khối đã ký giao ước thi đua "
        "trước ngày Quy chế có hiệu lực.",
    ),
    (
        "KV2",
        "khoản 1 Điều 6",
        "Thời hạn tổ chức hội nghị ký kết giao ước thi đua trước ngày 31 tháng 3 là ngắn đối "
        "với các đơn vị vừa sắp xếp lại tổ chức; đề nghị kéo dài đến ngày 15 tháng 4.",
    ),
    (
        "KV2",
        "khoản 2 Điều 8",
        "Đề nghị cho phép bình xét bằng biểu quyết công khai khi Cụm có dưới 5 đơn vị.",
    ),
]
CONFERENCE = [
    (
        "KV4",
        "khoản 2 Điều 7",
        "Đề nghị quy định Cụm trưởng gửi kết quả chấm điểm về Văn phòng chậm nhất 05 ngày "
        "làm việc sau hội nghị tổng kết.",
    ),
    (
        "KV5",
        "khoản 3 Điều 5",
        "Đề nghị bổ sung nhiệm vụ tổ chức chấm chéo theo hình thức trực tuyến để giảm chi phí "
        "đi lại của các đơn vị.",
    ),
    (
        "KV6",
        None,
        "Thống nhất với bố cục dự thảo; đề nghị sớm ban hành để áp dụng từ năm thi đua tới.",
    ),
]
INVITED_KINDS = {UnitKind.REGIONAL, UnitKind.DEPARTMENT, UnitKind.INSPECTION}


def _user(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def _clauses_by_label(version: Version) -> dict[str, Clause]:
    clauses = db.session.scalars(
        select(Clause).where(Clause.version_id == version.id).order_by(Clause.seq)
    ).all()
    labels = citation_labels(clauses)
    return {labels[c.id]: c for c in clauses}


def _drafter(draft: Draft) -> User | None:
    people = [d.user for d in draft.drafters if d.user.can_draft()]
    preferred = [u for u in people if u.username == "soanthao"]
    return (preferred or people or [None])[0]


def load_demo(units: dict[str, Unit], year: int) -> None:
    """Idempotent: running the demo twice changes nothing."""
    draft = db.session.scalars(select(Draft).where(Draft.title == DEMO_TITLE)).first()
    if draft is None or draft.state not in (DraftState.DRAFT, DraftState.REVISED):
        return
    if db.session.scalar(select(Consultation.id).where(Consultation.draft_id == draft.id)):
        return
    published = [v for v in draft.versions if v.is_published]
    drafter = _drafter(draft)
    if not published or drafter is None:
        return
    version = published[-1]
    invited = [u for u in units.values() if u.kind in INVITED_KINDS and u.active]
    consultation = operations.open_consultation(
        draft,
        version,
        units=invited,
        opens_at=now() - timedelta(days=2),
        closes_at=end_of_local_day(local_today() + timedelta(days=5)),
        visibility=Visibility.OPEN,
        letter_number=LETTER_NUMBER,
        letter_text=LETTER_TEXT,
        actor=drafter,
    )
    db.session.flush()
    clauses = _clauses_by_label(version)
    for short, label, text in WRITTEN:
        author = _user(f"{short.lower()}.canbo") or _user(f"{short.lower()}.truong")
        response = consultation.response_for(units[short].id) if short in units else None
        if author is None or response is None:
            continue
        operations.add_comment(response, clause=clauses.get(label or ""), text=text, actor=author)
    db.session.flush()
    for short, agrees in (("KV1", False), ("KV3", True)):
        head = _user(f"{short.lower()}.truong")
        response = consultation.response_for(units[short].id) if short in units else None
        if head is not None and response is not None:
            operations.submit_position(response, agrees=agrees, actor=head)
    opinions = [
        operations.ConferenceOpinion(unit=units[short], clause=clauses.get(label or ""), text=text)
        for short, label, text in CONFERENCE
        if short in units and consultation.response_for(units[short].id) is not None
    ]
    if opinions:
        operations.record_conference_opinions(
            consultation,
            meeting_date=local_today() - timedelta(days=1),
            meeting_form="Hội nghị trực tuyến",
            opinions=opinions,
            actor=drafter,
        )
    db.session.flush()
